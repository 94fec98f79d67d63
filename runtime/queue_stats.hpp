#pragma once
// Node-wide counters of the session-memory queues (analysis, note_update,
// entity_creation, embedding), fed by every user actor and read by
// GET /v1/queues and /metrics. Like the metrics registry this is shared by
// design: updates are cheap (atomics, plus one short lock for the
// oldest-pending bookkeeping) and nothing reads it on a hot path.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string_view>

#include <boost/json/object.hpp>

namespace engram::metrics {
class registry;
class counter;
class gauge;
class histogram;
} // namespace engram::metrics

namespace engram {

enum class queue_kind : uint8_t {
  analysis,
  note_update,
  entity_creation,
  embedding
};

inline constexpr std::size_t queue_kind_count = 4;

/// "analysis", "note_update", "entity_creation", "embedding".
std::string_view to_string(queue_kind q);

class queue_stats {
public:
  explicit queue_stats(metrics::registry& reg);

  /// A task became pending (new, recovered, retried or backed off);
  /// `since_ms` is when it started waiting (unix ms).
  void pending_added(queue_kind q, int64_t since_ms);
  void pending_removed(queue_kind q, int64_t since_ms);
  void started(queue_kind q);
  void stopped(queue_kind q);
  /// Finished: `latency_ms` from the task's creation.
  void done(queue_kind q, double latency_ms);
  void failed(queue_kind q);
  void retried(queue_kind q);

  /// {"analysis": {"pending","in_flight","done","failed","retried",
  ///  "oldest_pending_age_ms","latency_ms":{"p50","p99"}}, ...}
  boost::json::object to_json(int64_t now_ms) const;

  uint64_t pending(queue_kind q) const;
  uint64_t in_flight(queue_kind q) const;

private:
  struct one_queue {
    metrics::gauge* pending = nullptr;
    metrics::gauge* in_flight = nullptr;
    metrics::counter* done = nullptr;
    metrics::counter* failed = nullptr;
    metrics::counter* retried = nullptr;
    metrics::histogram* latency = nullptr; // seconds
    std::map<int64_t, uint64_t> waiting_since; // since_ms -> count
  };
  mutable std::mutex mu_; // guards waiting_since only
  std::array<one_queue, queue_kind_count> queues_;
};

} // namespace engram
