#include "runtime/exports/webhook_signature.hpp"

#include <sodium.h>

namespace engram::exports {

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  if (sodium_init() < 0) // idempotent
    return {};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st,
                              reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(
    &st, reinterpret_cast<const unsigned char*>(message.data()),
    message.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, mac);
  char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
  return hex;
}

std::string webhook_signature(std::string_view key, int64_t unix_seconds,
                              std::string_view body) {
  auto ts = std::to_string(unix_seconds);
  std::string msg;
  msg.reserve(ts.size() + 1 + body.size());
  msg.append(ts).append(".").append(body);
  return "sha256=" + hmac_sha256_hex(key, msg);
}

} // namespace engram::exports
