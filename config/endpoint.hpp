#pragma once
// Listen addresses ("HOST:PORT"), shared by the config validator and the
// runtime that binds them. Pure functions, safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace engram::config {

struct endpoint {
  // An IPv4 dotted quad, "localhost" or an IPv6 address (without brackets).
  std::string host;
  // 0 asks the OS for a free port.
  uint16_t port = 0;
};

/// Splits "HOST:PORT" where HOST is an IPv4 address ("127.0.0.1"),
/// "localhost" (lower case) or a bracketed IPv6 address ("[::1]") and PORT
/// is 0-65535.
/// Other host names are refused: binding a name that resolves to several
/// addresses is ambiguous. Fails with ec::invalid_config and a message that
/// says what was expected (the caller knows the option path).
caf::expected<endpoint> parse_endpoint(std::string_view text);

/// True for 127.0.0.0/8, ::1 (also "[::1]" and ::ffff:127.x.y.z) and
/// "localhost" in any letter case: addresses no other machine can reach.
bool is_loopback_host(std::string_view host);

} // namespace engram::config
