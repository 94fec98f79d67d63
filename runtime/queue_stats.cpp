#include "runtime/queue_stats.hpp"

#include <cmath>

#include "runtime/metrics.hpp"

namespace engram {

std::string_view to_string(queue_kind q) {
  switch (q) {
    case queue_kind::analysis:
      return "analysis";
    case queue_kind::note_update:
      return "note_update";
    case queue_kind::entity_creation:
      return "entity_creation";
    case queue_kind::embedding:
      return "embedding";
  }
  return "unknown";
}

queue_stats::queue_stats(metrics::registry& reg) {
  for (std::size_t i = 0; i < queue_kind_count; ++i) {
    auto name = std::string{to_string(static_cast<queue_kind>(i))};
    metrics::labels l{{"queue", name}};
    auto& q = queues_[i];
    q.pending = &reg.get_gauge("engram_queue_pending",
                               "Tasks waiting in a session-memory queue", l);
    q.in_flight = &reg.get_gauge("engram_queue_in_flight",
                                 "Tasks being worked on", l);
    q.done = &reg.get_counter("engram_queue_done_total", "Tasks completed", l);
    q.failed = &reg.get_counter("engram_queue_failed_total",
                                "Tasks that failed for good", l);
    q.retried = &reg.get_counter("engram_queue_retried_total",
                                 "Task attempts that failed and were retried",
                                 l);
    q.latency = &reg.get_histogram(
      "engram_queue_latency_seconds",
      "Time from a task's creation to its completion", l);
  }
}

void queue_stats::pending_added(queue_kind q, int64_t since_ms) {
  auto& s = queues_[static_cast<std::size_t>(q)];
  s.pending->add(1);
  std::lock_guard<std::mutex> guard{mu_};
  ++s.waiting_since[since_ms];
}

void queue_stats::pending_removed(queue_kind q, int64_t since_ms) {
  auto& s = queues_[static_cast<std::size_t>(q)];
  std::lock_guard<std::mutex> guard{mu_};
  auto it = s.waiting_since.find(since_ms);
  if (it == s.waiting_since.end())
    return; // never counted: keep the gauge honest
  s.pending->add(-1);
  if (--it->second == 0)
    s.waiting_since.erase(it);
}

void queue_stats::started(queue_kind q) {
  queues_[static_cast<std::size_t>(q)].in_flight->add(1);
}

void queue_stats::stopped(queue_kind q) {
  queues_[static_cast<std::size_t>(q)].in_flight->add(-1);
}

void queue_stats::done(queue_kind q, double latency_ms) {
  auto& s = queues_[static_cast<std::size_t>(q)];
  s.done->inc();
  s.latency->observe(latency_ms / 1000.0);
}

void queue_stats::failed(queue_kind q) {
  queues_[static_cast<std::size_t>(q)].failed->inc();
}

void queue_stats::retried(queue_kind q) {
  queues_[static_cast<std::size_t>(q)].retried->inc();
}

uint64_t queue_stats::pending(queue_kind q) const {
  auto v = queues_[static_cast<std::size_t>(q)].pending->value();
  return v > 0 ? static_cast<uint64_t>(std::llround(v)) : 0;
}

uint64_t queue_stats::in_flight(queue_kind q) const {
  auto v = queues_[static_cast<std::size_t>(q)].in_flight->value();
  return v > 0 ? static_cast<uint64_t>(std::llround(v)) : 0;
}

boost::json::object queue_stats::to_json(int64_t now_ms) const {
  boost::json::object out;
  for (std::size_t i = 0; i < queue_kind_count; ++i) {
    auto& s = queues_[i];
    int64_t oldest = 0;
    {
      std::lock_guard<std::mutex> guard{mu_};
      if (!s.waiting_since.empty())
        oldest = std::max<int64_t>(0, now_ms - s.waiting_since.begin()->first);
    }
    auto round3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
    auto q = static_cast<queue_kind>(i);
    out[std::string{to_string(q)}] = boost::json::object{
      {"pending", pending(q)},
      {"in_flight", in_flight(q)},
      {"done", s.done->value()},
      {"failed", s.failed->value()},
      {"retried", s.retried->value()},
      {"oldest_pending_age_ms", oldest},
      {"latency_ms",
       {{"p50", round3(s.latency->quantile(0.5) * 1000.0)},
        {"p99", round3(s.latency->quantile(0.99) * 1000.0)}}}};
  }
  return out;
}

} // namespace engram
