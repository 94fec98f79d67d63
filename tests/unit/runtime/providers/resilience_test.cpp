// Specification of the model client's resilience building blocks:
// runtime/providers/token_bucket, circuit_breaker, backoff and usage_budget.
// Every function takes time as a parameter, so these tests never sleep.

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "runtime/providers/backoff.hpp"
#include "runtime/providers/circuit_breaker.hpp"
#include "runtime/providers/token_bucket.hpp"
#include "runtime/providers/usage_budget.hpp"

using namespace engram::providers;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

using steady = std::chrono::steady_clock;

const steady::time_point t0 = steady::time_point{} + 1000h;

} // namespace

// --- token_bucket ------------------------------------------------------------

TEST_CASE("a token bucket starts full and refuses once empty",
          "[resilience][token_bucket]") {
  token_bucket b{2.0, 3.0};
  CHECK_FALSE(b.unlimited());
  CHECK(b.tokens(t0) == Approx(3.0));
  CHECK(b.wait_time(t0) == steady::duration::zero());
  CHECK(b.try_take(t0));
  CHECK(b.try_take(t0));
  CHECK(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0));
  CHECK(b.tokens(t0) == Approx(0.0));
  CHECK(b.wait_time(t0) == 500ms);
}

TEST_CASE("a token bucket refills at its rate up to its burst",
          "[resilience][token_bucket]") {
  token_bucket b{10.0, 2.0};
  REQUIRE(b.try_take(t0));
  REQUIRE(b.try_take(t0));
  CHECK(b.tokens(t0 + 50ms) == Approx(0.5));
  CHECK(b.wait_time(t0 + 50ms) == 50ms);
  CHECK_FALSE(b.try_take(t0 + 99ms));
  CHECK(b.try_take(t0 + 100ms));
  CHECK(b.tokens(t0 + 10s) == Approx(2.0)); // never above the burst
  CHECK(b.try_take(t0 + 10s));
  CHECK(b.try_take(t0 + 10s));
  CHECK_FALSE(b.try_take(t0 + 10s));
}

TEST_CASE("waiting wait_time always makes a token available",
          "[resilience][token_bucket]") {
  token_bucket b{3.0, 1.0}; // 1/3 s does not divide evenly into ticks
  auto now = t0;
  for (int i = 0; i < 100; ++i) {
    now += b.wait_time(now);
    REQUIRE(b.try_take(now));
  }
  // 100 tokens at 3/s: the first is free, the other 99 take 33 s.
  CHECK(now - t0 >= 33s);
  CHECK(now - t0 < 33s + 1ms);
}

TEST_CASE("a token bucket with rate 0 is unlimited",
          "[resilience][token_bucket]") {
  token_bucket b{0.0, 1.0};
  CHECK(b.unlimited());
  for (int i = 0; i < 1000; ++i)
    REQUIRE(b.try_take(t0));
  CHECK(b.wait_time(t0) == steady::duration::zero());
  CHECK(token_bucket{-1.0, 5.0}.unlimited());
}

TEST_CASE("a burst below 1 counts as 1", "[resilience][token_bucket]") {
  token_bucket b{1.0, 0.0};
  CHECK(b.tokens(t0) == Approx(1.0));
  CHECK(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0 + 999ms));
  CHECK(b.try_take(t0 + 1s));
}

// --- circuit_breaker ---------------------------------------------------------

namespace {

struct recorded_breaker {
  std::vector<std::pair<breaker_state, breaker_state>> transitions;
  circuit_breaker breaker;

  explicit recorded_breaker(breaker_options o)
    : breaker(o, [this](breaker_state from, breaker_state to) {
        transitions.emplace_back(from, to);
      }) {
  }
};

breaker_options three_failures() {
  return breaker_options{3, std::chrono::milliseconds{10000}};
}

using bs = breaker_state;
using transition = std::pair<bs, bs>;

} // namespace

TEST_CASE("a breaker opens after failure_threshold consecutive failures",
          "[resilience][circuit_breaker]") {
  recorded_breaker r{three_failures()};
  auto& b = r.breaker;
  CHECK(b.allow(t0));
  b.on_failure(t0);
  b.on_failure(t0 + 1s);
  CHECK(b.state(t0 + 1s) == bs::closed);
  CHECK(b.consecutive_failures() == 2);
  CHECK_FALSE(b.opened_at());
  b.on_failure(t0 + 2s);
  CHECK(b.state(t0 + 2s) == bs::open);
  CHECK(b.opened_at() == t0 + 2s);
  CHECK(b.retry_at() == t0 + 12s);
  CHECK_FALSE(b.allow(t0 + 2s));
  CHECK(r.transitions == std::vector<transition>{{bs::closed, bs::open}});
}

TEST_CASE("a success resets the failure count of a closed breaker",
          "[resilience][circuit_breaker]") {
  recorded_breaker r{three_failures()};
  auto& b = r.breaker;
  b.on_failure(t0);
  b.on_failure(t0);
  b.on_success(t0);
  CHECK(b.consecutive_failures() == 0);
  b.on_failure(t0);
  b.on_failure(t0);
  CHECK(b.state(t0) == bs::closed);
  CHECK(r.transitions.empty());
}

TEST_CASE("after the cooldown an open breaker lets exactly one probe out",
          "[resilience][circuit_breaker]") {
  recorded_breaker r{three_failures()};
  auto& b = r.breaker;
  for (int i = 0; i < 3; ++i)
    b.on_failure(t0);
  CHECK_FALSE(b.allow(t0 + 9999ms));
  CHECK(b.state(t0 + 9999ms) == bs::open);
  CHECK(b.state(t0 + 10s) == bs::half_open); // reported, not entered
  CHECK(r.transitions.size() == 1);
  CHECK(b.allow(t0 + 10s));
  CHECK_FALSE(b.allow(t0 + 10s));
  CHECK_FALSE(b.allow(t0 + 1h)); // the probe is still out
  CHECK(b.state(t0 + 1h) == bs::half_open);
  CHECK(r.transitions.back() == transition{bs::open, bs::half_open});
}

TEST_CASE("a successful probe closes the breaker",
          "[resilience][circuit_breaker]") {
  recorded_breaker r{three_failures()};
  auto& b = r.breaker;
  for (int i = 0; i < 3; ++i)
    b.on_failure(t0);
  REQUIRE(b.allow(t0 + 10s));
  b.on_success(t0 + 11s);
  CHECK(b.state(t0 + 11s) == bs::closed);
  CHECK(b.consecutive_failures() == 0);
  CHECK_FALSE(b.opened_at());
  CHECK(b.allow(t0 + 11s));
  CHECK(b.allow(t0 + 11s));
  CHECK(r.transitions
        == std::vector<transition>{{bs::closed, bs::open},
                                   {bs::open, bs::half_open},
                                   {bs::half_open, bs::closed}});
}

TEST_CASE("a failed probe reopens the breaker and restarts the cooldown",
          "[resilience][circuit_breaker]") {
  recorded_breaker r{three_failures()};
  auto& b = r.breaker;
  for (int i = 0; i < 3; ++i)
    b.on_failure(t0);
  REQUIRE(b.allow(t0 + 10s));
  b.on_failure(t0 + 15s);
  CHECK(b.state(t0 + 15s) == bs::open);
  CHECK(b.opened_at() == t0 + 15s);
  CHECK(b.retry_at() == t0 + 25s);
  CHECK_FALSE(b.allow(t0 + 24s));
  CHECK(b.allow(t0 + 25s));
  CHECK(r.transitions
        == std::vector<transition>{{bs::closed, bs::open},
                                   {bs::open, bs::half_open},
                                   {bs::half_open, bs::open},
                                   {bs::open, bs::half_open}});
}

TEST_CASE("late outcomes reported while open change nothing",
          "[resilience][circuit_breaker]") {
  recorded_breaker r{three_failures()};
  auto& b = r.breaker;
  for (int i = 0; i < 3; ++i)
    b.on_failure(t0);
  b.on_success(t0 + 1s);
  b.on_failure(t0 + 2s);
  CHECK(b.state(t0 + 2s) == bs::open);
  CHECK(b.retry_at() == t0 + 10s);
  CHECK(r.transitions.size() == 1);
}

TEST_CASE("a threshold of 0 counts as 1 and a breaker works without a callback",
          "[resilience][circuit_breaker]") {
  circuit_breaker b{breaker_options{0, std::chrono::milliseconds{0}}};
  CHECK(b.retry_at() == steady::time_point::min());
  b.on_failure(t0);
  CHECK(b.state(t0 - 1ms) == bs::open);
  CHECK(b.allow(t0)); // zero cooldown: the probe may go at once
  CHECK(std::string{to_string(b.state(t0))} == "half_open");
  CHECK(std::string{to_string(bs::closed)} == "closed");
  CHECK(std::string{to_string(bs::open)} == "open");
}

// --- backoff -----------------------------------------------------------------

TEST_CASE("retry delays double from base up to max",
          "[resilience][backoff]") {
  backoff_policy p{500ms, 30000ms};
  // rnd close to 1 gives (almost) the full capped delay.
  auto full = [&](uint32_t retry) { return retry_delay(p, retry, 0.9999999); };
  CHECK(full(1) == 499ms);
  CHECK(full(2) == 999ms);
  CHECK(full(3) == 1999ms);
  CHECK(full(6) == 15999ms);
  CHECK(full(7) == 29999ms);
  CHECK(full(8) == 29999ms);
  CHECK(retry_delay(p, 0, 0.9999999) == full(1)); // 0 counts as the first
}

TEST_CASE("equal jitter keeps delays from half up to (not including) the whole capped delay",
          "[resilience][backoff]") {
  backoff_policy p{1000ms, 8000ms};
  CHECK(retry_delay(p, 1, 0.0) == 500ms);
  CHECK(retry_delay(p, 1, 0.5) == 750ms);
  CHECK(retry_delay(p, 4, 0.0) == 4000ms);
  CHECK(retry_delay(p, 4, 0.999) == 7996ms);
  // Out-of-range draws are clamped.
  CHECK(retry_delay(p, 1, -3.0) == 500ms);
  CHECK(retry_delay(p, 1, 1.0) <= 1000ms);
  CHECK(retry_delay(p, 1, 7.0) <= 1000ms);
  CHECK(retry_delay(p, 1, std::nan("")) == 500ms);
  std::mt19937 rng{7};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (uint32_t retry = 1; retry < 40; ++retry) {
    auto d = retry_delay(p, retry, unit(rng));
    auto doublings = std::min(retry - 1, 20u);
    auto capped = std::min<milliseconds>(1000ms * (1LL << doublings), 8000ms);
    REQUIRE(d >= capped / 2);
    REQUIRE(d <= capped);
  }
}

TEST_CASE("huge retry counts and odd policies do not overflow",
          "[resilience][backoff]") {
  backoff_policy p{500ms, 30000ms};
  CHECK(retry_delay(p, 200, 0.0) == 15000ms);
  CHECK(retry_delay(p, 4'000'000'000u, 0.0) == 15000ms);
  backoff_policy huge{milliseconds::max() / 2, milliseconds::max()};
  CHECK(retry_delay(huge, 3, 0.0) == milliseconds::max() / 2);
  CHECK(retry_delay(backoff_policy{0ms, 1000ms}, 5, 0.5) == 0ms);
  CHECK(retry_delay(backoff_policy{-5ms, -1ms}, 5, 0.5) == 0ms);
  CHECK(retry_delay(backoff_policy{5000ms, 1000ms}, 1, 0.0) == 500ms);
}

namespace {

using sys_clock = std::chrono::system_clock;

sys_clock::time_point unix_time(int64_t seconds) {
  return sys_clock::time_point{} + std::chrono::seconds{seconds};
}

// 1994-11-06 08:49:37 UTC, the example date of the HTTP RFCs.
const sys_clock::time_point rfc_date = unix_time(784111777);

std::optional<milliseconds> retry_after(std::string_view v,
                                        sys_clock::time_point now,
                                        milliseconds cap = 10min) {
  return parse_retry_after(v, now, cap);
}

} // namespace

TEST_CASE("Retry-After delta-seconds", "[resilience][backoff]") {
  auto now = rfc_date;
  CHECK(retry_after("120", now) == 120000ms);
  CHECK(retry_after("0", now) == 0ms);
  CHECK(retry_after(" \t7 \r\n", now) == 7000ms);
  CHECK(retry_after("007", now) == 7000ms);
  CHECK(retry_after("1.5", now) == 1500ms);
  CHECK(retry_after("0.25", now) == 250ms);
  CHECK(retry_after("2.0001", now) == 2001ms); // rounded up
  CHECK(retry_after("2.000000", now) == 2000ms);
}

TEST_CASE("Retry-After HTTP-dates in all three forms",
          "[resilience][backoff]") {
  auto now = rfc_date - 90s;
  CHECK(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 90000ms);
  CHECK(retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now) == 90000ms);
  CHECK(retry_after("Sun Nov  6 08:49:37 1994", now) == 90000ms);
  CHECK(retry_after("Sun Nov 16 08:49:37 1994", now, 1000h) == 90000ms + 240h);
  // Sub-second "now": the wait is still exact to the millisecond.
  CHECK(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 250ms) == 89750ms);
  // Leap day and a date far from the epoch.
  auto leap = unix_time(951782400); // 2000-02-29 00:00:00
  CHECK(retry_after("Tue, 29 Feb 2000 00:01:00 GMT", leap) == 60000ms);
  auto y2100 = unix_time(4102444800); // 2100-01-01 00:00:00
  CHECK(retry_after("Fri, 01 Jan 2100 00:00:30 GMT", y2100) == 30000ms);
}

TEST_CASE("Retry-After two-digit years lie within 50 years of now",
          "[resilience][backoff]") {
  auto in_2040 = unix_time(2208988800); // 2040-01-01 00:00:00
  CHECK(retry_after("Monday, 01-Jan-40 00:00:05 GMT", in_2040) == 5000ms);
  // "89" in 2040 is 2089, 49 years ahead; "95" is 1995 (55 would be ahead).
  CHECK(retry_after("Sunday, 01-Jan-89 00:00:00 GMT", in_2040, 1000000h)
        > 400000h);
  CHECK(retry_after("Sunday, 01-Jan-95 00:00:00 GMT", in_2040) == 0ms);
}

TEST_CASE("Retry-After dates in the past wait 0, long waits are capped",
          "[resilience][backoff]") {
  auto now = rfc_date + 1h;
  CHECK(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 0ms);
  CHECK(retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0ms);
  CHECK(retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == 10min);
  CHECK(retry_after("86400", now) == 10min);
  CHECK(retry_after("86400", now, 1h) == 1h);
  CHECK(retry_after("5", now, -1s) == 0ms);
  CHECK(retry_after("9223372036854774", now) == 10min);
}

TEST_CASE("malformed Retry-After values are refused", "[resilience][backoff]") {
  auto now = rfc_date;
  const char* values[] = {
    "", "   ", "-1", "+5", "1e3", "1.", ".5", "1.5.2", "12 s", "0x10", "abc",
    "99999999999999999999", "9223372036854775807",
    "Sun, 06 Nov 1994 08:49:37",        // no zone
    "Sun, 06 Nov 1994 08:49:37 UTC",    // HTTP says GMT
    "Sun, 6 Nov 1994 08:49:37 GMT",     // day needs two digits
    "sun, 06 nov 1994 08:49:37 GMT",    // names are case-sensitive
    "Sun, 31 Nov 1994 08:49:37 GMT",    // no such day
    "Sun, 29 Feb 1900 08:49:37 GMT",    // 1900 is no leap year
    "Sun, 00 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT",
    "Sun, 06 Nov 1994 08:60:00 GMT",
    "Sun, 06 Nov 1994 08:49:37 GMT x",
    "Sunday, 06-Nov-1994 08:49:37 GMT", // RFC 850 has two-digit years
    "Sun, 06-Nov-94 08:49:37 GMT",      // ... and long day names
    "Sun Nov 6 08:49:37 1994",          // asctime pads the day with a space
    "Sun Nov  6 08:49:37 94"};
  for (auto v : values) {
    INFO("value: '" << v << "'");
    CHECK_FALSE(retry_after(v, now));
  }
  CHECK_FALSE(retry_after(std::string_view{"12\0", 3}, now));
}

TEST_CASE("random Retry-After values never crash", "[resilience][backoff]") {
  static const char* pieces[] = {"0", "1", "9", ".", "-", " ", ",", ":",
                                 "Sun", "Sunday", "Nov", "GMT", "1994",
                                 "06", "08:49:37", "\t", "x", "\xFF"};
  constexpr std::size_t n_pieces = sizeof(pieces) / sizeof(pieces[0]);
  std::mt19937 rng{42};
  std::uniform_int_distribution<std::size_t> count(0, 12);
  std::uniform_int_distribution<std::size_t> piece(0, n_pieces - 1);
  for (int i = 0; i < 20000; ++i) {
    std::string v;
    for (auto n = count(rng); n > 0; --n)
      v += pieces[piece(rng)];
    auto wait = retry_after(v, rfc_date);
    if (wait)
      REQUIRE((*wait >= 0ms && *wait <= 10min));
  }
}

TEST_CASE("next_wait prefers the server's Retry-After",
          "[resilience][backoff]") {
  backoff_policy p{500ms, 2000ms};
  CHECK(next_wait(p, 1, 0.0, std::nullopt) == 250ms);
  CHECK(next_wait(p, 1, 0.0, 9000ms) == 9000ms); // beyond p.max: honoured
  CHECK(next_wait(p, 3, 0.0, 0ms) == 0ms);
}

// --- usage_budget ------------------------------------------------------------

TEST_CASE("a budget refuses once calls or tokens reach their limit",
          "[resilience][usage_budget]") {
  usage_budget calls{budget_limits{2, 0}};
  CHECK(calls.allows(t0));
  calls.record_call(t0);
  CHECK(calls.allows(t0 + 1s));
  calls.record_call(t0 + 1s);
  CHECK_FALSE(calls.allows(t0 + 2s));
  CHECK(calls.calls_used(t0 + 2s) == 2);

  usage_budget tokens{budget_limits{0, 1000}};
  tokens.record_call(t0);
  tokens.record_tokens(t0 + 1s, 999);
  CHECK(tokens.allows(t0 + 1s));
  tokens.record_call(t0 + 1s);
  tokens.record_tokens(t0 + 2s, 500); // the call that overshoots
  CHECK_FALSE(tokens.allows(t0 + 2s));
  CHECK(tokens.tokens_used(t0 + 2s) == 1499);
}

TEST_CASE("a budget's window opens at first use and rolls over after it ends",
          "[resilience][usage_budget]") {
  usage_budget b{budget_limits{1, 0}};
  CHECK(b.window_end(t0) == t0); // no window yet
  CHECK(b.idle(t0));
  b.record_call(t0 + 5s);
  CHECK_FALSE(b.idle(t0 + 5s));
  CHECK(b.window_end(t0 + 30s) == t0 + 65s);
  CHECK_FALSE(b.allows(t0 + 64999ms));
  CHECK(b.allows(t0 + 65s));
  CHECK(b.calls_used(t0 + 65s) == 0);
  CHECK(b.idle(t0 + 65s));
  // The next window opens at the next use, not on a fixed grid.
  b.record_call(t0 + 100s);
  CHECK(b.window_end(t0 + 100s) == t0 + 160s);
  CHECK_FALSE(b.allows(t0 + 159s));
}

TEST_CASE("a budget with zero limits is unlimited",
          "[resilience][usage_budget]") {
  usage_budget b{budget_limits{}};
  for (int i = 0; i < 10000; ++i) {
    b.record_call(t0);
    b.record_tokens(t0, 1'000'000);
  }
  CHECK(b.allows(t0));
  b.record_tokens(t0, UINT64_MAX); // saturates
  CHECK(b.tokens_used(t0) == UINT64_MAX);
}

TEST_CASE("tokens count in the window current when they arrive",
          "[resilience][usage_budget]") {
  usage_budget b{budget_limits{0, 100}, 10s};
  b.record_call(t0);              // the call starts in the first window
  b.record_tokens(t0 + 12s, 150); // and returns in the next
  CHECK(b.tokens_used(t0 + 12s) == 150);
  CHECK(b.calls_used(t0 + 12s) == 0);
  CHECK(b.window_end(t0 + 12s) == t0 + 22s);
  CHECK_FALSE(b.allows(t0 + 21s));
  CHECK(b.allows(t0 + 22s));
}
