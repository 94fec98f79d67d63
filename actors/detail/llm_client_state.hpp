#pragma once
// State of the llm_client actor (actors/llm_client.hpp), shared by its two
// source files: llm_client.cpp (queues, budgets, rate limit, dispatch) and
// llm_client_answers.cpp (reading answers, retries, fallback).

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/typed_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/http_worker.hpp"
#include "actors/llm_client.hpp"
#include "messages/pipeline_messages.hpp"
#include "runtime/providers/circuit_breaker.hpp"
#include "runtime/providers/token_bucket.hpp"

#include "runtime/metrics.hpp"

namespace engram::detail {

using llm_clock = std::chrono::steady_clock;
using providers::llm_task;

/// One language task waiting for (or in) a model call.
struct llm_job {
  uint64_t id = 0;
  llm_task task = llm_task::analysis;
  std::string user;
  providers::analysis_input analysis;
  rewrite_chain rewrite;
  providers::creation_input creation;
  caf::typed_response_promise<providers::analysis_result> p_analysis;
  caf::typed_response_promise<string_list> p_rewrite;
  caf::typed_response_promise<providers::creation_result> p_creation;
  std::size_t model = 0; // position in the task's model chain
  uint32_t tries = 0;    // failed attempts on that model
  bool alone = false;    // its batch answer did not match: send it alone
  std::string cache_key; // in the llm cache (empty: not cached)
};

struct model_state {
  std::unique_ptr<providers::circuit_breaker> breaker;
  providers::wire::json_mode mode = providers::wire::json_mode::schema;
};

/// The jobs of one call.
struct llm_batch {
  llm_task task = llm_task::analysis;
  std::string model;
  std::string user;
  std::vector<uint64_t> ids;
};

// The client's own messages besides the llm_worker interface: a job's
// back-off ended, the rate limiter has a token again, a user's budget
// window ended.
using llm_client_actor = llm_worker_actor::extend<
  caf::reacts_to<retry_atom, uint64_t>, caf::reacts_to<pump_atom>,
  caf::reacts_to<pump_atom, std::string>>;

// Metric handles resolved once: a registry lookup takes a lock and builds
// label keys, too much for every call.
struct model_metrics {
  std::map<std::string, metrics::counter*> requests; // by outcome
  metrics::histogram* seconds = nullptr;
  metrics::counter* tokens = nullptr;
  metrics::counter* retries = nullptr;
};

// The parts of a request body that do not change between calls.
struct request_cache {
  std::string system_json[3];                 // by llm_task
  std::map<std::pair<int, int>, std::string> format; // (task, mode), not analysis+schema
  std::vector<std::string> analysis_ids;      // ids the cached analysis schema has
  int analysis_mode = -1;
  std::string analysis_format;
};

struct llm_client_state {
  llm_client_options opts;
  std::vector<llm_worker_actor> rules;
  std::size_t next_rules = 0;
  std::vector<http_worker_actor> idle;
  std::size_t in_flight = 0;
  std::map<std::string, model_state> models;
  std::vector<std::string> chains[3]; // by llm_task: model, fallbacks
  std::unordered_map<uint64_t, llm_job> jobs;
  std::map<std::string, std::deque<uint64_t>> ready; // by user
  std::deque<std::string> rr;        // users with ready jobs, serving order
  std::map<std::string, providers::usage_budget> budgets;
  std::set<std::string> over_budget; // waiting for their window to end
  std::unique_ptr<providers::token_bucket> bucket;
  bool tick_pending = false;
  uint64_t next_id = 1;
  std::mt19937_64 rng{std::random_device{}()};
  metrics::registry* reg = nullptr;
  std::shared_ptr<providers::provider_stats> stats;
  std::map<std::string, model_metrics> model_metrics_;
  metrics::gauge* queued_gauge = nullptr;
  metrics::gauge* in_flight_gauge = nullptr;
  metrics::gauge* over_budget_gauge = nullptr;
  metrics::histogram* batch_items[3] = {nullptr, nullptr, nullptr};
  request_cache cache;
  static inline const char* name = "engram.llm_client";
};

using llm_client_self = llm_client_actor::stateful_pointer<llm_client_state>;

// llm_client.cpp
void enqueue_job(llm_client_self self, llm_job job);
void requeue_front(llm_client_self self, uint64_t id);
void pump_llm(llm_client_self self);

// llm_client_cache.cpp
/// A new task: answered from the llm cache, or queued (enqueue_job).
void admit(llm_client_self self, llm_job job);
/// Stores a validated answer of `model` when it is the task's first model.
template <class T>
void remember(llm_client_self self, const llm_job& j, const std::string& model,
              const T& answer);

// llm_client_cache.cpp
/// A new task: answered from the llm cache, or queued (enqueue_job).
void admit(llm_client_self self, llm_job job);
/// Stores a validated answer of `model` when it is the task's first model.
template <class T>
void remember(llm_client_self self, const llm_job& j, const std::string& model,
              const T& answer);

// llm_client_answers.cpp
void on_http_answer(llm_client_self self, const llm_batch& batch,
                    providers::wire::json_mode mode,
                    const providers::http_result& r);
void to_rules(llm_client_self self, uint64_t id, const std::string& why);
/// The model's metric handles (resolved on first use).
model_metrics& metrics_of(llm_client_self self, const std::string& model);
/// The request document and parameters of a batch.
providers::http_call make_call(llm_client_self self, const llm_batch& batch,
                               providers::wire::json_mode mode);

} // namespace engram::detail
