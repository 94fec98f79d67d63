// Specification of the export statistics (runtime/exports/export_stats):
// per-user counters and duration buckets, their stored JSON, and the
// node-wide counters shared through the metrics registry.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "messages/errors.hpp"
#include "runtime/exports/debounce_policy.hpp"
#include "runtime/exports/export_stats.hpp"
#include "runtime/metrics.hpp"

using namespace engram;
using namespace engram::exports;

namespace {

// The documented upper bound of duration bucket i: 100 us * 2^i.
double bound(int i) {
  return 0.0001 * std::ldexp(1.0, i);
}

// 2023-11-14T22:13:20.123Z
constexpr int64_t some_ms = 1700000000123;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

boost::json::value reparse(const boost::json::object& o) {
  return boost::json::parse(boost::json::serialize(o));
}

} // namespace

// --- per user ----------------------------------------------------------------

TEST_CASE("user stats count triggers and outcomes by kind",
          "[exports][stats]") {
  user_export_stats s;
  s.count(trigger_kind::manual);
  s.count(trigger_kind::manual);
  s.count(trigger_kind::concept_change);
  s.count(outcome::debounced);
  s.count(outcome::debounced);
  s.count(outcome::debounced);
  s.count(outcome::failed);
  CHECK(s.triggers[static_cast<std::size_t>(trigger_kind::manual)] == 2);
  CHECK(s.triggers[static_cast<std::size_t>(trigger_kind::concept_change)] == 1);
  CHECK(s.triggers[static_cast<std::size_t>(trigger_kind::intent_closed)] == 0);
  CHECK(s.outcomes[static_cast<std::size_t>(outcome::debounced)] == 3);
  CHECK(s.outcomes[static_cast<std::size_t>(outcome::failed)] == 1);
  CHECK(s.outcomes[static_cast<std::size_t>(outcome::exported)] == 0);
  // Counting outcomes is separate from recording an export.
  CHECK(s.exports == 0);
  CHECK(s.last_export_ms == 0);
}

TEST_CASE("exported() counts the file, its time and its duration bucket",
          "[exports][stats]") {
  user_export_stats s;
  s.exported(0.00015, some_ms);
  CHECK(s.exports == 1);
  CHECK(s.last_export_ms == some_ms);
  CHECK(s.durations[1] == 1);
  s.exported(0.00005, some_ms + 10);
  CHECK(s.exports == 2);
  CHECK(s.last_export_ms == some_ms + 10);
  CHECK(s.durations[0] == 1);
  // The time recorded is the latest call's, as given.
  s.exported(0.00005, some_ms - 10);
  CHECK(s.last_export_ms == some_ms - 10);
  CHECK(s.durations[0] == 2);
  uint64_t total = 0;
  for (auto n : s.durations)
    total += n;
  CHECK(total == 3);
}

TEST_CASE("bucket i holds durations up to 100 us * 2^i", "[exports][stats]") {
  for (int i = 0; i < 20; ++i) {
    INFO("bucket " << i);
    user_export_stats at, above;
    at.exported(bound(i), 1);
    CHECK(at.durations[static_cast<std::size_t>(i)] == 1);
    above.exported(bound(i) * 1.0001, 1);
    CHECK(above.durations[static_cast<std::size_t>(i + 1)] == 1);
    CHECK(at.duration_quantile(0.5) == bound(i));
    CHECK(above.duration_quantile(0.5) == bound(i + 1));
  }
  // Zero, negative and huge durations land in the first and last buckets.
  user_export_stats edges;
  edges.exported(0, 1);
  edges.exported(-1, 1);
  edges.exported(1e9, 1);
  CHECK(edges.durations[0] == 2);
  CHECK(edges.durations[duration_buckets - 1] == 1);
  CHECK(bound(19) == Approx(52.4288));
  CHECK(bound(20) == Approx(104.8576));
}

TEST_CASE("duration_quantile is the upper bound of the quantile's bucket",
          "[exports][stats]") {
  user_export_stats none;
  CHECK(none.duration_quantile(0.5) == 0.0);
  CHECK(none.duration_quantile(0.99) == 0.0);

  user_export_stats one;
  one.exported(0, 1);
  CHECK(one.duration_quantile(0.5) == bound(0));
  CHECK(one.duration_quantile(1.0) == bound(0));

  // 98 fast exports (bucket 0) and 2 slow ones (0.1 s: bucket 10).
  user_export_stats s;
  for (int i = 0; i < 98; ++i)
    s.exported(0.00005, 1);
  s.exported(0.1, 2);
  s.exported(0.1, 3);
  CHECK(s.durations[0] == 98);
  CHECK(s.durations[10] == 2);
  CHECK(s.duration_quantile(0.5) == bound(0));
  CHECK(s.duration_quantile(0.98) == bound(0));
  CHECK(s.duration_quantile(0.99) == bound(10));
  CHECK(s.duration_quantile(1.0) == bound(10));
  CHECK(bound(10) == Approx(0.1024));

  // Two buckets, half each: the median is the lower one.
  user_export_stats half;
  half.exported(0.0003, 1); // bucket 2
  half.exported(0.5, 1);    // bucket 13 (0.8192)
  CHECK(half.duration_quantile(0.5) == bound(2));
  CHECK(half.duration_quantile(0.51) == bound(13));
  CHECK(half.duration_quantile(1.0) == bound(13));

  // The last bucket's bound is reported for durations beyond it.
  user_export_stats slow;
  slow.exported(1000, 1);
  CHECK(slow.duration_quantile(0.5) == bound(20));
}

TEST_CASE("a duration bucket saturates instead of wrapping", "[exports][stats]") {
  user_export_stats s;
  s.durations[3] = UINT32_MAX;
  s.exported(bound(3), 1);
  CHECK(s.durations[3] == UINT32_MAX);
  CHECK(s.exports == 1);
}

TEST_CASE("user stats render every documented field", "[exports][stats]") {
  user_export_stats s;
  s.count(trigger_kind::manual);
  s.count(trigger_kind::manual);
  s.count(trigger_kind::nightly);
  s.count(outcome::coalesced);
  s.exported(0.00015, some_ms);
  auto o = to_json(s);
  CHECK(boost::json::serialize(o.at("triggers"))
        == R"({"intent_closed":0,"document_upload":0,"concept_change":0,)"
           R"("session_end":0,"manual":2,"nightly":1})");
  CHECK(boost::json::serialize(o.at("outcomes"))
        == R"({"exported":0,"debounced":0,"coalesced":1,"ignored":0,)"
           R"("unchanged":0,"failed":0})");
  CHECK(o.at("total_exports").to_number<uint64_t>() == 1);
  CHECK(o.at("last_export_at") == "2023-11-14T22:13:20.123Z");
  CHECK(o.at("last_export_ms").to_number<int64_t>() == some_ms);
  CHECK(o.at("duration_seconds").at("p50").as_double() == bound(1));
  CHECK(o.at("duration_seconds").at("p99").as_double() == bound(1));
  auto& buckets = o.at("duration_buckets").as_array();
  REQUIRE(buckets.size() == duration_buckets);
  for (std::size_t i = 0; i < duration_buckets; ++i)
    CHECK(buckets[i].to_number<uint64_t>() == (i == 1 ? 1u : 0u));

  // Nothing exported yet: no time, zero durations.
  auto empty = to_json(user_export_stats{});
  CHECK(empty.at("last_export_at").is_null());
  CHECK(empty.at("total_exports").to_number<uint64_t>() == 0);
  CHECK(empty.at("duration_seconds").at("p50").as_double() == 0.0);
  CHECK(empty.at("duration_seconds").at("p99").as_double() == 0.0);
}

TEST_CASE("user stats round-trip through JSON, every field",
          "[exports][stats]") {
  user_export_stats s;
  for (std::size_t i = 0; i < trigger_kinds; ++i)
    s.triggers[i] = 10 + i;
  for (std::size_t i = 0; i < outcome_count; ++i)
    s.outcomes[i] = 1000 + 7 * i;
  s.exports = 77;
  s.last_export_ms = some_ms;
  for (std::size_t i = 0; i < duration_buckets; ++i)
    s.durations[i] = static_cast<uint32_t>(3 * i + 1);
  s.durations[20] = UINT32_MAX;

  auto check_same = [&](const user_export_stats& b) {
    CHECK(b.triggers == s.triggers);
    CHECK(b.outcomes == s.outcomes);
    CHECK(b.exports == s.exports);
    CHECK(b.last_export_ms == s.last_export_ms);
    CHECK(b.durations == s.durations);
  };
  // As the value to_json makes, and through its text (numbers reparse as
  // int64, not uint64).
  auto direct = user_stats_from_json(boost::json::value(to_json(s)));
  REQUIRE(direct);
  check_same(*direct);
  auto text = user_stats_from_json(reparse(to_json(s)));
  REQUIRE(text);
  check_same(*text);

  auto empty = user_stats_from_json(reparse(to_json(user_export_stats{})));
  REQUIRE(empty);
  CHECK(empty->exports == 0);
  CHECK(empty->last_export_ms == 0);
  CHECK(empty->duration_quantile(0.5) == 0.0);
}

TEST_CASE("damaged user stats are a storage failure", "[exports][stats]") {
  for (auto text : {R"([])", R"("stats")", R"(null)", R"(42)", R"({})",
                    R"({"triggers":{}})", R"({"outcomes":{}})",
                    R"({"triggers":[],"outcomes":{}})",
                    R"({"triggers":{},"outcomes":7})",
                    R"({"triggers":null,"outcomes":null})"}) {
    INFO(text);
    auto r = user_stats_from_json(boost::json::parse(text));
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == ec::storage_failure);
    CHECK(message_of(r.error()).rfind("stored export stats are damaged: ", 0)
          == 0);
  }
}

TEST_CASE("user stats read leniently inside a well-formed object",
          "[exports][stats]") {
  // Missing counters are 0; negative or mistyped ones too; bucket counts
  // beyond 32 bits saturate; extra buckets are ignored.
  auto r = user_stats_from_json(boost::json::parse(
    R"({"triggers":{"manual":3,"nightly":-2,"session_end":"x"},)"
    R"("outcomes":{"failed":4},"total_exports":-1,"last_export_ms":"soon",)"
    R"("duration_buckets":[1,-1,4294967296,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,5,9]})"));
  REQUIRE(r);
  CHECK(r->triggers[static_cast<std::size_t>(trigger_kind::manual)] == 3);
  CHECK(r->triggers[static_cast<std::size_t>(trigger_kind::nightly)] == 0);
  CHECK(r->triggers[static_cast<std::size_t>(trigger_kind::session_end)] == 0);
  CHECK(r->outcomes[static_cast<std::size_t>(outcome::failed)] == 4);
  CHECK(r->outcomes[static_cast<std::size_t>(outcome::exported)] == 0);
  CHECK(r->exports == 0);
  CHECK(r->last_export_ms == 0);
  CHECK(r->durations[0] == 1);
  CHECK(r->durations[1] == 0);
  CHECK(r->durations[2] == UINT32_MAX);
  CHECK(r->durations[3] == 2);
  CHECK(r->durations[20] == 5);
}

// --- per node ----------------------------------------------------------------

TEST_CASE("node stats start at zero", "[exports][stats]") {
  metrics::registry reg;
  node_export_stats n{reg};
  auto o = n.to_json();
  CHECK(boost::json::serialize(o.at("triggers"))
        == R"({"intent_closed":0,"document_upload":0,"concept_change":0,)"
           R"("session_end":0,"manual":0,"nightly":0})");
  CHECK(boost::json::serialize(o.at("outcomes"))
        == R"({"exported":0,"debounced":0,"coalesced":0,"ignored":0,)"
           R"("unchanged":0,"failed":0})");
  CHECK(o.at("total_exports").to_number<uint64_t>() == 0);
  CHECK(o.at("last_export_at").is_null());
  CHECK(o.at("duration_seconds").at("p50").as_double() == 0.0);
  CHECK(o.at("duration_seconds").at("p99").as_double() == 0.0);
  CHECK(boost::json::serialize(o.at("webhook"))
        == R"({"ok":0,"failed":0,"retries":0})");
  // Every series exists from the start, at 0.
  auto text = reg.render();
  CHECK(contains(text, "engram_export_triggers_total{trigger=\"manual\"} 0\n"));
  CHECK(contains(text, "engram_export_outcomes_total{outcome=\"failed\"} 0\n"));
  CHECK(contains(text, "engram_exports_total 0\n"));
  CHECK(contains(text, "engram_export_webhook_total{result=\"ok\"} 0\n"));
  CHECK(contains(text, "engram_export_duration_seconds_count 0\n"));
}

TEST_CASE("node stats show in their JSON and in the metrics text",
          "[exports][stats]") {
  metrics::registry reg;
  node_export_stats n{reg};
  n.count(trigger_kind::manual);
  n.count(trigger_kind::manual);
  n.count(trigger_kind::intent_closed);
  n.count(outcome::coalesced);
  n.count(outcome::exported);
  n.count(outcome::exported);
  n.exported(0.25, 2000);
  // An older completion does not move the last export time back.
  n.exported(0.5, 1000);
  n.webhook(true, 0);
  n.webhook(false, 5);
  n.webhook(true, 2);

  auto o = n.to_json();
  CHECK(boost::json::serialize(o.at("triggers"))
        == R"({"intent_closed":1,"document_upload":0,"concept_change":0,)"
           R"("session_end":0,"manual":2,"nightly":0})");
  CHECK(boost::json::serialize(o.at("outcomes"))
        == R"({"exported":2,"debounced":0,"coalesced":1,"ignored":0,)"
           R"("unchanged":0,"failed":0})");
  CHECK(o.at("total_exports").to_number<uint64_t>() == 2);
  CHECK(o.at("last_export_at") == "1970-01-01T00:00:02.000Z");
  CHECK(o.at("duration_seconds").at("p50").as_double() > 0.0);
  CHECK(o.at("duration_seconds").at("p99").as_double() > 0.0);
  CHECK(boost::json::serialize(o.at("webhook"))
        == R"({"ok":2,"failed":1,"retries":7})");

  auto text = reg.render();
  INFO(text);
  CHECK(contains(text, "engram_export_triggers_total{trigger=\"manual\"} 2\n"));
  CHECK(contains(text,
                 "engram_export_triggers_total{trigger=\"intent_closed\"} 1\n"));
  CHECK(contains(text, "engram_export_triggers_total{trigger=\"nightly\"} 0\n"));
  CHECK(contains(text,
                 "engram_export_outcomes_total{outcome=\"exported\"} 2\n"));
  CHECK(contains(text,
                 "engram_export_outcomes_total{outcome=\"coalesced\"} 1\n"));
  CHECK(contains(text, "engram_exports_total 2\n"));
  CHECK(contains(text, "engram_export_duration_seconds_count 2\n"));
  CHECK(contains(text, "engram_export_duration_seconds_sum 0.75\n"));
  CHECK(contains(text, "engram_export_webhook_total{result=\"ok\"} 2\n"));
  CHECK(contains(text, "engram_export_webhook_total{result=\"failed\"} 1\n"));
  CHECK(contains(text, "engram_export_webhook_retries_total 7\n"));
  CHECK(contains(text, "# TYPE engram_export_triggers_total counter\n"));
  CHECK(contains(text, "# TYPE engram_export_duration_seconds histogram\n"));
}

TEST_CASE("node stats on one registry share their counters",
          "[exports][stats]") {
  metrics::registry reg;
  node_export_stats a{reg};
  node_export_stats b{reg};
  a.count(trigger_kind::session_end);
  b.count(trigger_kind::session_end);
  a.webhook(false, 1);
  CHECK(a.to_json().at("triggers").at("session_end").to_number<uint64_t>() == 2);
  CHECK(b.to_json().at("triggers").at("session_end").to_number<uint64_t>() == 2);
  CHECK(b.to_json().at("webhook").at("failed").to_number<uint64_t>() == 1);
  CHECK(contains(reg.render(),
                 "engram_export_triggers_total{trigger=\"session_end\"} 2\n"));
}
