// Rules that look at more than one value: within an API key, across the
// auth.keys list, and between sections. Per-value checks live in the field
// table (fields.cpp).

#include <map>

#include "config/detail/sources.hpp"
#include "config/detail/values.hpp"
#include "messages/errors.hpp"

namespace engram::config {

namespace detail {

namespace {

outcome check_key_fields(const api_key_options& key) {
  for (const auto& f : api_key_fields())
    if (auto p = check(f.access.cref(key), f.valid))
      return problem{join_path(f.path, p->where), p->what};
  return std::nullopt;
}

// Exactly one secret source, so there is never doubt which key is live.
outcome check_key_rules(const api_key_options& key) {
  if (key.key_sha256.empty() == key.key_env.empty())
    return problem{{}, "must set exactly one of key_sha256 and key_env"};
  if (key.role == "user" && key.users.empty())
    return problem{"users", "a user key must list at least one user id"};
  if (key.role == "admin" && !key.users.empty())
    return problem{"users", "must be empty for an admin key (admin keys reach "
                            "every user)"};
  return std::nullopt;
}

} // namespace

outcome check_api_keys(const std::vector<api_key_options>& keys) {
  std::map<std::string, size_t> first_with_name;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto p = check_key_fields(keys[i]);
    if (!p)
      p = check_key_rules(keys[i]);
    if (p)
      return problem{join_path(index_path(i), p->where), p->what};
    auto [it, fresh] = first_with_name.emplace(keys[i].name, i);
    if (!fresh)
      return problem{index_path(i) + ".name",
                     "duplicate key name \"" + keys[i].name
                       + "\" (also auth.keys" + index_path(it->second) + ")"};
  }
  return std::nullopt;
}

} // namespace detail

namespace {

// Without keys every request is trusted, so only this machine may connect.
caf::error check_auth_exposure(const options& opts) {
  if (!opts.auth.keys.empty())
    return caf::none;
  auto ep = parse_endpoint(opts.http.listen);
  if (ep && is_loopback_host(ep->host))
    return caf::none;
  return detail::config_error(
    {}, "auth.keys",
    "no API keys are configured, which turns auth off; that is only allowed "
    "when http.listen is a loopback address, got \""
      + opts.http.listen + "\"");
}

// A model-backed provider is useless without its models; say which is missing
// at startup instead of failing every task later.
caf::error check_provider_models(const options& opts) {
  if (opts.llm.provider == "openai") {
    const std::pair<const char*, const std::string*> models[] = {
      {"llm.models.analysis", &opts.llm.models.analysis},
      {"llm.models.rewrite", &opts.llm.models.rewrite},
      {"llm.models.creation", &opts.llm.models.creation}};
    for (auto& [path, model] : models)
      if (model->empty())
        return detail::config_error(
          {}, path, "must name a model when llm.provider is \"openai\"");
  }
  if (opts.embedder.provider == "openai" && opts.embedder.model.empty())
    return detail::config_error(
      {}, "embedder.model",
      "must name a model when embedder.provider is \"openai\"");
  return caf::none;
}

// The chunker needs an overlap below the chunk size.
caf::error check_chunks(const options& opts) {
  if (opts.exports.chunk_overlap >= opts.exports.chunk_chars)
    return detail::config_error(
      {}, "exports.chunk_overlap",
      "must be below exports.chunk_chars ("
        + std::to_string(opts.exports.chunk_chars) + "), got "
        + std::to_string(opts.exports.chunk_overlap));
  return caf::none;
}

} // namespace

caf::error validate(const options& opts) {
  for (const auto& f : detail::option_fields())
    if (auto p = detail::check(f.access.cref(opts), f.valid))
      return detail::config_error({}, detail::join_path(f.path, p->where),
                                  p->what);
  if (auto err = check_chunks(opts))
    return err;
  if (auto err = check_provider_models(opts))
    return err;
  return check_auth_exposure(opts);
}

} // namespace engram::config
