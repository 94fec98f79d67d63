// Tests storage/turn_record.cpp: turns survive encode then decode, damaged
// values are storage failures naming the field, and turn keys sort in turn
// order within one session only.

#include "storage/turn_record.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
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

turn_record sample_turn() {
  turn_record t;
  t.session = "s1";
  t.turn = 42;
  t.event_id = "0190b2c3d4e5-000001";
  t.text = "Mira says \"hello\" to the \xC3\xA9lite guard\n";
  t.status = turn_status::analysed;
  t.task_ids = {"0190b2c3d4e5-000001.a", "0190b2c3d4e5-000001.u0"};
  t.open_tasks = 2;
  t.created_at = "2024-06-01T12:00:00.000Z";
  t.updated_at = "2024-06-01T12:00:01.250Z";
  return t;
}

void check_same(const turn_record& a, const turn_record& b) {
  CHECK(a.session == b.session);
  CHECK(a.turn == b.turn);
  CHECK(a.event_id == b.event_id);
  CHECK(a.text == b.text);
  CHECK(a.status == b.status);
  CHECK(a.task_ids == b.task_ids);
  CHECK(a.open_tasks == b.open_tasks);
  CHECK(a.created_at == b.created_at);
  CHECK(a.updated_at == b.updated_at);
}

caf::expected<turn_record> round_trip(const turn_record& t) {
  return turn_from_json(encode_json(to_json(t)));
}

// The stored JSON of the sample with `key` set to `v`.
std::string with_field(std::string_view key, boost::json::value v) {
  auto o = to_json(sample_turn());
  o[key] = std::move(v);
  return encode_json(o);
}

const std::vector<std::string> turn_fields{
  "session",  "turn",       "event_id",   "text",      "status",
  "task_ids", "open_tasks", "created_at", "updated_at"};

} // namespace

TEST_CASE("turn status names are stable and read back", "[storage]") {
  CHECK(to_string(turn_status::pending) == "pending");
  CHECK(to_string(turn_status::analysed) == "analysed");
  CHECK(to_string(turn_status::applied) == "applied");
  CHECK(to_string(turn_status::failed) == "failed");
  for (auto s : {turn_status::pending, turn_status::analysed,
                 turn_status::applied, turn_status::failed})
    CHECK(turn_status_from(to_string(s)) == s);
  CHECK_FALSE(turn_status_from("Applied"));
  CHECK_FALSE(turn_status_from(""));
}

TEST_CASE("a turn survives encode then decode", "[storage]") {
  auto t = sample_turn();
  SECTION("typical values") {
    auto back = round_trip(t);
    REQUIRE(back);
    check_same(*back, t);
  }
  SECTION("every status") {
    for (auto s : {turn_status::pending, turn_status::analysed,
                   turn_status::applied, turn_status::failed}) {
      t.status = s;
      auto back = round_trip(t);
      REQUIRE(back);
      CHECK(back->status == s);
    }
  }
  SECTION("extreme numbers and empty fields") {
    t.turn = std::numeric_limits<int64_t>::max();
    t.open_tasks = std::numeric_limits<uint32_t>::max();
    t.task_ids.clear();
    t.text.clear();
    auto back = round_trip(t);
    REQUIRE(back);
    check_same(*back, t);
  }
}

TEST_CASE("a turn's JSON has exactly the documented fields", "[storage]") {
  auto o = to_json(sample_turn());
  CHECK(o.size() == turn_fields.size());
  for (auto& f : turn_fields)
    CHECK(o.contains(f));
  CHECK(o.at("status") == "analysed");
  CHECK(o.at("turn") == 42);
  CHECK(o.at("task_ids").as_array().size() == 2);
}

TEST_CASE("a damaged turn is a storage failure naming the field",
          "[storage]") {
  SECTION("not JSON, or not an object") {
    for (auto text : {"", "{", "not json", "[]", "42", "null"}) {
      INFO(text);
      CHECK(result_code(turn_from_json(text)) == ec::storage_failure);
    }
  }
  SECTION("each field missing") {
    for (auto& f : turn_fields) {
      auto o = to_json(sample_turn());
      o.erase(f);
      auto r = turn_from_json(encode_json(o));
      INFO(f);
      CHECK(result_code(r) == ec::storage_failure);
      CHECK(result_field(r) == f);
    }
  }
  SECTION("each field of the wrong kind") {
    for (auto& f : turn_fields) {
      auto r = turn_from_json(with_field(f, boost::json::value{true}));
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
      {"session", 7},
      {"turn", "42"},
      {"turn", 4.5},
      {"turn", std::numeric_limits<uint64_t>::max()},
      {"status", "done"},
      {"task_ids", boost::json::array{"a", 1}},
      {"task_ids", "a"},
      {"open_tasks", -1},
      {"open_tasks", uint64_t{1} << 32},
    };
    for (auto& c : cases) {
      auto r = turn_from_json(with_field(c.field, c.v));
      INFO(c.field << " = " << encode_json(c.v));
      CHECK(result_code(r) == ec::storage_failure);
      CHECK(result_field(r) == c.field);
    }
  }
  SECTION("unknown extra fields are ignored") {
    auto r = turn_from_json(with_field("future_field", 1));
    REQUIRE(r);
    check_same(*r, sample_turn());
  }
}

TEST_CASE("a turn key is user, session, turn", "[storage]") {
  CHECK(turn_key("u1", "s1", 7)
        == key_builder{}.str("u1").str("s1").i64(7).bytes());
  CHECK(turn_session_prefix("u1", "s1")
        == key_builder{}.str("u1").str("s1").bytes());
  CHECK(starts_with(turn_key("u1", "s1", 7), user_prefix("u1")));
}

TEST_CASE("turn keys of a session sort in turn order", "[storage]") {
  std::vector<int64_t> turns{0,   1,    2,    255,  256,
                             1000, 65536, int64_t{1} << 40,
                             std::numeric_limits<int64_t>::max()};
  std::vector<std::string> keys;
  for (auto t : turns)
    keys.push_back(turn_key("u1", "s1", t));
  // Reverse first, so a plain sort must actually reorder.
  std::reverse(keys.begin(), keys.end());
  std::sort(keys.begin(), keys.end(), bytewise_less);
  for (std::size_t i = 0; i < turns.size(); ++i) {
    INFO("turn " << turns[i]);
    CHECK(keys[i] == turn_key("u1", "s1", turns[i]));
    CHECK(starts_with(keys[i], turn_session_prefix("u1", "s1")));
  }
  // A negative turn (never stored, but the type allows it) sorts first.
  CHECK(bytewise_less(turn_key("u1", "s1", -1), turn_key("u1", "s1", 0)));
}

TEST_CASE("a session's turn prefix matches no other session or user",
          "[storage]") {
  auto s1 = turn_session_prefix("u1", "s1");
  CHECK_FALSE(starts_with(turn_key("u1", "s10", 0), s1));
  CHECK_FALSE(starts_with(turn_key("u1", "s", 0), s1));
  CHECK_FALSE(starts_with(turn_key("u10", "s1", 0), s1));
  CHECK_FALSE(starts_with(turn_key("u2", "s1", 0), s1));
  // Every turn of s1 sorts before every turn of s10, none interleave.
  CHECK(bytewise_less(
    turn_key("u1", "s1", std::numeric_limits<int64_t>::max()),
    turn_key("u1", "s10", 0)));
}

TEST_CASE("event owner keys are distinct per event and read back",
          "[storage]") {
  CHECK(event_owner_key("e1") != event_owner_key("e2"));
  CHECK(event_owner_key("e1") == event_owner_key("e1"));
  CHECK_FALSE(starts_with(event_owner_key("e10"), event_owner_key("e1")));
  auto key = event_owner_key("0190-1");
  key_reader r{key};
  CHECK(r.str() == "event_owner");
  CHECK(r.str() == "0190-1");
  CHECK(r.done());
}
