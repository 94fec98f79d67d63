// Tests storage/note_record.cpp: notes survive encode then decode, damaged
// values are storage failures naming the field, current notes and their
// versions keep apart, and a note's history scans newest first.

#include "storage/note_record.hpp"

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

note_record sample_note() {
  note_record n;
  n.entity_id = "e7";
  n.session = "s1";
  n.note = "Bram owes the party \"two\" favours.\nHe is wary.";
  n.version = 4;
  n.last_updated_turn = 31;
  n.updated_at = "2024-06-01T12:00:00.000Z";
  n.origin = "rewrite";
  return n;
}

void check_same(const note_record& a, const note_record& b) {
  CHECK(a.entity_id == b.entity_id);
  CHECK(a.session == b.session);
  CHECK(a.note == b.note);
  CHECK(a.version == b.version);
  CHECK(a.last_updated_turn == b.last_updated_turn);
  CHECK(a.updated_at == b.updated_at);
  CHECK(a.origin == b.origin);
}

caf::expected<note_record> round_trip(const note_record& n) {
  return note_from_json(encode_json(to_json(n)));
}

std::string with_field(std::string_view key, boost::json::value v) {
  auto o = to_json(sample_note());
  o[key] = std::move(v);
  return encode_json(o);
}

const std::vector<std::string> note_fields{
  "entity_id",  "session",    "note",  "version",
  "last_updated_turn", "updated_at", "origin"};

constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();

} // namespace

TEST_CASE("a note survives encode then decode", "[storage]") {
  auto n = sample_note();
  SECTION("a rewrite") {
    auto back = round_trip(n);
    REQUIRE(back);
    check_same(*back, n);
  }
  SECTION("a restore with extreme numbers and an empty note") {
    n.origin = "restore";
    n.version = u64_max;
    n.last_updated_turn = std::numeric_limits<int64_t>::min();
    n.note.clear();
    auto back = round_trip(n);
    REQUIRE(back);
    check_same(*back, n);
  }
}

TEST_CASE("a note's JSON has exactly the documented fields", "[storage]") {
  auto o = to_json(sample_note());
  CHECK(o.size() == note_fields.size());
  for (auto& f : note_fields)
    CHECK(o.contains(f));
  CHECK(o.at("version") == 4);
  CHECK(o.at("origin") == "rewrite");
}

TEST_CASE("a damaged note is a storage failure naming the field",
          "[storage]") {
  SECTION("not JSON, or not an object") {
    for (auto text : {"", "{\"note\":", "note", "[]", "true"}) {
      INFO(text);
      CHECK(result_code(note_from_json(text)) == ec::storage_failure);
    }
  }
  SECTION("each field missing") {
    for (auto& f : note_fields) {
      auto o = to_json(sample_note());
      o.erase(f);
      auto r = note_from_json(encode_json(o));
      INFO(f);
      CHECK(result_code(r) == ec::storage_failure);
      CHECK(result_field(r) == f);
    }
  }
  SECTION("each field of the wrong kind") {
    for (auto& f : note_fields) {
      auto r = note_from_json(with_field(f, boost::json::object{}));
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
      {"note", nullptr},
      {"version", -1},
      {"version", 0},
      {"version", 2.0},
      {"version", "4"},
      {"last_updated_turn", u64_max},
      {"origin", "edit"},
      {"origin", ""},
    };
    for (auto& c : cases) {
      auto r = note_from_json(with_field(c.field, c.v));
      INFO(c.field << " = " << encode_json(c.v));
      CHECK(result_code(r) == ec::storage_failure);
      CHECK(result_field(r) == c.field);
    }
  }
}

TEST_CASE("note keys follow the documented layout", "[storage]") {
  CHECK(note_key("u1", "s1", "e7")
        == key_builder{}.str("u1").str("n").str("s1").str("e7").bytes());
  CHECK(note_session_prefix("u1", "s1")
        == key_builder{}.str("u1").str("n").str("s1").bytes());
  CHECK(note_user_prefix("u1") == key_builder{}.str("u1").str("n").bytes());
  CHECK(note_version_key("u1", "s1", "e7", 5)
        == key_builder{}
             .str("u1")
             .str("h")
             .str("s1")
             .str("e7")
             .u64(~uint64_t{5})
             .bytes());
  CHECK(note_history_prefix("u1", "s1", "e7")
        == key_builder{}.str("u1").str("h").str("s1").str("e7").bytes());
}

TEST_CASE("a note's history scans newest first", "[storage]") {
  std::vector<uint64_t> versions{1,       2,       3,   255, 256,
                                 65536,   uint64_t{1} << 40,
                                 u64_max - 1, u64_max};
  std::vector<std::string> keys;
  for (auto v : versions)
    keys.push_back(note_version_key("u1", "s1", "e7", v));
  std::sort(keys.begin(), keys.end(), bytewise_less);
  auto prefix = note_history_prefix("u1", "s1", "e7");
  std::vector<uint64_t> scanned;
  for (auto& k : keys) {
    CHECK(starts_with(k, prefix));
    scanned.push_back(version_of_history_key(k));
  }
  std::vector<uint64_t> newest_first(versions.rbegin(), versions.rend());
  CHECK(scanned == newest_first);
}

TEST_CASE("version_of_history_key reads back the version or gives 0",
          "[storage]") {
  for (uint64_t v : {uint64_t{1}, uint64_t{2}, uint64_t{1000}, u64_max})
    CHECK(version_of_history_key(note_version_key("u1", "s1", "e7", v)) == v);
  auto key = note_version_key("u1", "s1", "e7", 9);
  CHECK(version_of_history_key(key.substr(0, key.size() - 1)) == 0);
  CHECK(version_of_history_key(key + "x") == 0);
  CHECK(version_of_history_key(note_key("u1", "s1", "e7")) == 0);
  CHECK(version_of_history_key(note_history_prefix("u1", "s1", "e7")) == 0);
  // Right shape, wrong tag: a current-note key with a number appended.
  CHECK(version_of_history_key(
          key_builder{}.str("u1").str("n").str("s1").str("e7").u64(~9ull)
            .bytes())
        == 0);
  CHECK(version_of_history_key("") == 0);
  CHECK(version_of_history_key("garbage") == 0);
}

TEST_CASE("current notes and versions do not share prefixes", "[storage]") {
  auto note = note_key("u1", "s1", "e7");
  auto version = note_version_key("u1", "s1", "e7", 1);
  CHECK(starts_with(note, note_user_prefix("u1")));
  CHECK(starts_with(note, note_session_prefix("u1", "s1")));
  CHECK_FALSE(starts_with(version, note_user_prefix("u1")));
  CHECK_FALSE(starts_with(version, note_session_prefix("u1", "s1")));
  CHECK_FALSE(starts_with(note, note_history_prefix("u1", "s1", "e7")));
  CHECK(starts_with(note, user_prefix("u1")));
  CHECK(starts_with(version, user_prefix("u1")));
}

TEST_CASE("note prefixes match no session, entity or user that extends "
          "the name",
          "[storage]") {
  CHECK_FALSE(starts_with(note_key("u1", "s10", "e7"),
                          note_session_prefix("u1", "s1")));
  CHECK_FALSE(starts_with(note_key("u10", "s1", "e7"), note_user_prefix("u1")));
  CHECK_FALSE(starts_with(note_version_key("u1", "s1", "e70", 1),
                          note_history_prefix("u1", "s1", "e7")));
  CHECK_FALSE(starts_with(note_version_key("u1", "s10", "e7", 1),
                          note_history_prefix("u1", "s1", "e7")));
  // Every note of s1 sorts before every note of s10.
  CHECK(bytewise_less(note_key("u1", "s1", "\xFF\xFF"),
                      note_key("u1", "s10", "")));
}
