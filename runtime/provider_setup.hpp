#pragma once
// Builds the node's model providers from its options: the language task
// workers (rules workers, or an llm_client in front of a model server with
// rules workers as its last resort) and the embedding actor (hash, or an
// OpenAI-compatible embeddings server). Also the one-shot probe behind
// `engramd --check-providers`.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/embedder.hpp"
#include "actors/llm_worker.hpp"
#include "config/options.hpp"

namespace engram::metrics {
class registry;
}
namespace engram::providers {
class provider_stats;
}

namespace engram {

struct cache_pool;

class health_checks;

struct provider_setup {
  std::vector<llm_worker_actor> workers; // what user actors send tasks to
  embedder_actor embedder;
  bool blocks = false;                   // any provider does network I/O
  std::chrono::milliseconds task_timeout{120000};
};

/// Spawns the providers the options name. Fails (before anything is
/// spawned) on a prompt file that cannot be read, and on an embedding model
/// whose vectors do not have embedder.dim dimensions. An embedding server
/// that cannot be reached at startup is not fatal: the node starts and
/// /healthz says degraded until it answers.
caf::expected<provider_setup>
start_providers(caf::actor_system& sys, const config::options& opts,
                metrics::registry& metrics,
                std::shared_ptr<providers::provider_stats> stats,
                std::shared_ptr<const cache_pool> llm_cache = nullptr);

/// Registers the "providers" check: degraded while a model's breaker is
/// open (rules answers instead) or the embedder fails.
void add_provider_health(health_checks& health,
                         std::shared_ptr<providers::provider_stats> stats);

/// One tiny call per configured model (chat) and embedding model; prints a
/// table to `out`. Returns 0 when every model answered usably, 1 otherwise.
int check_providers(const config::options& opts, std::ostream& out);

} // namespace engram
