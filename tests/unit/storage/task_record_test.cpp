// Tests storage/task_record.cpp: the task state machine (every transition,
// allowed or refused), task JSON, task ids, the key layout of tasks and
// embedding markers, and the bounds of the retry back-off.

#include "storage/task_record.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "storage/json_codec.hpp"
#include "storage/key_codec.hpp"

using namespace engram::storage;
using engram::code_of;
using engram::ec;
using engram::field_of;
using engram::message_of;
using std::chrono::milliseconds;

namespace {

template <class T>
ec result_code(const caf::expected<T>& x) {
  return x ? ec::none : code_of(x.error());
}

template <class T>
std::string result_field(const caf::expected<T>& x) {
  return x ? std::string{} : field_of(x.error());
}

bool bytewise_less(std::string_view a, std::string_view b) {
  return std::lexicographical_compare(
    a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
    });
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

const std::vector<task_status> all_statuses{
  task_status::pending, task_status::in_flight, task_status::done,
  task_status::failed};

const std::vector<task_event> all_events{
  task_event::start,      task_event::succeed, task_event::fail_retryable,
  task_event::fail_final, task_event::recover, task_event::retry};

task_record sample_task() {
  task_record t;
  t.id = "0190b2c3d4e5-000001.c1";
  t.queue = task_queue::entity_creation;
  t.status = task_status::in_flight;
  t.session = "s1";
  t.turn = 12;
  t.event_id = "0190b2c3d4e5-000001";
  t.entity_id = "";
  t.entity_type = "npc";
  t.summary = "A \"smith\" in \xC3\xA9tampes";
  t.name = "Bram";
  t.attempts = 3;
  t.last_error = "model timed out";
  t.created_ms = 1717243200000;
  t.updated_ms = 1717243201250;
  return t;
}

void check_same(const task_record& a, const task_record& b) {
  CHECK(a.id == b.id);
  CHECK(a.queue == b.queue);
  CHECK(a.status == b.status);
  CHECK(a.session == b.session);
  CHECK(a.turn == b.turn);
  CHECK(a.event_id == b.event_id);
  CHECK(a.entity_id == b.entity_id);
  CHECK(a.entity_type == b.entity_type);
  CHECK(a.summary == b.summary);
  CHECK(a.name == b.name);
  CHECK(a.attempts == b.attempts);
  CHECK(a.last_error == b.last_error);
  CHECK(a.created_ms == b.created_ms);
  CHECK(a.updated_ms == b.updated_ms);
}

caf::expected<task_record> round_trip(const task_record& t) {
  return task_from_json(encode_json(to_json(t)));
}

std::string with_field(std::string_view key, boost::json::value v) {
  auto o = to_json(sample_task());
  o[key] = std::move(v);
  return encode_json(o);
}

const std::vector<std::string> task_fields{
  "task_id",   "queue",    "status",     "session",    "turn",
  "event_id",  "entity_id", "entity_type", "summary",   "name",
  "attempts",  "last_error", "created_ms", "updated_ms"};

// The exponential delay without jitter, computed independently (in long
// double, which holds 2^(attempts-1) far past any max).
int64_t full_delay(uint32_t attempts, int64_t base, int64_t max) {
  auto exact = static_cast<long double>(base)
               * std::pow(2.0L, static_cast<long double>(attempts - 1));
  return exact >= static_cast<long double>(max) ? max
                                                : static_cast<int64_t>(exact);
}

} // namespace

TEST_CASE("queue, status and event names are stable and read back",
          "[storage]") {
  CHECK(to_string(task_queue::analysis) == "analysis");
  CHECK(to_string(task_queue::note_update) == "note_update");
  CHECK(to_string(task_queue::entity_creation) == "entity_creation");
  for (auto q : {task_queue::analysis, task_queue::note_update,
                 task_queue::entity_creation})
    CHECK(task_queue_from(to_string(q)) == q);
  CHECK_FALSE(task_queue_from("analyses"));
  CHECK(to_string(task_status::pending) == "pending");
  CHECK(to_string(task_status::in_flight) == "in_flight");
  CHECK(to_string(task_status::done) == "done");
  CHECK(to_string(task_status::failed) == "failed");
  for (auto s : all_statuses)
    CHECK(task_status_from(to_string(s)) == s);
  CHECK_FALSE(task_status_from("in-flight"));
  CHECK_FALSE(task_status_from(""));
  CHECK(to_string(task_event::start) == "start");
  CHECK(to_string(task_event::succeed) == "succeed");
  CHECK(to_string(task_event::fail_retryable) == "fail_retryable");
  CHECK(to_string(task_event::fail_final) == "fail_final");
  CHECK(to_string(task_event::recover) == "recover");
  CHECK(to_string(task_event::retry) == "retry");
}

TEST_CASE("the task state machine allows exactly the documented transitions",
          "[storage]") {
  using st = task_status;
  using ev = task_event;
  const std::map<std::pair<st, ev>, st> allowed{
    {{st::pending, ev::start}, st::in_flight},
    {{st::in_flight, ev::succeed}, st::done},
    {{st::in_flight, ev::fail_retryable}, st::pending},
    {{st::in_flight, ev::fail_final}, st::failed},
    {{st::in_flight, ev::recover}, st::pending},
    {{st::failed, ev::retry}, st::pending},
  };
  std::size_t refused = 0;
  for (auto from : all_statuses) {
    for (auto e : all_events) {
      auto next = next_status(from, e);
      INFO(to_string(e) << " a " << to_string(from) << " task");
      auto it = allowed.find({from, e});
      if (it != allowed.end()) {
        REQUIRE(next);
        CHECK(*next == it->second);
      } else {
        ++refused;
        CHECK(result_code(next) == ec::conflict);
        if (!next)
          CHECK(message_of(next.error())
                == "cannot " + std::string{to_string(e)} + " a "
                     + std::string{to_string(from)} + " task");
      }
    }
  }
  CHECK(refused == all_statuses.size() * all_events.size() - allowed.size());
}

TEST_CASE("done is final and failed leaves only through retry", "[storage]") {
  for (auto e : all_events)
    CHECK_FALSE(next_status(task_status::done, e));
  CHECK(message_of(next_status(task_status::done, task_event::start).error())
        == "cannot start a done task");
  CHECK(message_of(
          next_status(task_status::failed, task_event::start).error())
        == "cannot start a failed task");
}

TEST_CASE("a task survives encode then decode", "[storage]") {
  auto t = sample_task();
  SECTION("with a last error") {
    auto back = round_trip(t);
    REQUIRE(back);
    check_same(*back, t);
  }
  SECTION("without a last error") {
    t.last_error.clear();
    auto back = round_trip(t);
    REQUIRE(back);
    check_same(*back, t);
  }
  SECTION("every queue and status") {
    for (auto q : {task_queue::analysis, task_queue::note_update,
                   task_queue::entity_creation})
      for (auto s : all_statuses) {
        t.queue = q;
        t.status = s;
        auto back = round_trip(t);
        REQUIRE(back);
        CHECK(back->queue == q);
        CHECK(back->status == s);
      }
  }
  SECTION("extreme numbers") {
    t.turn = std::numeric_limits<int64_t>::max();
    t.attempts = std::numeric_limits<uint32_t>::max();
    t.created_ms = std::numeric_limits<int64_t>::min();
    t.updated_ms = 0;
    auto back = round_trip(t);
    REQUIRE(back);
    check_same(*back, t);
  }
}

TEST_CASE("a task's JSON has the documented fields, last_error null when "
          "empty",
          "[storage]") {
  auto t = sample_task();
  auto o = to_json(t);
  CHECK(o.size() == task_fields.size());
  for (auto& f : task_fields)
    CHECK(o.contains(f));
  CHECK(o.at("task_id") == "0190b2c3d4e5-000001.c1");
  CHECK(o.at("queue") == "entity_creation");
  CHECK(o.at("status") == "in_flight");
  CHECK(o.at("last_error") == "model timed out");
  t.last_error.clear();
  CHECK(to_json(t).at("last_error").is_null());
}

TEST_CASE("a damaged task is a storage failure naming the field",
          "[storage]") {
  SECTION("not JSON, or not an object") {
    for (auto text : {"", "}", "task", "[1]", "\"x\""}) {
      INFO(text);
      CHECK(result_code(task_from_json(text)) == ec::storage_failure);
    }
  }
  SECTION("each field missing") {
    for (auto& f : task_fields) {
      auto o = to_json(sample_task());
      o.erase(f);
      auto r = task_from_json(encode_json(o));
      INFO(f);
      CHECK(result_code(r) == ec::storage_failure);
      CHECK(result_field(r) == f);
    }
  }
  SECTION("each field of the wrong kind") {
    for (auto& f : task_fields) {
      auto r = task_from_json(with_field(f, boost::json::array{}));
      INFO(f);
      CHECK(result_code(r) == ec::storage_failure);
      CHECK(result_field(r) == f);
    }
  }
  SECTION("values of the right kind but invalid") {
    struct bad {
      std::string field;
      boost::json::value v;
    };
    std::vector<bad> cases{
      {"task_id", nullptr},
      {"queue", "embedding"},
      {"status", "running"},
      {"turn", 1.0},
      {"attempts", -1},
      {"attempts", uint64_t{1} << 32},
      {"last_error", 5},
      {"created_ms", std::numeric_limits<uint64_t>::max()},
      {"updated_ms", "0"},
    };
    for (auto& c : cases) {
      auto r = task_from_json(with_field(c.field, c.v));
      INFO(c.field << " = " << encode_json(c.v));
      CHECK(result_code(r) == ec::storage_failure);
      CHECK(result_field(r) == c.field);
    }
  }
  SECTION("an empty-string last_error reads as none") {
    auto r = task_from_json(with_field("last_error", ""));
    REQUIRE(r);
    CHECK(r->last_error.empty());
  }
}

TEST_CASE("task ids name their event and kind", "[storage]") {
  CHECK(analysis_task_id("E1") == "E1.a");
  CHECK(update_task_id("E1", 0) == "E1.u0");
  CHECK(update_task_id("E1", 12) == "E1.u12");
  CHECK(creation_task_id("E1", 3) == "E1.c3");
  for (auto id : {analysis_task_id("0190-7"), update_task_id("0190-7", 4),
                  creation_task_id("0190-7", 0)})
    CHECK(event_of_task(id) == "0190-7");
  CHECK(event_of_task("nodot").empty());
  CHECK(event_of_task("").empty());
  CHECK(event_of_task(".a").empty());
  CHECK(event_of_task("E1.u1.x") == "E1");
}

TEST_CASE("a task key is user, \"t\", session, task id", "[storage]") {
  CHECK(task_key("u1", "s1", "E1.a")
        == key_builder{}.str("u1").str("t").str("s1").str("E1.a").bytes());
  CHECK(task_session_prefix("u1", "s1")
        == key_builder{}.str("u1").str("t").str("s1").bytes());
  CHECK(task_user_prefix("u1") == key_builder{}.str("u1").str("t").bytes());
  CHECK(starts_with(task_key("u1", "s1", "E1.a"), user_prefix("u1")));
}

TEST_CASE("the tasks of one session sort together, apart from sessions "
          "that extend its name",
          "[storage]") {
  const std::vector<std::string> sessions{"s1", "s10", "s", "s1x", "s2", "r9"};
  std::vector<std::pair<std::string, std::string>> tasks; // session, key
  for (auto& s : sessions)
    for (auto& ev : {"E1", "E2", "E10"})
      for (auto& id : {analysis_task_id(ev), update_task_id(ev, 0),
                       creation_task_id(ev, 1)})
        tasks.emplace_back(s, task_key("u1", s, id));
  std::sort(tasks.begin(), tasks.end(), [](auto& a, auto& b) {
    return bytewise_less(a.second, b.second);
  });
  for (auto& s : sessions) {
    auto prefix = task_session_prefix("u1", s);
    auto first = std::find_if(tasks.begin(), tasks.end(),
                              [&](auto& t) { return t.first == s; });
    auto last = std::find_if(first, tasks.end(),
                             [&](auto& t) { return t.first != s; });
    INFO("session " << s);
    // Contiguous: no task of s after the first run ends.
    CHECK(std::none_of(last, tasks.end(),
                       [&](auto& t) { return t.first == s; }));
    // The prefix matches exactly the tasks of s.
    for (auto& t : tasks)
      CHECK(starts_with(t.second, prefix) == (t.first == s));
  }
}

TEST_CASE("one turn's tasks sort together within a session", "[storage]") {
  const std::vector<std::string> events{"0190-000001", "0190-000002",
                                        "0190-000010"};
  std::vector<std::string> keys;
  for (auto& ev : events)
    for (auto& id : {analysis_task_id(ev), update_task_id(ev, 0),
                     update_task_id(ev, 1), creation_task_id(ev, 0)})
      keys.push_back(task_key("u1", "s1", id));
  std::reverse(keys.begin(), keys.end());
  std::sort(keys.begin(), keys.end(), bytewise_less);
  // The event of each sorted key, read back from its task id.
  std::vector<std::string> order;
  for (auto& k : keys) {
    key_reader r{k};
    REQUIRE(r.str() == "u1");
    REQUIRE(r.str() == "t");
    REQUIRE(r.str() == "s1");
    auto id = r.str();
    REQUIRE(id);
    order.emplace_back(event_of_task(*id));
  }
  std::vector<std::string> expected;
  for (auto& ev : events)
    expected.insert(expected.end(), 4, ev);
  CHECK(order == expected);
}

TEST_CASE("embed markers live apart from tasks and read back", "[storage]") {
  auto marker = embed_marker_key("u1", "c/s1/e7");
  CHECK(marker == key_builder{}.str("u1").str("e").str("c/s1/e7").bytes());
  CHECK(embed_marker_prefix("u1") == key_builder{}.str("u1").str("e").bytes());
  CHECK(starts_with(marker, embed_marker_prefix("u1")));
  CHECK_FALSE(starts_with(marker, task_user_prefix("u1")));
  // A session named like a doc key still cannot meet a marker.
  CHECK_FALSE(starts_with(task_key("u1", "c/s1/e7", "E1.a"),
                          embed_marker_prefix("u1")));
  CHECK(marker != task_key("u1", "c/s1/e7", ""));
  CHECK_FALSE(starts_with(embed_marker_key("u10", "e/e7"),
                          embed_marker_prefix("u1")));

  CHECK(doc_key_of_marker("u1", marker) == std::string{"c/s1/e7"});
  CHECK(doc_key_of_marker("u1", embed_marker_key("u1", "")) == std::string{});
  CHECK_FALSE(doc_key_of_marker("u2", marker));
  CHECK_FALSE(doc_key_of_marker("u", embed_marker_key("u1", "e/e7")));
  CHECK_FALSE(doc_key_of_marker("u1", task_key("u1", "s1", "E1.a")));
  CHECK_FALSE(doc_key_of_marker("u1", marker + "x"));
  CHECK_FALSE(doc_key_of_marker("u1", marker.substr(0, marker.size() - 1)));
  CHECK_FALSE(doc_key_of_marker("u1", ""));
}

TEST_CASE("retry_delay follows equal-jitter exponential back-off",
          "[storage]") {
  const milliseconds base{100};
  const milliseconds max{10000};
  SECTION("known values") {
    CHECK(retry_delay(1, base, max, 0.0) == milliseconds{50});
    CHECK(retry_delay(1, base, max, 0.5) == milliseconds{75});
    CHECK(retry_delay(2, base, max, 0.0) == milliseconds{100});
    CHECK(retry_delay(3, base, max, 0.0) == milliseconds{200});
    CHECK(retry_delay(3, base, max, 0.5) == milliseconds{300});
    CHECK(retry_delay(7, base, max, 0.0) == milliseconds{3200});
    // 100 * 2^7 = 12800 is past max: capped before jitter.
    CHECK(retry_delay(8, base, max, 0.0) == milliseconds{5000});
    CHECK(retry_delay(8, base, max, 0.5) == milliseconds{7500});
  }
  SECTION("between half and all of the capped exponential delay") {
    for (uint32_t a = 1; a <= 100; ++a)
      for (double j : {0.0, 0.1, 0.5, 0.9, 0.999999}) {
        auto full = full_delay(a, base.count(), max.count());
        auto d = retry_delay(a, base, max, j).count();
        INFO("attempts " << a << ", jitter " << j);
        CHECK(d >= full / 2);
        CHECK(d <= full);
        CHECK(d <= max.count());
      }
  }
  SECTION("grows with jitter") {
    auto prev = retry_delay(5, base, max, 0.0);
    for (double j = 0.05; j < 1.0; j += 0.05) {
      auto d = retry_delay(5, base, max, j);
      CHECK(d >= prev);
      prev = d;
    }
    CHECK(prev > retry_delay(5, base, max, 0.0));
  }
  SECTION("huge attempt counts do not overflow") {
    for (uint32_t a : {31u, 32u, 62u, 63u, 64u, 65u, 1000u,
                       std::numeric_limits<uint32_t>::max()}) {
      auto d = retry_delay(a, base, max, 0.0);
      INFO("attempts " << a);
      CHECK(d == milliseconds{5000});
      CHECK(retry_delay(a, base, max, 0.999) <= max);
    }
    auto big = milliseconds{std::numeric_limits<int64_t>::max()};
    for (uint32_t a : {1u, 2u, 40u, 64u, std::numeric_limits<uint32_t>::max()})
      for (double j : {0.0, 0.5, 0.999999}) {
        auto d = retry_delay(a, milliseconds{1000}, big, j);
        INFO("attempts " << a << ", jitter " << j);
        CHECK(d >= milliseconds{500});
        CHECK(d <= big);
      }
  }
  SECTION("jitter outside [0, 1) is clamped") {
    CHECK(retry_delay(3, base, max, -1.0) == milliseconds{200});
    CHECK(retry_delay(3, base, max, std::nan("")) == milliseconds{200});
    auto top = retry_delay(3, base, max, std::nextafter(1.0, 0.0));
    CHECK(top < milliseconds{400});
    for (double j : {1.0, 2.0, std::numeric_limits<double>::infinity()})
      CHECK(retry_delay(3, base, max, j) == top);
  }
  SECTION("a base above max is capped at max") {
    CHECK(retry_delay(1, milliseconds{50000}, max, 0.0) == milliseconds{5000});
  }
}
