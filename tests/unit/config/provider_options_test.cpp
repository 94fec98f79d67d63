// The llm and embedder sections: their defaults, reading them from every
// source, real-valued temperatures, and the rules that need a model named
// when a model-backed provider is chosen.

#include <limits>

#include <boost/json.hpp>

#include "support.hpp"

using namespace engram;
using namespace engram::config;
using namespace engram::config::test;

namespace {

caf::expected<options> set(const std::vector<std::string>& settings,
                           const env_lookup& env = no_env()) {
  cli_overrides cli;
  cli.settings = settings;
  return load_options(cli, env);
}

// Every llm and embedder field, spelled out (support.hpp's require_same does
// not compare these sections).
auto tie_llm(const llm_options& x) {
  return std::tie(x.provider, x.base_url, x.api_key_env, x.models.analysis,
                  x.models.rewrite, x.models.creation, x.fallback_models,
                  x.temperature.analysis, x.temperature.rewrite,
                  x.temperature.creation, x.prompts.analysis,
                  x.prompts.rewrite, x.prompts.creation,
                  x.budget.calls_per_minute, x.budget.tokens_per_minute,
                  x.json_mode, x.timeout_ms, x.max_retries, x.retry_base_ms,
                  x.retry_max_ms, x.max_concurrency, x.rate_limit_rps,
                  x.batch_size, x.breaker_failures, x.breaker_cooldown_ms,
                  x.max_tokens);
}

auto tie_embedder(const embedder_options& x) {
  return std::tie(x.provider, x.dim, x.batch_size, x.max_wait_us, x.base_url,
                  x.api_key_env, x.model, x.send_dimensions, x.timeout_ms,
                  x.max_retries, x.breaker_failures, x.breaker_cooldown_ms);
}

// An openai setup with every llm and embedder field off its default.
const char* full_openai_json = R"({
  "llm": {
    "provider": "openai",
    "base_url": "https://api.openai.com/v1",
    "api_key_env": "OPENAI_API_KEY",
    "models": {"analysis": "gpt-4o-mini", "rewrite": "gpt-4o",
               "creation": "gpt-4.1-nano"},
    "fallback_models": ["qwen2.5:7b-instruct", "llama3.1:8b"],
    "temperature": {"analysis": 0, "rewrite": 1.25, "creation": 2},
    "prompts": {"analysis": "/etc/engram/a.txt", "rewrite": "r.txt",
                "creation": "c.txt"},
    "budget": {"calls_per_minute": 60, "tokens_per_minute": 100000},
    "json_mode": "json_object",
    "timeout_ms": 1000,
    "max_retries": 0,
    "retry_base_ms": 10,
    "retry_max_ms": 20,
    "max_concurrency": 2,
    "rate_limit_rps": 5,
    "batch_size": 1,
    "breaker_failures": 3,
    "breaker_cooldown_ms": 100,
    "max_tokens": 16,
  },
  "embedder": {
    "provider": "openai",
    "dim": 1536,
    "batch_size": 128,
    "max_wait_us": 0,
    "base_url": "http://10.0.0.5:8080/v1",
    "api_key_env": "",
    "model": "text-embedding-3-small",
    "send_dimensions": true,
    "timeout_ms": 100,
    "max_retries": 20,
    "breaker_failures": 1,
    "breaker_cooldown_ms": 3600000,
  },
})";

options full_openai_options() {
  options o;
  auto& l = o.llm;
  l.provider = "openai";
  l.base_url = "https://api.openai.com/v1";
  l.api_key_env = "OPENAI_API_KEY";
  l.models = {"gpt-4o-mini", "gpt-4o", "gpt-4.1-nano"};
  l.fallback_models = {"qwen2.5:7b-instruct", "llama3.1:8b"};
  l.temperature = {0.0, 1.25, 2.0};
  l.prompts = {"/etc/engram/a.txt", "r.txt", "c.txt"};
  l.budget = {60, 100000};
  l.json_mode = "json_object";
  l.timeout_ms = 1000;
  l.max_retries = 0;
  l.retry_base_ms = 10;
  l.retry_max_ms = 20;
  l.max_concurrency = 2;
  l.rate_limit_rps = 5;
  l.batch_size = 1;
  l.breaker_failures = 3;
  l.breaker_cooldown_ms = 100;
  l.max_tokens = 16;
  auto& e = o.embedder;
  e.provider = "openai";
  e.dim = 1536;
  e.batch_size = 128;
  e.max_wait_us = 0;
  e.base_url = "http://10.0.0.5:8080/v1";
  e.api_key_env = "";
  e.model = "text-embedding-3-small";
  e.send_dimensions = true;
  e.timeout_ms = 100;
  e.max_retries = 20;
  e.breaker_failures = 1;
  e.breaker_cooldown_ms = 3600000;
  return o;
}

void require_same_providers(const options& actual, const options& expected) {
  CHECK(tie_llm(actual.llm) == tie_llm(expected.llm));
  CHECK(tie_embedder(actual.embedder) == tie_embedder(expected.embedder));
}

// Models for every task, so that provider "openai" validates.
const std::vector<std::string> openai_settings{
  "llm.provider=openai", "llm.models.analysis=a", "llm.models.rewrite=r",
  "llm.models.creation=c"};

} // namespace

TEST_CASE("llm and embedder defaults are the documented ones", "[config]") {
  options o;
  auto& l = o.llm;
  CHECK(l.provider == "rules");
  CHECK(l.base_url == "http://127.0.0.1:11434/v1");
  CHECK(l.api_key_env == "ENGRAM_LLM_KEY");
  CHECK(l.models.analysis.empty());
  CHECK(l.models.rewrite.empty());
  CHECK(l.models.creation.empty());
  CHECK(l.fallback_models.empty());
  CHECK(l.temperature.analysis == 0.3);
  CHECK(l.temperature.rewrite == 0.7);
  CHECK(l.temperature.creation == 0.5);
  CHECK(l.prompts.analysis.empty());
  CHECK(l.prompts.rewrite.empty());
  CHECK(l.prompts.creation.empty());
  CHECK(l.budget.calls_per_minute == 0);
  CHECK(l.budget.tokens_per_minute == 0);
  CHECK(l.json_mode == "json_schema");
  CHECK(l.timeout_ms == 60000);
  CHECK(l.max_retries == 2);
  CHECK(l.retry_base_ms == 500);
  CHECK(l.retry_max_ms == 30000);
  CHECK(l.max_concurrency == 8);
  CHECK(l.rate_limit_rps == 0);
  CHECK(l.batch_size == 8);
  CHECK(l.breaker_failures == 5);
  CHECK(l.breaker_cooldown_ms == 30000);
  CHECK(l.max_tokens == 2048);
  auto& e = o.embedder;
  CHECK(e.provider == "hash");
  CHECK(e.dim == 384);
  CHECK(e.batch_size == 64);
  CHECK(e.max_wait_us == 1000);
  CHECK(e.base_url == "http://127.0.0.1:11434/v1");
  CHECK(e.api_key_env == "ENGRAM_EMBED_KEY");
  CHECK(e.model.empty());
  CHECK_FALSE(e.send_dimensions);
  CHECK(e.timeout_ms == 30000);
  CHECK(e.max_retries == 2);
  CHECK(e.breaker_failures == 5);
  CHECK(e.breaker_cooldown_ms == 30000);

  auto loaded = load_options({}, no_env());
  REQUIRE(loaded);
  require_same_providers(*loaded, options{});
}

TEST_CASE("a config file sets every llm and embedder option", "[config]") {
  auto loaded = load_json(full_openai_json);
  REQUIRE(loaded);
  require_same_providers(*loaded, full_openai_options());
}

TEST_CASE("printed provider options load back to the same options",
          "[config]") {
  auto wanted = full_openai_options();
  wanted.llm.temperature = {0.1, 0.3, 1.7}; // not exact in binary
  auto loaded = load_json(to_json(wanted, false));
  REQUIRE(loaded);
  require_same_providers(*loaded, wanted);
}

TEST_CASE("temperatures are numbers between 0 and 2", "[config]") {
  SECTION("in range, integral or not") {
    auto loaded = load_json(
      R"({"llm": {"temperature": {"analysis": 2, "rewrite": 0.0,
                                  "creation": 1e-1}}})");
    REQUIRE(loaded);
    CHECK(loaded->llm.temperature.analysis == 2.0);
    CHECK(loaded->llm.temperature.rewrite == 0.0);
    CHECK(loaded->llm.temperature.creation == Approx(0.1));
  }
  SECTION("above 2") {
    auto err = error_of(
      load_json(R"({"llm": {"temperature": {"rewrite": 2.5}}})"));
    CHECK(field_of(err) == "llm.temperature.rewrite");
    CHECK_THAT(message_of(err), Catch::Contains("llm.temperature.rewrite"));
    CHECK_THAT(message_of(err), Catch::Contains("between 0 and 2"));
    CHECK_THAT(message_of(err), Catch::EndsWith("got 2.5"));
  }
  SECTION("below 0") {
    auto err = error_of(
      load_json(R"({"llm": {"temperature": {"analysis": -0.25}}})"));
    CHECK(field_of(err) == "llm.temperature.analysis");
    CHECK_THAT(message_of(err), Catch::EndsWith("got -0.25"));
  }
  SECTION("not a number") {
    for (auto value : {R"("0.5")", "null", "true", "[1]"}) {
      INFO(value);
      auto err = error_of(load_json(
        std::string{R"({"llm": {"temperature": {"creation": )"} + value
        + "}}}"));
      CHECK(field_of(err) == "llm.temperature.creation");
      CHECK_THAT(message_of(err), Catch::Contains("must be a number"));
    }
  }
}

TEST_CASE("temperatures can be set as text from --set and the environment",
          "[config]") {
  auto loaded = set({"llm.temperature.analysis=0.9"},
                    env_of({{"ENGRAM_LLM_TEMPERATURE_REWRITE", "1.5"},
                            {"ENGRAM_LLM_TEMPERATURE_CREATION", "0"}}));
  REQUIRE(loaded);
  CHECK(loaded->llm.temperature.analysis == 0.9);
  CHECK(loaded->llm.temperature.rewrite == 1.5);
  CHECK(loaded->llm.temperature.creation == 0.0);
}

TEST_CASE("a temperature text that is not a number is an error", "[config]") {
  for (auto text : {"abc", "", "0.9x", "nan", "inf", "1e400", "0,5"}) {
    INFO('"' << text << '"');
    auto err = error_of(set({std::string{"llm.temperature.rewrite="} + text}));
    CHECK(field_of(err) == "llm.temperature.rewrite");
    CHECK_THAT(message_of(err),
               Catch::StartsWith("--set: llm.temperature.rewrite: must be a "
                                 "number, got \""));
  }
  auto err = error_of(
    load_options({}, env_of({{"ENGRAM_LLM_TEMPERATURE_ANALYSIS", "abc"}})));
  CHECK(message_of(err)
        == "environment variable ENGRAM_LLM_TEMPERATURE_ANALYSIS: "
           "llm.temperature.analysis: must be a number, got \"abc\"");
  err = error_of(set({"llm.temperature.analysis=3"}));
  CHECK_THAT(message_of(err), Catch::Contains("between 0 and 2"));
}

TEST_CASE("validate checks temperatures of options built in code",
          "[config]") {
  options o;
  o.llm.temperature.creation = 2.0001;
  auto err = validate(o);
  CHECK(code_of(err) == ec::invalid_config);
  CHECK(field_of(err) == "llm.temperature.creation");
  o.llm.temperature.creation = std::numeric_limits<double>::quiet_NaN();
  CHECK(field_of(validate(o)) == "llm.temperature.creation");
  o.llm.temperature.creation = 2.0;
  CHECK_FALSE(validate(o));
}

TEST_CASE("provider openai needs a model for every task", "[config]") {
  CHECK(set(openai_settings));
  for (auto task : {"analysis", "rewrite", "creation"}) {
    INFO(task);
    auto settings = openai_settings;
    settings.push_back(std::string{"llm.models."} + task + "=");
    auto err = error_of(set(settings));
    auto path = std::string{"llm.models."} + task;
    CHECK(field_of(err) == path);
    CHECK_THAT(message_of(err), Catch::Contains(path));
    CHECK_THAT(message_of(err),
               Catch::Contains("must name a model when llm.provider is "
                               "\"openai\""));
  }
  // The rules provider needs no model.
  CHECK(set({"llm.provider=rules", "llm.models.rewrite="}));
}

TEST_CASE("a file with provider openai but no rewrite model names it",
          "[config]") {
  auto err = error_of(load_json(
    R"({"llm": {"provider": "openai",
                "models": {"analysis": "a", "creation": "c"}}})"));
  CHECK(field_of(err) == "llm.models.rewrite");
}

TEST_CASE("embedder provider openai needs a model", "[config]") {
  auto err = error_of(set({"embedder.provider=openai"}));
  CHECK(field_of(err) == "embedder.model");
  CHECK_THAT(message_of(err), Catch::Contains("embedder.model"));
  auto loaded = set({"embedder.provider=openai",
                     "embedder.model=nomic-embed-text"});
  REQUIRE(loaded);
  CHECK(loaded->embedder.model == "nomic-embed-text");
}

TEST_CASE("providers take only their known names", "[config]") {
  auto err = error_of(set({"llm.provider=anthropic"}));
  CHECK(field_of(err) == "llm.provider");
  CHECK_THAT(message_of(err), Catch::Contains("rules, openai"));
  err = error_of(set({"embedder.provider=openai2"}));
  CHECK(field_of(err) == "embedder.provider");
  CHECK_THAT(message_of(err), Catch::Contains("hash, openai"));
}

TEST_CASE("base URLs must be http or https URLs with a host", "[config]") {
  for (auto path : {"llm.base_url", "embedder.base_url"}) {
    INFO(path);
    for (auto good : {"http://127.0.0.1:11434/v1", "https://api.openai.com/v1",
                      "http://localhost:8080"})
      CHECK(set({std::string{path} + "=" + good}));
    for (auto bad : {"ftp://x", "", "api.openai.com/v1", "http://",
                     "http:///v1", "https://a b/v1", "HTTP//x"}) {
      INFO(bad);
      auto err = error_of(set({std::string{path} + "=" + bad}));
      CHECK(field_of(err) == path);
      CHECK_THAT(message_of(err),
                 Catch::Contains("must be an http:// or https:// URL"));
    }
  }
}

TEST_CASE("json_mode is json_schema, json_object or off", "[config]") {
  for (auto mode : {"json_schema", "json_object", "off"}) {
    auto loaded = set({std::string{"llm.json_mode="} + mode});
    REQUIRE(loaded);
    CHECK(loaded->llm.json_mode == mode);
  }
  auto err = error_of(load_json(R"({"llm": {"json_mode": "yaml"}})"));
  CHECK(field_of(err) == "llm.json_mode");
  CHECK_THAT(message_of(err),
             Catch::Contains("json_schema, json_object, off, got \"yaml\""));
}

TEST_CASE("model names are printable and without spaces", "[config]") {
  auto err = error_of(set({"llm.models.analysis=gpt 4"}));
  CHECK(field_of(err) == "llm.models.analysis");
  err = error_of(set({"embedder.model=" + std::string(257, 'm')}));
  CHECK(field_of(err) == "embedder.model");
  err = error_of(load_json(
    R"({"llm": {"fallback_models": ["qwen2.5:7b", "bad\tname"]}})"));
  CHECK(field_of(err) == "llm.fallback_models[1]");
  CHECK(set({"llm.models.analysis=" + std::string(256, 'm')}));
}

TEST_CASE("fallback_models is a list, only settable in the file",
          "[config]") {
  auto loaded = load_json(R"({"llm": {"fallback_models": ["a", "b", "c"]}})");
  REQUIRE(loaded);
  CHECK(loaded->llm.fallback_models == std::vector<std::string>{"a", "b", "c"});
  auto err = error_of(load_json(R"({"llm": {"fallback_models": "a"}})"));
  CHECK(field_of(err) == "llm.fallback_models");
}

TEST_CASE("the llm ranges are enforced at both ends", "[config]") {
  struct bounds {
    const char* path;
    uint64_t min, max;
  };
  for (auto b : {bounds{"llm.timeout_ms", 100, 3600000},
                 bounds{"llm.max_retries", 0, 20},
                 bounds{"llm.max_concurrency", 1, 256},
                 bounds{"llm.batch_size", 1, 64},
                 bounds{"llm.max_tokens", 16, 1000000},
                 bounds{"embedder.timeout_ms", 100, 3600000},
                 bounds{"embedder.max_retries", 0, 20},
                 bounds{"embedder.breaker_failures", 1, 1000}}) {
    INFO(b.path);
    auto at = [&](uint64_t v) {
      return set({std::string{b.path} + "=" + std::to_string(v)});
    };
    CHECK(at(b.min));
    CHECK(at(b.max));
    if (b.min > 0)
      CHECK(field_of(error_of(at(b.min - 1))) == b.path);
    CHECK(field_of(error_of(at(b.max + 1))) == b.path);
  }
}
