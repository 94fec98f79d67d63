// Tests runtime/exports/mesh_context.cpp: the export's content and hash.

#include "runtime/exports/mesh_context.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <sodium.h>

using namespace engram;
using namespace engram::exports;
namespace json = boost::json;

namespace {

storage::entity_record entity(std::string id, std::string type, std::string updated) {
  storage::entity_record e;
  e.id = id;
  e.type = std::move(type);
  e.title = "T-" + id;
  e.content = "C-" + id;
  e.created_at = e.updated_at = std::move(updated);
  return e;
}

context_snapshot sample() {
  context_snapshot s;
  s.entities = {entity("a", "character", "2026-11-22T10:00:00.000Z"),
                entity("b", "location", "2026-11-22T12:00:00.000Z"),
                entity("c", "character", "2026-11-22T11:00:00.000Z")};
  s.notes = {{"a", "s1", "old note", 1, 3, "2026-11-22T10:00:00.000Z", "rewrite"},
             {"a", "s2", "new note", 2, 5, "2026-11-22T10:30:00.000Z", "rewrite"}};
  s.intents = {{"i1", "Plan", false, "", "2026-11-22T09:00:00.000Z", "x", ""},
               {"i2", "Book", true, "Booked", "2026-11-22T08:00:00.000Z", "x",
                "2026-11-22T09:30:00.000Z"},
               {"i3", "Pack", true, "Packed", "2026-11-22T08:00:00.000Z", "x",
                "2026-11-22T11:30:00.000Z"}};
  s.documents = {{"d1", "notes.md", "markdown", 3, "2026-11-22T07:00:00.000Z"}};
  return s;
}

} // namespace

TEST_CASE("the context counts, orders and attaches the newest notes",
          "[mesh_context]") {
  auto ctx = build_context(sample());
  CHECK(ctx.at("entity_counts") == json::parse(R"({"character":2,"location":1})"));
  auto& recent = ctx.at("recent_entities").as_array();
  REQUIRE(recent.size() == 3);
  CHECK(recent[0].at("id") == "b");
  CHECK(recent[1].at("id") == "c");
  CHECK(recent[2].at("id") == "a");
  CHECK(recent[0].at("latest_note").is_null());
  CHECK(recent[2].at("latest_note").at("note") == "new note");
  CHECK(recent[2].at("latest_note").at("session") == "s2");
  auto& open = ctx.at("open_intents").as_array();
  REQUIRE(open.size() == 1);
  CHECK(open[0].at("id") == "i1");
  auto& closed = ctx.at("closed_intents").as_array();
  REQUIRE(closed.size() == 2);
  CHECK(closed[0].at("id") == "i3"); // closed most recently
  CHECK(closed[0].at("resolution") == "Packed");
  CHECK(ctx.at("recent_documents").as_array()[0].at("name") == "notes.md");
}

TEST_CASE("limits cut the lists and long notes", "[mesh_context]") {
  auto s = sample();
  s.notes[1].note = std::string(50, 'x') + "\xC3\xA9";
  context_limits lim;
  lim.recent_entities = 1;
  lim.closed_intents = 1;
  lim.recent_documents = 0;
  lim.note_chars = 10;
  auto ctx = build_context(s, lim);
  CHECK(ctx.at("recent_entities").as_array().size() == 1);
  CHECK(ctx.at("closed_intents").as_array().size() == 1);
  CHECK(ctx.at("recent_documents").as_array().empty());
  lim.recent_entities = 3;
  auto ctx2 = build_context(s, lim);
  CHECK(ctx2.at("recent_entities").as_array()[2].at("latest_note").at("note")
        == std::string(10, 'x').c_str());
}

TEST_CASE("the content hash changes with the context only", "[mesh_context]") {
  REQUIRE(sodium_init() >= 0);
  auto ctx = build_context(sample());
  auto h = content_hash(ctx);
  CHECK(h.size() == 64);
  CHECK(content_hash(build_context(sample())) == h); // deterministic
  auto changed = sample();
  changed.intents[0].description = "Plan better";
  CHECK(content_hash(build_context(changed)) != h);
  CHECK(content_hash(build_context({})) != h);

  auto doc = json::parse(render_export({"ada", 1795341432889, 7, {"manual", "intent_closed:i3"}},
                                       ctx, h))
               .as_object();
  CHECK(doc.at("user_id") == "ada");
  CHECK(doc.at("version").to_number<int64_t>() == 7);
  CHECK(doc.at("content_hash") == h.c_str());
  CHECK(doc.at("triggers").as_array().size() == 2);
  CHECK(doc.at("context") == ctx);
  CHECK(doc.at("generated_at").as_string().size() == 24);
}
