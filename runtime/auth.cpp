#include "runtime/auth.hpp"

#include <algorithm>

#include <sodium.h>

#include "messages/errors.hpp"

namespace engram {

namespace {

std::optional<authenticator::digest> parse_hex(std::string_view hex) {
  authenticator::digest d{};
  if (hex.size() != 64)
    return std::nullopt;
  size_t bin_len = 0;
  if (sodium_hex2bin(d.data(), d.size(), hex.data(), hex.size(), nullptr,
                     &bin_len, nullptr)
        != 0
      || bin_len != d.size())
    return std::nullopt;
  return d;
}

std::string field_name(size_t i, const char* leaf) {
  return "auth.keys[" + std::to_string(i) + "]." + leaf;
}

} // namespace

authenticator::digest authenticator::sha256(std::string_view key) {
  digest d{};
  crypto_hash_sha256(d.data(), reinterpret_cast<const unsigned char*>(key.data()),
                     key.size());
  return d;
}

caf::expected<authenticator>
authenticator::make(const config::auth_options& opts, const env_fn& env) {
  if (sodium_init() < 0)
    return make_error(ec::internal, "libsodium failed to initialise");
  authenticator a;
  for (size_t i = 0; i < opts.keys.size(); ++i) {
    auto& k = opts.keys[i];
    key entry{{k.name, k.role == "admin", k.users}, {}};
    if (!k.key_sha256.empty()) {
      auto d = parse_hex(k.key_sha256);
      if (!d)
        return make_error(ec::invalid_config, "expected 64 hex characters",
                          field_name(i, "key_sha256"));
      entry.hash = *d;
    } else {
      auto v = env ? env(k.key_env) : std::nullopt;
      if (!v || v->empty())
        return make_error(ec::invalid_config,
                          "environment variable " + k.key_env
                            + " is not set or empty",
                          field_name(i, "key_env"));
      entry.hash = sha256(*v);
    }
    a.keys_.push_back(std::move(entry));
  }
  return a;
}

caf::expected<principal>
authenticator::authenticate(std::string_view header) const {
  constexpr std::string_view scheme = "Bearer ";
  if (header.size() <= scheme.size()
      || !std::equal(scheme.begin(), scheme.end(), header.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return make_error(ec::unauthenticated,
                      "missing or malformed Authorization: Bearer header",
                      "Authorization");
  auto presented = sha256(header.substr(scheme.size()));
  // Compare against every key, never stopping early (constant time).
  const key* found = nullptr;
  for (auto& k : keys_)
    if (sodium_memcmp(k.hash.data(), presented.data(), presented.size()) == 0)
      found = &k;
  if (!found)
    return make_error(ec::unauthenticated, "unknown API key", "Authorization");
  return found->who;
}

caf::error authenticator::authorize(const principal& p, std::string_view user) {
  if (p.admin)
    return caf::none;
  if (user.empty())
    return make_error(ec::forbidden,
                      "key '" + p.name + "' is not an admin key");
  if (std::find(p.users.begin(), p.users.end(), user) != p.users.end())
    return caf::none;
  return make_error(ec::forbidden, "key '" + p.name
                                     + "' may not access user '"
                                     + std::string(user) + "'");
}

} // namespace engram
