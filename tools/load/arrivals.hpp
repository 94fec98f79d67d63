#pragma once
// Open-loop arrival schedules and user choice for engram-load.
//
// Open loop means request i of a phase is due at start + i / rate whatever
// happened to earlier requests, and its latency is measured from that due
// time, not from when it was actually sent: a node that stalls for a
// second is charged the whole second for every request that should have
// gone out meanwhile (no coordinated omission).

#include <cstdint>
#include <random>
#include <vector>

namespace engram::load {

class open_loop {
public:
  /// `rate` requests per second for `duration_s`, starting at start_us.
  open_loop(double rate, double duration_s, int64_t start_us);

  /// How many requests the phase sends in total.
  uint64_t total() const { return total_; }
  /// When request i is due (microseconds, same clock as start_us).
  int64_t due_us(uint64_t i) const;
  /// Requests due at or before now_us (clamped to total()).
  uint64_t due_by(int64_t now_us) const;

private:
  double rate_;
  int64_t start_us_;
  uint64_t total_;
};

/// Picks user indices 0..n-1: uniformly, or Zipf-distributed with
/// P(k) proportional to 1 / (k + 1)^exponent (user 0 the most active).
class user_picker {
public:
  user_picker(uint32_t n, bool zipf, double exponent, uint64_t seed);
  uint32_t next();
  /// P(user k) (for tests and reports).
  double probability(uint32_t k) const;

private:
  uint32_t n_;
  bool zipf_;
  std::vector<double> cdf_; // zipf only
  std::mt19937_64 rng_;
};

} // namespace engram::load
