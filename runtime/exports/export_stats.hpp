#pragma once
// Export statistics: per user (a small value the exporter keeps and
// persists with its state) and per node (metrics instruments shared by all
// exporters, so /metrics and GET /v1/exports/stats read the same numbers).

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

#include "runtime/exports/debounce_policy.hpp"
#include "runtime/metrics.hpp"

namespace engram::exports {

inline constexpr std::size_t trigger_kinds = 6;
inline constexpr std::size_t outcome_count = 6;

/// Export durations in log-2 buckets: bucket i holds durations up to
/// 100 us * 2^i (i < 20, so up to ~52 s); the last one holds the rest.
inline constexpr std::size_t duration_buckets = 21;

/// Triggers count what arrived, by kind; outcomes count decisions: one per
/// trigger that did not export at once (debounced, coalesced, ignored,
/// unchanged) plus one per export run (exported, unchanged, failed).
struct user_export_stats {
  std::array<uint64_t, trigger_kinds> triggers{};
  std::array<uint64_t, outcome_count> outcomes{};
  uint64_t exports = 0; // files written
  int64_t last_export_ms = 0;
  std::array<uint32_t, duration_buckets> durations{};

  void count(trigger_kind k) { ++triggers[static_cast<std::size_t>(k)]; }
  void count(outcome o) { ++outcomes[static_cast<std::size_t>(o)]; }
  void exported(double seconds, int64_t at_ms);
  /// Upper bound of the bucket holding quantile `q` (0 < q <= 1), seconds;
  /// 0 when nothing was exported.
  double duration_quantile(double q) const;
};

/// {"triggers": {kind: n}, "outcomes": {outcome: n}, "total_exports",
///  "last_export_at" (ISO-8601 or null), "duration_seconds": {p50, p99}}.
boost::json::object to_json(const user_export_stats& s);
caf::expected<user_export_stats> user_stats_from_json(const boost::json::value& v);

/// Node-wide counters; thread-safe (metric instruments are atomics).
class node_export_stats {
public:
  explicit node_export_stats(metrics::registry& reg);

  void count(trigger_kind k);
  void count(outcome o);
  void exported(double seconds, int64_t at_ms);
  void webhook(bool ok, uint32_t retries);
  /// A trailing-export timer fired this long after its due time.
  void timer_fired(double late_seconds);

  /// The same shape as the per-user stats plus webhook counters.
  boost::json::object to_json() const;

private:
  std::array<metrics::counter*, trigger_kinds> triggers_{};
  std::array<metrics::counter*, outcome_count> outcomes_{};
  metrics::counter* exports_;
  metrics::histogram* duration_;
  metrics::histogram* lateness_;
  metrics::counter* webhook_ok_;
  metrics::counter* webhook_failed_;
  metrics::counter* webhook_retries_;
  std::atomic<int64_t> last_export_ms_{0};
};

} // namespace engram::exports
