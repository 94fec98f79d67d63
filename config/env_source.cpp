// The environment layer. Only names derived from the field table (and the
// aliases below) are looked up, so unrelated ENGRAM_* variables, such as API
// keys named by auth.keys[].key_env, are never read as options.

#include <cctype>

#include "config/detail/sources.hpp"
#include "config/detail/values.hpp"
#include "messages/errors.hpp"

namespace engram::config::detail {

namespace {

struct env_value {
  std::string variable;
  std::string text;
};

// The canonical variable first, then its aliases.
std::vector<std::string> variables_for(std::string_view path) {
  std::vector<std::string> names{env_name(path)};
  for (const auto& alias : env_aliases())
    if (alias.path == path)
      names.emplace_back(alias.variable);
  return names;
}

std::vector<env_value> lookup_all(const env_lookup& env,
                                  std::string_view path) {
  std::vector<env_value> found;
  for (auto& name : variables_for(path))
    if (auto text = env(name))
      found.push_back({std::move(name), std::move(*text)});
  return found;
}

// Two spellings set to different values is a deployment mistake; silently
// preferring one would hide it.
caf::error apply_field(const env_lookup& env, const field<options>& f,
                       options& opts) {
  auto found = lookup_all(env, f.path);
  if (found.empty())
    return caf::none;
  for (const auto& other : found)
    if (other.text != found.front().text)
      return config_error("environment", std::string{f.path},
                          found.front().variable + " and " + other.variable
                            + " are both set, to different values");
  auto p = assign_text(f.access.ref(opts), f.valid, found.front().text);
  if (p)
    return config_error("environment variable " + found.front().variable,
                        std::string{f.path}, p->what);
  return caf::none;
}

} // namespace

std::string env_name(std::string_view path) {
  std::string name = "ENGRAM_";
  for (char c : path)
    name += c == '.' ? '_' : static_cast<char>(std::toupper(
             static_cast<unsigned char>(c)));
  return name;
}

// ENGRAM_LOG_LEVEL and ENGRAM_LOG_FORMAT need no alias: they are already
// the canonical names of log.level and log.format.
const std::vector<env_alias>& env_aliases() {
  static const std::vector<env_alias> aliases{
    {"ENGRAM_DATA_DIR", "node.data_dir"},
    {"ENGRAM_LISTEN", "http.listen"},
  };
  return aliases;
}

caf::error apply_env(const env_lookup& env, options& opts) {
  for (const auto& f : option_fields()) {
    if (!is_scalar(default_of(f)))
      continue; // auth.keys: file only
    if (auto err = apply_field(env, f, opts))
      return err;
  }
  return caf::none;
}

} // namespace engram::config::detail
