#pragma once
// The five scenarios and what they share: options, entity setup and the
// once-a-second progress line on stderr.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench_pipeline/http_client.hpp"
#include "tools/bench_pipeline/stats.hpp"
#include "tools/bench_pipeline/workload.hpp"

namespace engram::bench {

struct options {
  std::string scenario = "ack";
  std::string url;
  std::string spawn;
  std::vector<std::string> node_args;
  bool keep_data = false;
  endpoint ep;
  std::string user = "bench";
  std::size_t entities = 200;
  std::size_t connections = 64;
  double seconds = 10;
  double warmup = 2;
  double rate = 0;
  uint32_t seed = 42;
  bool json = false;
  bool quiet = false;
  double timeout_s = 30;
  std::size_t client_threads = 1; // io threads multiplexing the connections
  // pipeline
  double drain_timeout_s = 300;
  // freshness
  std::size_t sample_every = 1;
  std::size_t search_connections = 32;
  int wait_ms = 5000;
  // search
  uint64_t load_turns = 2000;
  int k = 10;
};

/// Creates the E entities (409 = already there counts as success); false
/// with a message on stderr when any creation failed.
bool create_entities(const options& o, const workload& w, report& rep);

/// Prints `line(elapsed_s)` on stderr once per second until stopped.
class progress_printer {
public:
  progress_printer(bool enabled, std::function<std::string(double)> line);
  ~progress_printer();
  void stop();

private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Each returns the process exit code (0 when the run completed, whether or
/// not the goals were met) and fills `rep`.
int run_ack(const options& o, const workload& w, report& rep);
int run_baseline(const options& o, const workload& w, report& rep);
int run_pipeline(const options& o, const workload& w, report& rep);
int run_freshness(const options& o, const workload& w, report& rep);
int run_search(const options& o, const workload& w, report& rep);

} // namespace engram::bench
