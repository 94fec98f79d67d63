// Scenarios `ack` (how fast turns are acknowledged), `pipeline` (whether
// the background pipeline keeps up, end to end) and `baseline` (the node's
// own request ceiling: GET /healthz and GET of an entity, closed loop).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "tools/bench_pipeline/load_report.hpp"
#include "tools/bench_pipeline/queues.hpp"
#include "tools/bench_pipeline/scenarios.hpp"

namespace engram::bench {

namespace {

using ull = unsigned long long;

const char* phase_of(const turn_load& l) {
  auto now = steady::now();
  if (now < l.window_start())
    return "warmup";
  return now < l.window_end() ? "run   " : "drain ";
}

std::string backlog_text(const queue_sampler* qs) {
  if (!qs)
    return "backlog n/a";
  auto s = qs->latest();
  if (s.t < 0)
    return "backlog ?";
  return "backlog " + std::to_string(s.backlog()) + " [" + s.describe() + "]";
}

std::function<std::string(double)> load_line(const turn_load& l,
                                             const queue_sampler* qs,
                                             const char* noun = "acked") {
  auto prev = std::make_shared<uint64_t>(0);
  return [&l, qs, prev, noun](double t) {
    uint64_t a = l.acked.load();
    uint64_t d = a - *prev;
    *prev = a;
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "[%6.1fs] %s %s %llu (%llu/s last 1s, %.0f/s overall) errors %llu ",
                  t, phase_of(l), noun, ull(a), ull(d), t > 0 ? double(a) / t : 0.0,
                  ull(l.errors.load()));
    return buf + backlog_text(qs);
  };
}

// Samples bracketing [from, to]: first at/after `from`, last at/before `to`.
bool bracket(const std::vector<queue_snapshot>& s, double from, double to,
             const queue_snapshot*& a, const queue_snapshot*& b) {
  a = b = nullptr;
  for (auto& x : s) {
    if (!a && x.t >= from)
      a = &x;
    if (x.t <= to)
      b = &x;
  }
  return a && b && b->t > a->t;
}

uint64_t done_of(const queue_snapshot& s, const std::string& q) {
  auto it = s.queues.find(q);
  return it == s.queues.end() ? 0 : it->second.done;
}

// Per-queue completion rates during the window; returns applied turns/s
// = min(analysis done/s, note_update done/s / 2).
double add_done_rates(const std::vector<queue_snapshot>& s, double from, double to,
                      report& rep) {
  const queue_snapshot *a, *b;
  if (!bracket(s, from, to, a, b)) {
    rep.note("too few queue samples in the window for completion rates");
    return 0;
  }
  double dt = b->t - a->t;
  for (auto& [name, q] : b->queues) {
    double r = double(q.done - std::min(q.done, done_of(*a, name))) / dt;
    rep.add("done_per_s_" + name, name + " tasks done/s (window)", r, "tasks/s");
  }
  double analysed = double(done_of(*b, "analysis") - done_of(*a, "analysis")) / dt;
  double notes = double(done_of(*b, "note_update") - done_of(*a, "note_update")) / dt;
  double applied = std::min(analysed, notes / 2);
  rep.add("applied_per_s", "sustained applied turns/s (window)", applied, "turns/s");
  return applied;
}

// Tasks completed per second over all queues between the samples
// bracketing [from, to]; 0 when there are too few samples.
double total_done_rate(const std::vector<queue_snapshot>& s, double from, double to) {
  const queue_snapshot *a, *b;
  if (!bracket(s, from, to, a, b))
    return 0;
  uint64_t done = 0;
  for (auto& [name, q] : b->queues)
    done += q.done - std::min(q.done, done_of(*a, name));
  return double(done) / (b->t - a->t);
}

// Max backlog (total and per queue) and the boundedness verdict.
bool add_backlog(const std::vector<queue_snapshot>& s, double from, double to,
                 report& rep) {
  uint64_t max_total = 0;
  std::map<std::string, uint64_t> max_q;
  double mid = (from + to) / 2;
  for (auto& x : s) {
    if (x.t < from || x.t > to)
      continue;
    max_total = std::max(max_total, x.backlog());
    for (auto& [name, q] : x.queues)
      max_q[name] = std::max(max_q[name], q.backlog());
  }
  double slope = backlog_slope(s, mid, to);
  double growth = slope * (to - mid);
  double done = total_done_rate(s, mid, to);
  bool bounded = growth <= 100 || slope <= 0.05 * done;
  rep.add("backlog_max", "max backlog (pending+in_flight)", max_total, "tasks");
  for (auto& [name, m] : max_q)
    rep.add("backlog_max_" + name, "max backlog " + name, m, "tasks");
  rep.add("backlog_slope_per_s", "backlog trend, 2nd half of window", slope, "tasks/s");
  rep.add("backlog_bounded", "backlog bounded", bounded);
  return bounded;
}

} // namespace

load_config make_load_config(const options& o) {
  load_config c;
  c.connections = o.connections;
  c.warmup_s = o.warmup;
  c.seconds = o.seconds;
  c.rate = o.rate;
  c.seed = o.seed;
  c.timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000));
  c.threads = o.client_threads;
  return c;
}

// Window actually covered (shorter when interrupted).
static double window_seconds(const turn_load& l, steady::time_point finished) {
  return std::max(1e-9, seconds_between(l.window_start(),
                                        std::min(finished, l.window_end())));
}

// Rows common to every turn-writing scenario; returns acked turns/s.
double add_load_results(const options& o, turn_load& l, steady::time_point finished,
                        report& rep) {
  double win = window_seconds(l, finished);
  double rate = double(l.acked_window.load()) / win;
  rep.add("connections", "connections", o.connections);
  rep.add("client_threads", "client io threads", o.client_threads);
  rep.add("mode", "mode", o.rate > 0 ? "open loop" : "closed loop");
  if (o.rate > 0)
    rep.add("target_rate", "target rate", o.rate, "turns/s");
  rep.add("window_s", "measured window", win, "s");
  rep.add("posted_total", "turns posted (incl. warm-up)", l.posted.load());
  rep.add("acked_window", "turns acked in window", l.acked_window.load());
  rep.add("acked_per_s", "acked turns/s", rate, "turns/s");
  rep.add("errors", "errors, incl. warm-up (non-202 or transport)", l.errors.load());
  rep.add_latency("ack_latency", "ack latency", l.latency);
  if (o.rate > 0)
    rep.add("max_schedule_lag_ms", "worst lag behind schedule", l.max_lag_ms, "ms");
  rep.add("client_cpu_cores", "client CPU (user+sys / wall, whole load)", l.cpu_cores,
          "cores");
  for (auto& e : l.error_bodies().first())
    rep.note("error: " + e);
  return rate;
}

int run_ack(const options& o, const workload& w, report& rep) {
  turn_load l(o.ep, w, make_load_config(o));
  queue_sampler qs(o.ep, steady::now());
  std::string err;
  bool have_q = qs.start(std::chrono::milliseconds(500), err);
  l.start();
  {
    progress_printer p(!o.quiet, load_line(l, have_q ? &qs : nullptr));
    l.join();
  }
  auto finished = steady::now();
  qs.stop();
  double rate = add_load_results(o, l, finished, rep);
  rep.goal("ack_rate", ">= 20,000 acked turns/s with 64 connections (got " +
                          std::to_string(std::llround(rate)) + " with " +
                          std::to_string(o.connections) + ")",
           rate >= 20000 && l.errors == 0);
  return l.acked_window ? 0 : 1;
}

int run_pipeline(const options& o, const workload& w, report& rep) {
  auto t0 = steady::now();
  queue_sampler qs(o.ep, t0);
  std::string err;
  if (!qs.start(std::chrono::milliseconds(500), err)) {
    std::fprintf(stderr, "scenario pipeline needs GET /v1/queues: %s\n", err.c_str());
    return 2;
  }
  auto before = qs.latest();
  turn_load l(o.ep, w, make_load_config(o));
  l.start();
  progress_printer p(!o.quiet, load_line(l, &qs));
  l.join();
  auto finished = steady::now();
  http_client client(o.ep);
  queue_snapshot last;
  uint64_t need = done_of(before, "analysis") + l.acked.load();
  auto timeout = std::chrono::milliseconds(int64_t(o.drain_timeout_s * 1000));
  bool drained = wait_drained(client, timeout, need, last, t0);
  p.stop();
  qs.stop();

  add_load_results(o, l, finished, rep);
  double from = seconds_between(t0, l.window_start());
  double to = seconds_between(t0, std::min(finished, l.window_end()));
  auto samples = qs.samples();
  bool bounded = add_backlog(samples, from, to, rep);
  double applied = add_done_rates(samples, from, to, rep);
  double start = seconds_between(t0, l.t0());
  double e2e_s = last.t - start;
  double e2e = drained ? double(l.acked.load()) / e2e_s : 0;
  rep.add("drained", "queues drained", drained);
  rep.add("drain_after_load_s", "drain time after load stopped",
          last.t - seconds_between(t0, finished), "s");
  rep.add("e2e_turns", "turns acked (incl. warm-up)", l.acked.load());
  rep.add("e2e_per_s", "end-to-end turns/s (first post -> drained)", e2e, "turns/s");
  uint64_t failed = 0;
  for (auto& [name, q] : last.queues)
    failed += q.failed - std::min(q.failed, before.queues[name].failed);
  rep.add("tasks_failed", "tasks failed during run", failed);
  if (!drained)
    rep.note("queues not drained within --drain-timeout: " + last.describe());
  rep.goal("e2e_rate", ">= 1,000 turns/s end to end, queues bounded (got " +
                         std::to_string(std::llround(e2e)) + ")",
           e2e >= 1000 && bounded && drained);
  (void)applied;
  return l.acked_window ? 0 : 1;
}

// One closed-loop GET phase of the baseline; returns requests/s (window).
static double baseline_phase(const options& o, const workload& w, const std::string& key,
                             const std::string& label, const std::string& target,
                             report& rep) {
  auto cfg = make_load_config(o);
  cfg.rate = 0;
  cfg.get_target = target;
  turn_load l(o.ep, w, cfg);
  if (!o.quiet)
    std::fprintf(stderr, "baseline %s: GET %s\n", key.c_str(), target.c_str());
  l.start();
  {
    progress_printer p(!o.quiet, load_line(l, nullptr, "answered"));
    l.join();
  }
  double rate = double(l.acked_window.load()) / window_seconds(l, steady::now());
  rep.add(key + "_per_s", label + " requests/s", rate, "req/s");
  rep.add(key + "_errors", label + " errors (non-200/transport)", l.errors.load());
  rep.add_latency(key + "_latency", label + " latency", l.latency);
  rep.add(key + "_client_cpu_cores", label + " client CPU (user+sys / wall)",
          l.cpu_cores, "cores");
  for (auto& e : l.error_bodies().first())
    rep.note(key + " error: " + e);
  return rate;
}

int run_baseline(const options& o, const workload& w, report& rep) {
  rep.add("connections", "connections", o.connections);
  rep.add("client_threads", "client io threads", o.client_threads);
  double h = baseline_phase(o, w, "healthz", "GET /healthz", "/healthz", rep);
  double e = 0;
  if (!interrupted())
    e = baseline_phase(o, w, "entity", "GET entity",
                       w.entities_target() + "/" + workload::entity_id(0), rep);
  rep.note("healthz is answered by the gateway alone; the entity GET is a full "
           "gateway -> bridge -> router -> user actor round trip without a disk "
           "write. Compare with the acked turns/s of scenario ack.");
  return h > 0 && e > 0 ? 0 : 1;
}

} // namespace engram::bench
