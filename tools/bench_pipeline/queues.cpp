#include "tools/bench_pipeline/queues.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace engram::bench {

namespace json = boost::json;
using steady = std::chrono::steady_clock;

namespace {

uint64_t count_of(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end())
    return 0;
  if (it->value().is_uint64())
    return it->value().get_uint64();
  if (it->value().is_int64())
    return static_cast<uint64_t>(std::max<int64_t>(0, it->value().get_int64()));
  if (it->value().is_double())
    return static_cast<uint64_t>(std::max(0.0, it->value().get_double()));
  return 0;
}

double since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

} // namespace

uint64_t queue_snapshot::backlog() const {
  uint64_t n = 0;
  for (auto& [name, q] : queues)
    n += q.backlog();
  return n;
}

std::string queue_snapshot::describe() const {
  std::string out;
  for (auto& [name, q] : queues) {
    if (!out.empty())
      out += ", ";
    out += name + " " + std::to_string(q.pending) + "+" + std::to_string(q.in_flight);
  }
  return out;
}

std::optional<queue_snapshot> fetch_queues(http_client& client, std::string& error) {
  auto r = client.get("/v1/queues", std::chrono::seconds(10));
  if (r.status != 200) {
    error = r.status ? "GET /v1/queues: " + std::to_string(r.status) + " " + r.body
                     : "GET /v1/queues: " + r.error;
    return std::nullopt;
  }
  json::error_code ec;
  auto v = json::parse(r.body, ec);
  const json::object* root = v.if_object();
  const json::value* qs = root ? root->if_contains("queues") : nullptr;
  if (ec || !qs || !qs->is_object()) {
    error = "GET /v1/queues: unexpected body " + r.body.substr(0, 200);
    return std::nullopt;
  }
  queue_snapshot s;
  for (auto& [name, val] : qs->get_object()) {
    if (!val.is_object())
      continue;
    auto& o = val.get_object();
    s.queues[std::string(name)] = {count_of(o, "pending"), count_of(o, "in_flight"),
                                   count_of(o, "done"), count_of(o, "failed")};
  }
  return s;
}

queue_sampler::queue_sampler(endpoint ep, steady::time_point t0)
  : client_(std::move(ep)), t0_(t0) {}

queue_sampler::~queue_sampler() {
  stop();
}

bool queue_sampler::start(std::chrono::milliseconds period, std::string& error) {
  auto first = fetch_queues(client_, error);
  if (!first)
    return false;
  first->t = since(t0_);
  samples_.push_back(std::move(*first));
  available_ = true;
  thread_ = std::thread([this, period] { loop(period); });
  return true;
}

void queue_sampler::stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

void queue_sampler::loop(std::chrono::milliseconds period) {
  auto next = steady::now() + period;
  while (!stop_) {
    while (!stop_ && steady::now() < next)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (stop_)
      break;
    next += period;
    std::string error;
    auto s = fetch_queues(client_, error);
    if (!s)
      continue; // a missed sample is not fatal; the next one may work
    s->t = since(t0_);
    std::lock_guard<std::mutex> lock(mu_);
    samples_.push_back(std::move(*s));
  }
}

queue_snapshot queue_sampler::latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (samples_.empty()) {
    queue_snapshot none;
    none.t = -1;
    return none;
  }
  return samples_.back();
}

std::vector<queue_snapshot> queue_sampler::samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_;
}

bool wait_drained(http_client& client, std::chrono::milliseconds timeout,
                  uint64_t min_analysed, queue_snapshot& last,
                  steady::time_point t0) {
  auto deadline = steady::now() + timeout;
  for (;;) {
    std::string error;
    if (auto s = fetch_queues(client, error)) {
      last = std::move(*s);
      last.t = since(t0);
      auto a = last.queues.find("analysis");
      uint64_t analysed = a == last.queues.end() ? min_analysed
                                                 : a->second.done + a->second.failed;
      if (last.backlog() == 0 && analysed >= min_analysed)
        return true;
    }
    if (steady::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

double backlog_slope(const std::vector<queue_snapshot>& s, double from, double to) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (auto& x : s) {
    if (x.t < from || x.t > to)
      continue;
    double y = double(x.backlog());
    n += 1;
    sx += x.t;
    sy += y;
    sxx += x.t * x.t;
    sxy += x.t * y;
  }
  double den = n * sxx - sx * sx;
  if (n < 2 || den <= 0)
    return 0;
  return (n * sxy - sx * sy) / den;
}

} // namespace engram::bench
