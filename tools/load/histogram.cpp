#include "tools/load/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace engram::load {

namespace {

// Layout: values below `sub` have a bucket each (exact). A larger value
// with w bits keeps its top sub_bits bits: top in [sub/2, sub), so each
// power of two has sub/2 buckets of width 2^shift (shift = w - sub_bits),
// and the midpoint is within 2^(shift-1) <= value/sub of any value in it.
constexpr uint64_t half = histogram::sub / 2;
constexpr std::size_t bucket_count =
  histogram::sub + (64 - histogram::sub_bits) * half;

int bit_width(uint64_t v) {
  return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

} // namespace

histogram::histogram() : counts_(bucket_count, 0) {}

std::size_t histogram::index_of(uint64_t v) {
  if (v < sub)
    return static_cast<std::size_t>(v);
  int shift = bit_width(v) - sub_bits; // >= 1
  uint64_t top = v >> shift;            // in [half, sub)
  return static_cast<std::size_t>(sub + uint64_t(shift - 1) * half
                                  + (top - half));
}

std::pair<uint64_t, uint64_t> histogram::range_of(std::size_t index) {
  if (index < sub)
    return {index, index};
  uint64_t j = index - sub;
  uint64_t shift = j / half + 1;
  uint64_t top = j % half + half;
  uint64_t lo = top << shift;
  return {lo, lo + ((uint64_t{1} << shift) - 1)};
}

void histogram::record(uint64_t value, uint64_t times) {
  if (times == 0)
    return;
  counts_[index_of(value)] += times;
  if (count_ == 0 || value < min_)
    min_ = value;
  max_ = std::max(max_, value);
  count_ += times;
  sum_ += value * times;
}

void histogram::merge(const histogram& o) {
  if (o.count_ == 0)
    return;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += o.counts_[i];
  min_ = count_ ? std::min(min_, o.min_) : o.min_;
  max_ = std::max(max_, o.max_);
  count_ += o.count_;
  sum_ += o.sum_;
}

void histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = min_ = max_ = sum_ = 0;
}

uint64_t histogram::quantile(double q) const {
  if (count_ == 0)
    return 0;
  q = std::clamp(q, 0.0, 1.0);
  if (q >= 1.0)
    return max_;
  auto want = std::max<uint64_t>(1, uint64_t(std::ceil(q * double(count_))));
  uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= want) {
      auto [lo, hi] = range_of(i);
      auto mid = lo + (hi - lo) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

std::vector<std::pair<uint64_t, double>> histogram::cdf() const {
  std::vector<std::pair<uint64_t, double>> out;
  uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (!counts_[i])
      continue;
    seen += counts_[i];
    out.emplace_back(std::clamp(range_of(i).second, min_, max_),
                     double(seen) / double(count_));
  }
  return out;
}

} // namespace engram::load
