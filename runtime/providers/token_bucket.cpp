#include "runtime/providers/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace engram::providers {

namespace {

using clock = token_bucket::clock;

constexpr double ticks_per_second =
  double(clock::period::den) / double(clock::period::num);

// Bounds that keep every time point computed below far from overflow.
constexpr double max_interval_ticks = 365.0 * 86400 * ticks_per_second;
constexpr double max_tolerance_ticks = 50 * max_interval_ticks;

// Rounds up, so the bucket never lets through more than the configured rate.
clock::duration ticks(double n, double max) {
  return clock::duration{
    static_cast<clock::rep>(std::clamp(std::ceil(n), 0.0, max))};
}

} // namespace

token_bucket::token_bucket(double rate_per_s, double burst) {
  unlimited_ = !(rate_per_s > 0); // also true for NaN
  burst_ = std::isnan(burst) ? 1.0 : std::clamp(burst, 1.0, 1e12);
  if (unlimited_)
    return;
  interval_ = std::max(clock::duration{1},
                       ticks(ticks_per_second / rate_per_s,
                             max_interval_ticks));
  tolerance_ = ticks((burst_ - 1) * double(interval_.count()),
                     max_tolerance_ticks);
}

bool token_bucket::unlimited() const {
  return unlimited_;
}

clock::time_point token_bucket::tat(clock::time_point now) const {
  return std::max(tat_, now);
}

bool token_bucket::try_take(clock::time_point now) {
  if (unlimited_)
    return true;
  auto t = tat(now);
  if (t - now > tolerance_)
    return false;
  tat_ = t + interval_;
  return true;
}

clock::duration token_bucket::wait_time(clock::time_point now) const {
  if (unlimited_)
    return clock::duration::zero();
  return std::max(clock::duration::zero(), tat(now) - tolerance_ - now);
}

double token_bucket::tokens(clock::time_point now) const {
  if (unlimited_)
    return std::numeric_limits<double>::infinity();
  auto backlog = double((tat(now) - now).count());
  return std::clamp(burst_ - backlog / double(interval_.count()), 0.0,
                    burst_);
}

} // namespace engram::providers
