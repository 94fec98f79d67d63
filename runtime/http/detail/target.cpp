#include "runtime/http/detail/target.hpp"

#include <random>

#include "messages/errors.hpp"

namespace engram::http::detail {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Splits "k=v&k2=v2" into out.query. Empty pieces ("a=1&&b=2") are skipped,
// a piece without '=' is a key with an empty value.
bool parse_query(std::string_view qs, request& out) {
  while (!qs.empty()) {
    auto amp = qs.find('&');
    auto piece = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? "" : qs.substr(amp + 1);
    if (piece.empty())
      continue;
    auto eq = piece.find('=');
    auto key = percent_decode(piece.substr(0, eq), true);
    auto value = eq == std::string_view::npos
                   ? std::optional<std::string>{std::string{}}
                   : percent_decode(piece.substr(eq + 1), true);
    if (!key || !value)
      return false;
    out.query.emplace(std::move(*key), std::move(*value));
  }
  return true;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view text,
                                          bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (text.size() - i < 3) // "%" or "%A" at the end
        return std::nullopt;
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0')
      return std::nullopt;
    out += c;
  }
  return out;
}

caf::error parse_target(std::string_view target, request& out) {
  auto qmark = target.find('?');
  auto raw_path = target.substr(0, qmark);
  if (raw_path.empty() || raw_path.front() != '/')
    return make_error(ec::malformed_request,
                      "request target must be an absolute path", "path");
  auto path = percent_decode(raw_path, false);
  if (!path)
    return make_error(ec::malformed_request,
                      "invalid percent-encoding in path", "path");
  out.path = std::move(*path);
  out.query_string = qmark == std::string_view::npos
                       ? std::string{}
                       : std::string{target.substr(qmark + 1)};
  out.query.clear();
  if (!parse_query(out.query_string, out))
    return make_error(ec::malformed_request,
                      "invalid percent-encoding in query string", "query");
  return caf::none;
}

bool is_acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  for (char c : id)
    if (c < 0x21 || c > 0x7e)
      return false;
  return true;
}

std::string make_request_id() {
  // One generator per thread: no lock on the request path, and ids need to
  // be unique enough for log correlation, not unpredictable.
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  auto bits = gen();
  std::string out(16, '0');
  for (auto& c : out) {
    c = digits[bits & 0xf];
    bits >>= 4;
  }
  return out;
}

std::string choose_request_id(std::string_view client_id) {
  return is_acceptable_request_id(client_id) ? std::string{client_id}
                                             : make_request_id();
}

} // namespace engram::http::detail
