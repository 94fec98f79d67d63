// Live session memory as a client meets it (docs/API.md, "Session memory"):
// turns go in, and notes, new entities, composites and search hits come out,
// read back with min_seq/wait_ms so no test needs to sleep or poll.
//
// The node runs the offline `rules` analyser (docs/RULES.md) and the `hash`
// embedder, both deterministic, so the texts below pin exact notes. The
// story's wording was chosen so that each search query below has a clear
// winner under the hash embedder (docs/EMBEDDINGS.md), not a near tie.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "tests/fixtures/engramd_process.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;
namespace json = boost::json;

namespace {

const std::string user = "/v1/users/alice";
const std::string entities = user + "/entities";

// --- small JSON helpers -----------------------------------------------------

/// The response's JSON object, after checking the status (the body is shown
/// when either check fails).
json::object expect_json(const http_result& r, unsigned status) {
  INFO("HTTP " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  json::error_code ec;
  auto v = json::parse(r.body, ec);
  REQUIRE(!ec);
  REQUIRE(v.is_object());
  return v.as_object();
}

std::string str(const json::value& v) {
  REQUIRE(v.is_string());
  return json::value_to<std::string>(v);
}

std::int64_t num(const json::value& v) {
  REQUIRE((v.is_int64() || v.is_uint64()));
  return v.to_number<std::int64_t>();
}

std::string error_code(const http_result& r) {
  auto doc = expect_json(r, r.status);
  return str(doc.at("error").at("code"));
}

std::string error_field(const http_result& r) {
  auto doc = expect_json(r, r.status);
  auto& e = doc.at("error").as_object();
  return e.contains("field") ? str(e.at("field")) : std::string{};
}

/// Checks an error answer: status, code and (when given) the field.
void expect_error(const http_result& r, unsigned status, const std::string& code,
                  const std::string& field = {}) {
  INFO("HTTP " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  CHECK(error_code(r) == code);
  if (!field.empty())
    CHECK(error_field(r) == field);
}

/// Query parameters of a read that must see everything up to `seq`.
std::string fresh(std::int64_t seq) {
  return "min_seq=" + std::to_string(seq) + "&wait_ms=10000";
}

std::string turns_of(const std::string& session) {
  return user + "/sessions/" + session + "/turns";
}

std::string notes_of(const std::string& session) {
  return user + "/sessions/" + session + "/notes";
}

std::string turn_body(std::int64_t turn, const std::string& text) {
  json::object o;
  o["turn"] = turn;
  o["text"] = text;
  return json::serialize(o);
}

http_result post_turn(http_client& c, const std::string& session,
                      std::int64_t turn, const std::string& text) {
  return c.send_json("POST", turns_of(session), turn_body(turn, text));
}

std::string composite(const std::string& content, const std::string& note) {
  return "[Base Lore]\n" + content + "\n\n[Session-Specific Notes]\n" + note;
}

std::string base_lore(const std::string& content) {
  return "[Base Lore]\n" + content;
}

http_result search(http_client& c, const std::string& query,
                   const std::string& session, std::int64_t min_seq,
                   int k = 10) {
  json::object o;
  o["query"] = query;
  if (!session.empty())
    o["session"] = session;
  o["k"] = k;
  o["min_seq"] = min_seq;
  o["wait_ms"] = 10000;
  return c.send_json("POST", user + "/search", json::serialize(o));
}

/// The hit for `id` in a search answer, or nullptr.
const json::object* find_hit(const json::object& answer, const std::string& id) {
  for (auto& h : answer.at("hits").as_array())
    if (h.at("entity_id") == id.c_str())
      return &h.as_object();
  return nullptr;
}

/// The ids of a list answer's items, in the order given.
std::vector<std::string> ids_of(const json::object& list, const char* key) {
  std::vector<std::string> out;
  for (auto& item : list.at("items").as_array())
    out.push_back(str(item.at(key)));
  return out;
}

/// A node on a fresh data directory, started, with a client.
struct node_fixture {
  temp_dir dir;
  engramd_process node;
  std::unique_ptr<http_client> client;

  explicit node_fixture(std::vector<std::string> args = {})
    : node{dir.path() + "/data", std::move(args)} {
    bool started = node.start();
    INFO(node.log());
    REQUIRE(started);
    client = std::make_unique<http_client>(node.port());
  }
};

// --- the reference story ----------------------------------------------------
//
//   momo   (character "Momo", alias "Little Cat")   "A small grey cat."
//   harbor (location "Old Harbor")                   "A foggy port full of fishing boats."
//
//   s1 turn 1: Momo and the Old Harbor in one sentence.
//   s1 turn 2: Momo; a new character named 'Kenta' is introduced.
//   s1 turn 3: Kenta, and Momo through its alias.

const std::string momo_content = "A small grey cat.";
const std::string harbor_content = "A foggy port full of fishing boats.";

const std::string text1 = "Momo slept at the Old Harbor. The fog was thick.";
const std::string text2 =
  "Momo hissed at the gulls. Then a new character named 'Kenta' arrived by the water.";
const std::string text3 = "Kenta fed the little cat. Momo purred.";

// What the rules analyser and rewrite make of them (docs/RULES.md).
const std::string momo_v1 = "Momo slept at the Old Harbor.";
const std::string momo_v2 = momo_v1 + " Momo hissed at the gulls.";
const std::string momo_v3 = momo_v2 + " Kenta fed the little cat. Momo purred.";
const std::string harbor_v1 = "Momo slept at the Old Harbor.";
const std::string kenta_content =
  "Then a new character named 'Kenta' arrived by the water.";
const std::string kenta_turn3 = "Kenta fed the little cat.";

struct story {
  std::int64_t entities_seq = 0;
  std::int64_t seq1 = 0, seq2 = 0, seq3 = 0;
  std::string event1, event2, event3;
  std::string kenta_id;
};

void create_lore(http_client& c, story& s) {
  auto momo = expect_json(
    c.send_json("POST", entities,
                R"({"id":"momo","type":"character","title":"Momo",)"
                R"("content":"A small grey cat.","tags":["cat","alias:Little Cat"]})"),
    201);
  auto harbor = expect_json(
    c.send_json("POST", entities,
                R"({"id":"harbor","type":"location","title":"Old Harbor",)"
                R"("content":"A foggy port full of fishing boats."})"),
    201);
  s.entities_seq = std::max(num(momo.at("seq")), num(harbor.at("seq")));
}

/// Checks a fresh 202 answer to a new turn; returns {event_id, seq}.
std::pair<std::string, std::int64_t>
accepted(const http_result& r, std::int64_t turn, const char* status = "pending") {
  auto a = expect_json(r, 202);
  CHECK(num(a.at("turn")) == turn);
  CHECK(a.at("status") == status);
  CHECK(a.at("duplicate") == false);
  auto event = str(a.at("event_id"));
  CHECK(!event.empty());
  return {event, num(a.at("seq"))};
}

/// Creates the lore and plays the three turns of session s1. Turn 3 is sent
/// only once turn 2 is applied, so that Kenta exists when turn 3 is analysed.
story play_story(http_client& c) {
  story s;
  create_lore(c, s);
  std::tie(s.event1, s.seq1) = accepted(post_turn(c, "s1", 1, text1), 1);
  std::tie(s.event2, s.seq2) = accepted(post_turn(c, "s1", 2, text2), 2);
  CHECK(s.seq1 > s.entities_seq);
  CHECK(s.seq2 > s.seq1);
  auto turn2 = expect_json(c.get(turns_of("s1") + "/2?" + fresh(s.seq2)), 200);
  CHECK(turn2.at("stale") == false);
  CHECK(turn2.at("status") == "applied");
  std::tie(s.event3, s.seq3) = accepted(post_turn(c, "s1", 3, text3), 3);
  CHECK(s.seq3 > s.seq2);

  auto characters =
    expect_json(c.get(entities + "?type=character&" + fresh(s.seq3)), 200);
  for (auto& e : characters.at("items").as_array())
    if (e.at("title") == "Kenta")
      s.kenta_id = str(e.at("id"));
  REQUIRE(!s.kenta_id.empty());
  return s;
}

/// The note_update tasks' entity ids of a turn answer; checks every task of
/// the turn is done without error.
std::multiset<std::string> done_note_tasks(const json::object& turn) {
  std::multiset<std::string> out;
  auto& tasks = turn.at("tasks").as_array();
  CHECK(!tasks.empty());
  for (auto& t : tasks) {
    INFO(json::serialize(t));
    CHECK(t.at("status") == "done");
    CHECK(t.at("last_error").is_null());
    CHECK(num(t.at("attempts")) >= 1);
    CHECK(!str(t.at("task_id")).empty());
    if (t.at("queue") == "note_update")
      out.insert(str(t.at("entity_id")));
  }
  return out;
}

std::size_t count_queue(const json::object& turn, const char* queue) {
  std::size_t n = 0;
  for (auto& t : turn.at("tasks").as_array())
    n += t.at("queue") == queue;
  return n;
}

std::int64_t queue_count(http_client& c, const char* queue, const char* field) {
  auto q = expect_json(c.get("/v1/queues"), 200);
  return num(q.at("queues").at(queue).at(field));
}

} // namespace

TEST_CASE("turns become session notes, new entities, composites and search hits",
          "[session]") {
  node_fixture n;
  auto& c = *n.client;
  auto s = play_story(c);
  const auto wait = fresh(s.seq3);

  SECTION("each mentioned entity's note holds the turns' sentences") {
    auto momo = expect_json(c.get(notes_of("s1") + "/momo?" + wait), 200);
    CHECK(momo.at("stale") == false);
    CHECK(momo.at("entity_id") == "momo");
    CHECK(momo.at("session") == "s1");
    CHECK(str(momo.at("note")) == momo_v3);
    CHECK(num(momo.at("version")) == 3);
    CHECK(num(momo.at("last_updated_turn")) == 3);
    CHECK(!str(momo.at("updated_at")).empty());

    auto harbor = expect_json(c.get(notes_of("s1") + "/harbor?" + wait), 200);
    CHECK(harbor.at("stale") == false);
    CHECK(str(harbor.at("note")) == harbor_v1);
    CHECK(num(harbor.at("version")) == 1);
    CHECK(num(harbor.at("last_updated_turn")) == 1);

    // Whether the creation itself also writes a note for Kenta is not
    // specified; turn 3's sentence must be there, last.
    auto kenta = expect_json(c.get(notes_of("s1") + "/" + s.kenta_id + "?" + wait), 200);
    auto kenta_note = str(kenta.at("note"));
    REQUIRE(kenta_note.size() >= kenta_turn3.size());
    CHECK(kenta_note.substr(kenta_note.size() - kenta_turn3.size()) == kenta_turn3);
    CHECK(num(kenta.at("last_updated_turn")) == 3);

    auto list = expect_json(c.get(notes_of("s1") + "?" + wait), 200);
    CHECK(list.at("stale") == false);
    auto ids = ids_of(list, "entity_id");
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK(std::set<std::string>(ids.begin(), ids.end())
          == std::set<std::string>{"harbor", "momo", s.kenta_id});
    CHECK(ids.size() == 3);
    for (auto& item : list.at("items").as_array())
      if (item.at("entity_id") == "momo")
        CHECK(str(item.at("note")) == momo_v3);

    CHECK(expect_json(c.get(notes_of("s2") + "?" + wait), 200)
            .at("items").as_array().empty());
    expect_error(c.get(notes_of("s2") + "/momo?" + wait), 404, "not_found");
  }

  SECTION("the introduced character exists as a generated entity") {
    auto list = expect_json(c.get(entities + "?type=character&" + wait), 200);
    auto ids = ids_of(list, "id");
    CHECK(std::set<std::string>(ids.begin(), ids.end())
          == std::set<std::string>{"momo", s.kenta_id});
    auto kenta = expect_json(c.get(entities + "/" + s.kenta_id + "?" + wait), 200);
    CHECK(kenta.at("title") == "Kenta");
    CHECK(kenta.at("type") == "character");
    CHECK(kenta.at("is_dynamically_generated") == true);
    CHECK(str(kenta.at("content")) == kenta_content);
    CHECK(kenta.at("tags") == json::parse(R"(["character","arrived","water"])"));
    CHECK(s.kenta_id == "kenta"); // a readable id made from the title
    auto momo = expect_json(c.get(entities + "/momo?" + wait), 200);
    CHECK(momo.at("is_dynamically_generated") == false);
    CHECK(num(momo.at("version")) == 1); // notes never touch the base lore
  }

  SECTION("every turn is applied with all its tasks done") {
    auto t1 = expect_json(c.get(turns_of("s1") + "/1?" + wait), 200);
    CHECK(t1.at("stale") == false);
    CHECK(t1.at("session") == "s1");
    CHECK(num(t1.at("turn")) == 1);
    CHECK(str(t1.at("event_id")) == s.event1);
    CHECK(str(t1.at("text")) == text1);
    CHECK(t1.at("status") == "applied");
    CHECK(done_note_tasks(t1) == std::multiset<std::string>{"harbor", "momo"});
    CHECK(count_queue(t1, "entity_creation") == 0);

    auto t2 = expect_json(c.get(turns_of("s1") + "/2?" + wait), 200);
    CHECK(str(t2.at("event_id")) == s.event2);
    CHECK(t2.at("status") == "applied");
    CHECK(done_note_tasks(t2) == std::multiset<std::string>{"momo"});
    CHECK(count_queue(t2, "entity_creation") == 1);

    auto t3 = expect_json(c.get(turns_of("s1") + "/3?" + wait), 200);
    CHECK(str(t3.at("event_id")) == s.event3);
    CHECK(t3.at("status") == "applied");
    CHECK(done_note_tasks(t3) == std::multiset<std::string>{"momo", s.kenta_id});
    CHECK(count_queue(t3, "entity_creation") == 0);

    expect_error(c.get(turns_of("s1") + "/4?" + wait), 404, "not_found");
  }

  SECTION("the composite is base lore plus the session note") {
    auto in_s1 = expect_json(c.get(entities + "/momo/composite?session=s1&" + wait), 200);
    CHECK(in_s1.at("stale") == false);
    CHECK(in_s1.at("entity_id") == "momo");
    CHECK(in_s1.at("session") == "s1");
    CHECK(in_s1.at("doc_key") == "c/s1/momo");
    CHECK(str(in_s1.at("text")) == composite(momo_content, momo_v3));

    auto in_s2 = expect_json(c.get(entities + "/momo/composite?session=s2&" + wait), 200);
    CHECK(str(in_s2.at("text")) == base_lore(momo_content));
    CHECK(in_s2.at("doc_key") == "e/momo");

    auto none = expect_json(c.get(entities + "/momo/composite?" + wait), 200);
    CHECK(str(none.at("text")) == base_lore(momo_content));
    CHECK(none.at("doc_key") == "e/momo");

    auto harbor = expect_json(c.get(entities + "/harbor/composite?session=s1&" + wait), 200);
    CHECK(str(harbor.at("text")) == composite(harbor_content, harbor_v1));

    expect_error(c.get(entities + "/nobody/composite?session=s1&" + wait), 404,
                 "not_found");
  }

  SECTION("search in the session ranks by composites") {
    auto momo = expect_json(search(c, "Momo", "s1", s.seq3), 200);
    CHECK(momo.at("stale") == false);
    auto& hits = momo.at("hits").as_array();
    REQUIRE(!hits.empty());
    CHECK(hits[0].at("entity_id") == "momo");
    CHECK(hits[0].at("title") == "Momo");
    CHECK(hits[0].at("type") == "character");
    CHECK(hits[0].at("session") == "s1");
    CHECK(hits[0].at("score").is_number());
    CHECK(str(hits[0].at("composite")) == composite(momo_content, momo_v3));
    std::set<std::string> seen; // each entity at most once
    for (auto& h : hits)
      CHECK(seen.insert(str(h.at("entity_id"))).second);

    auto kenta = expect_json(search(c, "Kenta", "s1", s.seq3), 200);
    auto* hit = find_hit(kenta, s.kenta_id);
    REQUIRE(hit != nullptr);
    CHECK(kenta.at("hits").as_array()[0].at("entity_id") == s.kenta_id.c_str());
    CHECK(hit->at("title") == "Kenta");
    CHECK(hit->at("session") == "s1");
    auto kenta_composite = expect_json(
      c.get(entities + "/" + s.kenta_id + "/composite?session=s1&" + wait), 200);
    CHECK(hit->at("composite") == kenta_composite.at("text"));

    auto one = expect_json(search(c, "Momo", "s1", s.seq3, 1), 200);
    CHECK(one.at("hits").as_array().size() == 1);
  }

  SECTION("search without a session finds base lore") {
    auto r = expect_json(search(c, "grey cat", "", s.seq3), 200);
    CHECK(r.at("stale") == false);
    auto& hits = r.at("hits").as_array();
    REQUIRE(!hits.empty());
    CHECK(hits[0].at("entity_id") == "momo");
    CHECK(hits[0].at("session").is_null());
    CHECK(str(hits[0].at("composite")) == base_lore(momo_content));
  }

  SECTION("a session without notes searches base lore") {
    auto r = expect_json(search(c, "grey cat", "s2", s.seq3), 200);
    auto* hit = find_hit(r, "momo");
    REQUIRE(hit != nullptr);
    CHECK(hit->at("session").is_null());
    CHECK(str(hit->at("composite")) == base_lore(momo_content));
  }
}

TEST_CASE("note history keeps every version and restore adds one", "[session]") {
  node_fixture n;
  auto& c = *n.client;
  auto s = play_story(c);
  const auto history = notes_of("s1") + "/momo/history";

  auto h = expect_json(c.get(history + "?" + fresh(s.seq3)), 200);
  CHECK(h.at("stale") == false);
  auto& items = h.at("items").as_array();
  REQUIRE(items.size() == 3);
  const std::string texts[] = {momo_v3, momo_v2, momo_v1};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("item " << i);
    CHECK(num(items[i].at("version")) == static_cast<std::int64_t>(3 - i));
    CHECK(str(items[i].at("note")) == texts[i]);
    CHECK(num(items[i].at("last_updated_turn")) == static_cast<std::int64_t>(3 - i));
    CHECK(items[i].at("origin") == "rewrite");
    CHECK(!str(items[i].at("updated_at")).empty());
  }
  CHECK(h.at("next_after").is_null());

  SECTION("pages with limit and after") {
    auto p1 = expect_json(c.get(history + "?limit=2"), 200);
    REQUIRE(p1.at("items").as_array().size() == 2);
    CHECK(num(p1.at("items").as_array()[1].at("version")) == 2);
    CHECK(num(p1.at("next_after")) == 2);
    auto p2 = expect_json(c.get(history + "?limit=2&after=2"), 200);
    REQUIRE(p2.at("items").as_array().size() == 1);
    CHECK(num(p2.at("items").as_array()[0].at("version")) == 1);
    CHECK(p2.at("next_after").is_null());
    expect_error(c.get(history + "?limit=0"), 422, "invalid_argument", "query.limit");
  }

  SECTION("restoring version 1 writes it again as version 4") {
    auto restored = expect_json(
      c.send_json("POST", notes_of("s1") + "/momo/restore", R"({"version":1})"), 200);
    CHECK(str(restored.at("note")) == momo_v1);
    CHECK(num(restored.at("version")) == 4);
    auto seq = num(restored.at("seq"));
    CHECK(seq > s.seq3);

    auto note = expect_json(c.get(notes_of("s1") + "/momo?" + fresh(seq)), 200);
    CHECK(note.at("stale") == false);
    CHECK(str(note.at("note")) == momo_v1);
    CHECK(num(note.at("version")) == 4);

    auto after = expect_json(c.get(history + "?" + fresh(seq)), 200);
    auto& all = after.at("items").as_array();
    REQUIRE(all.size() == 4);
    CHECK(num(all[0].at("version")) == 4);
    CHECK(all[0].at("origin") == "restore");
    CHECK(str(all[0].at("note")) == momo_v1);
    CHECK(str(all[1].at("note")) == momo_v3); // nothing was overwritten
    CHECK(str(all[3].at("note")) == momo_v1);

    auto comp = expect_json(
      c.get(entities + "/momo/composite?session=s1&" + fresh(seq)), 200);
    CHECK(str(comp.at("text")) == composite(momo_content, momo_v1));
    auto found = expect_json(search(c, "Momo", "s1", seq), 200);
    auto* hit = find_hit(found, "momo");
    REQUIRE(hit != nullptr);
    CHECK(str(hit->at("composite")) == composite(momo_content, momo_v1));

    // Unknown versions and notes change nothing.
    auto bad = c.send_json("POST", notes_of("s1") + "/momo/restore", R"({"version":9})");
    CHECK((bad.status == 404 || bad.status == 422));
    expect_error(c.send_json("POST", notes_of("s2") + "/momo/restore", R"({"version":1})"),
                 404, "not_found");
    expect_error(c.send_json("POST", notes_of("s1") + "/momo/restore", R"({"version":"1"})"),
                 422, "invalid_argument", "version");
    CHECK(expect_json(c.get(history), 200).at("items").as_array().size() == 4);
  }
}

TEST_CASE("a repeated turn is idempotent; a changed one is a conflict",
          "[session]") {
  node_fixture n;
  auto& c = *n.client;
  auto s = play_story(c);
  auto before = expect_json(c.get(turns_of("s1") + "/3?" + fresh(s.seq3)), 200);
  auto analysed = queue_count(c, "analysis", "done");
  CHECK(analysed == 3);

  auto again = expect_json(post_turn(c, "s1", 3, text3), 202);
  CHECK(again.at("duplicate") == true);
  CHECK(str(again.at("event_id")) == s.event3);
  CHECK(num(again.at("turn")) == 3);
  auto first = expect_json(post_turn(c, "s1", 1, text1), 202);
  CHECK(first.at("duplicate") == true);
  CHECK(str(first.at("event_id")) == s.event1);
  auto latest = std::max({s.seq3, num(again.at("seq")), num(first.at("seq"))});

  auto conflict = c.send_json("POST", turns_of("s1"), turn_body(3, "Momo ran away."));
  expect_error(conflict, 409, "conflict", "text");

  // Nothing ran twice: same note version, same history, same tasks.
  auto note = expect_json(c.get(notes_of("s1") + "/momo?" + fresh(latest)), 200);
  CHECK(num(note.at("version")) == 3);
  CHECK(str(note.at("note")) == momo_v3);
  CHECK(expect_json(c.get(notes_of("s1") + "/momo/history?" + fresh(latest)), 200)
          .at("items").as_array().size() == 3);
  CHECK(expect_json(c.get(notes_of("s1") + "/harbor/history?" + fresh(latest)), 200)
          .at("items").as_array().size() == 1);
  auto after = expect_json(c.get(turns_of("s1") + "/3?" + fresh(latest)), 200);
  CHECK(after.at("tasks").as_array().size() == before.at("tasks").as_array().size());
  CHECK(str(after.at("text")) == text3);
  CHECK(queue_count(c, "analysis", "done") == analysed);

  // Turn numbers are unique per session: the same turn elsewhere is new.
  auto other = expect_json(post_turn(c, "s2", 3, text3), 202);
  CHECK(other.at("duplicate") == false);
  CHECK(str(other.at("event_id")) != s.event3);
}

TEST_CASE("entity changes reach composites and search; deletion removes notes",
          "[session]") {
  node_fixture n;
  auto& c = *n.client;
  auto s = play_story(c);
  const std::string new_content = "A big grey cat who hates rain.";

  auto patched = expect_json(
    c.send_json("PATCH", entities + "/momo", R"({"content":"A big grey cat who hates rain."})"),
    200);
  auto pseq = num(patched.at("seq"));
  CHECK(pseq > s.seq3);

  auto comp = expect_json(c.get(entities + "/momo/composite?session=s1&" + fresh(pseq)), 200);
  CHECK(comp.at("stale") == false);
  CHECK(str(comp.at("text")) == composite(new_content, momo_v3));
  auto base = expect_json(c.get(entities + "/momo/composite?session=s2&" + fresh(pseq)), 200);
  CHECK(str(base.at("text")) == base_lore(new_content));

  auto in_session = expect_json(search(c, "Momo", "s1", pseq), 200);
  CHECK(in_session.at("stale") == false);
  REQUIRE(!in_session.at("hits").as_array().empty());
  auto& top = in_session.at("hits").as_array()[0];
  CHECK(top.at("entity_id") == "momo");
  CHECK(str(top.at("composite")) == composite(new_content, momo_v3));

  auto lore = expect_json(search(c, "grey cat who hates rain", "", pseq), 200);
  REQUIRE(!lore.at("hits").as_array().empty());
  auto& lore_top = lore.at("hits").as_array()[0];
  CHECK(lore_top.at("entity_id") == "momo");
  CHECK(lore_top.at("session").is_null());
  CHECK(str(lore_top.at("composite")) == base_lore(new_content));

  // The note is untouched by a change of the base lore.
  CHECK(str(expect_json(c.get(notes_of("s1") + "/momo?" + fresh(pseq)), 200).at("note"))
        == momo_v3);

  auto deleted = expect_json(c.request("DELETE", entities + "/momo"), 200);
  auto dseq = num(deleted.at("seq"));
  CHECK(dseq > pseq);

  expect_error(c.get(notes_of("s1") + "/momo?" + fresh(dseq)), 404, "not_found");
  expect_error(c.get(notes_of("s1") + "/momo/history?" + fresh(dseq)), 404, "not_found");
  expect_error(c.get(entities + "/momo/composite?session=s1&" + fresh(dseq)), 404,
               "not_found");
  auto list = expect_json(c.get(notes_of("s1") + "?" + fresh(dseq)), 200);
  CHECK(list.at("stale") == false);
  auto ids = ids_of(list, "entity_id");
  CHECK(std::set<std::string>(ids.begin(), ids.end())
        == std::set<std::string>{"harbor", s.kenta_id});

  auto gone = expect_json(search(c, "Momo", "s1", dseq), 200);
  CHECK(gone.at("stale") == false);
  CHECK(find_hit(gone, "momo") == nullptr);
  CHECK(find_hit(gone, "harbor") != nullptr); // the others are still indexed
  auto gone_lore = expect_json(search(c, "grey cat who hates rain", "", dseq), 200);
  CHECK(find_hit(gone_lore, "momo") == nullptr);
  auto gone_elsewhere = expect_json(search(c, "grey cat who hates rain", "s2", dseq), 200);
  CHECK(find_hit(gone_elsewhere, "momo") == nullptr);

  // Other entities' notes survive.
  CHECK(str(expect_json(c.get(notes_of("s1") + "/harbor?" + fresh(dseq)), 200).at("note"))
        == harbor_v1);
}

TEST_CASE("a turn with its analysis skips the analyser", "[session]") {
  node_fixture n;
  auto& c = *n.client;
  story s;
  create_lore(c, s);
  // The text mentions Momo, but the supplied analysis speaks only of the
  // harbor and of a new item: only that must happen.
  auto body = R"({"turn":1,"text":"Momo sat on the pier.","analysis":{)"
              R"("updates":[{"lore_entry_id":"harbor","update_summary":"The harbor flooded at dawn."}],)"
              R"("creations":[{"entity_type":"item","creation_summary":"A brass lantern called Glow lit the pier.","name":"Glow"}]}})";
  auto [event, seq] = accepted(c.send_json("POST", turns_of("s2"), body), 1, "analysed");
  CHECK(!event.empty());

  auto harbor = expect_json(c.get(notes_of("s2") + "/harbor?" + fresh(seq)), 200);
  CHECK(harbor.at("stale") == false);
  CHECK(str(harbor.at("note")) == "The harbor flooded at dawn.");
  CHECK(num(harbor.at("last_updated_turn")) == 1);
  expect_error(c.get(notes_of("s2") + "/momo?" + fresh(seq)), 404, "not_found");

  auto turn = expect_json(c.get(turns_of("s2") + "/1?" + fresh(seq)), 200);
  CHECK(turn.at("status") == "applied");
  CHECK(done_note_tasks(turn) == std::multiset<std::string>{"harbor"});
  CHECK(count_queue(turn, "entity_creation") == 1);
  CHECK(count_queue(turn, "analysis") == 0);

  auto items = expect_json(c.get(entities + "?type=item&" + fresh(seq)), 200);
  REQUIRE(items.at("items").as_array().size() == 1);
  auto& glow = items.at("items").as_array()[0];
  CHECK(glow.at("title") == "Glow");
  CHECK(glow.at("is_dynamically_generated") == true);
  CHECK(str(glow.at("content")) == "A brass lantern called Glow lit the pier.");
  REQUIRE(!glow.at("tags").as_array().empty());
  CHECK(glow.at("tags").as_array()[0] == "item");

  CHECK(queue_count(c, "analysis", "done") == 0);
  CHECK(queue_count(c, "analysis", "pending") == 0);
}

TEST_CASE("bad turns and searches are refused with the field, storing nothing",
          "[session][errors]") {
  node_fixture n{{"--set", "pipeline.max_turn_chars=1000"}};
  auto& c = *n.client;
  story s;
  create_lore(c, s);
  const auto turns = turns_of("s1");
  auto analysed_before = queue_count(c, "analysis", "done");
  auto invalid = [&](const std::string& body, const std::string& field) {
    INFO("body: " << body.substr(0, 200));
    expect_error(c.send_json("POST", turns, body), 422, "invalid_argument", field);
  };

  SECTION("turn") {
    invalid(R"({"text":"Momo ran."})", "turn");
    invalid(R"({"turn":"1","text":"Momo ran."})", "turn");
    invalid(R"({"turn":-1,"text":"Momo ran."})", "turn");
    invalid(R"({"turn":1.5,"text":"Momo ran."})", "turn");
    invalid(R"({"turn":null,"text":"Momo ran."})", "turn");
    invalid(R"({"turn":9007199254740993,"text":"Momo ran."})", "turn");
  }
  SECTION("text") {
    invalid(R"({"turn":1})", "text");
    invalid(R"({"turn":1,"text":42})", "text");
    invalid(R"({"turn":1,"text":["Momo"]})", "text");
    invalid(R"({"turn":1,"text":""})", "text");
    invalid(turn_body(1, std::string(1001, 'a')), "text");
    std::string e_acute;
    for (int i = 0; i < 1001; ++i)
      e_acute += "\xc3\xa9"; // characters, not bytes, are counted
    invalid(turn_body(1, e_acute), "text");
  }
  SECTION("unknown fields") {
    invalid(R"({"turn":1,"text":"Momo ran.","colour":"red"})", "colour");
  }
  SECTION("analysis") {
    invalid(R"({"turn":1,"text":"Momo ran.","analysis":{"updates":[)"
            R"({"lore_entry_id":"nobody","update_summary":"Momo ran."}],"creations":[]}})",
            "analysis.updates[0].lore_entry_id");
    invalid(R"({"turn":1,"text":"Momo ran.","analysis":{"updates":[)"
            R"({"lore_entry_id":"momo","update_summary":"Momo ran."},)"
            R"({"lore_entry_id":"ghost","update_summary":"Boo."}],"creations":[]}})",
            "analysis.updates[1].lore_entry_id");
    invalid(R"({"turn":1,"text":"Momo ran.","analysis":{"updates":[)"
            R"({"lore_entry_id":"momo","update_summary":"   "}],"creations":[]}})",
            "analysis.updates[0].update_summary");
    invalid(R"({"turn":1,"text":"Momo ran.","analysis":"Momo ran."})", "analysis");
  }
  SECTION("malformed, too large, not JSON, bad path") {
    expect_error(c.send_json("POST", turns, R"({"turn":1,"text":)"), 400,
                 "malformed_request");
    expect_error(c.send_json("POST", turns, R"([1,"Momo ran."])"), 400,
                 "malformed_request");
    expect_error(c.send_json("POST", turns, turn_body(1, std::string(2 * 1024 * 1024, 'a'))),
                 413, "too_large");
    expect_error(c.request("POST", turns, turn_body(1, "Momo ran."),
                           {{"Content-Type", "text/plain"}}),
                 415, "unsupported_media_type", "Content-Type");
    expect_error(c.send_json("POST", user + "/sessions/s%201/turns", turn_body(1, "Momo ran.")),
                 422, "invalid_argument", "path.session");
    expect_error(c.get(turns + "/one"), 422, "invalid_argument", "path.turn");
  }
  SECTION("search") {
    auto bad_search = [&](const std::string& body, const std::string& field) {
      INFO("body: " << body);
      expect_error(c.send_json("POST", user + "/search", body), 422, "invalid_argument",
                   field);
    };
    bad_search(R"({"query":"Momo","k":0})", "k");
    bad_search(R"({"query":"Momo","k":101})", "k");
    bad_search(R"({"query":"Momo","k":"3"})", "k");
    bad_search(R"({"k":3})", "query");
    bad_search(R"({"query":""})", "query");
    bad_search(R"({"query":"Momo","wait_ms":60001})", "wait_ms");
    bad_search(R"({"query":"Momo","session":"s 1"})", "session");
    bad_search(R"({"query":"Momo","colour":"red"})", "colour");
    expect_error(c.get(notes_of("s1") + "?wait_ms=60001"), 422, "invalid_argument",
                 "query.wait_ms");
    expect_error(c.get(notes_of("s1") + "?min_seq=abc"), 422, "invalid_argument",
                 "query.min_seq");
  }

  // Whatever was refused, nothing was stored and nothing was queued.
  expect_error(c.get(turns + "/1"), 404, "not_found");
  CHECK(expect_json(c.get(notes_of("s1")), 200).at("items").as_array().empty());
  CHECK(expect_json(c.get(user + "/sessions/s1/tasks"), 200).at("items").as_array().empty());
  CHECK(queue_count(c, "analysis", "done") == analysed_before);
  CHECK(queue_count(c, "analysis", "pending") == 0);
  CHECK(queue_count(c, "analysis", "in_flight") == 0);

  // And the limit itself is accepted: 1000 characters (2000 bytes).
  std::string at_limit;
  for (int i = 0; i < 1000; ++i)
    at_limit += "\xc3\xa9";
  accepted(post_turn(c, "s1", 1, at_limit), 1);
}

TEST_CASE("queues and session tasks report the pipeline's work",
          "[session][queues]") {
  node_fixture n;
  auto& c = *n.client;
  story s;
  create_lore(c, s);
  auto [event, seq] = accepted(post_turn(c, "s1", 1, text1), 1);
  auto turn = expect_json(c.get(turns_of("s1") + "/1?" + fresh(seq)), 200);
  REQUIRE(turn.at("status") == "applied");
  std::set<std::string> note_task_ids;
  for (auto& t : turn.at("tasks").as_array())
    if (t.at("queue") == "note_update")
      note_task_ids.insert(str(t.at("task_id")));
  CHECK(note_task_ids.size() == 2);

  auto queues = expect_json(c.get("/v1/queues"), 200);
  auto& all = queues.at("queues").as_object();
  for (const char* name : {"analysis", "note_update", "entity_creation", "embedding"}) {
    INFO("queue " << name);
    REQUIRE(all.contains(name));
    auto& q = all.at(name).as_object();
    for (const char* field : {"pending", "in_flight", "done", "failed", "retried"}) {
      INFO("field " << field);
      REQUIRE(q.contains(field));
      CHECK(num(q.at(field)) >= 0);
    }
    // Everything up to `seq` is applied and indexed: nothing is left.
    CHECK(num(q.at("pending")) == 0);
    CHECK(num(q.at("in_flight")) == 0);
    CHECK(num(q.at("failed")) == 0);
    REQUIRE(q.contains("oldest_pending_age_ms"));
    CHECK(q.at("oldest_pending_age_ms").is_number());
    REQUIRE(q.contains("latency_ms"));
    auto& latency = q.at("latency_ms").as_object();
    REQUIRE(latency.contains("p50"));
    REQUIRE(latency.contains("p99"));
    CHECK(latency.at("p50").is_number());
    CHECK(latency.at("p99").is_number());
  }
  CHECK(num(all.at("analysis").at("done")) == 1);
  CHECK(num(all.at("note_update").at("done")) == 2);
  CHECK(num(all.at("entity_creation").at("done")) == 0);
  CHECK(num(all.at("embedding").at("done")) >= 2); // at least the two composites

  const auto tasks = user + "/sessions/s1/tasks";
  auto done = expect_json(c.get(tasks + "?queue=note_update&status=done&" + fresh(seq)), 200);
  auto& items = done.at("items").as_array();
  REQUIRE(items.size() == 2);
  std::set<std::string> listed, listed_entities;
  for (auto& t : items) {
    INFO(json::serialize(t));
    CHECK(t.at("queue") == "note_update");
    CHECK(t.at("status") == "done");
    CHECK(num(t.at("attempts")) >= 1);
    CHECK(t.at("last_error").is_null());
    listed.insert(str(t.at("task_id")));
    listed_entities.insert(str(t.at("entity_id")));
  }
  CHECK(listed == note_task_ids);
  CHECK(listed_entities == std::set<std::string>{"harbor", "momo"});

  CHECK(expect_json(c.get(tasks + "?queue=analysis&status=done"), 200)
          .at("items").as_array().size() == 1);
  CHECK(expect_json(c.get(tasks + "?queue=entity_creation"), 200)
          .at("items").as_array().empty());
  CHECK(expect_json(c.get(tasks + "?status=pending"), 200).at("items").as_array().empty());
  CHECK(expect_json(c.get(tasks + "?queue=note_update&limit=1"), 200)
          .at("items").as_array().size() == 1);
  CHECK(expect_json(c.get(user + "/sessions/s2/tasks"), 200).at("items").as_array().empty());
  expect_error(c.get(tasks + "?queue=bogus"), 422, "invalid_argument", "query.queue");
  expect_error(c.get(tasks + "?status=bogus"), 422, "invalid_argument", "query.status");

  // Only failed tasks can be retried.
  expect_error(c.send_json("POST", "/v1/tasks/" + *note_task_ids.begin() + "/retry", "{}"),
               409, "conflict");
  expect_error(c.send_json("POST", "/v1/tasks/no-such-task/retry", "{}"), 404, "not_found");
}

TEST_CASE("a task that keeps failing ends failed with its error, and retry "
          "runs it again",
          "[session][queues]") {
  // The rules creator cannot title "!!! ???" (no name, no capitalised
  // word): every attempt fails the same way.
  node_fixture n{{"--set", "pipeline.max_attempts=2", "--set",
                  "pipeline.retry_base_ms=5"}};
  auto& c = *n.client;
  auto body = R"({"turn":1,"text":"Something happened.","analysis":{"updates":[],)"
              R"("creations":[{"entity_type":"thing","creation_summary":"!!! ???"}]}})";
  auto [event, seq] = accepted(c.send_json("POST", turns_of("s1"), body), 1,
                               "analysed");
  auto turn = expect_json(c.get(turns_of("s1") + "/1?" + fresh(seq)), 200);
  CHECK(turn.at("stale") == false);
  CHECK(turn.at("status") == "failed");
  auto& tasks = turn.at("tasks").as_array();
  REQUIRE(tasks.size() == 1);
  auto& task = tasks[0].as_object();
  CHECK(task.at("status") == "failed");
  CHECK(num(task.at("attempts")) == 2);
  CHECK(str(task.at("last_error")).find("title") != std::string::npos);
  auto id = str(task.at("task_id"));
  CHECK(id == event + ".c0");

  auto queues = expect_json(c.get("/v1/queues"), 200);
  auto& creation = queues.at("queues").at("entity_creation").as_object();
  CHECK(num(creation.at("failed")) == 1);
  CHECK(num(creation.at("retried")) == 1);
  CHECK(num(creation.at("pending")) == 0);

  auto failed = expect_json(
    c.get(user + "/sessions/s1/tasks?status=failed"), 200);
  REQUIRE(failed.at("items").as_array().size() == 1);

  // Retry: back to pending with fresh attempts; it fails again, twice more.
  auto retried = expect_json(
    c.send_json("POST", "/v1/tasks/" + id + "/retry", "{}"), 200);
  CHECK(retried.at("status") == "pending");
  CHECK(num(retried.at("attempts")) == 0);
  auto retry_seq = num(retried.at("seq"));
  CHECK(retry_seq > seq);
  auto again = expect_json(c.get(turns_of("s1") + "/1?" + fresh(retry_seq)), 200);
  CHECK(again.at("stale") == false);
  CHECK(again.at("status") == "failed");
  CHECK(num(again.at("tasks").as_array()[0].at("attempts")) == 2);
  queues = expect_json(c.get("/v1/queues"), 200);
  CHECK(num(queues.at("queues").at("entity_creation").at("failed")) == 2);
  // Nothing was created by the failed task.
  auto list = expect_json(c.get(entities), 200);
  CHECK(list.at("items").as_array().empty());
}

TEST_CASE("the same turn sent at once from many connections is stored once",
          "[session]") {
  node_fixture n;
  constexpr int senders = 8;
  constexpr int turns = 20;
  // answers[t] = every answer to turn t
  std::vector<std::vector<json::object>> answers(turns);
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s)
    threads.emplace_back([&, port = n.node.port()] {
      http_client c{port};
      for (int t = 0; t < turns; ++t) {
        auto r = post_turn(c, "race", t, "Turn number " + std::to_string(t) + ".");
        json::error_code ec;
        auto v = json::parse(r.body, ec);
        std::lock_guard<std::mutex> guard{mu};
        if (r.status == 202 && !ec && v.is_object())
          answers[t].push_back(v.as_object());
      }
    });
  for (auto& th : threads)
    th.join();
  auto& c = *n.client;
  for (int t = 0; t < turns; ++t) {
    INFO("turn " << t);
    REQUIRE(answers[t].size() == static_cast<std::size_t>(senders));
    int originals = 0;
    auto event = answers[t].front().at("event_id");
    std::int64_t max_seq = 0;
    for (auto& a : answers[t]) {
      CHECK(a.at("event_id") == event);
      originals += a.at("duplicate") == false ? 1 : 0;
      max_seq = std::max(max_seq, num(a.at("seq")));
    }
    CHECK(originals == 1);
    // Every answer, duplicates included, came after the turn was durable:
    // reading with its seq finds it.
    auto turn = expect_json(c.get(turns_of("race") + "/" + std::to_string(t)
                                  + "?" + fresh(max_seq)),
                            200);
    CHECK(turn.at("event_id") == event);
    CHECK(turn.at("status") == "applied");
  }
}
