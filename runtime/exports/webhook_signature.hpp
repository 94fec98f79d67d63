#pragma once
// The signature an export webhook carries, so the receiver can check that
// the call came from this node and was not replayed later:
//
//   X-Engram-Timestamp: <unix seconds>
//   X-Engram-Signature: sha256=<lower-case hex HMAC-SHA256(key,
//                                 "<timestamp>.<body>")>
//
// The receiver recomputes the HMAC over the timestamp header, a dot and the
// raw body, compares in constant time and rejects old timestamps.

#include <cstdint>
#include <string>
#include <string_view>

namespace engram::exports {

/// Lower-case hex HMAC-SHA256 of `message` under `key` (libsodium; keys of
/// any length, as RFC 2104 says).
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// The value of X-Engram-Signature for `body` sent at `unix_seconds`.
std::string webhook_signature(std::string_view key, int64_t unix_seconds,
                              std::string_view body);

} // namespace engram::exports
