#include "tools/bench_pipeline/load.hpp"

#include <algorithm>

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

std::chrono::nanoseconds to_ns(double s) {
  return std::chrono::nanoseconds(static_cast<int64_t>(s * 1e9));
}

} // namespace

turn_load::turn_load(endpoint ep, const workload& w, load_config cfg,
                     ack_callback on_ack)
  : ep_(std::move(ep)), w_(w), cfg_(cfg), on_ack_(std::move(on_ack)) {}

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
  for (std::size_t c = 0; c < cfg_.connections; ++c)
    threads_.emplace_back([this, c] { writer(c); });
}

void turn_load::join() {
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

// Waits for the k-th slot of `conn` (open loop) or checks the clock
// (closed loop); false when the run is over.
bool turn_load::next_slot(uint64_t k, std::size_t conn, double& lag_ms) {
  if (interrupted())
    return false;
  if (cfg_.max_turns && claimed_.fetch_add(1) >= cfg_.max_turns)
    return false;
  if (cfg_.rate <= 0)
    return cfg_.max_turns != 0 || steady::now() < window_end();
  auto slot = t0_ + to_ns(double(k * cfg_.connections + conn) / cfg_.rate);
  if (slot >= window_end() && !cfg_.max_turns)
    return false;
  std::this_thread::sleep_until(slot);
  lag_ms = std::max(lag_ms, seconds_between(slot, steady::now()) * 1000);
  return !interrupted();
}

void turn_load::writer(std::size_t conn) {
  http_client client(ep_);
  std::mt19937_64 rng(uint64_t(cfg_.seed) * 1000003u + conn);
  latency_samples lat;
  double lag_ms = 0;
  auto target = w_.turns_target(conn);
  for (uint64_t k = 0; next_slot(k, conn, lag_ms); ++k) {
    uint64_t turn = k + 1;
    auto t = w_.make_turn(conn, turn, rng);
    auto body = workload::turn_body(turn, t);
    auto sent = steady::now();
    ++posted;
    auto r = client.post(target, body, cfg_.timeout);
    record(conn, turn, t, r, sent, lat);
  }
  std::lock_guard<std::mutex> lock(merge_mu_);
  latency.merge(lat);
  max_lag_ms = std::max(max_lag_ms, lag_ms);
}

void turn_load::record(std::size_t conn, uint64_t turn, const turn_text& t,
                       const http_result& r, steady::time_point sent,
                       latency_samples& lat) {
  auto now = steady::now();
  if (r.status != 202) {
    ++errors;
    errors_log_.add(r.status ? "HTTP " + std::to_string(r.status) + ": " + r.body
                             : r.error);
    return;
  }
  bool in_window = sent >= window_start() || cfg_.max_turns != 0;
  uint64_t seq = json_uint(r.body, "seq");
  uint64_t prev = max_seq.load();
  while (seq > prev && !max_seq.compare_exchange_weak(prev, seq)) {
  }
  ++acked;
  last_ack_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0_).count();
  if (in_window) {
    ++acked_window;
    lat.add(std::chrono::duration<double, std::micro>(now - sent).count());
  }
  if (on_ack_)
    on_ack_({conn, turn, seq, t, now, in_window});
}

} // namespace engram::bench
