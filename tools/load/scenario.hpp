#pragma once
// engram-load scenarios: what load to generate, read from a JSON file
// (comments and trailing commas allowed). Format: docs/LOAD.md.
//
//   {"name": "smoke",
//    "setup": {"users": 10, "entities_per_user": 20,
//              "entity_types": ["character", "place"]},
//    "phases": [{"name": "steady", "duration_s": 10, "rate": 200,
//                "users": "uniform" | {"zipf": 1.1},
//                "mix": {"turn": 60, "search": 30, "intent.close": 10}}],
//    "freshness": {"fraction": 0.05, "timeout_ms": 5000},
//    "slo": {"turn.p99_ms": 50, "error_rate": 0.001}}
//
// A phase is open loop ("rate": requests/s, sent at their scheduled time)
// or closed loop ("concurrency": requests kept in flight), never both.
// Every error names the path of the bad field ("phases[1].mix.turnx: ...").

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace engram::load {

/// Every operation a mix may name, as written in scenarios.
const std::vector<std::string>& operation_names();

struct setup_spec {
  uint32_t users = 10;
  uint32_t entities_per_user = 20;
  std::vector<std::string> entity_types{"character", "place", "item"};
  std::string user_prefix = "load";
};

struct user_dist {
  bool zipf = false;
  double exponent = 1.0; // zipf only, > 0
};

struct phase_spec {
  std::string name;
  double duration_s = 10;
  double rate = 0;          // open loop when > 0
  uint32_t concurrency = 0; // closed loop when > 0
  user_dist users;
  std::map<std::string, double> mix; // operation -> weight (> 0)
};

// Marked turns are followed by one search with min_seq (the ack's seq) and
// wait_ms = timeout_ms: the node answers once the turn is findable, so the
// driver needs no polling loop.
struct freshness_spec {
  double fraction = 0;     // of turns carrying a marker
  uint32_t timeout_ms = 10000;
};

/// "op.p50_ms" / "op.p90_ms" / "op.p99_ms" / "op.p999_ms" / "op.max_ms",
/// "error_rate" (all operations), "op.error_rate", "freshness.p99_ms",
/// "throughput_rps" (minimum).
struct slo_spec {
  std::map<std::string, double> limits;
};

struct scenario {
  std::string name;
  setup_spec setup;
  std::vector<phase_spec> phases;
  freshness_spec freshness;
  slo_spec slo;

  double total_seconds() const;
};

/// Parses scenario text; ec::invalid_argument naming the field's path.
caf::expected<scenario> parse_scenario(std::string_view text);

/// Reads and parses a scenario file (the path prefixes parse errors).
caf::expected<scenario> load_scenario(const std::string& path);

} // namespace engram::load
