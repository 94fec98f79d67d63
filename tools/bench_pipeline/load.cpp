#include "tools/bench_pipeline/load.hpp"

#include <algorithm>
#include <deque>
#include <thread>

#include <sys/resource.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace engram::bench {

namespace json = boost::json;

std::atomic<bool>& interrupted() {
  static std::atomic<bool> flag{false};
  return flag;
}

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void error_log::add(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (first_.size() < 5)
    first_.push_back(what.substr(0, 300));
}

std::vector<std::string> error_log::first() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_;
}

uint64_t json_uint(const std::string& body, const char* key) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return 0;
  auto* f = v.get_object().if_contains(key);
  if (!f)
    return 0;
  if (f->is_uint64())
    return f->get_uint64();
  if (f->is_int64() && f->get_int64() >= 0)
    return static_cast<uint64_t>(f->get_int64());
  return 0;
}

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::chrono::nanoseconds to_ns(double s) {
  return std::chrono::nanoseconds(static_cast<int64_t>(s * 1e9));
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

} // namespace

void cpu_meter::reset() {
  cpu0_ = process_cpu_seconds();
  t0_ = steady::now();
}

double cpu_meter::cores() const {
  double wall = seconds_between(t0_, steady::now());
  return wall > 0 ? (process_cpu_seconds() - cpu0_) / wall : 0;
}

// One connection of the load and the request it has in flight.
struct turn_load::writer {
  writer(asio::io_context& ioc, const endpoint& ep, shard& s, std::size_t c, uint32_t seed)
    : http(ioc, ep), sh(s), conn(c), rng(uint64_t(seed) * 1000003u + c) {}
  async_conn http;
  shard& sh;
  std::size_t conn;
  std::mt19937_64 rng;
  std::string target;
  uint64_t turn = 0; // number of the turn in flight (1, 2, ...)
  turn_text text;
  steady::time_point sent;
};

// An io_context, the thread running it and the connections living on it.
struct turn_load::shard {
  explicit shard(std::size_t i) : index(i) {}
  std::size_t index;
  asio::io_context ioc{1};
  asio::steady_timer timer{ioc};
  std::vector<std::unique_ptr<writer>> writers;
  std::deque<writer*> idle; // open loop: connections waiting for a slot
  bool waiting = false;     // open loop: a due slot waits for an idle one
  uint64_t slot = 0;        // open loop: this shard's next slot
  latency_samples lat;
  double lag_ms = 0;
  std::thread thread;
};

turn_load::turn_load(endpoint ep, const workload& w, load_config cfg,
                     ack_callback on_ack)
  : ep_(std::move(ep)), w_(w), cfg_(std::move(cfg)), on_ack_(std::move(on_ack)) {}

turn_load::~turn_load() {
  join();
}

steady::time_point turn_load::window_start() const {
  return t0_ + to_ns(cfg_.warmup_s);
}

steady::time_point turn_load::window_end() const {
  return window_start() + to_ns(cfg_.seconds);
}

void turn_load::start() {
  t0_ = steady::now();
  cpu_.reset();
  std::size_t n = std::max<std::size_t>(1, std::min(cfg_.threads, cfg_.connections));
  for (std::size_t i = 0; i < n; ++i)
    shards_.push_back(std::make_unique<shard>(i));
  for (std::size_t c = 0; c < cfg_.connections; ++c) {
    auto& sh = *shards_[c % n];
    sh.writers.push_back(std::make_unique<writer>(sh.ioc, ep_, sh, c, cfg_.seed));
    sh.writers.back()->target =
      cfg_.get_target.empty() ? w_.turns_target(c) : cfg_.get_target;
  }
  for (auto& p : shards_) {
    shard* sh = p.get();
    asio::post(sh->ioc, [this, sh] {
      for (auto& w : sh->writers)
        if (cfg_.rate > 0)
          sh->idle.push_back(w.get());
        else if (more_closed())
          send(*w);
      if (cfg_.rate > 0)
        tick(*sh);
    });
    sh->thread = std::thread([sh] { sh->ioc.run(); });
  }
}

void turn_load::join() {
  if (shards_.empty())
    return;
  for (auto& sh : shards_)
    if (sh->thread.joinable())
      sh->thread.join();
  cpu_cores = cpu_.cores();
  for (auto& sh : shards_) {
    latency.merge(sh->lat);
    max_lag_ms = std::max(max_lag_ms, sh->lag_ms);
  }
  shards_.clear();
}

bool turn_load::claim() {
  return claimed_.fetch_add(1) < cfg_.max_turns;
}

// Closed loop: whether a connection that just finished sends again.
bool turn_load::more_closed() {
  if (interrupted())
    return false;
  return cfg_.max_turns ? claim() : steady::now() < window_end();
}

void turn_load::send(writer& w) {
  std::string wire;
  if (cfg_.get_target.empty()) {
    ++w.turn;
    w.text = w_.make_turn(w.conn, w.turn, w.rng);
    wire = format_request(ep_, http::verb::post, w.target,
                          workload::turn_body(w.turn, w.text));
  } else {
    wire = format_request(ep_, http::verb::get, w.target, {});
  }
  ++posted;
  w.sent = steady::now();
  w.http.send(std::move(wire), cfg_.timeout,
              [this, &w](http_result&& r) { done(w, std::move(r)); });
}

void turn_load::done(writer& w, http_result&& r) {
  record(w, r);
  if (cfg_.rate <= 0) {
    if (more_closed())
      send(w);
    return;
  }
  w.sh.idle.push_back(&w);
  if (w.sh.waiting) {
    w.sh.waiting = false;
    tick(w.sh);
  }
}

// Open loop: shard s owns the global slots s, s+S, s+2S, ... (S shards).
steady::time_point turn_load::slot_time(const shard& sh) const {
  double i = double(sh.slot * shards_.size() + sh.index);
  return t0_ + to_ns(i / cfg_.rate);
}

// Open loop: hands every due slot to an idle connection, then sleeps until
// the next one; with none idle, done() resumes it (the delay is the lag).
void turn_load::tick(shard& sh) {
  for (;;) {
    auto slot = slot_time(sh);
    if (interrupted() || (!cfg_.max_turns && slot >= window_end()))
      return;
    auto now = steady::now();
    if (slot > now) {
      sh.timer.expires_at(slot);
      sh.timer.async_wait([this, &sh](boost::system::error_code ec) {
        if (!ec)
          tick(sh);
      });
      return;
    }
    if (sh.idle.empty()) {
      sh.waiting = true;
      return;
    }
    if (cfg_.max_turns && !claim())
      return;
    sh.lag_ms = std::max(sh.lag_ms, seconds_between(slot, now) * 1000);
    ++sh.slot;
    writer* w = sh.idle.front();
    sh.idle.pop_front();
    send(*w);
  }
}

void turn_load::record(writer& w, const http_result& r) {
  auto now = steady::now();
  bool get = !cfg_.get_target.empty();
  if (r.status != (get ? 200 : 202)) {
    ++errors;
    errors_log_.add(r.status ? "HTTP " + std::to_string(r.status) + ": " + r.body
                             : r.error);
    return;
  }
  bool in_window = w.sent >= window_start() || cfg_.max_turns != 0;
  uint64_t seq = get ? 0 : json_uint(r.body, "seq");
  uint64_t prev = max_seq.load();
  while (seq > prev && !max_seq.compare_exchange_weak(prev, seq)) {
  }
  ++acked;
  last_ack_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0_).count();
  if (in_window) {
    ++acked_window;
    w.sh.lat.add(std::chrono::duration<double, std::micro>(now - w.sent).count());
  }
  if (on_ack_ && !get)
    on_ack_({w.conn, w.turn, seq, w.text, now, in_window});
}

} // namespace engram::bench
