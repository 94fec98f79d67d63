#pragma once
// GET /v1/queues: parsing, a background sampler (every 500 ms) and the
// drain wait used at the end of the pipeline scenario.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench_pipeline/http_client.hpp"

namespace engram::bench {

struct queue_counts {
  uint64_t pending = 0;
  uint64_t in_flight = 0;
  uint64_t done = 0;
  uint64_t failed = 0;
  uint64_t backlog() const { return pending + in_flight; }
};

/// One answer of GET /v1/queues, taken `t` seconds after the run started.
struct queue_snapshot {
  double t = 0;
  std::map<std::string, queue_counts> queues;
  uint64_t backlog() const;
  /// "analysis 3+1, note_update 40+8, ..." (pending+in_flight).
  std::string describe() const;
};

/// Fetches and parses one snapshot; nullopt (and `error`) on failure.
std::optional<queue_snapshot> fetch_queues(http_client& client, std::string& error);

class queue_sampler {
public:
  queue_sampler(endpoint ep, std::chrono::steady_clock::time_point t0);
  ~queue_sampler();

  /// Starts sampling every `period`; returns false (with the reason) when
  /// the first GET /v1/queues fails, e.g. 404 on a node without the route.
  bool start(std::chrono::milliseconds period, std::string& error);
  void stop();

  bool available() const { return available_; }
  /// Latest snapshot (t < 0 when none yet).
  queue_snapshot latest() const;
  std::vector<queue_snapshot> samples() const;

private:
  void loop(std::chrono::milliseconds period);

  http_client client_;
  std::chrono::steady_clock::time_point t0_;
  std::atomic<bool> stop_{false};
  bool available_ = false;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<queue_snapshot> samples_;
};

/// Polls every 100 ms until every queue has backlog 0 and the analysis
/// queue has completed (done + failed) at least `min_analysed` tasks, or
/// `timeout` passes; the final snapshot (drained or not) in `last`.
bool wait_drained(http_client& client, std::chrono::milliseconds timeout,
                  uint64_t min_analysed, queue_snapshot& last,
                  std::chrono::steady_clock::time_point t0);

/// Backlog trend: least-squares slope (per second) of the total backlog of
/// the samples with t in [from, to].
double backlog_slope(const std::vector<queue_snapshot>& s, double from, double to);

} // namespace engram::bench
