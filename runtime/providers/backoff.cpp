#include "runtime/providers/backoff.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "runtime/providers/text_util.hpp"

namespace engram::providers {

namespace {

using std::chrono::milliseconds;
using ms_rep = milliseconds::rep;

// --- exponential backoff ----------------------------------------------------

ms_rep capped_delay(const backoff_policy& p, uint32_t retry) {
  ms_rep max = std::max<ms_rep>(p.max.count(), 0);
  ms_rep base = std::clamp<ms_rep>(p.base.count(), 0, max);
  unsigned shift = retry > 0 ? retry - 1 : 0;
  // Compare before shifting: base << shift overflows long before shift 63.
  if (base == 0)
    return 0;
  if (shift >= 62 || base > (max >> shift))
    return max;
  return base << shift;
}

double clamp_unit(double rnd) {
  if (!(rnd > 0)) // also NaN
    return 0;
  return std::min(rnd, std::nextafter(1.0, 0.0));
}

// --- delta-seconds ----------------------------------------------------------

bool all_digits(std::string_view s) {
  return !s.empty()
         && std::all_of(s.begin(), s.end(),
                        [](char c) { return c >= '0' && c <= '9'; });
}

// "120" or "1.5" in milliseconds, rounded up; nullopt when malformed or too
// large for milliseconds::rep.
std::optional<ms_rep> delta_ms(std::string_view s) {
  auto dot = s.find('.');
  auto whole = s.substr(0, dot);
  auto frac = dot == std::string_view::npos ? std::string_view{"0"}
                                            : s.substr(dot + 1);
  if (!all_digits(whole) || !all_digits(frac))
    return std::nullopt;
  constexpr ms_rep max_seconds = std::numeric_limits<ms_rep>::max() / 1000 - 1;
  ms_rep seconds = 0;
  for (char c : whole) {
    seconds = seconds * 10 + (c - '0');
    if (seconds > max_seconds)
      return std::nullopt;
  }
  ms_rep millis = 0;
  for (std::size_t i = 0; i < 3; ++i)
    millis = millis * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  auto beyond_ms = frac.substr(std::min<std::size_t>(frac.size(), 3));
  bool rest = beyond_ms.find_first_not_of('0') != std::string_view::npos;
  return seconds * 1000 + millis + (rest ? 1 : 0);
}

// --- HTTP-date --------------------------------------------------------------

struct civil_time {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

constexpr std::array<std::string_view, 12> months = {
  "Jan", "Feb", "Mar", "Apr", "May", "Jun",
  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> short_days = {
  "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days = {
  "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// Reads a date left to right; every step fails without reading out of range.
struct cursor {
  std::string_view s;
  std::size_t pos = 0;

  bool done() const {
    return pos == s.size();
  }
  bool lit(std::string_view t) {
    if (s.substr(pos, t.size()) != t)
      return false;
    pos += t.size();
    return true;
  }
  // Exactly `n` decimal digits.
  bool digits(std::size_t n, int& out) {
    if (s.size() - pos < n || !all_digits(s.substr(pos, n)))
      return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i)
      out = out * 10 + (s[pos++] - '0');
    return true;
  }
  // One of `names`; `index` is its position in the list.
  template <std::size_t N>
  bool one_of(const std::array<std::string_view, N>& names, int& index) {
    for (std::size_t i = 0; i < N; ++i)
      if (lit(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    return false;
  }
};

bool month(cursor& c, civil_time& t) {
  if (!c.one_of(months, t.month))
    return false;
  ++t.month;
  return true;
}

bool time_of_day(cursor& c, civil_time& t) {
  return c.digits(2, t.hour) && c.lit(":") && c.digits(2, t.minute)
         && c.lit(":") && c.digits(2, t.second);
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
bool imf_fixdate(cursor c, civil_time& t) {
  int weekday = 0;
  return c.one_of(short_days, weekday) && c.lit(", ") && c.digits(2, t.day)
         && c.lit(" ") && month(c, t) && c.lit(" ") && c.digits(4, t.year)
         && c.lit(" ") && time_of_day(c, t) && c.lit(" GMT") && c.done();
}

// "Sunday, 06-Nov-94 08:49:37 GMT"; t.year gets the two digits only.
bool rfc850_date(cursor c, civil_time& t) {
  int weekday = 0;
  return c.one_of(long_days, weekday) && c.lit(", ") && c.digits(2, t.day)
         && c.lit("-") && month(c, t) && c.lit("-") && c.digits(2, t.year)
         && c.lit(" ") && time_of_day(c, t) && c.lit(" GMT") && c.done();
}

// "Sun Nov  6 08:49:37 1994" (a one-digit day is padded with a space).
bool asctime_date(cursor c, civil_time& t) {
  int weekday = 0;
  if (!(c.one_of(short_days, weekday) && c.lit(" ") && month(c, t)
        && c.lit(" ")))
    return false;
  bool day = c.lit(" ") ? c.digits(1, t.day) : c.digits(2, t.day);
  return day && c.lit(" ") && time_of_day(c, t) && c.lit(" ")
         && c.digits(4, t.year) && c.done();
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), so no locale, timegm or time zone is involved.
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The year that day `z` (days since 1970-01-01) falls in (civil_from_days).
int64_t year_of(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool valid(const civil_time& t) {
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30,
                                       31, 31, 30, 31, 30, 31};
  if (t.month < 1 || t.month > 12 || t.day < 1)
    return false;
  int days = month_days[t.month - 1] + (t.month == 2 && leap(t.year) ? 1 : 0);
  // 60 seconds: a leap second, which HTTP-date allows.
  return t.day <= days && t.hour <= 23 && t.minute <= 59 && t.second <= 60;
}

// RFC 9110: a two-digit year is the one with those digits that lies within
// 50 years of the present.
int full_year(int two_digits, int64_t this_year) {
  int64_t y = this_year - this_year % 100 + two_digits;
  if (y > this_year + 50)
    y -= 100;
  else if (y <= this_year - 50)
    y += 100;
  return static_cast<int>(y);
}

// Milliseconds since the Unix epoch of an HTTP-date, or nullopt.
std::optional<ms_rep> http_date_ms(std::string_view s, ms_rep now_ms) {
  civil_time t;
  if (rfc850_date(cursor{s}, t)) {
    auto today = now_ms / 86'400'000 - (now_ms % 86'400'000 < 0 ? 1 : 0);
    t.year = full_year(t.year, year_of(today));
  } else if (!imf_fixdate(cursor{s}, t) && !asctime_date(cursor{s}, t)) {
    return std::nullopt;
  }
  if (!valid(t))
    return std::nullopt;
  int64_t seconds = days_from_civil(t.year, t.month, t.day) * 86400
                    + t.hour * 3600 + t.minute * 60 + t.second;
  return seconds * 1000;
}

} // namespace

milliseconds retry_delay(const backoff_policy& p, uint32_t retry, double rnd) {
  ms_rep capped = capped_delay(p, retry);
  ms_rep half = capped / 2;
  auto jitter = static_cast<ms_rep>(clamp_unit(rnd) * double(capped - half));
  return milliseconds{std::min(capped, half + jitter)};
}

std::optional<milliseconds>
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now, milliseconds cap) {
  auto s = text::trim(value);
  if (s.empty())
    return std::nullopt;
  auto cap_ms = std::max<ms_rep>(cap.count(), 0);
  if (s[0] >= '0' && s[0] <= '9') {
    auto wait = delta_ms(s);
    if (!wait)
      return std::nullopt;
    return milliseconds{std::min(*wait, cap_ms)};
  }
  auto now_ms =
    std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
  auto at = http_date_ms(s, now_ms);
  if (!at)
    return std::nullopt;
  return milliseconds{std::clamp<ms_rep>(*at - now_ms, 0, cap_ms)};
}

milliseconds next_wait(const backoff_policy& p, uint32_t retry, double rnd,
                       std::optional<milliseconds> retry_after) {
  if (retry_after)
    return std::max(*retry_after, milliseconds::zero());
  return retry_delay(p, retry, rnd);
}

} // namespace engram::providers
