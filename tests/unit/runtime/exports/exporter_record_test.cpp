// Specification of what an exporter persists (runtime/exports/exporter_record):
// the record round-trips with its debounce state, version, hash and stats;
// damaged records are errors, never exceptions; the `exports` column keys
// parse back and never mix users up; user directory names stay inside the
// exports directory.

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <boost/json.hpp>

#include "messages/errors.hpp"
#include "runtime/exports/debounce_policy.hpp"
#include "runtime/exports/export_stats.hpp"
#include "runtime/exports/exporter_record.hpp"
#include "storage/key_codec.hpp"

using namespace engram;
using namespace engram::exports;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A record with every field away from its default, and a trailing export
// scheduled (so the debounce invariant holds: pending triggers wait for it).
exporter_record full_record() {
  exporter_record r;
  r.debounce.last_export_ms = 1795341600000;
  r.debounce.trailing_due_ms = 1795342200000;
  r.debounce.timer_generation = 3;
  r.debounce.pending = {
    carried_trigger{trigger_kind::concept_change, 1795341700000,
                    "concept_change:7"},
    carried_trigger{trigger_kind::intent_closed, 1795341800000,
                    "intent_closed:i42"},
    carried_trigger{trigger_kind::session_end, 1795341900000, ""}};
  r.debounce.pending_dropped = 2;
  r.version = 42;
  r.last_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  r.stats.count(trigger_kind::concept_change);
  r.stats.count(trigger_kind::intent_closed);
  r.stats.count(trigger_kind::intent_closed);
  r.stats.count(outcome::debounced);
  r.stats.count(outcome::coalesced);
  r.stats.exported(0.003, 1795341600000);
  return r;
}

std::string valid_debounce() {
  return to_json(debounce_state{});
}

} // namespace

TEST_CASE("an exporter record round-trips with a scheduled trailing export",
          "[exports][exporter_record]") {
  auto r = full_record();
  auto text = to_json(r);
  auto back = exporter_record_from_json(text);
  REQUIRE(back);
  CHECK(back->debounce == r.debounce);
  CHECK(back->debounce.trailing_due_ms
        == std::optional<int64_t>{1795342200000});
  CHECK(back->debounce.pending.size() == 3);
  CHECK(back->debounce.pending[1].label == "intent_closed:i42");
  CHECK(back->debounce.pending_dropped == 2);
  CHECK(back->version == 42);
  CHECK(back->last_hash == r.last_hash);
  CHECK(back->stats.triggers == r.stats.triggers);
  CHECK(back->stats.outcomes == r.stats.outcomes);
  CHECK(back->stats.exports == 1);
  CHECK(back->stats.last_export_ms == 1795341600000);
  CHECK(back->stats.durations == r.stats.durations);
  // Stable: writing what was read gives the same text.
  CHECK(to_json(*back) == text);
}

TEST_CASE("an exporter record has the documented top-level shape",
          "[exports][exporter_record]") {
  auto r = full_record();
  auto v = boost::json::parse(to_json(r));
  REQUIRE(v.is_object());
  auto& o = v.as_object();
  CHECK(o.size() == 4);
  CHECK(o.at("debounce") == boost::json::parse(to_json(r.debounce)));
  CHECK(o.at("version").to_number<uint64_t>() == 42);
  CHECK(o.at("last_hash") == r.last_hash.c_str());
  CHECK(o.at("stats").is_object());
  CHECK(o.at("stats").at("total_exports").to_number<uint64_t>() == 1);
}

TEST_CASE("a fresh record and extreme versions round-trip",
          "[exports][exporter_record]") {
  auto fresh = exporter_record_from_json(to_json(exporter_record{}));
  REQUIRE(fresh);
  CHECK(fresh->debounce == debounce_state{});
  CHECK(fresh->version == 0);
  CHECK(fresh->last_hash.empty());
  CHECK(fresh->stats.exports == 0);

  exporter_record big;
  big.version = std::numeric_limits<uint64_t>::max();
  auto back = exporter_record_from_json(to_json(big));
  REQUIRE(back);
  CHECK(back->version == std::numeric_limits<uint64_t>::max());
}

TEST_CASE("last_hash and stats are optional in a stored record",
          "[exports][exporter_record]") {
  auto r = exporter_record_from_json("{\"debounce\":" + valid_debounce()
                                     + ",\"version\":7}");
  REQUIRE(r);
  CHECK(r->version == 7);
  CHECK(r->last_hash.empty());
  CHECK(r->stats.exports == 0);
  CHECK(r->debounce == debounce_state{});
}

TEST_CASE("damaged exporter records are a storage failure, not an exception",
          "[exports][exporter_record]") {
  auto deb = valid_debounce();
  const std::string bad[] = {
    "",
    "not json",
    "[]",
    "null",
    "{}",
    R"({"version":1})",
    "{\"debounce\":" + deb,
    "{\"debounce\":" + deb + "}",
    "{\"debounce\":" + deb + ",\"version\":\"1\"}",
    "{\"debounce\":" + deb + ",\"version\":null}",
    "{\"debounce\":" + deb + ",\"version\":1.5}",
    "{\"debounce\":" + deb + ",\"version\":-1}",
    "{\"debounce\":" + deb + ",\"version\":-9223372036854775808}",
    "{\"debounce\":" + deb + ",\"version\":1,\"stats\":[]}",
    "{\"debounce\":" + deb + ",\"version\":1,\"stats\":{\"triggers\":{}}}",
    R"({"debounce":{},"version":1})",
    R"({"debounce":null,"version":1})",
    R"({"debounce":"x","version":1})",
    // A scheduled trailing export with nothing waiting breaks the invariant.
    R"({"debounce":{"last_export_ms":1,"trailing_due_ms":5,)"
    R"("timer_generation":1,"pending":[],"pending_dropped":0},"version":1})",
    // An unknown trigger kind in the pending list.
    R"({"debounce":{"last_export_ms":1,"trailing_due_ms":5,)"
    R"("timer_generation":1,"pending":[["weekly",2,""]],"pending_dropped":0},)"
    R"("version":1})",
  };
  for (auto& text : bad) {
    INFO(text);
    caf::expected<exporter_record> r = caf::error{};
    REQUIRE_NOTHROW(r = exporter_record_from_json(text));
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == ec::storage_failure);
  }
}

TEST_CASE("a damaged debounce state names its field",
          "[exports][exporter_record]") {
  auto r = exporter_record_from_json(
    R"({"debounce":{"last_export_ms":"x","trailing_due_ms":null,)"
    R"("timer_generation":0,"pending":[],"pending_dropped":0},"version":1})");
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == ec::storage_failure);
  CHECK(field_of(r.error()) == "last_export_ms");
}

// --- keys --------------------------------------------------------------------

TEST_CASE("exports column keys are str(user) str(kind)",
          "[exports][exporter_record]") {
  CHECK(exporter_state_key("alice")
        == storage::key_builder{}.str("alice").str("state").bytes());
  CHECK(export_dirty_key("alice")
        == storage::key_builder{}.str("alice").str("dirty").bytes());
  CHECK(exporter_state_key("alice") != export_dirty_key("alice"));
  // Both sit under the user's prefix, so a user's keys scan together.
  CHECK(starts_with(exporter_state_key("alice"), storage::user_prefix("alice")));
  CHECK(starts_with(export_dirty_key("alice"), storage::user_prefix("alice")));
}

TEST_CASE("exports column keys parse back to their user and kind",
          "[exports][exporter_record]") {
  const std::string users[] = {"alice", "a", "ab", "user.1:x-y_z",
                               std::string(128, 'u'), std::string("a\0b", 3),
                               ""};
  for (auto& u : users) {
    INFO("'" << u << "'");
    auto state = parse_export_key(exporter_state_key(u));
    REQUIRE(state);
    CHECK(state->first == u);
    CHECK(state->second == export_key_kind::state);
    auto dirty = parse_export_key(export_dirty_key(u));
    REQUIRE(dirty);
    CHECK(dirty->first == u);
    CHECK(dirty->second == export_key_kind::dirty);
  }
}

TEST_CASE("foreign keys in the exports column do not parse",
          "[exports][exporter_record]") {
  using storage::key_builder;
  const std::string foreign[] = {
    "",
    "alice",
    "state",
    key_builder{}.str("alice").bytes(),
    key_builder{}.str("alice").str("other").bytes(),
    key_builder{}.str("alice").str("State").bytes(),
    key_builder{}.str("alice").str("").bytes(),
    key_builder{}.str("alice").str("state").u64(1).bytes(),
    key_builder{}.str("alice").str("dirty").str("x").bytes(),
    key_builder{}.str("alice").str("state").bytes() + "x",
    key_builder{}.u64(5).bytes(),
    key_builder{}.str("alice").u64(5).bytes(),
    // The kind's terminator cut off.
    exporter_state_key("alice").substr(0, exporter_state_key("alice").size() - 1),
  };
  for (auto& k : foreign) {
    INFO("key of " << k.size() << " bytes");
    CHECK_FALSE(parse_export_key(k));
  }
}

TEST_CASE("the keys of user a and user ab do not prefix each other",
          "[exports][exporter_record]") {
  for (auto key : {exporter_state_key("ab"), export_dirty_key("ab")}) {
    CHECK_FALSE(starts_with(key, storage::user_prefix("a")));
    CHECK_FALSE(starts_with(key, exporter_state_key("a")));
    CHECK_FALSE(starts_with(key, export_dirty_key("a")));
    auto parsed = parse_export_key(key);
    REQUIRE(parsed);
    CHECK(parsed->first == "ab");
  }
  for (auto key : {exporter_state_key("a"), export_dirty_key("a")}) {
    CHECK_FALSE(starts_with(key, storage::user_prefix("ab")));
    CHECK_FALSE(starts_with(key, exporter_state_key("ab")));
    CHECK_FALSE(starts_with(key, export_dirty_key("ab")));
  }
  CHECK(exporter_state_key("a") != exporter_state_key("ab"));
  CHECK(export_dirty_key("a") != export_dirty_key("ab"));
}

// --- directories -------------------------------------------------------------

TEST_CASE("user_dir_name escapes only a leading dot",
          "[exports][exporter_record]") {
  CHECK(user_dir_name(".") == "%2E");
  CHECK(user_dir_name("..") == "%2E.");
  CHECK(user_dir_name(".x") == "%2Ex");
  CHECK(user_dir_name("...") == "%2E..");
  CHECK(user_dir_name("alice") == "alice");
  CHECK(user_dir_name("a.b") == "a.b");
  CHECK(user_dir_name("a..") == "a..");
  CHECK(user_dir_name("user.1:x-y_z") == "user.1:x-y_z");
  CHECK(user_dir_name("") == "");
  // Never "." or "..": the name cannot leave the exports directory.
  for (auto u : {".", "..", ".x", "..x", "alice"}) {
    auto d = user_dir_name(u);
    CHECK(d != ".");
    CHECK(d != "..");
    CHECK(d.front() != '.');
  }
}
