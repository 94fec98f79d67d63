#pragma once
// The turn writers: C connections posting turns, closed-loop (one request
// outstanding per connection, as fast as the node answers) or open-loop at
// a global rate (the i-th turn is due at t0 + i/rate and goes to the
// longest-idle connection; when all are busy it waits and the delay is
// reported as lag). Every connection is an async state machine; all of them
// are multiplexed on --client-threads io_contexts (default one), each run
// by one thread, so the client costs little CPU next to the node under test.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tools/bench_pipeline/http_client.hpp"
#include "tools/bench_pipeline/stats.hpp"
#include "tools/bench_pipeline/workload.hpp"

namespace engram::bench {

using steady = std::chrono::steady_clock;

/// Set by SIGINT: every loop winds down and the results so far are printed.
std::atomic<bool>& interrupted();

double seconds_between(steady::time_point a, steady::time_point b);

/// This process's CPU time (user + sys, all threads) per wall second since
/// construction or reset(): 1.0 = one core busy.
class cpu_meter {
public:
  cpu_meter() { reset(); }
  void reset();
  double cores() const;

private:
  double cpu0_ = 0;
  steady::time_point t0_;
};

/// Collects the first few error descriptions of a run.
class error_log {
public:
  void add(const std::string& what);
  std::vector<std::string> first() const;

private:
  mutable std::mutex mu_;
  std::vector<std::string> first_;
};

struct load_config {
  std::size_t connections = 64;
  double warmup_s = 2;
  double seconds = 10;
  double rate = 0;         // turns/s over all connections; 0 = closed loop
  uint64_t max_turns = 0;  // stop after this many posts in total; 0 = no limit
  uint32_t seed = 42;
  std::chrono::milliseconds timeout{30000};
  std::size_t threads = 1; // io threads the connections are spread over
  // Non-empty: every request is GET get_target expecting 200 (the baseline
  // scenario) instead of a turn post expecting 202; no on_ack calls.
  std::string get_target;
};

/// One acknowledged turn, handed to the on_ack callback (freshness).
struct ack_info {
  std::size_t conn;
  uint64_t turn;
  uint64_t seq;
  turn_text text;
  steady::time_point acked;
  bool in_window; // sent after the warm-up
};

class turn_load {
public:
  using ack_callback = std::function<void(const ack_info&)>;

  turn_load(endpoint ep, const workload& w, load_config cfg,
            ack_callback on_ack = {});
  ~turn_load();

  /// Starts the writers; the warm-up starts now (t0()).
  void start();
  /// Waits for every writer to finish (on_ack runs on the io threads).
  void join();

  steady::time_point t0() const { return t0_; }
  steady::time_point window_start() const;
  steady::time_point window_end() const;

  // Live counters (read by the progress line).
  std::atomic<uint64_t> posted{0};
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> acked_window{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> max_seq{0};
  std::atomic<int64_t> last_ack_ns{0}; // since t0

  // Valid after join().
  latency_samples latency;   // send -> 202, turns sent in the window
  double max_lag_ms = 0;     // open loop: worst delay behind the schedule
  double cpu_cores = 0;      // client CPU per wall second, start() -> join()
  const error_log& error_bodies() const { return errors_log_; }

private:
  struct writer;
  struct shard;
  bool claim();
  bool more_closed();
  void send(writer& w);
  void done(writer& w, http_result&& r);
  void tick(shard& sh);
  steady::time_point slot_time(const shard& sh) const;
  void record(writer& w, const http_result& r);

  endpoint ep_;
  const workload& w_;
  load_config cfg_;
  ack_callback on_ack_;
  steady::time_point t0_;
  std::vector<std::unique_ptr<shard>> shards_;
  std::atomic<uint64_t> claimed_{0};
  cpu_meter cpu_;
  error_log errors_log_;
};

/// Parses the integer field `key` of a JSON object body; 0 when absent.
uint64_t json_uint(const std::string& body, const char* key);

} // namespace engram::bench
