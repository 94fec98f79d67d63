// engramd with model providers (llm.provider / embedder.provider "openai")
// against the fake OpenAI-compatible server: a full ingestion whose notes
// and entities can only have come from the model, a run where the server is
// down from start to end (rules answers, counters and /healthz say so),
// GET /v1/providers, the embedding dimension check at startup and
// `engramd --check-providers`.

#include <catch2/catch.hpp>

#include <memory>
#include <thread>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/fixtures/engramd_process.hpp"
#include "tests/fixtures/fake_openai.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string user = "/v1/users/ada";

json::object body_of(const http_result& r, unsigned status) {
  INFO("HTTP " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  return json::parse(r.body).as_object();
}

std::string fresh(std::int64_t seq) {
  return "min_seq=" + std::to_string(seq) + "&wait_ms=15000";
}

std::vector<std::string> model_args(const std::string& base_url,
                                    std::vector<std::string> extra = {}) {
  std::vector<std::string> args{
    "--set", "llm.provider=openai",
    "--set", "llm.base_url=" + base_url,
    "--set", "llm.models.analysis=m-analysis",
    "--set", "llm.models.rewrite=m-rewrite",
    "--set", "llm.models.creation=m-creation",
    "--set", "llm.retry_base_ms=10",
    "--set", "llm.retry_max_ms=40",
    "--set", "llm.timeout_ms=5000"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

struct node_fixture {
  temp_dir dir;
  engramd_process node;
  std::unique_ptr<http_client> client;

  node_fixture(std::vector<std::string> args,
               std::map<std::string, std::string> env = {})
    : node{dir.path() + "/data", std::move(args), std::move(env)} {
    bool started = node.start();
    INFO(node.log());
    REQUIRE(started);
    client = std::make_unique<http_client>(node.port());
  }
};

std::int64_t create_alice(http_client& c) {
  auto e = body_of(c.send_json("POST", user + "/entities",
                               R"({"id":"alice","type":"character","title":"Alice",)"
                               R"("content":"A sailor from the north."})"),
                   201);
  return e.at("seq").to_number<std::int64_t>();
}

std::int64_t post_turn(http_client& c, std::int64_t n, const std::string& text) {
  json::object o{{"turn", n}, {"text", text}};
  auto a = body_of(c.send_json("POST", user + "/sessions/s1/turns",
                               json::serialize(o)),
                   202);
  return a.at("seq").to_number<std::int64_t>();
}

json::object applied_turn(http_client& c, std::int64_t n, std::int64_t seq) {
  auto t = body_of(c.get(user + "/sessions/s1/turns/" + std::to_string(n) + "?"
                         + fresh(seq)),
                   200);
  CHECK(t.at("stale") == false);
  CHECK(t.at("status") == "applied");
  return t;
}

std::string note_of(http_client& c, const std::string& entity, std::int64_t seq) {
  auto n = body_of(c.get(user + "/sessions/s1/notes/" + entity + "?" + fresh(seq)),
                   200);
  return std::string{n.at("note").as_string()};
}

const json::object* find_model(const json::object& providers, const char* kind,
                               const std::string& name) {
  for (auto& m : providers.at(kind).at("models").as_array())
    if (m.at("model") == name.c_str())
      return &m.as_object();
  return nullptr;
}

} // namespace

TEST_CASE("a turn is analysed, noted and its new entity created by the model",
          "[providers]") {
  fake_openai fake;
  node_fixture f{model_args(fake.base_url()), {{"ENGRAM_LLM_KEY", "sekret-key"}}};
  auto& c = *f.client;
  create_alice(c);
  auto seq = post_turn(c, 1, "Alice met a smith named Borin at the pier.");
  applied_turn(c, 1, seq);

  // The fake model's wording, which the rules provider never produces.
  auto note = note_of(c, "alice", seq);
  CHECK(note.rfind("[model] model saw Alice in turn 1", 0) == 0);
  auto list = body_of(c.get(user + "/entities?type=character&" + fresh(seq)), 200);
  const json::object* borin = nullptr;
  for (auto& e : list.at("items").as_array())
    if (e.at("title") == "Borin")
      borin = &e.as_object();
  REQUIRE(borin);
  CHECK(std::string{borin->at("content").as_string()}.rfind("[model] ", 0) == 0);
  CHECK(borin->at("is_dynamically_generated") == true);

  // The key went out as a bearer token; the log never shows it.
  for (auto& r : fake.requests())
    CHECK(r.authorization == "Bearer sekret-key");
  CHECK(f.node.log().find("sekret-key") == std::string::npos);

  auto p = body_of(c.get("/v1/providers"), 200);
  CHECK(p.at("llm").at("provider") == "openai");
  CHECK(p.at("llm").at("rules_fallbacks").to_number<std::uint64_t>() == 0);
  auto* analysis = find_model(p, "llm", "m-analysis");
  REQUIRE(analysis);
  CHECK(analysis->at("calls").to_number<std::uint64_t>() >= 1);
  CHECK(analysis->at("breaker").at("state") == "closed");
  REQUIRE(find_model(p, "llm", "m-rewrite"));
  REQUIRE(find_model(p, "llm", "m-creation"));
  CHECK(p.at("embedder").at("provider") == "hash");
  auto health = body_of(c.get("/healthz"), 200);
  CHECK(health.at("checks").at("providers").at("status") == "ok");
}

TEST_CASE("with the model server down for the whole run, rules completes every task",
          "[providers]") {
  uint16_t dead_port = 0;
  {
    fake_openai gone;
    dead_port = gone.port();
  } // stopped: nothing listens there now
  auto url = "http://127.0.0.1:" + std::to_string(dead_port) + "/v1";
  node_fixture f{model_args(url, {"--set", "llm.max_retries=1", "--set",
                                  "llm.breaker_failures=2"})};
  auto& c = *f.client;
  create_alice(c);
  std::int64_t seq = 0;
  for (int n = 1; n <= 3; ++n)
    seq = post_turn(c, n, "Alice walked along the pier at dawn.");
  for (int n = 1; n <= 3; ++n)
    applied_turn(c, n, seq);
  // The rules provider's note: the turn's own sentence.
  CHECK(note_of(c, "alice", seq).find("Alice walked along the pier at dawn.")
        != std::string::npos);

  auto p = body_of(c.get("/v1/providers"), 200);
  // 3 analyses and at least one rewrite (queued updates share a rewrite).
  CHECK(p.at("llm").at("rules_fallbacks").to_number<std::uint64_t>() >= 4);
  auto* analysis = find_model(p, "llm", "m-analysis");
  REQUIRE(analysis);
  CHECK(analysis->at("breaker").at("state") != "closed");
  CHECK(analysis->at("recent_errors").as_array().size() >= 1);
  auto metrics = c.get("/metrics").body;
  CHECK(metrics.find("engram_llm_rules_fallbacks_total{task=\"analysis\"}")
        != std::string::npos);
  CHECK(metrics.find("engram_llm_fallbacks_total{from=\"m-analysis\",reason=\"failed\",to=\"rules\"}")
        != std::string::npos);
  auto health = body_of(c.get("/healthz"), 200);
  CHECK(health.at("status") == "degraded");
  CHECK(health.at("checks").at("providers").at("status") == "degraded");
}

TEST_CASE("an embedding model of another dimension stops the node at startup",
          "[providers]") {
  fake_openai fake{{0ms, 64, 0, 0}};
  temp_dir dir;
  auto [status, out] = run_engramd(
    {"--data-dir", dir.path() + "/data", "--listen", "127.0.0.1:0", "--set",
     "embedder.provider=openai", "--set", "embedder.base_url=" + fake.base_url(),
     "--set", "embedder.model=m-embed", "--set", "embedder.dim=384"});
  CHECK(status == 2);
  CHECK(out.find("64 dimensions but the index uses 384") != std::string::npos);
  CHECK(out.find("embedder.dim") != std::string::npos);
}

TEST_CASE("a node with model embeddings ingests and searches", "[providers]") {
  fake_openai fake{{0ms, 64, 0, 0}};
  node_fixture f{{"--set", "embedder.provider=openai", "--set",
                  "embedder.base_url=" + fake.base_url(), "--set",
                  "embedder.model=m-embed", "--set", "embedder.dim=64"}};
  auto& c = *f.client;
  create_alice(c);
  auto seq = post_turn(c, 1, "Alice repaired the lighthouse lamp.");
  applied_turn(c, 1, seq);
  json::object q{{"query", "lighthouse lamp"}, {"session", "s1"},
                 {"min_seq", seq}, {"wait_ms", 15000}};
  auto hits = body_of(c.send_json("POST", user + "/search", json::serialize(q)), 200);
  REQUIRE(hits.at("hits").as_array().size() >= 1);
  CHECK(hits.at("hits").as_array()[0].at("entity_id") == "alice");
  std::size_t embed_calls = 0;
  for (auto& r : fake.requests())
    embed_calls += r.path == "/v1/embeddings";
  CHECK(embed_calls >= 2); // the startup probe, documents, the query
  auto p = body_of(c.get("/v1/providers"), 200);
  REQUIRE(find_model(p, "embedder", "m-embed"));
}

TEST_CASE("engramd --check-providers prints what works", "[providers]") {
  fake_openai fake;
  fake.script_for_model("m-broken", {fake_reply::error(404)});
  auto base = model_args(fake.base_url());
  base.push_back("--check-providers");
  auto [ok_status, ok_out] = run_engramd(base);
  INFO(ok_out);
  CHECK(ok_status == 0);
  CHECK(ok_out.find("m-analysis") != std::string::npos);
  CHECK(ok_out.find("FAIL") == std::string::npos);

  base.insert(base.end() - 1, {"--set", "llm.models.rewrite=m-broken"});
  auto [bad_status, bad_out] = run_engramd(base);
  INFO(bad_out);
  CHECK(bad_status == 1);
  CHECK(bad_out.find("FAIL HTTP 404") != std::string::npos);
}

TEST_CASE("while the embedding server is down documents wait and health is degraded",
          "[providers]") {
  fake_openai fake{{0ms, 64, 0, 0}};
  node_fixture f{{"--set", "embedder.provider=openai", "--set",
                  "embedder.base_url=" + fake.base_url(), "--set",
                  "embedder.model=m-embed", "--set", "embedder.dim=64", "--set",
                  "embedder.max_retries=0", "--set", "embedder.breaker_failures=1",
                  "--set", "embedder.breaker_cooldown_ms=200", "--set",
                  "pipeline.retry_base_ms=50"}};
  auto& c = *f.client;
  auto eseq = create_alice(c);
  json::object warm{{"query", "sailor"}, {"min_seq", eseq}, {"wait_ms", 15000}};
  auto before = body_of(c.send_json("POST", user + "/search", json::serialize(warm)), 200);
  REQUIRE(before.at("hits").as_array().size() == 1); // base lore indexed
  fake.set_default(fake_reply::error(500));
  auto seq = post_turn(c, 1, "Alice repaired the lighthouse lamp.");

  // The embedding fails: the document waits in its durable queue.
  bool degraded = false;
  std::int64_t pending = 0;
  for (int i = 0; i < 100 && !(degraded && pending > 0); ++i) {
    std::this_thread::sleep_for(50ms);
    auto h = body_of(c.get("/healthz"), 200);
    degraded = h.at("checks").at("providers").at("status") == "degraded";
    auto q = body_of(c.get("/v1/queues"), 200);
    auto& e = q.at("queues").at("embedding").as_object();
    pending = e.at("pending").to_number<std::int64_t>()
              + e.at("in_flight").to_number<std::int64_t>();
  }
  CHECK(degraded);
  CHECK(pending > 0);
  json::object q{{"query", "lighthouse lamp"}, {"session", "s1"}, {"min_seq", seq},
                 {"wait_ms", 200}};
  auto down = c.send_json("POST", user + "/search", json::serialize(q));
  INFO(down.body);
  CHECK(down.status == 503); // the query itself cannot be embedded

  // Back up: the waiting document is embedded and found, health recovers.
  fake.set_default(fake_reply::model());
  q["wait_ms"] = 15000;
  auto hits = body_of(c.send_json("POST", user + "/search", json::serialize(q)), 200);
  CHECK(hits.at("stale") == false);
  REQUIRE(hits.at("hits").as_array().size() >= 1);
  auto composite = std::string{hits.at("hits").as_array()[0].at("composite").as_string()};
  CHECK(composite.find("lighthouse") != std::string::npos);
  auto h = body_of(c.get("/healthz"), 200);
  CHECK(h.at("checks").at("providers").at("status") == "ok");
}
