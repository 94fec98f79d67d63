#pragma once
// engram-load's engine: runs a scenario's setup and phases against one or
// more engramd targets from a single io thread with keep-alive connection
// pools (async IO: one core drives tens of thousands of requests/s).
//
// Open-loop phases send request i at its scheduled time and measure its
// latency from that time (no coordinated omission; a request that has to
// wait for a free connection is charged the wait). Closed-loop phases keep
// `concurrency` requests in flight and measure from the send. Freshness
// probes follow marked turns: a search for the turn's marker with min_seq
// (the ack's seq) and wait_ms; the probe's latency is ack -> answer.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tools/bench_pipeline/http_client.hpp"
#include "tools/load/histogram.hpp"
#include "tools/load/scenario.hpp"

namespace engram::load {

struct second_sample {
  double t = 0;        // seconds since the phases started
  uint64_t count = 0;  // completed in this second
  uint64_t errors = 0;
  uint64_t p99_us = 0;
};

struct op_result {
  histogram latency; // microseconds
  uint64_t count = 0;
  uint64_t errors = 0;
  std::map<int, uint64_t> statuses; // 0: no answer (transport, timeout)
  std::vector<second_sample> series;
  // The current second.
  histogram window;
  uint64_t window_count = 0;
  uint64_t window_errors = 0;
};

struct run_result {
  std::map<std::string, op_result> ops;
  histogram freshness; // ack -> findable, microseconds
  uint64_t probes = 0, probes_found = 0, probes_failed = 0;
  double seconds = 0; // phases, wall time
  uint64_t requests = 0, errors = 0;
  uint64_t setup_requests = 0, setup_errors = 0;
  std::vector<std::string> first_errors; // a few, for the report
};

struct driver_options {
  std::vector<bench::endpoint> targets;
  uint64_t seed = 1;
  bool quiet = false;
  std::size_t max_connections = 1024; // per target
  uint32_t timeout_ms = 10000;
  // Progress line each second (stderr unless quiet).
  std::function<void(const std::string&)> progress;
};

run_result run_scenario(const scenario& s, const driver_options& o);

} // namespace engram::load
