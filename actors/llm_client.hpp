#pragma once
// The client of an OpenAI-compatible chat-completions server, as an actor
// with the same interface as an llm_worker, so user actors do not know
// whether `rules` or a model answers them.
//
// It owns the policy state (one breaker per model, the rate limiter, the
// per-user budgets, the queue of waiting tasks) and hands the HTTP calls to
// max_concurrency detached http_workers, so it never blocks. For each task:
//
//   queue (per user, users served round-robin; a user over budget waits)
//     -> batch (queued tasks of one user, kind and model, up to batch_size)
//     -> model (first in [task model, fallback_models...] whose breaker is
//        not open) -> http_worker -> parse, strip, validate per item
//     -> failed item: retry the same model with back-off (Retry-After wins)
//        up to max_retries, then the next model, then the rules provider;
//        a batch answer that cannot be matched item by item is retried
//        item by item.
//
// Every task is answered (rules is the last resort), so the user actor's
// durable queue only sees failures when even rules fails.

#include <memory>
#include <string>
#include <vector>

#include "actors/llm_worker.hpp"
#include "runtime/providers/openai_wire.hpp"
#include "runtime/providers/prompts.hpp"
#include "runtime/providers/usage_budget.hpp"

namespace engram::providers {
class provider_stats;
}

namespace engram {

struct cache_pool;

struct llm_client_options {
  std::string base_url;     // up to /v1
  std::string api_key;      // resolved from llm.api_key_env; may be empty
  std::string models[3];    // by providers::llm_task
  double temperatures[3] = {0.3, 0.7, 0.5};
  std::vector<std::string> fallback_models;
  providers::wire::json_mode mode = providers::wire::json_mode::schema;
  uint32_t max_tokens = 2048;
  uint32_t timeout_ms = 60000;
  uint32_t max_retries = 2;
  uint32_t retry_base_ms = 500;
  uint32_t retry_max_ms = 30000;
  uint32_t max_concurrency = 8;
  uint32_t rate_limit_rps = 0;
  uint32_t batch_size = 8;
  uint32_t breaker_failures = 5;
  uint32_t breaker_cooldown_ms = 30000;
  providers::budget_limits budget;
  providers::prompt_set prompts;
  // Completions cache (cache.llm.*); null: off.
  std::shared_ptr<const cache_pool> cache;
};

/// The longest a task can take inside the client (every model, every retry,
/// the budget windows a user's `tasks_per_user` queued tasks may need):
/// what a caller's request timeout must exceed, so that a task waiting for
/// its user's budget is never counted as a failed attempt.
std::chrono::milliseconds worst_case_latency(const llm_client_options& o,
                                             uint32_t tasks_per_user);

/// `rules` are the workers that answer when every model has failed.
llm_worker_actor spawn_llm_client(caf::actor_system& sys,
                                  llm_client_options opts,
                                  std::vector<llm_worker_actor> rules,
                                  metrics::registry& metrics,
                                  std::shared_ptr<providers::provider_stats> stats);

} // namespace engram
