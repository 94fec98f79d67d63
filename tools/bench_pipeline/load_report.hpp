#pragma once
// Helpers shared by the scenarios that write turns.

#include "tools/bench_pipeline/load.hpp"
#include "tools/bench_pipeline/scenarios.hpp"

namespace engram::bench {

/// The writers' configuration from the command-line options.
load_config make_load_config(const options& o);

/// Adds the rows every turn-writing scenario reports (connections, rates,
/// ack latency, errors); returns acked turns/s in the measured window.
double add_load_results(const options& o, turn_load& l, steady::time_point finished,
                        report& rep);

} // namespace engram::bench
