#include "runtime/provider_setup.hpp"

#include <cstdlib>
#include <iomanip>
#include <ostream>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/llm_client.hpp"
#include "messages/errors.hpp"
#include "runtime/health.hpp"
#include "runtime/providers/curl_client.hpp"
#include "runtime/providers/hash_embedder.hpp"
#include "runtime/providers/json_extract.hpp"
#include "runtime/providers/openai_embedder.hpp"
#include "runtime/providers/openai_wire.hpp"
#include "runtime/providers/provider_stats.hpp"
#include "runtime/providers/rules_llm.hpp"

namespace engram {

namespace {

// The key's variable is read once; an unset variable means "no key" (local
// servers such as Ollama need none), which is logged without the value.
std::string key_from_env(const std::string& var, const char* option) {
  if (var.empty())
    return {};
  auto v = std::getenv(var.c_str());
  if (!v || !*v) {
    spdlog::info("event=provider_no_api_key option={} variable={}", option, var);
    return {};
  }
  return v;
}

caf::expected<llm_client_options> client_options(const config::options& o) {
  auto prompts = providers::load_prompts(o.llm.prompts);
  if (!prompts)
    return prompts.error();
  llm_client_options c;
  c.base_url = o.llm.base_url;
  while (!c.base_url.empty() && c.base_url.back() == '/')
    c.base_url.pop_back();
  c.api_key = key_from_env(o.llm.api_key_env, "llm.api_key_env");
  c.models[0] = o.llm.models.analysis;
  c.models[1] = o.llm.models.rewrite;
  c.models[2] = o.llm.models.creation;
  c.temperatures[0] = o.llm.temperature.analysis;
  c.temperatures[1] = o.llm.temperature.rewrite;
  c.temperatures[2] = o.llm.temperature.creation;
  c.fallback_models = o.llm.fallback_models;
  c.mode = *providers::wire::parse_json_mode(o.llm.json_mode);
  c.max_tokens = o.llm.max_tokens;
  c.timeout_ms = o.llm.timeout_ms;
  c.max_retries = o.llm.max_retries;
  c.retry_base_ms = o.llm.retry_base_ms;
  c.retry_max_ms = o.llm.retry_max_ms;
  c.max_concurrency = o.llm.max_concurrency;
  c.rate_limit_rps = o.llm.rate_limit_rps;
  c.batch_size = o.llm.batch_size;
  c.breaker_failures = o.llm.breaker_failures;
  c.breaker_cooldown_ms = o.llm.breaker_cooldown_ms;
  c.budget = {o.llm.budget.calls_per_minute, o.llm.budget.tokens_per_minute};
  c.prompts = std::move(*prompts);
  return c;
}

providers::openai_embedder_options embedder_options(const config::options& o) {
  providers::openai_embedder_options e;
  e.base_url = o.embedder.base_url;
  while (!e.base_url.empty() && e.base_url.back() == '/')
    e.base_url.pop_back();
  e.api_key = key_from_env(o.embedder.api_key_env, "embedder.api_key_env");
  e.model = o.embedder.model;
  e.dim = o.embedder.dim;
  e.send_dimensions = o.embedder.send_dimensions;
  e.timeout_ms = o.embedder.timeout_ms;
  e.max_retries = o.embedder.max_retries;
  e.breaker.failure_threshold = o.embedder.breaker_failures;
  e.breaker.cooldown = std::chrono::milliseconds(o.embedder.breaker_cooldown_ms);
  return e;
}

// Asks the embedding server once, at startup, so a model with the wrong
// dimension stops the node before a single vector could be stored.
caf::error probe_dimension(providers::openai_embedder& e) {
  auto v = e.embed({"engram dimension probe"});
  if (v)
    return caf::none;
  if (code_of(v.error()) == ec::invalid_argument)
    return make_error(ec::invalid_config,
                      "the embedding model does not fit the index: "
                        + message_of(v.error()),
                      "embedder.dim");
  spdlog::warn("event=embedder_unreachable_at_start error=\"{}\" "
               "note=\"starting degraded; documents wait in the queue\"",
               message_of(v.error()));
  return caf::none;
}

caf::expected<std::shared_ptr<providers::embedder>>
make_embedder(const config::options& o, metrics::registry& metrics,
              std::shared_ptr<providers::provider_stats> stats) {
  if (o.embedder.provider == "openai") {
    stats->describe("embedder", "openai", o.embedder.base_url);
    auto e = std::make_shared<providers::openai_embedder>(
      embedder_options(o), stats, &metrics);
    if (auto err = probe_dimension(*e))
      return err;
    return std::shared_ptr<providers::embedder>(std::move(e));
  }
  stats->describe("embedder", "hash", "");
  providers::hash_embedder_options eo;
  eo.dim = o.embedder.dim;
  auto emb = providers::hash_embedder::make(eo);
  if (!emb)
    return emb.error();
  return std::shared_ptr<providers::embedder>(std::move(*emb));
}

} // namespace

caf::expected<provider_setup>
start_providers(caf::actor_system& sys, const config::options& o,
                metrics::registry& metrics,
                std::shared_ptr<providers::provider_stats> stats,
                std::shared_ptr<const cache_pool> llm_cache) {
  provider_setup out;
  std::optional<llm_client_options> client;
  if (o.llm.provider == "openai") {
    auto c = client_options(o);
    if (!c)
      return c.error();
    client = std::move(*c);
    client->cache = std::move(llm_cache);
  }
  auto emb = make_embedder(o, metrics, stats);
  if (!emb)
    return emb.error();
  provider_factory make_rules = [] {
    return std::make_unique<providers::rules_llm>();
  };
  std::vector<llm_worker_actor> rules;
  for (uint32_t i = 0; i < std::max(1u, o.pipeline.workers); ++i)
    rules.push_back(spawn_llm_worker(sys, make_rules, metrics));
  if (client) {
    stats->describe("llm", "openai", o.llm.base_url);
    out.task_timeout =
      worst_case_latency(*client, o.pipeline.max_running_per_user);
    out.workers.push_back(
      spawn_llm_client(sys, std::move(*client), rules, metrics, stats));
    out.blocks = true;
  } else {
    stats->describe("llm", "rules", "");
    out.workers = std::move(rules);
  }
  out.blocks = out.blocks || (*emb)->blocks();
  out.embedder = spawn_embedder(
    sys, std::move(*emb),
    {o.embedder.batch_size, std::chrono::microseconds(o.embedder.max_wait_us)},
    metrics);
  return out;
}

void add_provider_health(health_checks& health,
                         std::shared_ptr<providers::provider_stats> stats) {
  health.add("providers", [stats] {
    std::string detail;
    if (stats->embedder_breaker() != "closed")
      detail = "embedder breaker " + stats->embedder_breaker()
               + "; documents wait in the embedding queue";
    if (auto err = stats->embedder_error(); !err.empty())
      detail += (detail.empty() ? "" : "; ") + ("embedder: " + err);
    auto open = stats->open_llm_breakers();
    if (!open.empty()) {
      std::string list;
      for (auto& m : open)
        list += (list.empty() ? "" : ", ") + m;
      detail += (detail.empty() ? "" : "; ") + ("model breakers " + list
                                                 + "; fallbacks answer");
    }
    if (detail.empty())
      return check_result{"ok", "providers answering"};
    return check_result{"degraded", detail};
  });
}

} // namespace engram
