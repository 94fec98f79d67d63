#pragma once
// How long the model-provider client waits before retrying a failed call:
// exponential backoff with jitter, unless the server said when to come back
// in a Retry-After header (RFC 9110 section 10.2.3), which then wins.
//
// All functions are pure: the random draw and the wall-clock time are
// parameters, so tests are deterministic and the caller owns its RNG.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace engram::providers {

struct backoff_policy {
  // Delay before the first retry, before jitter; each further retry doubles
  // it. Default: 500 ms.
  std::chrono::milliseconds base{500};
  // Longest delay before jitter; bounds how long a call can hang in retries.
  // Default: 30 s.
  std::chrono::milliseconds max{30000};
};

/// Delay before retry number `retry` (1 for the first retry; 0 counts as 1):
/// base * 2^(retry - 1) capped at max (negative values count as 0), then
/// "equal jitter": half the capped delay plus `rnd` times the other half.
/// `rnd` is a uniform draw from [0, 1); values outside are clamped and NaN
/// counts as 0. Jitter spreads the retries of many callers that failed
/// together, while the fixed half keeps each one backing off. Safe for any
/// `retry` (no overflow).
std::chrono::milliseconds retry_delay(const backoff_policy& p, uint32_t retry,
                                      double rnd);

/// The wait a Retry-After header value asks for, seen at wall-clock `now`:
/// - delta-seconds: a non-negative integer ("120"); a decimal ("1.5", which
///   some servers send) is accepted too and rounded up to whole ms;
/// - an HTTP-date in any of the three forms HTTP allows: IMF-fixdate
///   ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94
///   08:49:37 GMT"; a two-digit year is placed within 50 years of `now`) or
///   asctime ("Sun Nov  6 08:49:37 1994"); a date that has passed gives 0.
/// Surrounding whitespace is ignored; the result is at most `cap`. Empty,
/// negative, malformed and impossibly large values give nullopt. Names of
/// days and months are case-sensitive, as in the RFC; a day name is not
/// checked against the date.
std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value,
                  std::chrono::system_clock::time_point now,
                  std::chrono::milliseconds cap = std::chrono::minutes(10));

/// The wait before retry number `retry`: `retry_after` when the server sent
/// one (the server knows its own load; it is honoured even beyond p.max,
/// parse_retry_after has capped it already), otherwise retry_delay().
std::chrono::milliseconds
next_wait(const backoff_policy& p, uint32_t retry, double rnd,
          std::optional<std::chrono::milliseconds> retry_after);

} // namespace engram::providers
