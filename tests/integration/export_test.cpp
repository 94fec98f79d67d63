// Mesh-context exports through a real engramd with short windows: leading
// and trailing exports of a burst, force, nightly, unchanged content,
// readers never seeing a partial file, the debounce state surviving a
// kill -9, every trigger source (intents, documents, concept changes,
// session ends), validation, stats and the signed webhook.

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "runtime/exports/webhook_signature.hpp"
#include "tests/fixtures/engramd_process.hpp"
#include "tests/fixtures/fake_openai.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::object body_of(const http_result& r, unsigned status) {
  INFO("HTTP " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  return json::parse(r.body).as_object();
}

void expect_error(const http_result& r, unsigned status, const char* field) {
  INFO("HTTP " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  auto e = json::parse(r.body).as_object().at("error").as_object();
  CHECK(e.at("field") == field);
}

std::unique_ptr<engramd_process> start_node(const temp_dir& dir,
                                            std::vector<std::string> extra = {},
                                            std::map<std::string, std::string> env = {}) {
  std::vector<std::string> args{"--set", "exports.debounce_ms=1500"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto node = std::make_unique<engramd_process>(dir.path() + "/data", args, env);
  REQUIRE(node->start());
  return node;
}

std::string path_of(const temp_dir& dir, const std::string& user) {
  return dir.path() + "/data/exports/" + user + "/mesh_context.json";
}

std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Events of `user`, newest first.
json::array events(http_client& c, const std::string& user, int limit = 200) {
  auto r = c.get("/v1/users/" + user + "/exports/events?limit="
                 + std::to_string(limit));
  return body_of(r, 200).at("events").as_array();
}

std::vector<json::object> with_outcome(const json::array& evs,
                                       const std::string& outcome) {
  std::vector<json::object> out;
  for (auto& e : evs)
    if (e.at("outcome") == outcome.c_str())
      out.push_back(e.as_object());
  return out;
}

// Polls until `n` events of `user` have `outcome` (or the deadline passes).
std::vector<json::object> wait_for(http_client& c, const std::string& user,
                                   const std::string& outcome, std::size_t n,
                                   std::chrono::milliseconds deadline = 10s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto found = with_outcome(events(c, user), outcome);
    if (found.size() >= n || std::chrono::steady_clock::now() > until)
      return found;
    std::this_thread::sleep_for(20ms);
  }
}

std::string trigger(const std::string& kind) {
  return R"({"trigger":")" + kind + R"("})";
}

void add_intent(http_client& c, const std::string& user, const std::string& id) {
  body_of(c.send_json("POST", "/v1/users/" + user + "/intents",
                      R"({"id":")" + id + R"(","description":"do )" + id + R"("})"),
          201);
}

std::string hh_mm_ss_in(std::chrono::seconds ahead) {
  auto t = std::time(nullptr) + ahead.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
  return buf;
}

} // namespace

TEST_CASE("a burst of 50 triggers gives one leading and one trailing export",
          "[exports]") {
  temp_dir dir;
  auto node = start_node(dir);
  http_client c{node->port()};
  const std::string user = "burst";
  const std::string base = "/v1/users/" + user + "/exports";
  CHECK(c.get(base + "/latest").status == 404);
  add_intent(c, user, "first");
  for (int i = 0; i < 50; ++i) {
    auto r = body_of(c.send_json("POST", base + "/triggers", trigger("intent_closed")), 202);
    CHECK(r.at("outcome") == (i == 0 ? "exported" : i == 1 ? "debounced" : "coalesced"));
    if (i == 10)
      add_intent(c, user, "during-burst"); // the last change must get out
  }
  auto exported = wait_for(c, user, "exported", 2);
  REQUIRE(exported.size() == 2);
  // Newest first: the trailing export answers the 49 coalesced triggers.
  CHECK(exported[0].at("triggers").as_array().size() == 49);
  CHECK(exported[1].at("triggers").as_array().size() == 1);
  CHECK(exported[0].at("version") == 2);
  auto file = json::parse(read_all(path_of(dir, user))).as_object();
  CHECK(file.at("version") == 2);
  CHECK(file.at("triggers").as_array().size() == 49);
  auto& open = file.at("context").at("open_intents").as_array();
  CHECK(open.size() == 2);
  auto evs = events(c, user);
  CHECK(with_outcome(evs, "debounced").size() == 1);
  CHECK(with_outcome(evs, "coalesced").size() == 48);
  // No third export after the window.
  std::this_thread::sleep_for(1800ms);
  CHECK(with_outcome(events(c, user), "exported").size() == 2);
  auto latest = c.get(base + "/latest");
  REQUIRE(latest.status == 200);
  CHECK(json::parse(latest.body).at("version") == 2);
  auto stats = body_of(c.get(base + "/stats"), 200);
  CHECK(stats.at("triggers").at("intent_closed") == 50);
  CHECK(stats.at("outcomes").at("coalesced") == 48);
  CHECK(stats.at("total_exports") == 2);
  CHECK(stats.at("pending_triggers") == 0);
  auto node_stats = body_of(c.get("/v1/exports/stats"), 200);
  CHECK(node_stats.at("total_exports") == 2);
  CHECK(node_stats.at("mode") == "hybrid");
  CHECK(node_stats.at("debounce_ms") == 1500);
}

TEST_CASE("force and high priority export inside the window; unchanged "
          "content writes nothing",
          "[exports]") {
  temp_dir dir;
  auto cfg_path = dir.path() + "/engram.json";
  std::ofstream{cfg_path} << R"({"exports": {"high_priority": ["session_end"]}})";
  auto node = start_node(dir, {"--config", cfg_path});
  http_client c{node->port()};
  const std::string user = "force";
  const std::string base = "/v1/users/" + user + "/exports";
  add_intent(c, user, "a");
  auto first = body_of(c.send_json("POST", base, R"({"reason":"first"})"), 200);
  CHECK(first.at("outcome") == "exported");
  CHECK(first.at("version") == 1);
  // Unchanged content, forced: no file is written, the version stays.
  auto path = path_of(dir, user);
  auto before = read_all(path);
  auto again = body_of(c.send_json("POST", base, R"({"reason":"again","force":true})"), 200);
  CHECK(again.at("outcome") == "unchanged");
  CHECK(again.at("version") == 1);
  CHECK(read_all(path) == before);
  // A change, then force inside the window: exported at once.
  add_intent(c, user, "b");
  auto forced = body_of(c.send_json("POST", base, R"({"reason":"now","force":true})"), 200);
  CHECK(forced.at("outcome") == "exported");
  CHECK(forced.at("version") == 2);
  // Without force the same request waits for the window's end.
  add_intent(c, user, "c");
  auto waits = body_of(c.send_json("POST", base, R"({"reason":"later"})"), 202);
  CHECK(waits.at("outcome") == "debounced");
  CHECK(waits.contains("due_at"));
  // A high-priority kind skips the window too (and answers the waiting one).
  auto high = body_of(c.send_json("POST", "/v1/users/" + user + "/sessions/s1/end",
                                  R"({"high_impact":true})"),
                      200);
  CHECK(high.at("export").at("outcome") == "exported");
  auto exported = wait_for(c, user, "exported", 3);
  REQUIRE(exported.size() == 3);
  auto& labels = exported[0].at("triggers").as_array();
  REQUIRE(labels.size() == 2);
  CHECK(labels[0] == "manual:later");
  CHECK(labels[1] == "session_end:s1");
  std::this_thread::sleep_for(1800ms); // the cancelled trailing timer is inert
  CHECK(with_outcome(events(c, user), "exported").size() == 3);
}

TEST_CASE("the nightly schedule exports exactly the users that changed",
          "[exports]") {
  temp_dir dir;
  auto node = start_node(dir);
  http_client c{node->port()};
  add_intent(c, "quiet", "q1");
  // quiet exports now, so it has nothing new by night time.
  body_of(c.send_json("POST", "/v1/users/quiet/exports", R"({"reason":"x"})"), 200);
  add_intent(c, "busy", "b1");
  auto cfg = body_of(c.send_json("PUT", "/v1/exports/config",
                                 R"({"mode":"nightly","nightly_at":")"
                                   + hh_mm_ss_in(2s) + R"("})"),
                     200);
  CHECK(cfg.at("mode") == "nightly");
  // In nightly mode event triggers are ignored (and logged).
  auto ignored = body_of(c.send_json("POST", "/v1/users/busy/exports/triggers",
                                     trigger("intent_closed")),
                         200);
  CHECK(ignored.at("outcome") == "ignored");
  auto exported = wait_for(c, "busy", "exported", 1, 8s);
  REQUIRE(exported.size() == 1);
  CHECK(exported[0].at("triggers").as_array()[0] == "nightly");
  CHECK(with_outcome(events(c, "quiet"), "exported").size() == 1); // only its manual one
  auto stored = body_of(c.get("/v1/exports/config"), 200);
  CHECK(stored.at("mode") == "nightly");
  // The change survives a restart.
  node->stop(SIGTERM);
  node = start_node(dir);
  http_client c2{node->port()};
  CHECK(body_of(c2.get("/v1/exports/config"), 200).at("mode") == "nightly");
}

TEST_CASE("a reader polling the export during a storm never sees invalid JSON",
          "[exports]") {
  temp_dir dir;
  auto node = start_node(dir, {"--set", "exports.debounce_ms=0"});
  http_client c{node->port()};
  const std::string user = "storm";
  auto path = path_of(dir, user);
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, bad{0};
  std::thread reader([&] {
    while (!stop) {
      std::ifstream in{path, std::ios::binary};
      if (!in)
        continue;
      std::stringstream ss;
      ss << in.rdbuf();
      json::error_code ec;
      auto v = json::parse(ss.str(), ec);
      ++reads;
      if (ec || !v.is_object() || !v.as_object().contains("context"))
        ++bad;
    }
  });
  for (int i = 0; i < 60; ++i) {
    add_intent(c, user, "i" + std::to_string(i));
    body_of(c.send_json("POST", "/v1/users/" + user + "/exports/triggers",
                        trigger("intent_closed")),
            202);
  }
  // Wait until the last change is in the file.
  auto until = std::chrono::steady_clock::now() + 10s;
  std::size_t open = 0;
  while (open < 60 && std::chrono::steady_clock::now() < until) {
    json::error_code ec;
    auto v = json::parse(read_all(path), ec);
    if (!ec)
      open = v.at("context").at("open_intents").as_array().size();
    std::this_thread::sleep_for(10ms);
  }
  stop = true;
  reader.join();
  CHECK(open == 60);
  CHECK(with_outcome(events(c, user), "exported").size() >= 2);
  CHECK(reads > 0);
  CHECK(bad == 0);
  auto file = json::parse(read_all(path)).as_object();
  CHECK(file.at("context").at("open_intents").as_array().size() == 60);
}

TEST_CASE("a scheduled trailing export survives kill -9", "[exports][crash]") {
  temp_dir dir;
  auto node = start_node(dir, {"--set", "exports.debounce_ms=2500"});
  {
    http_client c{node->port()};
    add_intent(c, "crash", "a");
    body_of(c.send_json("POST", "/v1/users/crash/exports/triggers", trigger("manual")), 202);
    wait_for(c, "crash", "exported", 1);
    add_intent(c, "crash", "b");
    auto r = body_of(c.send_json("POST", "/v1/users/crash/exports/triggers",
                                 trigger("intent_closed")),
                     202);
    CHECK(r.at("outcome") == "debounced");
  }
  node->kill9();
  node = start_node(dir, {"--set", "exports.debounce_ms=2500"});
  http_client c{node->port()};
  auto exported = wait_for(c, "crash", "exported", 2);
  REQUIRE(exported.size() == 2);
  CHECK(exported[0].at("triggers").as_array()[0] == "intent_closed");
  auto file = json::parse(read_all(path_of(dir, "crash"))).as_object();
  CHECK(file.at("version") == 2);
  CHECK(file.at("context").at("open_intents").as_array().size() == 2);
}

TEST_CASE("bad triggers, exports and configs get 422 naming the field",
          "[exports]") {
  temp_dir dir;
  auto node = start_node(dir);
  http_client c{node->port()};
  const std::string t = "/v1/users/v/exports/triggers";
  expect_error(c.send_json("POST", t, R"({"trigger":"explode"})"), 422, "trigger");
  expect_error(c.send_json("POST", t, R"({"trigger":"nightly"})"), 422, "trigger");
  expect_error(c.send_json("POST", t, R"({})"), 422, "trigger");
  expect_error(c.send_json("POST", t, R"({"trigger":"concept_change"})"), 422, "concept_count");
  expect_error(c.send_json("POST", t, R"({"trigger":"concept_change","concept_count":-1})"), 422,
               "concept_count");
  expect_error(c.send_json("POST", t, R"({"trigger":"manual","concept_count":3})"), 422,
               "concept_count");
  expect_error(c.send_json("POST", t, R"({"trigger":"manual","force":"yes"})"), 422, "force");
  expect_error(c.send_json("POST", t, R"({"trigger":"manual","colour":1})"), 422, "colour");
  CHECK(c.send_json("POST", t, "{not json").status == 400);
  expect_error(c.send_json("POST", "/v1/users/v/exports", R"({})"), 422, "reason");
  expect_error(c.send_json("PUT", "/v1/exports/config", R"({"mode":"sometimes"})"), 422, "mode");
  expect_error(c.send_json("PUT", "/v1/exports/config", R"({"nightly_at":"24:00"})"), 422,
               "nightly_at");
  expect_error(c.send_json("PUT", "/v1/exports/config", R"({"debounce_ms":-5})"), 422,
               "debounce_ms");
  // Below the threshold a concept change is ignored, and logged.
  auto r = body_of(c.send_json("POST", t, R"({"trigger":"concept_change","concept_count":2})"), 200);
  CHECK(r.at("outcome") == "ignored");
  auto evs = events(c, "v");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0].at("outcome") == "ignored");
  CHECK(evs[0].at("reason").as_string().find("threshold 5") != json::string::npos);
  // The log on disk is JSON lines with the documented keys.
  std::ifstream in{dir.path() + "/data/logs/export_events.jsonl"};
  std::string line;
  REQUIRE(std::getline(in, line));
  auto rec = json::parse(line).as_object();
  for (auto key : {"timestamp", "user_id", "triggers", "outcome", "duration_seconds",
                   "success", "mode", "error"})
    CHECK(rec.contains(key));
  // Intents close once.
  add_intent(c, "v", "i1");
  body_of(c.send_json("POST", "/v1/users/v/intents/i1/close", R"({"resolution":"ok"})"), 200);
  CHECK(c.send_json("POST", "/v1/users/v/intents/i1/close", R"({"resolution":"ok"})").status
        == 409);
}

TEST_CASE("every trigger source fires: closed intents, documents, concept "
          "changes and session ends",
          "[exports]") {
  temp_dir dir;
  auto node = start_node(dir, {"--set", "exports.debounce_ms=0", "--set",
                               "exports.max_document_bytes=4096"});
  http_client c{node->port()};
  const std::string u = "/v1/users/src";
  auto fired = [&](const std::string& prefix) {
    auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      for (auto& e : events(c, "src"))
        for (auto& t : e.at("triggers").as_array())
          if (std::string{t.as_string()}.rfind(prefix, 0) == 0) {
            // An export ran for it (unchanged: nothing new to write).
            auto& o = e.at("outcome").as_string();
            if (o == "exported" || o == "unchanged")
              return true;
          }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  add_intent(c, "src", "trip");
  body_of(c.send_json("POST", u + "/intents/trip/close", R"({"resolution":"booked"})"), 200);
  CHECK(fired("intent_closed:trip"));

  auto doc = body_of(c.send_json("POST", u + "/documents",
                                 R"({"name":"handbook.md","type":"markdown","text":"The planning meeting is in Lisbon.\n\nForecasts are due on Friday."})"),
                     202);
  auto doc_id = std::string{doc.at("id").as_string()};
  CHECK(fired("document_upload:" + doc_id));
  auto got = body_of(c.get(u + "/documents/" + doc_id), 200);
  CHECK(got.at("status") == "ready");
  CHECK(got.at("chunks") == 1);
  auto hits = body_of(c.send_json("POST", u + "/search",
                                  R"({"query":"where is the planning meeting","k":3})"),
                      200)
                .at("hits")
                .as_array();
  REQUIRE(!hits.empty());
  CHECK(hits[0].at("kind") == "memory");
  CHECK(hits[0].at("document_name") == "handbook.md");
  CHECK(hits[0].at("chunk") == 0);
  auto file = json::parse(read_all(path_of(dir, "src"))).as_object();
  CHECK(file.at("context").at("recent_documents").as_array().size() == 1);

  // An analysis that creates five entities is a concept change.
  std::string creations;
  for (int i = 0; i < 5; ++i)
    creations += std::string{i ? "," : ""}
                 + R"({"entity_type":"place","creation_summary":"A town called Place )"
                 + std::to_string(i) + R"(","name":"Place )" + std::to_string(i) + "\"}";
  body_of(c.send_json("POST", u + "/sessions/s1/turns",
                      R"({"turn":1,"text":"We visited five towns.","analysis":{"updates":[],"creations":[)"
                        + creations + "]}}"),
          202);
  CHECK(fired("concept_change:s1/1"));

  // Session ends: too short is ignored, high impact exports.
  auto short_end = body_of(c.send_json("POST", u + "/sessions/s1/end", "{}"), 200);
  CHECK(short_end.at("turns") == 1);
  CHECK(short_end.at("export").at("outcome") == "ignored");
  auto high = body_of(c.send_json("POST", u + "/sessions/s1/end", R"({"high_impact":true})"), 200);
  CHECK(high.at("export").at("outcome") != "ignored");
  CHECK(fired("session_end:s1"));

  // Documents: too large, deleted ones leave search.
  std::string big(5000, 'a');
  expect_error(c.send_json("POST", u + "/documents",
                           R"({"name":"big","type":"text","text":")" + big + "\"}"),
               413, "text");
  body_of(c.request("DELETE", u + "/documents/" + doc_id), 200);
  auto after = body_of(c.send_json("POST", u + "/search",
                                   R"({"query":"where is the planning meeting","k":3})"),
                       200)
                 .at("hits")
                 .as_array();
  for (auto& h : after)
    CHECK(h.at("kind") != "memory");
  CHECK(c.get(u + "/documents/" + doc_id).status == 404);
}

TEST_CASE("exports notify a signed webhook and retry its failures",
          "[exports]") {
  fake_openai hook;
  hook.script({fake_reply::error(500)}); // the first delivery fails once
  temp_dir dir;
  auto node = start_node(dir,
                         {"--set",
                          "exports.webhook_url=http://127.0.0.1:"
                            + std::to_string(hook.port()) + "/hooks/export"},
                         {{"ENGRAM_WEBHOOK_SECRET", "s3cret"}});
  http_client c{node->port()};
  add_intent(c, "hooked", "a");
  auto r = body_of(c.send_json("POST", "/v1/users/hooked/exports", R"({"reason":"go"})"), 200);
  REQUIRE(r.at("outcome") == "exported");
  auto until = std::chrono::steady_clock::now() + 10s;
  while (hook.request_count() < 2 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  auto reqs = hook.requests();
  REQUIRE(reqs.size() == 2);
  auto& last = reqs.back();
  CHECK(last.path == "/hooks/export");
  CHECK(last.body.at("user_id") == "hooked");
  CHECK(last.body.at("version") == 1);
  CHECK(last.body.at("content_hash") == r.at("content_hash"));
  auto ts = std::stoll(last.headers.at("x-engram-timestamp"));
  CHECK(last.headers.at("x-engram-signature")
        == engram::exports::webhook_signature("s3cret", ts, last.raw_body));
  json::object stats;
  for (auto t = std::chrono::steady_clock::now() + 5s;
       std::chrono::steady_clock::now() < t; std::this_thread::sleep_for(20ms)) {
    stats = body_of(c.get("/v1/exports/stats"), 200);
    if (stats.at("webhook").at("ok") == 1)
      break;
  }
  CHECK(stats.at("webhook").at("ok") == 1);
  CHECK(stats.at("webhook").at("retries") == 1);
  auto metrics = c.get("/metrics");
  CHECK(metrics.body.find("engram_export_webhook_total{result=\"ok\"} 1")
        != std::string::npos);
}

TEST_CASE("idle exporters passivate and come back with their state",
          "[exports]") {
  temp_dir dir;
  auto node = start_node(dir, {"--set", "exports.exporter_idle_ms=100"});
  http_client c{node->port()};
  add_intent(c, "idle", "a");
  body_of(c.send_json("POST", "/v1/users/idle/exports", R"({"reason":"one"})"), 200);
  auto live = [&] {
    auto text = c.get("/metrics").body;
    auto at = text.find("\nengram_live_exporters ");
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + 23));
  };
  auto until = std::chrono::steady_clock::now() + 5s;
  while (live() != 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  CHECK(live() == 0);
  // A new exporter picks up the stored state: inside the window, version 1.
  add_intent(c, "idle", "b");
  auto r = body_of(c.send_json("POST", "/v1/users/idle/exports", R"({"reason":"two"})"), 202);
  CHECK(r.at("outcome") == "debounced");
  auto stats = body_of(c.get("/v1/users/idle/exports/stats"), 200);
  CHECK(stats.at("version") == 1);
  CHECK(stats.at("total_exports") == 1);
  // The trailing export keeps it alive until it ran.
  auto exported = wait_for(c, "idle", "exported", 2);
  CHECK(exported.size() == 2);
}
