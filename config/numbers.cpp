// Integer option values: JSON numbers and decimal text, checked against an
// inclusive range, with messages that state the range.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include <boost/json.hpp>

#include "config/detail/values.hpp"

namespace engram::config::detail {

namespace json = boost::json;

namespace {

constexpr uint64_t no_limit = std::numeric_limits<uint64_t>::max();

problem out_of_range(const int_range& range, const std::string& got) {
  return {{}, "must be " + range_text(range) + ", got " + got};
}

problem not_integer(const int_range& range, const std::string& got) {
  return {{}, "must be an integer " + range_text(range) + ", got " + got};
}

outcome store(uint64_t n, const int_range& range, uint64_t& out) {
  if (auto p = check_range(n, range))
    return p;
  out = n;
  return std::nullopt;
}

// JSON has one number type: 1e6 is an integer here, 1.5 is not.
outcome read_double(double d, const int_range& range, uint64_t& out) {
  if (std::isfinite(d) && d != std::trunc(d))
    return not_integer(range, format_double(d));
  constexpr double two_pow_64 = 18446744073709551616.0;
  if (!std::isfinite(d) || d < 0 || d >= two_pow_64)
    return out_of_range(range, format_double(d));
  return store(static_cast<uint64_t>(d), range, out);
}

} // namespace

int_range capped(const rule& valid, uint64_t type_max) {
  return {valid.min, std::min(valid.max, type_max)};
}

std::string range_text(const int_range& range) {
  if (range.max == no_limit)
    return "at least " + std::to_string(range.min);
  return "between " + std::to_string(range.min) + " and "
         + std::to_string(range.max);
}

outcome check_range(uint64_t n, const int_range& range) {
  if (n < range.min || n > range.max)
    return out_of_range(range, std::to_string(n));
  return std::nullopt;
}

outcome read_integer(const json::value& v, const int_range& range,
                     uint64_t& out) {
  switch (v.kind()) {
    case json::kind::uint64:
      return store(v.get_uint64(), range, out);
    case json::kind::int64:
      if (v.get_int64() < 0)
        return out_of_range(range, std::to_string(v.get_int64()));
      return store(static_cast<uint64_t>(v.get_int64()), range, out);
    case json::kind::double_:
      return read_double(v.get_double(), range, out);
    default:
      return not_integer(range, describe(v));
  }
}

// Plain decimal digits only: "0x10", "+5" or " 5" in an environment variable
// are more likely mistakes than intent.
outcome read_integer(std::string_view text, const int_range& range,
                     uint64_t& out) {
  bool negative = !text.empty() && text.front() == '-';
  auto digits = negative ? text.substr(1) : text;
  bool all_digits = !digits.empty()
                    && digits.find_first_not_of("0123456789")
                         == std::string_view::npos;
  if (!all_digits)
    return not_integer(range, quoted(text));
  uint64_t n = 0;
  auto [end, err] = std::from_chars(digits.data(),
                                    digits.data() + digits.size(), n);
  if (negative || err == std::errc::result_out_of_range)
    return out_of_range(range, std::string{text});
  return store(n, range, out);
}

std::string quoted(std::string_view s) {
  constexpr size_t limit = 60; // keep messages one line even for long junk
  if (s.size() > limit)
    return "\"" + std::string{s.substr(0, limit)} + "...\"";
  return "\"" + std::string{s} + "\"";
}

std::string format_double(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  return buf;
}

} // namespace engram::config::detail
