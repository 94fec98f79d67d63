// engram-bench-exports: the export debounce policy under bursty triggers for
// many users, in simulated time (no sleeping): CPU per trigger and per timer,
// the exports a burst costs, and the size of a user's idle state. It
// measures the policy the exporter actors run, not the actors themselves.
//
// Each burst picks a user and sends 1..--max-burst triggers a few ms apart;
// bursts of all users interleave over --seconds of simulated time. Timers
// are kept in a min-heap and fire at their due time, as the actors' delayed
// messages would.

#include <chrono>
#include <cstdio>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/exports/debounce_policy.hpp"

namespace {

using namespace engram::exports;
using clock_type = std::chrono::steady_clock;

struct options {
  uint32_t users = 10000;
  uint32_t bursts = 200000;
  uint32_t max_burst = 50;
  uint32_t window_ms = 300;
  double seconds = 3600;
  uint32_t seed = 42;
};

struct event {
  int64_t at_ms;
  uint32_t user;
  bool timer;
  uint64_t generation;
  bool operator>(const event& o) const { return at_ms > o.at_ms; }
};

struct totals {
  uint64_t triggers = 0, timers = 0, exports = 0, carried = 0;
  uint64_t debounced = 0, coalesced = 0;
  double trigger_ns = 0, timer_ns = 0;
};

double ns_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
}

std::vector<event> make_triggers(const options& o) {
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<uint32_t> user(0, o.users - 1), size(1, o.max_burst),
    gap(1, 20);
  std::uniform_int_distribution<int64_t> start(0, static_cast<int64_t>(o.seconds * 1000));
  std::vector<event> out;
  for (uint32_t b = 0; b < o.bursts; ++b) {
    auto u = user(rng);
    auto t = start(rng);
    for (uint32_t i = size(rng); i > 0; --i, t += gap(rng))
      out.push_back({t, u, false, 0});
  }
  return out;
}

totals run(const options& o, const policy_config& cfg) {
  std::vector<debounce_state> states(o.users);
  std::priority_queue<event, std::vector<event>, std::greater<>> q;
  for (auto& e : make_triggers(o))
    q.push(e);
  totals t;
  trigger tr;
  tr.kind = trigger_kind::intent_closed;
  tr.label = "intent_closed:bench";
  while (!q.empty()) {
    auto e = q.top();
    q.pop();
    auto& st = states[e.user];
    if (e.timer) {
      auto t0 = clock_type::now();
      auto d = on_timer(cfg, st, e.generation, e.at_ms);
      t.timer_ns += ns_since(t0);
      ++t.timers;
      if (d && d->export_now) {
        ++t.exports;
        t.carried += d->carried_count();
        on_exported(st, e.at_ms);
      }
      continue;
    }
    tr.at_ms = e.at_ms;
    auto t0 = clock_type::now();
    auto d = on_trigger(cfg, st, tr);
    t.trigger_ns += ns_since(t0);
    ++t.triggers;
    t.debounced += d.what == outcome::debounced;
    t.coalesced += d.what == outcome::coalesced;
    if (d.export_now) {
      ++t.exports;
      t.carried += d.carried_count();
      on_exported(st, e.at_ms);
    }
    if (d.schedule_timer)
      q.push({d.timer_due_ms, e.user, true, d.timer_generation});
  }
  return t;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"engram-bench-exports: the export debounce policy under bursty "
               "triggers for many users, in simulated time"};
  options o;
  app.add_option("--users", o.users, "users");
  app.add_option("--bursts", o.bursts, "bursts over the whole run");
  app.add_option("--max-burst", o.max_burst, "most triggers in one burst (1..N)");
  app.add_option("--window-ms", o.window_ms, "debounce window");
  app.add_option("--seconds", o.seconds, "simulated time the bursts spread over");
  app.add_option("--seed", o.seed, "random seed");
  CLI11_PARSE(app, argc, argv);
  policy_config cfg;
  cfg.debounce_ms = o.window_ms;
  auto t = run(o, cfg);
  debounce_state idle;
  idle.last_export_ms = 1795341432889;
  idle.timer_generation = 12;
  std::printf("users %u, bursts %u (1..%u triggers, 1-20 ms apart), window %u ms\n",
              o.users, o.bursts, o.max_burst, o.window_ms);
  std::printf("  triggers            %10llu  (debounced %llu, coalesced %llu)\n",
              (unsigned long long)t.triggers, (unsigned long long)t.debounced,
              (unsigned long long)t.coalesced);
  std::printf("  exports             %10llu  = %.2f per burst, carrying %llu triggers\n",
              (unsigned long long)t.exports, double(t.exports) / o.bursts,
              (unsigned long long)t.carried);
  std::printf("  on_trigger          %10.0f ns per call\n", t.trigger_ns / t.triggers);
  std::printf("  on_timer            %10.0f ns per call (%llu timers)\n",
              t.timers ? t.timer_ns / t.timers : 0.0, (unsigned long long)t.timers);
  std::printf("  idle state          %10zu bytes in memory, %zu bytes as JSON\n",
              sizeof(debounce_state), to_json(idle).size());
  return t.carried == t.triggers ? 0 : 1; // every trigger answered by one export
}
