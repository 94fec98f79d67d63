#include "tools/load/arrivals.hpp"

#include <algorithm>
#include <cmath>

namespace engram::load {

open_loop::open_loop(double rate, double duration_s, int64_t start_us)
  : rate_(rate > 0 ? rate : 0), start_us_(start_us),
    total_(rate > 0 && duration_s > 0
             ? static_cast<uint64_t>(std::floor(rate * duration_s + 1e-9))
             : 0) {}

int64_t open_loop::due_us(uint64_t i) const {
  return start_us_ + static_cast<int64_t>(std::llround(double(i) * 1e6 / rate_));
}

uint64_t open_loop::due_by(int64_t now_us) const {
  if (total_ == 0 || now_us < start_us_)
    return 0;
  // Requests 0..k are due when k * 1e6 / rate <= now - start.
  auto k = static_cast<uint64_t>(
    std::floor(double(now_us - start_us_) * rate_ / 1e6 + 1e-9)) + 1;
  // Rounding of due_us may differ by one at the boundary: settle exactly.
  while (k > 0 && due_us(k - 1) > now_us)
    --k;
  while (k < total_ && due_us(k) <= now_us)
    ++k;
  return std::min(k, total_);
}

user_picker::user_picker(uint32_t n, bool zipf, double exponent, uint64_t seed)
  : n_(std::max<uint32_t>(1, n)), zipf_(zipf), rng_(seed) {
  if (!zipf_)
    return;
  cdf_.resize(n_);
  double sum = 0;
  for (uint32_t k = 0; k < n_; ++k) {
    sum += 1.0 / std::pow(double(k + 1), exponent);
    cdf_[k] = sum;
  }
  for (auto& c : cdf_)
    c /= sum;
}

uint32_t user_picker::next() {
  if (!zipf_)
    return std::uniform_int_distribution<uint32_t>(0, n_ - 1)(rng_);
  auto u = std::uniform_real_distribution<double>(0, 1)(rng_);
  auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
  return static_cast<uint32_t>(std::min<std::ptrdiff_t>(
    it - cdf_.begin(), std::ptrdiff_t(n_) - 1));
}

double user_picker::probability(uint32_t k) const {
  if (k >= n_)
    return 0;
  if (!zipf_)
    return 1.0 / n_;
  return k == 0 ? cdf_[0] : cdf_[k] - cdf_[k - 1];
}

} // namespace engram::load
