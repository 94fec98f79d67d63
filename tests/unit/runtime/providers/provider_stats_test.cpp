// Specification of runtime/providers/provider_stats: what /v1/providers and
// /healthz report about the model providers.

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "runtime/providers/provider_stats.hpp"

using namespace engram::providers;

namespace json = boost::json;

namespace {

// The entry of `model` in section `kind` of `s.to_json()`.
json::object model_of(const provider_stats& s, const std::string& kind,
                      const std::string& model) {
  auto all = s.to_json();
  REQUIRE(all.contains(kind));
  for (auto& m : all.at(kind).at("models").as_array())
    if (m.at("model").as_string() == model)
      return m.as_object();
  FAIL("no model " << model << " under " << kind);
  return {};
}

uint64_t count(const json::object& entry, const char* key) {
  return entry.at(key).to_number<uint64_t>();
}

double latency(const json::object& entry, const char* key) {
  return entry.at("latency_ms").at(key).to_number<double>();
}

std::vector<std::string> model_names(const json::object& all,
                                     const std::string& kind) {
  std::vector<std::string> out;
  for (auto& m : all.at(kind).at("models").as_array())
    out.emplace_back(m.at("model").as_string());
  return out;
}

// Stats with both kinds described, as the node sets them up.
struct described_stats : provider_stats {
  described_stats() {
    describe("llm", "openai", "http://127.0.0.1:11434/v1");
    describe("embedder", "openai", "http://embed:8080/v1");
  }
};

} // namespace

TEST_CASE("calls, outcomes, items and tokens are counted per model",
          "[provider_stats]") {
  provider_stats s;
  s.describe("llm", "openai", "http://127.0.0.1:11434/v1");
  s.call_done("m1", 0.1, true, false, 3, 100);
  s.call_done("m1", 0.2, false, true, 2, 0);
  s.call_done("m1", 0.3, false, false, 1, 7);
  s.call_done("m2", 0.1, true, false, 1, 5);
  s.count_retry("m1", 2);
  s.count_retry("m1");
  s.count_fallback("m1");
  s.count_fallback("m1", 4);
  s.count_rate_limited("m1");
  s.set_tasks("m1", {"analysis", "rewrite"});
  auto m1 = model_of(s, "llm", "m1");
  CHECK(count(m1, "calls") == 3);
  CHECK(count(m1, "ok") == 1);
  CHECK(count(m1, "failures") == 2);
  CHECK(count(m1, "timeouts") == 1);
  CHECK(count(m1, "retries") == 3);
  CHECK(count(m1, "fallbacks") == 5);
  CHECK(count(m1, "rate_limited") == 1);
  CHECK(count(m1, "items") == 6);
  CHECK(count(m1, "tokens") == 107);
  CHECK(m1.at("tasks") == json::parse(R"(["analysis","rewrite"])"));
  auto m2 = model_of(s, "llm", "m2");
  CHECK(count(m2, "calls") == 1);
  CHECK(count(m2, "retries") == 0);
  CHECK(m2.at("tasks").as_array().empty());
}

TEST_CASE("a section shows its provider and base URL", "[provider_stats]") {
  described_stats s;
  auto all = s.to_json();
  CHECK(all.at("llm").at("provider").as_string() == "openai");
  CHECK(all.at("llm").at("base_url").as_string() == "http://127.0.0.1:11434/v1");
  CHECK(all.at("embedder").at("base_url").as_string() == "http://embed:8080/v1");
  CHECK(all.at("llm").at("models").as_array().empty());
}

TEST_CASE("only described kinds are shown", "[provider_stats]") {
  provider_stats s;
  s.call_done("m1", 0.1, true, false, 1, 1);
  CHECK(s.to_json().empty());
  s.describe("llm", "openai", "http://x/v1");
  CHECK(s.to_json().size() == 1);
  CHECK(model_names(s.to_json(), "llm") == std::vector<std::string>{"m1"});
}

TEST_CASE("latency percentiles come from the recorded samples",
          "[provider_stats]") {
  described_stats s;
  std::vector<int> ms(100);
  for (int i = 0; i < 100; ++i)
    ms[i] = i + 1; // 1..100 ms
  std::shuffle(ms.begin(), ms.end(), std::mt19937{7});
  for (auto x : ms)
    s.call_done("m", x / 1000.0, true, false, 1, 0);
  auto m = model_of(s, "llm", "m");
  CHECK(latency(m, "p50") >= Approx(50.0));
  CHECK(latency(m, "p50") <= Approx(51.0));
  CHECK(latency(m, "p99") >= Approx(99.0));
  CHECK(latency(m, "p99") <= Approx(100.0));
  CHECK(count(m.at("latency_ms").as_object(), "samples") == 100);
}

TEST_CASE("one sample is every percentile; none reads as zero",
          "[provider_stats]") {
  described_stats s;
  s.call_done("one", 0.25, false, false, 1, 0);
  s.error("none", "connection refused"); // creates the entry, no call
  auto one = model_of(s, "llm", "one");
  CHECK(latency(one, "p50") == Approx(250.0));
  CHECK(latency(one, "p99") == Approx(250.0));
  auto none = model_of(s, "llm", "none");
  CHECK(latency(none, "p50") == 0.0);
  CHECK(latency(none, "p99") == 0.0);
  CHECK(count(none.at("latency_ms").as_object(), "samples") == 0);
  CHECK(count(none, "calls") == 0);
}

TEST_CASE("old latency samples are dropped first", "[provider_stats]") {
  described_stats s;
  for (int i = 0; i < 100; ++i)
    s.call_done("m", 10.0, true, false, 1, 0); // old and slow
  for (int i = 0; i < 1024; ++i)
    s.call_done("m", 0.002, true, false, 1, 0);
  auto m = model_of(s, "llm", "m");
  CHECK(count(m.at("latency_ms").as_object(), "samples") == 1024);
  CHECK(latency(m, "p99") == Approx(2.0));
  CHECK(count(m, "calls") == 1124); // counters keep everything
}

TEST_CASE("recent errors are newest first and capped at ten",
          "[provider_stats]") {
  described_stats s;
  for (int i = 0; i < 12; ++i)
    s.error("m", "e" + std::to_string(i));
  auto errors = model_of(s, "llm", "m").at("recent_errors").as_array();
  REQUIRE(errors.size() == 10);
  CHECK(errors.front().at("error").as_string() == "e11");
  CHECK(errors.back().at("error").as_string() == "e2");
  for (auto& e : errors) {
    auto at = std::string{e.at("at").as_string()};
    CHECK(at.size() >= 20); // an ISO 8601 timestamp such as 2024-...Z
    CHECK(at.back() == 'Z');
  }
}

TEST_CASE("embedder entries live under embedder, llm ones under llm",
          "[provider_stats]") {
  described_stats s;
  s.call_done("qwen", 0.1, true, false, 1, 10);
  s.call_done(embedder_key("bge"), 0.05, true, false, 16, 0);
  s.call_done(embedder_key("qwen"), 0.05, false, false, 4, 0);
  auto all = s.to_json();
  CHECK(model_names(all, "llm") == std::vector<std::string>{"qwen"});
  auto embed = model_names(all, "embedder");
  std::sort(embed.begin(), embed.end());
  CHECK(embed == std::vector<std::string>{"bge", "qwen"});
  // One model name serving both kinds keeps two separate entries.
  CHECK(count(model_of(s, "llm", "qwen"), "ok") == 1);
  CHECK(count(model_of(s, "embedder", "qwen"), "failures") == 1);
  CHECK(count(model_of(s, "embedder", "bge"), "items") == 16);
  CHECK(embedder_key("bge") != "bge");
}

TEST_CASE("the llm section carries the node-wide gauges", "[provider_stats]") {
  described_stats s;
  s.rules_fallbacks(3);
  s.rules_fallbacks(2);
  s.gauges(9, 9, 9);
  s.gauges(4, 2, 1); // gauges are replaced, not added
  auto all = s.to_json();
  auto& llm = all.at("llm").as_object();
  CHECK(count(llm, "rules_fallbacks") == 5);
  CHECK(count(llm, "queued") == 4);
  CHECK(count(llm, "in_flight") == 2);
  CHECK(count(llm, "users_over_budget") == 1);
  auto& embedder = all.at("embedder").as_object();
  CHECK_FALSE(embedder.contains("rules_fallbacks"));
  CHECK_FALSE(embedder.contains("queued"));
}

TEST_CASE("breakers: state per model, worst embedder, open llm models",
          "[provider_stats]") {
  described_stats s;
  CHECK(s.embedder_breaker() == "closed");
  CHECK(s.open_llm_breakers().empty());

  s.breaker("m1", "open", 5);
  s.breaker_transition("m1", "open");
  s.breaker_transition("m1", "half_open");
  s.breaker_transition("m1", "open");
  s.breaker("m2", "closed", 0);
  s.breaker("m3", "half_open", 5);
  auto m1 = model_of(s, "llm", "m1");
  CHECK(m1.at("breaker") == json::parse(R"({"state":"open",)"
                                        R"("consecutive_failures":5,)"
                                        R"("opened":2,"half_opened":1,"closed":0})"));
  CHECK(s.open_llm_breakers()
        == std::vector<std::string>{"m1 (open)", "m3 (half_open)"});
  CHECK(s.embedder_breaker() == "closed"); // llm breakers do not count

  s.breaker(embedder_key("a"), "closed", 0);
  s.breaker(embedder_key("b"), "half_open", 5);
  CHECK(s.embedder_breaker() == "half_open");
  s.breaker(embedder_key("c"), "open", 6);
  CHECK(s.embedder_breaker() == "open");
  CHECK(s.open_llm_breakers().size() == 2); // embedder breakers do not count
  s.breaker(embedder_key("b"), "closed", 0);
  s.breaker(embedder_key("c"), "closed", 0);
  CHECK(s.embedder_breaker() == "closed");
  CHECK(model_of(s, "embedder", "c").at("breaker").at("state").as_string() == "closed");
}

TEST_CASE("the embedder error stays until a successful call",
          "[provider_stats]") {
  described_stats s;
  CHECK(s.embedder_error().empty());
  s.error("llm-model", "llm trouble");
  CHECK(s.embedder_error().empty()); // llm errors are not the embedder's

  auto key = embedder_key("bge");
  s.error(key, "returned 768 dimensions but the index uses 384");
  CHECK(s.embedder_error() == "returned 768 dimensions but the index uses 384");
  s.call_done(key, 0.1, false, false, 4, 0); // a failed call clears nothing
  CHECK(s.embedder_error() == "returned 768 dimensions but the index uses 384");
  s.call_done(key, 0.1, true, false, 4, 0);
  CHECK(s.embedder_error().empty());
  // An error right after the success (same millisecond) shows again.
  s.error(key, "timeout");
  CHECK(s.embedder_error() == "timeout");
  s.call_done(key, 0.1, true, false, 4, 0);
  CHECK(s.embedder_error().empty());
}
