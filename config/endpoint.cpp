#include "config/endpoint.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

#include "messages/errors.hpp"

namespace engram::config {

namespace {

constexpr std::string_view expected_form
  = "must be HOST:PORT with HOST an IPv4 address, localhost or [IPv6] and "
    "PORT 0-65535";

caf::error bad_endpoint(std::string_view text) {
  return make_error(ec::invalid_config,
                    std::string{expected_form} + ", got \"" + std::string{text}
                      + "\"");
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x))
           == std::tolower(static_cast<unsigned char>(y));
  });
}

// inet_pton is strict (no leading zeros, no short forms), which is what we
// want for an address an operator typed; it needs a NUL-terminated copy.
bool parses_as(int family, std::string_view host, void* out) {
  return inet_pton(family, std::string{host}.c_str(), out) == 1;
}

bool is_ipv4(std::string_view host) {
  std::array<unsigned char, 4> addr{};
  return parses_as(AF_INET, host, addr.data());
}

bool is_ipv6(std::string_view host) {
  std::array<unsigned char, 16> addr{};
  return parses_as(AF_INET6, host, addr.data());
}

std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5
      || !std::all_of(text.begin(), text.end(),
                      [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > 65535)
    return std::nullopt;
  return static_cast<uint16_t>(value);
}

// Separates host and port text; a bracketed host may itself contain ':'.
std::optional<std::pair<std::string_view, std::string_view>>
split_host_port(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    auto close = text.find("]:");
    if (close == std::string_view::npos)
      return std::nullopt;
    return std::pair{text.substr(1, close - 1), text.substr(close + 2)};
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  return std::pair{text.substr(0, colon), text.substr(colon + 1)};
}

// ::1, or an IPv4 loopback address mapped into IPv6 (::ffff:127.x.y.z).
bool is_loopback_v6(const std::array<unsigned char, 16>& addr) {
  static constexpr std::array<unsigned char, 16> loopback{
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr std::array<unsigned char, 12> v4_mapped{
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (addr == loopback)
    return true;
  return std::equal(v4_mapped.begin(), v4_mapped.end(), addr.begin())
         && addr[12] == 127;
}

} // namespace

caf::expected<endpoint> parse_endpoint(std::string_view text) {
  auto parts = split_host_port(text);
  if (!parts)
    return bad_endpoint(text);
  auto [host, port_text] = *parts;
  bool bracketed = text.front() == '[';
  // Exactly "localhost": the binding side maps that spelling to 127.0.0.1.
  bool host_ok = bracketed ? is_ipv6(host)
                           : host == "localhost" || is_ipv4(host);
  auto port = parse_port(port_text);
  if (!host_ok || !port)
    return bad_endpoint(text);
  return endpoint{std::string{host}, *port};
}

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (iequals(host, "localhost"))
    return true;
  std::array<unsigned char, 16> addr{};
  if (parses_as(AF_INET, host, addr.data()))
    return addr[0] == 127;
  return parses_as(AF_INET6, host, addr.data()) && is_loopback_v6(addr);
}

} // namespace engram::config
