#pragma once
// Client-side rate limit for calls to one model endpoint: on average at most
// `rate_per_s` calls a second, with bursts of up to `burst` calls after a
// quiet spell. Keeping under the provider's published limit is cheaper than
// collecting its 429s and backing off.
//
// Implemented as GCRA (the "virtual scheduling" form of a token bucket): one
// time point, the theoretical arrival time of the next call, replaces a
// floating-point token count, so results are exact in clock ticks and the
// same on every machine. Time is passed in, never read. Not thread-safe;
// the owning actor serialises calls.

#include <chrono>

namespace engram::providers {

class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  /// A rate of 0 (or below, or NaN) means unlimited. Bursts below 1 count
  /// as 1. Extreme values are clamped: one token takes at least one clock
  /// tick and at most a year to refill, a full bucket at most 50 years.
  /// The bucket starts full.
  token_bucket(double rate_per_s, double burst);

  /// True when the bucket never refuses.
  bool unlimited() const;

  /// Takes one token if one is available at `now`.
  bool try_take(clock::time_point now);

  /// How long after `now` a token becomes available; zero when one is
  /// available now (always zero when unlimited).
  clock::duration wait_time(clock::time_point now) const;

  /// Tokens available at `now`, in [0, burst]; infinity when unlimited.
  double tokens(clock::time_point now) const;

private:
  // The theoretical arrival time at `now`: never earlier than `now`.
  clock::time_point tat(clock::time_point now) const;

  bool unlimited_ = false;
  double burst_ = 1;
  clock::duration interval_{0};  // time to refill one token
  clock::duration tolerance_{0}; // (burst - 1) * interval_
  clock::time_point tat_ = clock::time_point::min();
};

} // namespace engram::providers
