// Scenario `search`: loads --load-turns turns, waits until they are applied
// (a search with min_seq = the last seq), then runs random queries from
// --connections connections for --seconds: a title alone (base lore), a
// turn's marker word in its session, or filler words in a random session.

#include <algorithm>
#include <cstdio>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tools/bench_pipeline/load_report.hpp"
#include "tools/bench_pipeline/scenarios.hpp"

namespace engram::bench {

namespace json = boost::json;

namespace {

using ull = unsigned long long;

struct loaded_turn {
  std::size_t conn;
  uint64_t turn;
};

struct search_stats {
  std::mutex mu;
  latency_samples latency;
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> answered_window{0};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> stale{0};
  std::atomic<uint64_t> errors{0};
  error_log errs;
};

// Returns the hit count of a 200 answer, -1 when the body is not a search answer.
int count_hits(const std::string& body, bool& stale) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return -1;
  auto* hits = v.get_object().if_contains("hits");
  auto* st = v.get_object().if_contains("stale");
  stale = st && st->is_bool() && st->get_bool();
  return hits && hits->is_array() ? int(hits->get_array().size()) : -1;
}

std::string random_query(const options& o, const workload& w,
                         const std::vector<loaded_turn>& turns, std::mt19937_64& rng) {
  json::object q{{"k", o.k}};
  auto kind = rng() % 3;
  if (kind == 0 || turns.empty()) {
    q["query"] = w.titles()[rng() % w.titles().size()];
  } else {
    auto& t = turns[rng() % turns.size()];
    q["session"] = w.session(t.conn);
    q["query"] = kind == 1 ? marker_word(t.conn, t.turn) : w.filler(3, rng);
  }
  return json::serialize(q);
}

void search_worker(const options& o, const workload& w, std::size_t id,
                   const std::vector<loaded_turn>& turns, steady::time_point t0,
                   search_stats& st) {
  http_client client(o.ep);
  std::mt19937_64 rng(uint64_t(o.seed) * 7919u + id);
  latency_samples lat;
  auto window = t0 + std::chrono::milliseconds(int64_t(o.warmup * 1000));
  auto end = window + std::chrono::milliseconds(int64_t(o.seconds * 1000));
  auto target = w.search_target();
  auto timeout = std::chrono::milliseconds(int64_t(o.timeout_s * 1000));
  while (!interrupted() && steady::now() < end) {
    auto body = random_query(o, w, turns, rng);
    auto sent = steady::now();
    auto r = client.post(target, body, timeout);
    bool stale = false;
    int n = r.status == 200 ? count_hits(r.body, stale) : -1;
    if (n < 0) {
      ++st.errors;
      st.errs.add(r.status ? "HTTP " + std::to_string(r.status) + ": " + r.body : r.error);
      continue;
    }
    ++st.answered;
    st.stale += stale ? 1 : 0;
    if (sent >= window) {
      ++st.answered_window;
      st.hits += uint64_t(n);
      lat.add(std::chrono::duration<double, std::micro>(steady::now() - sent).count());
    }
  }
  std::lock_guard<std::mutex> lock(st.mu);
  st.latency.merge(lat);
}

// Load phase; returns false when nothing was acked.
bool load_turns(const options& o, const workload& w, std::vector<loaded_turn>& turns,
                uint64_t& max_seq, report& rep) {
  auto cfg = make_load_config(o);
  cfg.warmup_s = 0;
  cfg.rate = 0;
  cfg.max_turns = o.load_turns;
  std::mutex mu;
  turn_load l(o.ep, w, cfg, [&](const ack_info& a) {
    std::lock_guard<std::mutex> lock(mu);
    turns.push_back({a.conn, a.turn});
  });
  l.start();
  l.join();
  max_seq = l.max_seq;
  rep.add("load_turns_acked", "turns loaded", l.acked.load());
  rep.add("load_errors", "load errors", l.errors.load());
  for (auto& e : l.error_bodies().first())
    rep.note("load error: " + e);
  if (!o.quiet)
    std::fprintf(stderr, "loaded %llu turns (%llu errors) in %.1fs\n",
                 ull(l.acked.load()), ull(l.errors.load()),
                 seconds_between(l.t0(), steady::now()));
  return l.acked > 0;
}

// Waits until everything up to `seq` is applied; seconds waited, -1 if stale.
double wait_applied(const options& o, const workload& w, uint64_t seq) {
  http_client client(o.ep);
  auto t0 = steady::now();
  json::object q{{"query", w.titles()[0]}, {"min_seq", seq}, {"wait_ms", 60000}};
  auto r = client.post(w.search_target(), json::serialize(q), std::chrono::seconds(90));
  bool stale = true;
  if (r.status != 200 || count_hits(r.body, stale) < 0 || stale)
    return -1;
  return seconds_between(t0, steady::now());
}

} // namespace

int run_search(const options& o, const workload& w, report& rep) {
  std::vector<loaded_turn> turns;
  uint64_t seq = 0;
  if (!load_turns(o, w, turns, seq, rep)) {
    std::fprintf(stderr, "search: no turn could be loaded\n");
    return 1;
  }
  double waited = wait_applied(o, w, seq);
  rep.add("apply_wait_s", "wait until loaded turns applied", waited, "s");
  if (waited < 0)
    rep.note("the loaded turns were not applied within 60 s (answers may be partial)");
  search_stats st;
  cpu_meter cpu;
  auto t0 = steady::now();
  std::vector<std::thread> workers;
  progress_printer p(!o.quiet, [&, prev = uint64_t(0)](double t) mutable {
    char buf[160];
    uint64_t a = st.answered.load();
    std::snprintf(buf, sizeof buf, "[%6.1fs] searches %llu (%llu/s) errors %llu", t,
                  ull(a), ull(a - prev), ull(st.errors.load()));
    prev = a;
    return std::string(buf);
  });
  for (std::size_t i = 0; i < o.connections; ++i)
    workers.emplace_back([&, i] { search_worker(o, w, i, turns, t0, st); });
  for (auto& t : workers)
    t.join();
  p.stop();
  double cpu_cores = cpu.cores();
  double win = std::max(1e-9, std::min(o.seconds, seconds_between(t0, steady::now()) - o.warmup));
  double qps = double(st.answered_window.load()) / win;
  rep.add("connections", "connections", o.connections);
  rep.add("searches_window", "searches answered in window", st.answered_window.load());
  rep.add("searches_per_s", "searches/s", qps, "queries/s");
  rep.add("search_errors", "search errors", st.errors.load());
  rep.add("stale", "stale answers", st.stale.load());
  double mean_hits = st.answered_window ? double(st.hits) / double(st.answered_window) : 0;
  rep.add("hits_mean", "mean hits per answer", mean_hits);
  rep.add_latency("search_latency", "search latency", st.latency);
  rep.add("client_cpu_cores", "client CPU while searching (user+sys / wall)", cpu_cores,
          "cores");
  for (auto& e : st.errs.first())
    rep.note(e);
  return 0;
}

} // namespace engram::bench
