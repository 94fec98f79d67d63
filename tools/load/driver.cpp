#include "tools/load/driver.hpp"

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include "tools/load/arrivals.hpp"
#include "tools/load/operations.hpp"

namespace engram::load {

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

bool is_error(int status) {
  return status == 0 || status >= 400;
}

// Keep-alive connections to one target, reused in LIFO order.
struct pool {
  bench::endpoint ep;
  std::vector<std::unique_ptr<bench::async_conn>> all;
  std::vector<bench::async_conn*> idle;
};

struct pending {
  request_spec req;
  std::size_t user = 0;
  int64_t due_us = 0;
};

class engine {
public:
  engine(const scenario& s, const driver_options& o)
    : s_(s), o_(o), timer_(io_), ticker_(io_), rng_(o.seed) {
    for (auto& t : o.targets)
      pools_.push_back(pool{t, {}, {}});
    auto run_id = std::to_string(o.seed) + "x"
                  + std::to_string(clock_type::now().time_since_epoch().count() % 100000);
    for (uint32_t u = 0; u < s.setup.users; ++u)
      users_.emplace_back(s.setup, u, uint32_t(o.seed), run_id);
    for (auto& p : s.phases)
      for (auto& [op, w] : p.mix)
        (void) r_.ops[op];
  }

  run_result run() {
    start_ = clock_type::now();
    setup();
    io_.run();
    return std::move(r_);
  }

private:
  int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - start_)
      .count();
  }

  pool& pool_for(std::size_t user) {
    return pools_[user % pools_.size()];
  }

  bench::async_conn* acquire(pool& p) {
    if (!p.idle.empty()) {
      auto c = p.idle.back();
      p.idle.pop_back();
      return c;
    }
    if (p.all.size() >= o_.max_connections)
      return nullptr;
    p.all.push_back(std::make_unique<bench::async_conn>(io_, p.ep));
    return p.all.back().get();
  }

  void release(pool& p, bench::async_conn* c) {
    p.idle.push_back(c);
    if (!waiting_.empty()) {
      auto next = std::move(waiting_.front());
      waiting_.pop_front();
      issue(std::move(next));
    }
  }

  void note_error(const request_spec& r, int status, const std::string& body) {
    if (r_.first_errors.size() < 10)
      r_.first_errors.push_back(r.op + " " + r.target + " -> "
                                + std::to_string(status) + " "
                                + body.substr(0, 200));
  }

  // --- setup: the users' entities, 64 requests in flight -----------------

  void setup() {
    for (std::size_t u = 0; u < users_.size(); ++u)
      for (auto& b : users_[u].setup_bodies())
        setup_q_.push_back({u, b});
    setup_total_ = setup_q_.size();
    if (!o_.quiet && setup_total_)
      say("setup: " + std::to_string(users_.size()) + " users, "
          + std::to_string(setup_total_) + " entities");
    for (int i = 0; i < 64; ++i)
      setup_next();
    if (setup_q_.empty() && setup_flight_ == 0)
      start_phases();
  }

  void setup_next() {
    if (setup_q_.empty()) {
      if (setup_flight_ == 0 && !phases_started_)
        start_phases();
      return;
    }
    auto [u, body] = std::move(setup_q_.front());
    setup_q_.pop_front();
    auto& p = pool_for(u);
    auto c = acquire(p);
    if (!c) {
      setup_q_.push_front({u, std::move(body)});
      return;
    }
    ++setup_flight_;
    auto target = "/v1/users/" + users_[u].id() + "/entities";
    c->send(bench::format_request(p.ep, boost::beast::http::verb::post, target, body),
            std::chrono::milliseconds(o_.timeout_ms),
            [this, &p, c](bench::http_result&& res) {
              --setup_flight_;
              ++r_.setup_requests;
              // 409: already there from an earlier run.
              if (res.status != 201 && res.status != 409)
                ++r_.setup_errors;
              p.idle.push_back(c);
              auto done = r_.setup_requests;
              if (!o_.quiet && done % 1000 == 0)
                say("setup: " + std::to_string(done) + "/"
                    + std::to_string(setup_total_));
              setup_next();
            });
  }

  // --- phases -------------------------------------------------------------

  void start_phases() {
    phases_started_ = true;
    phases_t0_ = now_us();
    tick_second();
    begin_phase(0);
  }

  void begin_phase(std::size_t i) {
    if (i >= s_.phases.size())
      return finish();
    phase_ = i;
    auto& p = s_.phases[i];
    phase_start_ = now_us();
    phase_end_ = phase_start_ + int64_t(p.duration_s * 1e6);
    picker_ = std::make_unique<user_picker>(uint32_t(users_.size()), p.users.zipf,
                                            p.users.exponent, o_.seed + i);
    ops_.clear();
    weights_.clear();
    for (auto& [op, w] : p.mix) {
      ops_.push_back(op);
      weights_.push_back(w);
    }
    pick_op_ = std::discrete_distribution<std::size_t>(weights_.begin(), weights_.end());
    if (p.rate > 0) {
      schedule_ = std::make_unique<open_loop>(p.rate, p.duration_s, phase_start_);
      sent_ = 0;
      pump_open();
    } else {
      schedule_.reset();
      for (uint32_t k = 0; k < p.concurrency; ++k)
        issue(next_request(now_us()));
      arm_phase_end();
    }
  }

  void arm_phase_end() {
    timer_.expires_after(std::chrono::microseconds(std::max<int64_t>(0, phase_end_ - now_us())));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec)
        begin_phase(phase_ + 1);
    });
  }

  pending next_request(int64_t due) {
    auto u = picker_->next();
    auto op = ops_[pick_op_(rng_)];
    bool marked = op == "turn" && s_.freshness.fraction > 0
                  && std::uniform_real_distribution<double>(0, 1)(rng_)
                       < s_.freshness.fraction;
    return pending{users_[u].make(op, marked, rng_), u, due};
  }

  // Sends every request that is due, then sleeps until the next one.
  void pump_open() {
    auto now = now_us();
    auto due = schedule_->due_by(now);
    while (sent_ < due) {
      issue(next_request(schedule_->due_us(sent_)));
      ++sent_;
    }
    if (sent_ >= schedule_->total()) {
      timer_.expires_after(std::chrono::microseconds(std::max<int64_t>(0, phase_end_ - now)));
      timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
          begin_phase(phase_ + 1);
      });
      return;
    }
    auto wait = std::max<int64_t>(0, schedule_->due_us(sent_) - now_us());
    timer_.expires_after(std::chrono::microseconds(wait));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec)
        pump_open();
    });
  }

  void issue(pending q) {
    auto& p = pool_for(q.user);
    auto c = acquire(p);
    if (!c) {
      waiting_.push_back(std::move(q)); // its latency keeps counting
      return;
    }
    ++flight_;
    auto wire = bench::format_request(p.ep, q.req.method, q.req.target, q.req.body);
    auto closed = !schedule_;
    auto start = closed ? now_us() : q.due_us;
    auto phase = phase_;
    c->send(std::move(wire), std::chrono::milliseconds(o_.timeout_ms),
            [this, &p, c, q = std::move(q), start, closed, phase](bench::http_result&& res) mutable {
              --flight_;
              auto now = now_us();
              record(q.req.op, res.status, uint64_t(std::max<int64_t>(0, now - start)));
              if (is_error(res.status))
                note_error(q.req, res.status, res.error.empty() ? res.body : res.error);
              users_[q.user].observe(q.req, res.status, res.body);
              if (!q.req.marker.empty() && res.status == 202)
                probe(q, res.body, now);
              release(p, c);
              // Closed loop: the next request of this phase.
              if (closed && phase == phase_ && !schedule_ && now < phase_end_)
                issue(next_request(now));
              maybe_stop();
            });
  }

  void record(const std::string& op, int status, uint64_t us) {
    auto& s = r_.ops[op];
    ++r_.requests;
    ++s.count;
    ++s.window_count;
    ++s.statuses[status];
    if (is_error(status)) {
      ++r_.errors;
      ++s.errors;
      ++s.window_errors;
    }
    s.latency.record(us);
    s.window.record(us);
  }

  // --- freshness ----------------------------------------------------------

  void probe(const pending& q, const std::string& ack, int64_t acked_at) {
    json::error_code ec;
    auto v = json::parse(ack, ec);
    if (ec || !v.is_object() || !v.as_object().contains("seq"))
      return;
    auto seq = v.at("seq").to_number<int64_t>();
    auto& u = users_[q.user];
    auto body = json::serialize(json::object{{"query", q.req.marker},
                                             {"session", q.req.session},
                                             {"k", 10},
                                             {"min_seq", seq},
                                             {"wait_ms", s_.freshness.timeout_ms}});
    auto& p = pool_for(q.user);
    auto c = acquire(p);
    if (!c)
      return; // no connection to spare: skip this probe
    ++r_.probes;
    ++flight_;
    c->send(bench::format_request(p.ep, boost::beast::http::verb::post,
                                  "/v1/users/" + u.id() + "/search", body),
            std::chrono::milliseconds(s_.freshness.timeout_ms + o_.timeout_ms),
            [this, &p, c, acked_at](bench::http_result&& res) {
              --flight_;
              bool found = false;
              if (res.status == 200) {
                json::error_code e2;
                auto a = json::parse(res.body, e2);
                found = !e2 && a.is_object() && a.at("stale") == false
                        && !a.at("hits").as_array().empty();
              }
              if (found) {
                ++r_.probes_found;
                r_.freshness.record(uint64_t(now_us() - acked_at));
              } else {
                ++r_.probes_failed;
              }
              release(p, c);
              maybe_stop();
            });
  }

  // --- progress and the end -----------------------------------------------

  void say(const std::string& line) {
    if (o_.progress)
      o_.progress(line);
  }

  void tick_second() {
    ticker_.expires_after(std::chrono::seconds(1));
    ticker_.async_wait([this](boost::system::error_code ec) {
      if (ec)
        return;
      roll_second();
      if (!finished_)
        tick_second();
    });
  }

  void roll_second() {
    double t = double(now_us() - phases_t0_) / 1e6;
    uint64_t n = 0, errs = 0, p99 = 0;
    for (auto& [op, s] : r_.ops) {
      s.series.push_back({t, s.window_count, s.window_errors, s.window.quantile(0.99)});
      n += s.window_count;
      errs += s.window_errors;
      p99 = std::max(p99, s.latency.quantile(0.99));
      s.window.reset();
      s.window_count = s.window_errors = 0;
    }
    if (o_.quiet)
      return;
    char line[256];
    std::snprintf(line, sizeof line,
                  "[%5.0f/%.0fs] %-10s %7llu req/s  errors %llu  p99 so far %.1f ms"
                  "  in flight %zu",
                  t, s_.total_seconds(),
                  s_.phases[std::min(phase_, s_.phases.size() - 1)].name.c_str(),
                  (unsigned long long) n, (unsigned long long) errs, double(p99) / 1000.0,
                  flight_ + waiting_.size());
    say(line);
  }

  void finish() {
    phases_done_ = true;
    r_.seconds = double(now_us() - phases_t0_) / 1e6;
    maybe_stop();
  }

  void maybe_stop() {
    if (!phases_done_ || finished_ || flight_ > 0 || !waiting_.empty())
      return;
    finished_ = true;
    roll_second();
    timer_.cancel();
    ticker_.cancel();
    for (auto& p : pools_)
      p.idle.clear();
    io_.stop();
  }

  const scenario& s_;
  driver_options o_;
  asio::io_context io_;
  asio::steady_timer timer_;
  asio::steady_timer ticker_;
  std::mt19937_64 rng_;
  std::vector<pool> pools_;
  std::vector<user_model> users_;
  run_result r_;
  clock_type::time_point start_;
  // setup
  std::deque<std::pair<std::size_t, std::string>> setup_q_;
  std::size_t setup_total_ = 0;
  std::size_t setup_flight_ = 0;
  bool phases_started_ = false;
  // phases
  std::size_t phase_ = 0;
  int64_t phases_t0_ = 0, phase_start_ = 0, phase_end_ = 0;
  std::unique_ptr<user_picker> picker_;
  std::vector<std::string> ops_;
  std::vector<double> weights_;
  std::discrete_distribution<std::size_t> pick_op_;
  std::unique_ptr<open_loop> schedule_;
  uint64_t sent_ = 0;
  std::size_t flight_ = 0;
  std::deque<pending> waiting_;
  bool phases_done_ = false;
  bool finished_ = false;
};

} // namespace

run_result run_scenario(const scenario& s, const driver_options& o) {
  engine e{s, o};
  return e.run();
}

} // namespace engram::load
