// Node-wide queue counters: what GET /v1/queues reports and what /metrics
// exports as engram_queue_* series.

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "runtime/metrics.hpp"
#include "runtime/queue_stats.hpp"

using namespace engram;

namespace {

constexpr queue_kind all_queues[] = {queue_kind::analysis,
                                     queue_kind::note_update,
                                     queue_kind::entity_creation,
                                     queue_kind::embedding};

const boost::json::object& queue_of(const boost::json::object& all,
                                    const char* name) {
  auto* q = all.if_contains(name);
  REQUIRE(q);
  REQUIRE(q->is_object());
  return q->get_object();
}

std::set<std::string> keys_of(const boost::json::object& o) {
  std::set<std::string> out;
  for (auto& kv : o)
    out.emplace(kv.key().data(), kv.key().size());
  return out;
}

int64_t oldest_age(const queue_stats& s, const char* name, int64_t now) {
  auto j = s.to_json(now);
  return queue_of(j, name).at("oldest_pending_age_ms").to_number<int64_t>();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("queue kinds have stable names", "[queue_stats]") {
  CHECK(to_string(queue_kind::analysis) == "analysis");
  CHECK(to_string(queue_kind::note_update) == "note_update");
  CHECK(to_string(queue_kind::entity_creation) == "entity_creation");
  CHECK(to_string(queue_kind::embedding) == "embedding");
}

TEST_CASE("a fresh queue_stats reports four empty queues with exactly the "
          "documented fields",
          "[queue_stats]") {
  metrics::registry reg;
  queue_stats s{reg};
  auto j = s.to_json(1'000'000);
  CHECK(keys_of(j)
        == std::set<std::string>{"analysis", "note_update", "entity_creation",
                                 "embedding"});
  for (auto name : {"analysis", "note_update", "entity_creation",
                    "embedding"}) {
    INFO(name);
    auto& q = queue_of(j, name);
    CHECK(keys_of(q)
          == std::set<std::string>{"pending", "in_flight", "done", "failed",
                                   "retried", "oldest_pending_age_ms",
                                   "latency_ms"});
    for (auto field : {"pending", "in_flight", "done", "failed", "retried",
                       "oldest_pending_age_ms"}) {
      INFO(field);
      REQUIRE(q.at(field).is_number());
      CHECK(q.at(field).to_number<double>() == 0);
    }
    REQUIRE(q.at("latency_ms").is_object());
    auto& lat = q.at("latency_ms").get_object();
    CHECK(keys_of(lat) == std::set<std::string>{"p50", "p99"});
    CHECK(lat.at("p50").to_number<double>() == 0);
    CHECK(lat.at("p99").to_number<double>() == 0);
  }
}

TEST_CASE("pending and in_flight count per queue", "[queue_stats]") {
  metrics::registry reg;
  queue_stats s{reg};
  s.pending_added(queue_kind::analysis, 100);
  s.pending_added(queue_kind::analysis, 200);
  s.pending_added(queue_kind::embedding, 300);
  s.started(queue_kind::note_update);
  s.started(queue_kind::note_update);
  s.started(queue_kind::entity_creation);
  CHECK(s.pending(queue_kind::analysis) == 2);
  CHECK(s.pending(queue_kind::embedding) == 1);
  CHECK(s.pending(queue_kind::note_update) == 0);
  CHECK(s.in_flight(queue_kind::note_update) == 2);
  CHECK(s.in_flight(queue_kind::entity_creation) == 1);
  CHECK(s.in_flight(queue_kind::analysis) == 0);

  s.pending_removed(queue_kind::analysis, 100);
  s.stopped(queue_kind::note_update);
  CHECK(s.pending(queue_kind::analysis) == 1);
  CHECK(s.in_flight(queue_kind::note_update) == 1);

  auto j = s.to_json(1000);
  CHECK(queue_of(j, "analysis").at("pending").to_number<uint64_t>() == 1);
  CHECK(queue_of(j, "embedding").at("pending").to_number<uint64_t>() == 1);
  CHECK(queue_of(j, "note_update").at("in_flight").to_number<uint64_t>()
        == 1);
  CHECK(queue_of(j, "entity_creation").at("in_flight").to_number<uint64_t>()
        == 1);

  s.pending_removed(queue_kind::analysis, 200);
  s.pending_removed(queue_kind::embedding, 300);
  s.stopped(queue_kind::note_update);
  s.stopped(queue_kind::entity_creation);
  for (auto q : all_queues) {
    INFO(to_string(q));
    CHECK(s.pending(q) == 0);
    CHECK(s.in_flight(q) == 0);
  }
}

TEST_CASE("oldest_pending_age_ms follows the oldest task still pending",
          "[queue_stats]") {
  metrics::registry reg;
  queue_stats s{reg};
  CHECK(oldest_age(s, "analysis", 5000) == 0);

  s.pending_added(queue_kind::analysis, 1000);
  s.pending_added(queue_kind::analysis, 400); // recovered: older, added later
  s.pending_added(queue_kind::analysis, 400);
  s.pending_added(queue_kind::note_update, 4000);
  CHECK(oldest_age(s, "analysis", 5000) == 4600);
  CHECK(oldest_age(s, "note_update", 5000) == 1000);
  CHECK(oldest_age(s, "embedding", 5000) == 0);

  // Two tasks wait since 400: the age holds until both are gone.
  s.pending_removed(queue_kind::analysis, 400);
  CHECK(oldest_age(s, "analysis", 5000) == 4600);
  s.pending_removed(queue_kind::analysis, 400);
  CHECK(oldest_age(s, "analysis", 5000) == 4000);
  // Removing the newest leaves the oldest in charge.
  s.pending_added(queue_kind::analysis, 3000);
  s.pending_removed(queue_kind::analysis, 3000);
  CHECK(oldest_age(s, "analysis", 5000) == 4000);
  s.pending_removed(queue_kind::analysis, 1000);
  CHECK(oldest_age(s, "analysis", 5000) == 0);
  CHECK(oldest_age(s, "note_update", 5000) == 1000);

  // A clock behind the task's start never gives a negative age.
  CHECK(oldest_age(s, "note_update", 3000) == 0);
}

TEST_CASE("done, failed and retried are counted per queue", "[queue_stats]") {
  metrics::registry reg;
  queue_stats s{reg};
  s.done(queue_kind::analysis, 2.0);
  s.done(queue_kind::analysis, 2.0);
  s.done(queue_kind::embedding, 1.0);
  s.failed(queue_kind::note_update);
  s.retried(queue_kind::note_update);
  s.retried(queue_kind::note_update);
  s.retried(queue_kind::entity_creation);
  auto j = s.to_json(0);
  auto num = [&](const char* q, const char* f) {
    return queue_of(j, q).at(f).to_number<uint64_t>();
  };
  CHECK(num("analysis", "done") == 2);
  CHECK(num("embedding", "done") == 1);
  CHECK(num("note_update", "done") == 0);
  CHECK(num("note_update", "failed") == 1);
  CHECK(num("analysis", "failed") == 0);
  CHECK(num("note_update", "retried") == 2);
  CHECK(num("entity_creation", "retried") == 1);
  CHECK(num("embedding", "retried") == 0);
  // Finishing is not leaving the pending set: that is pending_removed.
  CHECK(num("analysis", "pending") == 0);
}

TEST_CASE("latency percentiles are reported in milliseconds",
          "[queue_stats]") {
  metrics::registry reg;
  queue_stats s{reg};
  // 2 ms falls in the (1 ms, 2.5 ms] bucket; estimates interpolate in it.
  s.done(queue_kind::analysis, 2.0);
  // 100 fast ones and one slow one: p50 is fast, p99 reaches the slow end.
  for (int i = 0; i < 99; ++i)
    s.done(queue_kind::note_update, 0.2);
  s.done(queue_kind::note_update, 3000.0);
  s.done(queue_kind::note_update, 3000.0);
  auto j = s.to_json(0);
  auto lat = [&](const char* q, const char* p) {
    return queue_of(j, q).at("latency_ms").at(p).to_number<double>();
  };
  CHECK(lat("analysis", "p50") == Approx(1.75));
  CHECK(lat("analysis", "p99") == Approx(2.485));
  CHECK(lat("note_update", "p50") > 0.1);
  CHECK(lat("note_update", "p50") <= 0.25);
  CHECK(lat("note_update", "p99") > 2500.0);
  CHECK(lat("note_update", "p99") <= 5000.0);
  CHECK(lat("embedding", "p50") == 0);
  // Rounded to microseconds.
  auto p = lat("analysis", "p99") * 1000.0;
  CHECK(p == Approx(std::round(p)).margin(1e-6));
}

TEST_CASE("queue stats are exported as engram_queue_* series",
          "[queue_stats][metrics]") {
  metrics::registry reg;
  queue_stats s{reg};
  s.pending_added(queue_kind::analysis, 1);
  s.pending_added(queue_kind::analysis, 2);
  s.pending_added(queue_kind::analysis, 3);
  s.started(queue_kind::embedding);
  s.done(queue_kind::note_update, 2.0);
  s.failed(queue_kind::entity_creation);
  s.retried(queue_kind::analysis);
  auto text = reg.render();
  INFO(text);
  for (auto family : {"engram_queue_pending gauge", "engram_queue_in_flight gauge",
                      "engram_queue_done_total counter",
                      "engram_queue_failed_total counter",
                      "engram_queue_retried_total counter",
                      "engram_queue_latency_seconds histogram"})
    CHECK(contains(text, std::string{"# TYPE "} + family + "\n"));
  for (auto q : all_queues) {
    auto l = "{queue=\"" + std::string{to_string(q)} + "\"}";
    CHECK(contains(text, "engram_queue_pending" + l));
    CHECK(contains(text, "engram_queue_done_total" + l));
    CHECK(contains(text, "engram_queue_latency_seconds_count" + l));
  }
  CHECK(contains(text, "engram_queue_pending{queue=\"analysis\"} 3\n"));
  CHECK(contains(text, "engram_queue_pending{queue=\"note_update\"} 0\n"));
  CHECK(contains(text, "engram_queue_in_flight{queue=\"embedding\"} 1\n"));
  CHECK(contains(text, "engram_queue_done_total{queue=\"note_update\"} 1\n"));
  CHECK(contains(text,
                 "engram_queue_failed_total{queue=\"entity_creation\"} 1\n"));
  CHECK(contains(text, "engram_queue_retried_total{queue=\"analysis\"} 1\n"));
  // Latency is exported in seconds: 2 ms lands in the le="0.0025" bucket.
  CHECK(contains(text, "engram_queue_latency_seconds_bucket{queue=\"note_update\","
                       "le=\"0.001\"} 0\n"));
  CHECK(contains(text, "engram_queue_latency_seconds_bucket{queue=\"note_update\","
                       "le=\"0.0025\"} 1\n"));
  CHECK(contains(text, "engram_queue_latency_seconds_count{queue=\"note_update\"} 1\n"));
  CHECK(contains(text, "engram_queue_latency_seconds_sum{queue=\"note_update\"} 0.002\n"));
}

TEST_CASE("the series and /v1/queues agree", "[queue_stats][metrics]") {
  metrics::registry reg;
  queue_stats s{reg};
  s.pending_added(queue_kind::entity_creation, 10);
  s.done(queue_kind::entity_creation, 1.0);
  s.done(queue_kind::entity_creation, 1.0);
  auto& pending = reg.get_gauge("engram_queue_pending", "",
                                {{"queue", "entity_creation"}});
  auto& done = reg.get_counter("engram_queue_done_total", "",
                               {{"queue", "entity_creation"}});
  CHECK(pending.value() == 1);
  CHECK(done.value() == 2);
  auto j = s.to_json(20);
  CHECK(queue_of(j, "entity_creation").at("pending").to_number<uint64_t>()
        == 1);
  CHECK(queue_of(j, "entity_creation").at("done").to_number<uint64_t>() == 2);
  CHECK(queue_of(j, "entity_creation").at("oldest_pending_age_ms")
          .to_number<int64_t>()
        == 10);
}
