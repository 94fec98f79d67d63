#pragma once
// Bearer-key authentication and per-user authorization. Keys are held only
// as SHA-256 digests; a presented key is hashed and compared against every
// configured digest in constant time, so neither timing nor early exit tells
// an attacker how close a guess was.

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "config/options.hpp"

namespace engram {

struct principal {
  std::string name;                 // the key's configured name
  bool admin = false;
  std::vector<std::string> users;   // users a non-admin key may touch
};

class authenticator {
public:
  using digest = std::array<unsigned char, 32>;
  using env_fn = std::function<std::optional<std::string>(const std::string&)>;

  /// Resolves every key (hex digest or environment variable). ec::invalid_config
  /// naming auth.keys[i] when a digest is malformed or a variable is unset.
  static caf::expected<authenticator> make(const config::auth_options& opts,
                                           const env_fn& env);

  /// False when no keys are configured (auth off; loopback only).
  bool enabled() const { return !keys_.empty(); }

  /// The principal for an "Authorization: Bearer KEY" header value;
  /// ec::unauthenticated when missing, malformed or unknown.
  caf::expected<principal> authenticate(std::string_view header) const;

  /// Whether `p` may act on `user`; an empty user means a node-wide route,
  /// which needs admin. ec::forbidden otherwise.
  static caf::error authorize(const principal& p, std::string_view user);

  /// SHA-256 of `key` (libsodium).
  static digest sha256(std::string_view key);

private:
  struct key {
    principal who;
    digest hash;
  };
  std::vector<key> keys_;
};

} // namespace engram
