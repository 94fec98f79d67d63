#pragma once
// Thread-safe counters, gauges and histograms, rendered in the Prometheus
// text format on /metrics. Instruments are created once (registration takes
// a lock) and then updated lock-free from any thread or actor; hold the
// returned references, they live as long as the registry.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace engram::metrics {

using labels = std::map<std::string, std::string>;

class counter {
public:
  void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> v_{0};
};

class gauge {
public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double d);
  double value() const { return v_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> v_{0};
};

/// Histogram with fixed upper bounds (Prometheus `le` buckets) plus an
/// estimated quantile read from the buckets (linear within a bucket).
class histogram {
public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v);
  uint64_t count() const;
  double sum() const;
  /// Estimated q-quantile (0..1) of everything observed; 0 when empty.
  double quantile(double q) const;
  const std::vector<double>& bounds() const { return bounds_; }
  /// Cumulative count per bound, then +Inf (size bounds()+1).
  std::vector<uint64_t> cumulative() const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_; // bounds_.size()+1
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

/// Latency buckets in seconds, 50 us .. 10 s.
std::vector<double> latency_buckets();
/// Size buckets 1 .. 4096 (powers of two), e.g. for batch sizes.
std::vector<double> size_buckets();

class registry {
public:
  // Both out of line: `family` is only complete in metrics.cpp.
  registry();
  ~registry();
  /// Finds or creates the instrument `name{labels}`. `help` is kept from the
  /// first registration of `name`. A name must keep one instrument type.
  counter& get_counter(const std::string& name, const std::string& help,
                       const labels& l = {});
  gauge& get_gauge(const std::string& name, const std::string& help,
                   const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help,
                           const labels& l = {},
                           std::vector<double> bounds = latency_buckets());

  /// Runs before each render to refresh gauges computed on demand (queue
  /// depths, RocksDB properties).
  void add_collector(std::function<void()> fn);

  /// The whole registry in Prometheus text exposition format 0.0.4.
  std::string render() const;

private:
  struct family;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<family>> families_;
  std::vector<std::function<void()>> collectors_;
};

} // namespace engram::metrics
