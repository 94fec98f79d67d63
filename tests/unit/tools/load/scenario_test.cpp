// engram-load scenarios: parsing, defaults and precise errors.

#include <catch2/catch.hpp>

#include <string>

#include "messages/errors.hpp"
#include "tools/load/scenario.hpp"

using namespace engram;
using namespace engram::load;

namespace {

void fails_at(const std::string& text, const std::string& field) {
  auto s = parse_scenario(text);
  INFO(text);
  REQUIRE_FALSE(s);
  CHECK(field_of(s.error()) == field);
  CHECK(message_of(s.error()).rfind(field, 0) == 0);
}

} // namespace

TEST_CASE("a scenario with comments parses with its defaults", "[load]") {
  auto s = parse_scenario(R"({
    // smoke test
    "name": "smoke",
    "setup": {"users": 5, "entities_per_user": 3},
    "phases": [
      {"duration_s": 2, "rate": 100, "mix": {"turn": 3, "search": 1, "healthz": 0},},
      {"name": "closed", "duration_s": 1.5, "concurrency": 8, "users": {"zipf": 1.2},
       "mix": {"intent.close": 1}},
    ],
    "freshness": {"fraction": 0.1},
    "slo": {"turn.p99_ms": 50, "error_rate": 0.001, "freshness.p99_ms": 500},
  })");
  REQUIRE(s);
  CHECK(s->name == "smoke");
  CHECK(s->setup.users == 5);
  CHECK(s->setup.entities_per_user == 3);
  CHECK(s->setup.entity_types.size() == 3);
  REQUIRE(s->phases.size() == 2);
  CHECK(s->phases[0].name == "phase1");
  CHECK(s->phases[0].rate == 100);
  CHECK(s->phases[0].concurrency == 0);
  CHECK(s->phases[0].mix.size() == 2); // weight 0 dropped
  CHECK_FALSE(s->phases[0].users.zipf);
  CHECK(s->phases[1].concurrency == 8);
  CHECK(s->phases[1].users.zipf);
  CHECK(s->phases[1].users.exponent == Approx(1.2));
  CHECK(s->total_seconds() == Approx(3.5));
  CHECK(s->freshness.fraction == Approx(0.1));
  CHECK(s->freshness.timeout_ms == 10000);
  CHECK(s->slo.limits.at("turn.p99_ms") == 50);
  CHECK(s->slo.limits.size() == 3);
}

TEST_CASE("scenario errors name the path of the bad field", "[load]") {
  const std::string phase = R"("phases":[{"duration_s":1,"rate":10,"mix":{"turn":1}}])";
  fails_at(R"({"phases":[]})", "phases");
  fails_at(R"({})", "phases");
  fails_at(R"({"nmae":"x",)" + phase + "}", "nmae");
  fails_at(R"({"phases":[{"rate":10,"mix":{"turn":1}}]})", "phases[0].duration_s");
  fails_at(R"({"phases":[{"duration_s":1,"mix":{"turn":1}}]})", "phases[0]");
  fails_at(R"({"phases":[{"duration_s":1,"rate":10,"concurrency":2,"mix":{"turn":1}}]})",
           "phases[0]");
  fails_at(R"({"phases":[{"duration_s":1,"rate":-1,"mix":{"turn":1}}]})", "phases[0].rate");
  fails_at(R"({"phases":[{"duration_s":1,"rate":10,"mix":{"turnx":1}}]})",
           "phases[0].mix.turnx");
  fails_at(R"({"phases":[{"duration_s":1,"rate":10,"mix":{"turn":"a"}}]})",
           "phases[0].mix.turn");
  fails_at(R"({"phases":[{"duration_s":1,"rate":10,"mix":{"turn":0}}]})", "phases[0].mix");
  fails_at(R"({"phases":[{"duration_s":1,"rate":10,"users":"pareto","mix":{"turn":1}}]})",
           "phases[0].users");
  fails_at(R"({"phases":[{"duration_s":1,"rate":10,"users":{"zipf":0},"mix":{"turn":1}}]})",
           "phases[0].users.zipf");
  fails_at(R"({"setup":{"users":0},)" + phase + "}", "setup.users");
  fails_at(R"({"setup":{"entity_types":[""]},)" + phase + "}", "setup.entity_types[0]");
  fails_at(R"({"freshness":{"fraction":2},)" + phase + "}", "freshness.fraction");
  fails_at(R"({"slo":{"turn.p98_ms":5},)" + phase + "}", "slo.turn.p98_ms");
  fails_at(R"({"slo":{"nope.p99_ms":5},)" + phase + "}", "slo.nope.p99_ms");
  auto broken = parse_scenario("{not json");
  REQUIRE_FALSE(broken);
  CHECK(code_of(broken.error()) == ec::malformed_request);
  auto missing = load_scenario("/nonexistent/scenario.json");
  REQUIRE_FALSE(missing);
  CHECK(message_of(missing.error()).find("/nonexistent/scenario.json") == 0);
}

TEST_CASE("every bundled scenario parses", "[load]") {
  for (auto name : {"smoke", "steady", "spike", "soak", "export-storm", "cluster",
                    "baseline"}) {
    auto s = load_scenario(std::string{ENGRAM_SOURCE_DIR} + "/tools/scenarios/" + name
                           + ".json");
    INFO(name << ": " << (s ? "" : message_of(s.error())));
    REQUIRE(s);
    CHECK(s->name == name);
    CHECK(s->total_seconds() > 0);
  }
}
