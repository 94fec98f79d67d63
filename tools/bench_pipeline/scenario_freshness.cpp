// Scenario `freshness`: open-loop turns at --rate; after each sampled 202 a
// separate pool of async search connections (one io thread) asks for the
// turn's marker word with min_seq = the turn's seq and measures
// ack -> answer.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <memory>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tools/bench_pipeline/load_report.hpp"
#include "tools/bench_pipeline/queues.hpp"
#include "tools/bench_pipeline/scenarios.hpp"

namespace engram::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

using ull = unsigned long long;

/// What a search answer said.
struct search_answer {
  bool parsed = false;
  bool stale = false;
  std::vector<std::string> entity_ids;
};

search_answer parse_search(const std::string& body) {
  search_answer a;
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return a;
  auto& o = v.get_object();
  auto* stale = o.if_contains("stale");
  auto* hits = o.if_contains("hits");
  if (!hits || !hits->is_array())
    return a;
  a.parsed = true;
  a.stale = stale && stale->is_bool() && stale->get_bool();
  for (auto& h : hits->get_array())
    if (auto* id = h.is_object() ? h.get_object().if_contains("entity_id") : nullptr)
      if (id->is_string())
        a.entity_ids.emplace_back(id->get_string());
  return a;
}

struct fresh_results {
  latency_samples freshness; // written by the search thread only // ack -> answer
  latency_samples waited;    // ack -> search sent (searcher pool delay)
  std::atomic<uint64_t> searched{0};
  std::atomic<uint64_t> stale{0};
  std::atomic<uint64_t> found{0};
  std::atomic<uint64_t> errors{0};
  error_log errs;
};

std::string search_body(const workload& w, const ack_info& a, int wait_ms, int k) {
  json::object o{{"query", a.text.marker},
                 {"session", w.session(a.conn)},
                 {"min_seq", a.seq},
                 {"wait_ms", wait_ms},
                 {"k", k}};
  return json::serialize(o);
}

void check_answer(const ack_info& a, const http_result& r,
                  fresh_results& res) {
  if (r.status != 200) {
    ++res.errors;
    res.errs.add(r.status ? "search HTTP " + std::to_string(r.status) + ": " + r.body
                          : "search: " + r.error);
    return;
  }
  auto ans = parse_search(r.body);
  if (!ans.parsed) {
    ++res.errors;
    res.errs.add("search: unexpected body " + r.body.substr(0, 200));
    return;
  }
  ++res.searched;
  if (ans.stale)
    ++res.stale;
  auto ea = workload::entity_id(a.text.entity_a);
  auto eb = workload::entity_id(a.text.entity_b);
  if (std::find_if(ans.entity_ids.begin(), ans.entity_ids.end(), [&](auto& id) {
        return id == ea || id == eb;
      }) != ans.entity_ids.end())
    ++res.found;
}

// The search connections, multiplexed on one io_context run by one thread.
// Acks are posted to it from the writers and go to the longest-idle
// connection, or wait in a queue while every connection is busy.
class search_pool {
public:
  search_pool(const options& o, const workload& w, fresh_results& res)
    : o_(o), w_(w), res_(res), guard_(ioc_.get_executor()) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, o.search_connections); ++i) {
      conns_.push_back(std::make_unique<conn>(ioc_, o.ep));
      idle_.push_back(conns_.back().get());
    }
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~search_pool() { close(); }

  /// Thread-safe: searches for the turn of `a` as soon as a connection is free.
  void push(ack_info a) {
    asio::post(ioc_, [this, a = std::move(a)]() mutable { submit(std::move(a)); });
  }
  /// Waits until every pushed search has been answered.
  void close() {
    guard_.reset();
    if (thread_.joinable())
      thread_.join();
  }
  /// Most searches waiting for a connection at once (valid after close()).
  std::size_t max_depth() const { return max_depth_; }

private:
  struct conn {
    conn(asio::io_context& ioc, const endpoint& ep) : http(ioc, ep) {}
    async_conn http;
    ack_info job;
    steady::time_point sent;
  };

  void submit(ack_info a) {
    if (idle_.empty()) {
      pending_.push_back(std::move(a));
      max_depth_ = std::max(max_depth_, pending_.size());
      return;
    }
    conn* c = idle_.front();
    idle_.pop_front();
    send(*c, std::move(a));
  }

  void send(conn& c, ack_info a) {
    c.job = std::move(a);
    c.sent = steady::now();
    auto wire = format_request(o_.ep, http::verb::post, w_.search_target(),
                               search_body(w_, c.job, o_.wait_ms, o_.k));
    c.http.send(std::move(wire), std::chrono::milliseconds(o_.wait_ms + 10000),
                [this, &c](http_result&& r) { done(c, r); });
  }

  void done(conn& c, const http_result& r) {
    using micros = std::chrono::duration<double, std::micro>;
    auto now = steady::now();
    res_.waited.add(micros(c.sent - c.job.acked).count());
    if (r.status == 200)
      res_.freshness.add(micros(now - c.job.acked).count());
    check_answer(c.job, r, res_);
    if (pending_.empty())
      return idle_.push_back(&c);
    auto next = std::move(pending_.front());
    pending_.pop_front();
    send(c, std::move(next));
  }

  const options& o_;
  const workload& w_;
  fresh_results& res_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::unique_ptr<conn>> conns_;
  std::deque<conn*> idle_;
  std::deque<ack_info> pending_;
  std::size_t max_depth_ = 0;
  std::thread thread_;
};

void add_fresh_results(const options& o, fresh_results& res, std::size_t depth,
                       report& rep) {
  rep.add("search_connections", "search connections", o.search_connections);
  rep.add("sample_every", "searched every Nth turn", o.sample_every);
  rep.add("searches", "searches answered", res.searched.load());
  rep.add("search_errors", "search errors", res.errors.load());
  rep.add("stale", "stale answers", res.stale.load());
  double found = res.searched ? 100.0 * double(res.found) / double(res.searched) : 0;
  rep.add("entity_found_pct", "answers listing a mentioned entity", found, "%");
  rep.add_latency("freshness", "freshness (ack -> answer)", res.freshness);
  rep.add("search_queue_max", "max searches waiting for a connection", depth);
  rep.add("search_start_delay_p99_ms", "ack -> search sent p99",
          res.waited.percentile(99) / 1000.0, "ms");
  for (auto& e : res.errs.first())
    rep.note(e);
}

} // namespace

int run_freshness(const options& o, const workload& w, report& rep) {
  options lo = o;
  if (lo.rate <= 0)
    lo.rate = 500;
  auto cfg = make_load_config(lo);
  fresh_results res;
  search_pool pool(lo, w, res);
  auto sampled = std::make_shared<std::atomic<uint64_t>>(0);
  std::size_t every = std::max<std::size_t>(1, lo.sample_every);
  turn_load l(lo.ep, w, cfg, [&pool, sampled, every](const ack_info& a) {
    if (a.in_window && sampled->fetch_add(1) % every == 0)
      pool.push(a);
  });
  cpu_meter cpu;
  queue_sampler qs(lo.ep, steady::now());
  std::string err;
  bool have_q = qs.start(std::chrono::milliseconds(500), err);
  l.start();
  progress_printer p(!lo.quiet, [&, prev = uint64_t(0)](double t) mutable {
    char buf[200];
    uint64_t a = l.acked.load();
    std::snprintf(buf, sizeof buf,
                  "[%6.1fs] acked %llu (%llu/s) searched %llu stale %llu errors %llu ",
                  t, ull(a), ull(a - prev), ull(res.searched.load()),
                  ull(res.stale.load()), ull(l.errors + res.errors));
    prev = a;
    if (!have_q)
      return std::string(buf);
    return buf + ("backlog " + std::to_string(qs.latest().backlog()));
  });
  l.join();
  auto finished = steady::now();
  pool.close();
  double cpu_cores = cpu.cores();
  p.stop();
  qs.stop();

  double rate = add_load_results(lo, l, finished, rep);
  (void)rate;
  add_fresh_results(lo, res, pool.max_depth(), rep);
  rep.add("client_cpu_cores_total", "client CPU incl. searches (user+sys / wall)",
          cpu_cores, "cores");
  double p99 = res.freshness.percentile(99) / 1000.0;
  rep.goal("freshness_p99", "freshness p99 <= 200 ms at 500 turns/s, nothing stale (got " +
                              std::to_string(std::llround(p99)) + " ms at " +
                              std::to_string(int64_t(lo.rate)) + "/s)",
           lo.rate >= 500 && res.searched > 0 && p99 <= 200 && res.stale == 0 && res.errors == 0);
  return l.acked_window ? 0 : 1;
}

} // namespace engram::bench
