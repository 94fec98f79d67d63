// The model-provider client (actors/llm_client.hpp) and the OpenAI
// embedder against the scriptable fake server (tests/fixtures/fake_openai):
// retries and back-off, Retry-After, the fallback chain, the breaker,
// batching and its item-by-item recovery, budgets, and the rules provider
// as the last resort. In process: the client is spawned in a test actor
// system, so every request the server saw can be checked.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <caf/all.hpp>

#include "actors/embedder.hpp"
#include "actors/llm_client.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "runtime/metrics.hpp"
#include "runtime/providers/openai_embedder.hpp"
#include "runtime/providers/provider_stats.hpp"
#include "runtime/providers/rules_llm.hpp"
#include "tests/fixtures/fake_openai.hpp"

using namespace engram;
using namespace engram::testing;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

using steady = std::chrono::steady_clock;

struct client_fixture {
  fake_openai fake;
  // Before the actor system: its actors use these until it has stopped.
  metrics::registry reg;
  std::shared_ptr<providers::provider_stats> stats
    = std::make_shared<providers::provider_stats>();
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  llm_client_options opts;
  llm_worker_actor client;

  client_fixture() {
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    opts.base_url = fake.base_url();
    opts.api_key = "test-key";
    opts.models[0] = "m-analysis";
    opts.models[1] = "m-rewrite";
    opts.models[2] = "m-creation";
    opts.retry_base_ms = 10;
    opts.retry_max_ms = 40;
    opts.timeout_ms = 5000;
    opts.max_concurrency = 4;
    opts.prompts = providers::builtin_prompts();
    stats->describe("llm", "openai", opts.base_url);
  }

  ~client_fixture() {
    if (client) {
      caf::scoped_actor self{*sys};
      self->send_exit(client, caf::exit_reason::user_shutdown);
      self->wait_for(client);
    }
    fake.stop();
  }

  void start() {
    provider_factory rules = [] {
      return std::make_unique<providers::rules_llm>();
    };
    client = spawn_llm_client(*sys, opts, {spawn_llm_worker(*sys, rules, reg)},
                              reg, stats);
  }

  caf::expected<providers::analysis_result>
  analyse(const providers::analysis_input& in, caf::duration wait = caf::duration{10s}) {
    caf::scoped_actor self{*sys};
    caf::expected<providers::analysis_result> out{make_error(ec::internal, "no answer")};
    self->request(client, wait, analyse_atom::value, in)
      .receive([&](providers::analysis_result& r) { out = std::move(r); },
               [&](caf::error& e) { out = e; });
    return out;
  }

  std::vector<std::string> models_asked() const {
    std::vector<std::string> out;
    for (auto& r : fake.requests())
      if (r.path == "/v1/chat/completions")
        out.push_back(r.model);
    return out;
  }

  json::object llm_model(const std::string& name) const {
    auto doc = stats->to_json();
    for (auto& m : doc.at("llm").at("models").as_array())
      if (m.at("model").as_string() == name.c_str())
        return m.as_object();
    FAIL("no stats for model " << name);
    return {};
  }
};

providers::analysis_input turn(std::string user, int64_t n, std::string text) {
  return {std::move(user), "s1", n, std::move(text),
          {{"e1", "character", "Alice", {}}, {"e2", "location", "Harbor", {}}}};
}

// The user document of a chat request (the last message's JSON content).
json::object user_doc(const fake_request& r) {
  auto& msgs = r.body.at("messages").as_array();
  return json::parse(msgs.back().at("content").as_string()).as_object();
}

std::size_t items_of(const fake_request& r) {
  return user_doc(r).at("items").as_array().size();
}

bool model_wrote(const providers::analysis_result& r) {
  return r.updates.size() == 1 && r.updates[0].lore_entry_id == "e1"
         && r.updates[0].update_summary.rfind("model saw Alice", 0) == 0;
}

} // namespace

TEST_CASE("llm client: the model's answer is used, with key, schema and ids",
          "[llm_client]") {
  client_fixture f;
  f.start();
  auto r = f.analyse(turn("u1", 1, "Alice met a smith named Borin."));
  REQUIRE(r);
  CHECK(model_wrote(*r));
  REQUIRE(r->creations.size() == 1);
  CHECK(r->creations[0].name == "Borin");
  auto reqs = f.fake.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].authorization == "Bearer test-key");
  CHECK(reqs[0].model == "m-analysis");
  auto& fmt = reqs[0].body.at("response_format").as_object();
  CHECK(fmt.at("type") == "json_schema");
  auto schema = json::serialize(fmt.at("json_schema"));
  CHECK(schema.find("\"enum\":[\"e1\",\"e2\"]") != std::string::npos);
  CHECK(reqs[0].body.at("temperature").as_double() == Approx(0.3));
  CHECK(f.llm_model("m-analysis").at("ok").as_uint64() == 1);
}

TEST_CASE("llm client: reasoning and code fences around the JSON are stripped",
          "[llm_client]") {
  client_fixture f;
  f.fake.script({fake_reply::wrapped_model()});
  f.start();
  auto r = f.analyse(turn("u1", 1, "Alice waited."));
  REQUIRE(r);
  CHECK(model_wrote(*r));
  CHECK(f.fake.request_count() == 1);
}

TEST_CASE("llm client: failed calls are retried up to max_retries",
          "[llm_client]") {
  client_fixture f;
  f.opts.max_retries = 2;
  f.fake.script({fake_reply::error(500), fake_reply::error(502), fake_reply::model()});
  f.start();
  auto r = f.analyse(turn("u1", 1, "Alice ran."));
  REQUIRE(r);
  CHECK(model_wrote(*r));
  CHECK(f.fake.request_count() == 3);
  auto m = f.llm_model("m-analysis");
  CHECK(m.at("retries").as_uint64() == 2);
  CHECK(m.at("failures").as_uint64() == 2);
  CHECK(m.at("recent_errors").as_array().size() == 2);

  SECTION("a dropped connection is survived") {
    f.fake.script({fake_reply::drop(), fake_reply::model()});
    auto r2 = f.analyse(turn("u1", 2, "Alice ran."));
    REQUIRE(r2);
    CHECK(model_wrote(*r2));
  }
}

TEST_CASE("llm client: a 429's Retry-After is honoured over the back-off",
          "[llm_client]") {
  client_fixture f;
  f.opts.max_retries = 1;
  f.fake.script({fake_reply::error(429, "1"), fake_reply::model()});
  f.start();
  auto r = f.analyse(turn("u1", 1, "Alice ran."));
  REQUIRE(r);
  auto reqs = f.fake.requests();
  REQUIRE(reqs.size() == 2);
  auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(reqs[1].at
                                                                   - reqs[0].at);
  // The back-off alone would be <= 40 ms.
  CHECK(gap >= 900ms);
  CHECK(f.llm_model("m-analysis").at("rate_limited").as_uint64() == 1);
}

TEST_CASE("llm client: the fallback chain is tried in order, then rules",
          "[llm_client]") {
  client_fixture f;
  f.opts.max_retries = 0;
  f.opts.fallback_models = {"m-fb1", "m-fb2"};
  f.fake.script_for_model("m-analysis", {fake_reply::error(503)});
  f.fake.script_for_model("m-fb1", {fake_reply::malformed()});
  f.start();
  auto r = f.analyse(turn("u1", 1, "Alice ran."));
  REQUIRE(r);
  CHECK(model_wrote(*r));
  CHECK(f.models_asked() == std::vector<std::string>{"m-analysis", "m-fb1", "m-fb2"});
  CHECK(f.llm_model("m-analysis").at("fallbacks").as_uint64() == 1);
  CHECK(f.llm_model("m-fb1").at("fallbacks").as_uint64() == 1);

  SECTION("every model failing ends with the rules provider") {
    f.fake.script_for_model("m-analysis", {fake_reply::error(500)});
    f.fake.script_for_model("m-fb1", {fake_reply::wrong_shape()});
    f.fake.script_for_model("m-fb2", {fake_reply::error(401)});
    auto in = turn("u1", 2, "Alice ran to the Harbor.");
    auto r2 = f.analyse(in);
    REQUIRE(r2);
    auto expected = providers::rules_llm{}.analyse(in);
    REQUIRE(expected);
    CHECK(providers::to_json(*r2) == providers::to_json(*expected));
    CHECK(f.stats->to_json().at("llm").at("rules_fallbacks").as_uint64() == 1);
  }
}

TEST_CASE("llm client: a server that is down still gets every task answered",
          "[llm_client]") {
  client_fixture f;
  f.opts.max_retries = 1;
  f.fake.stop(); // nothing listens on the port any more
  f.start();
  for (int i = 1; i <= 3; ++i) {
    auto in = turn("u1", i, "Alice sailed from the Harbor.");
    auto r = f.analyse(in);
    REQUIRE(r);
    CHECK(providers::to_json(*r) == providers::to_json(*providers::rules_llm{}.analyse(in)));
  }
  CHECK(f.stats->to_json().at("llm").at("rules_fallbacks").as_uint64() == 3);
  CHECK(f.reg.render().find("engram_llm_rules_fallbacks_total{task=\"analysis\"} 3")
        != std::string::npos);
}

TEST_CASE("llm client: a call slower than timeout_ms is a timeout and retried",
          "[llm_client]") {
  client_fixture f;
  f.opts.timeout_ms = 200;
  f.opts.max_retries = 1;
  f.fake.script({fake_reply::slow(1500ms), fake_reply::model()});
  f.start();
  auto t0 = steady::now();
  auto r = f.analyse(turn("u1", 1, "Alice ran."));
  REQUIRE(r);
  CHECK(model_wrote(*r));
  CHECK(steady::now() - t0 < 1400ms);
  CHECK(f.llm_model("m-analysis").at("timeouts").as_uint64() == 1);
}

TEST_CASE("llm client: the breaker opens, skips the model, and a probe closes it",
          "[llm_client]") {
  client_fixture f;
  f.opts.max_retries = 0;
  f.opts.breaker_failures = 2;
  f.opts.breaker_cooldown_ms = 300;
  f.fake.set_default(fake_reply::error(500));
  f.start();
  CHECK(f.analyse(turn("u1", 1, "Alice ran.")));
  CHECK(f.analyse(turn("u1", 2, "Alice ran.")));
  CHECK(f.fake.request_count() == 2);
  CHECK(f.llm_model("m-analysis").at("breaker").at("state") == "open");
  // Open: answered by rules without calling the server.
  CHECK(f.analyse(turn("u1", 3, "Alice ran.")));
  CHECK(f.fake.request_count() == 2);
  f.fake.set_default(fake_reply::model());
  std::this_thread::sleep_for(350ms); // the cool-down
  auto r = f.analyse(turn("u1", 4, "Alice ran."));
  REQUIRE(r);
  CHECK(model_wrote(*r)); // the probe got through and was used
  CHECK(f.fake.request_count() == 3);
  auto breaker = f.llm_model("m-analysis").at("breaker");
  CHECK(breaker.at("state") == "closed");
  CHECK(breaker.at("opened").as_uint64() == 1);
  CHECK(breaker.at("half_opened").as_uint64() == 1);
  CHECK(breaker.at("closed").as_uint64() == 1);
  auto metrics = f.reg.render();
  CHECK(metrics.find("engram_llm_breaker_transitions_total{model=\"m-analysis\",to=\"open\"} 1")
        != std::string::npos);
  CHECK(metrics.find("engram_llm_breaker_transitions_total{model=\"m-analysis\",to=\"closed\"} 1")
        != std::string::npos);
}

namespace {

// Sends `n` analyses of one user at once and collects every answer.
std::vector<caf::expected<providers::analysis_result>>
analyse_many(client_fixture& f, const std::string& user, int n) {
  caf::scoped_actor self{*f.sys};
  std::vector<caf::expected<providers::analysis_result>> out;
  for (int i = 1; i <= n; ++i)
    self->send(caf::actor_cast<caf::actor>(f.client), analyse_atom::value,
               turn(user, i, "Alice waited at the Harbor."));
  for (int i = 0; i < n; ++i)
    self->receive(
      [&](providers::analysis_result& r) { out.emplace_back(std::move(r)); },
      [&](caf::error& e) { out.emplace_back(e); },
      caf::after(std::chrono::seconds(10)) >> [&] {
        out.emplace_back(make_error(ec::internal, "no answer"));
      });
  return out;
}

} // namespace

TEST_CASE("llm client: queued tasks of one user share a call", "[llm_client]") {
  client_fixture f;
  f.opts.max_concurrency = 1;
  f.opts.batch_size = 8;
  // The first call is slow, so the next four queue up behind it.
  f.fake.script({fake_reply::slow(300ms)});
  f.start();
  auto results = analyse_many(f, "u1", 5);
  for (auto& r : results) {
    REQUIRE(r);
    CHECK(r->updates.size() == 2); // Alice and the Harbor
  }
  auto reqs = f.fake.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(items_of(reqs[0]) == 1);
  CHECK(items_of(reqs[1]) == 4);

  SECTION("batch_size 1 sends every task alone") {
    client_fixture g;
    g.opts.max_concurrency = 1;
    g.opts.batch_size = 1;
    g.fake.script({fake_reply::slow(100ms)});
    g.start();
    for (auto& r : analyse_many(g, "u1", 4))
      CHECK(r);
    CHECK(g.fake.request_count() == 4);
  }
}

TEST_CASE("llm client: a batch answer that does not match is retried item by item",
          "[llm_client]") {
  client_fixture f;
  f.opts.max_concurrency = 1;
  f.fake.script({fake_reply::slow(300ms),
                 // Only item 0 of the batch of three is answered.
                 fake_reply::content(R"({"results":[{"item":0,"updates":[],"creations":[]}]})")});
  f.start();
  auto results = analyse_many(f, "u1", 4);
  for (auto& r : results)
    REQUIRE(r);
  auto reqs = f.fake.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(items_of(reqs[1]) == 3);
  CHECK(items_of(reqs[2]) == 1);
  CHECK(items_of(reqs[3]) == 1);
}

TEST_CASE("llm client: a user over budget waits without holding up others",
          "[llm_client]") {
  client_fixture f;
  f.opts.budget.calls_per_minute = 2;
  f.opts.batch_size = 1;
  f.start();
  REQUIRE(f.analyse(turn("greedy", 1, "Alice ran.")));
  REQUIRE(f.analyse(turn("greedy", 2, "Alice ran.")));
  caf::scoped_actor self{*f.sys};
  self->send(caf::actor_cast<caf::actor>(f.client), analyse_atom::value,
             turn("greedy", 3, "Alice ran."));
  // Another user is served at once.
  auto other = f.analyse(turn("modest", 1, "Alice ran."));
  REQUIRE(other);
  CHECK(model_wrote(*other));
  bool answered = false;
  self->receive([&](providers::analysis_result&) { answered = true; },
                [&](caf::error&) { answered = true; },
                caf::after(std::chrono::milliseconds(300)) >> [] {});
  CHECK_FALSE(answered); // still queued: backpressure, not an error
  CHECK(f.fake.request_count() == 3);
  CHECK(f.stats->to_json().at("llm").at("users_over_budget").as_uint64() == 1);
}

TEST_CASE("llm client: the rate limit spaces calls out", "[llm_client]") {
  client_fixture f;
  f.opts.rate_limit_rps = 4; // a burst of 4, then one call per 250 ms
  f.opts.batch_size = 1;
  f.start();
  auto t0 = steady::now();
  for (int i = 1; i <= 6; ++i)
    REQUIRE(f.analyse(turn("u1", i, "Alice ran.")));
  CHECK(steady::now() - t0 >= 450ms); // calls 5 and 6 waited for tokens
  auto reqs = f.fake.requests();
  REQUIRE(reqs.size() == 6);
  CHECK(reqs[5].at - reqs[4].at >= 200ms);
}

TEST_CASE("llm client: a server refusing json_schema is asked with json_object",
          "[llm_client]") {
  client_fixture f;
  fake_reply refuse;
  refuse.what = fake_reply::kind::status;
  refuse.status = 400;
  refuse.body = R"({"error":{"message":"response_format json_schema is not supported"}})";
  f.fake.script({refuse});
  f.start();
  auto r = f.analyse(turn("u1", 1, "Alice ran."));
  REQUIRE(r);
  auto reqs = f.fake.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].body.at("response_format").at("type") == "json_object");
}

TEST_CASE("llm client: rewrite and creation go through the model", "[llm_client]") {
  client_fixture f;
  f.start();
  caf::scoped_actor self{*f.sys};
  rewrite_chain chain{{"e1", "Alice", "character", "A sailor.", "Old note.", "", 400},
                      {"Alice ran.", "Alice slept."}, "u1"};
  self->request(f.client, caf::duration{10s}, rewrite_atom::value, chain)
    .receive([](string_list& notes) {
               REQUIRE(notes.size() == 1);
               CHECK(notes[0] == "Old note. [model] Alice ran.; Alice slept.");
             },
             [](caf::error& e) { FAIL(to_string(e)); });
  providers::creation_input in{"character", "A smith named Borin.", "Borin", "u1"};
  self->request(f.client, caf::duration{10s}, create_atom::value, in)
    .receive([](providers::creation_result& r) {
               CHECK(r.title == "Borin");
               CHECK(r.content == "[model] A smith named Borin.");
               CHECK(r.tags == std::vector<std::string>{"model-created"});
             },
             [](caf::error& e) { FAIL(to_string(e)); });
  auto reqs = f.fake.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].model == "m-rewrite");
  CHECK(reqs[0].body.at("temperature").as_double() == Approx(0.7));
  CHECK(reqs[1].model == "m-creation");
}

// --- embeddings ----------------------------------------------------------------

TEST_CASE("openai embedder: batched calls, checked dimension, breaker",
          "[llm_client][embedder]") {
  fake_openai fake{{0ms, 64, 0, 0}};
  auto stats = std::make_shared<providers::provider_stats>();
  metrics::registry reg;
  providers::openai_embedder_options o;
  o.base_url = fake.base_url();
  o.model = "m-embed";
  o.dim = 64;
  o.max_retries = 1;
  o.backoff = {std::chrono::milliseconds(5), std::chrono::milliseconds(20)};
  o.breaker.failure_threshold = 2;
  o.breaker.cooldown = std::chrono::milliseconds(60000);

  SECTION("one request per batch, unit vectors in order") {
    providers::openai_embedder e{o, stats, &reg};
    auto v = e.embed({"alpha harbor", "beta river", "alpha harbor"});
    REQUIRE(v);
    REQUIRE(v->size() == 3);
    CHECK((*v)[0] == (*v)[2]);
    CHECK((*v)[0] != (*v)[1]);
    double n = 0;
    for (auto x : (*v)[1])
      n += double(x) * x;
    CHECK(n == Approx(1.0));
    CHECK(fake.request_count() == 1);
    CHECK(fake.requests()[0].body.at("input").as_array().size() == 3);
  }
  SECTION("the embedder actor micro-batches concurrent documents") {
    caf::actor_system_config cfg;
    register_message_types(cfg);
    caf::actor_system sys{cfg};
    auto impl = std::make_shared<providers::openai_embedder>(o, stats, &reg);
    auto actor = spawn_embedder(sys, impl, {64, std::chrono::microseconds(50000)}, reg);
    caf::scoped_actor self{sys};
    for (int i = 0; i < 5; ++i)
      self->send(caf::actor_cast<caf::actor>(actor), embed_atom::value,
                 string_list{"doc " + std::to_string(i)});
    for (int i = 0; i < 5; ++i)
      self->receive([](vector_list& v) { CHECK(v.size() == 1); },
                    [](caf::error& e) { FAIL(to_string(e)); });
    CHECK(fake.request_count() == 1);
    self->send_exit(actor, caf::exit_reason::user_shutdown);
  }
  SECTION("a model with another dimension is an error, never a vector") {
    o.dim = 32;
    providers::openai_embedder e{o, stats, &reg};
    auto v = e.embed({"alpha"});
    REQUIRE_FALSE(v);
    CHECK(message_of(v.error()).find("64 dimensions but the index uses 32")
          != std::string::npos);
    CHECK(fake.request_count() == 1); // not retried: it would be wrong again
    CHECK(stats->embedder_error().find("dimensions") != std::string::npos);
  }
  SECTION("a failing server opens the breaker, then calls fail fast") {
    fake.set_default(fake_reply::error(500));
    providers::openai_embedder e{o, stats, &reg};
    CHECK_FALSE(e.embed({"alpha"})); // two attempts: opens the breaker
    CHECK(fake.request_count() == 2);
    auto v = e.embed({"alpha"});
    REQUIRE_FALSE(v);
    CHECK(code_of(v.error()) == ec::unavailable);
    CHECK(fake.request_count() == 2);
    CHECK(stats->embedder_breaker() == "open");
  }
}

TEST_CASE("llm client: callers wait long enough for every budget window",
          "[llm_client]") {
  llm_client_options o;
  o.timeout_ms = 1000;
  o.retry_max_ms = 1000;
  o.max_retries = 0;
  auto base = worst_case_latency(o, 8);
  o.budget.calls_per_minute = 1;
  o.batch_size = 1;
  // 8 queued tasks of one user, one call a minute: 8 more windows.
  CHECK(worst_case_latency(o, 8) - base == std::chrono::minutes(8));
  o.batch_size = 8; // one call carries all of them
  CHECK(worst_case_latency(o, 8) - base == std::chrono::minutes(1));
}
