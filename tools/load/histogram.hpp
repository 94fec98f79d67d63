#pragma once
// A log-linear latency histogram for engram-load: values (microseconds,
// or any non-negative integer) fall into buckets whose width is 1/128 of
// their power of two, so any recorded value is reported within 1/128
// (< 0.8%) of itself; values below 128 are exact. Fixed memory (~60 KB),
// O(1) record, mergeable; not thread-safe (one per thread, merged).

#include <cstdint>
#include <utility>
#include <vector>

namespace engram::load {

class histogram {
public:
  /// Sub-buckets per power of two: the relative error bound is 1/sub.
  static constexpr int sub_bits = 7;
  static constexpr uint64_t sub = uint64_t{1} << sub_bits;

  histogram();

  void record(uint64_t value, uint64_t times = 1);
  void merge(const histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0; }

  /// The value at quantile q (0..1): the smallest recorded bucket whose
  /// cumulative count reaches ceil(q * count), reported as the bucket's
  /// midpoint clamped to [min, max]; quantile(1) is the exact max. 0 when
  /// empty.
  uint64_t quantile(double q) const;

  /// (value, fraction of samples <= value) at every non-empty bucket, for
  /// CDF plots.
  std::vector<std::pair<uint64_t, double>> cdf() const;

  /// Bucket index of `value`, and the value range [lo, hi] of a bucket
  /// (exposed for tests).
  static std::size_t index_of(uint64_t value);
  static std::pair<uint64_t, uint64_t> range_of(std::size_t index);

private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

} // namespace engram::load
