#pragma once
// One actor per user, spawned on demand by the router and passivated when
// idle. It owns the user's write ordering: read-modify-write operations on
// the user's records are decided here, one message at a time, and handed to
// the journal; the reply goes out only once the journal has made the change
// durable.
//
// It also runs the user's session-memory pipeline (docs/ARCHITECTURE.md,
// "Session memory pipeline"): the durable analysis, note-update and
// entity-creation queues (work goes to the shared LLM workers), the
// embedding markers (vectors come from the shared embedding actor), the
// user's vector index, and the read-your-writes watermark.
//
//   (call_atom, api_call) -> api_reply   any /v1/users/{user}/... operation
//   (idle_atom)           -> bool        true: nothing in flight, quitting
//   (pump_atom), (retry_atom, string), (timeout_atom, uint64_t): internal

#include <memory>
#include <string>

#include <caf/typed_actor.hpp>

#include "actors/embedder.hpp"
#include "actors/journal.hpp"
#include "actors/llm_worker.hpp"
#include "config/options.hpp"
#include "storage/vector_index.hpp"
#include "messages/api_messages.hpp"
#include "messages/atoms.hpp"

namespace engram {

using user_actor = caf::typed_actor<
  caf::replies_to<call_atom, api_call>::with<api_reply>,
  caf::replies_to<idle_atom>::with<bool>,
  caf::reacts_to<pump_atom>,
  caf::reacts_to<retry_atom, std::string>,
  caf::reacts_to<timeout_atom, uint64_t>>;

class queue_stats;
struct cache_pool;
namespace exports {
class export_settings;
}

/// What every user actor shares: the store for reads, the journal for
/// writes, the workers and the embedder, and the pipeline settings.
struct user_context {
  std::shared_ptr<storage::store> db;
  journal_actor journal;
  std::vector<llm_worker_actor> workers;
  embedder_actor embedder;
  std::shared_ptr<queue_stats> stats;
  config::pipeline_options pipeline;
  storage::vector_index_options index;
  // Directory of the per-user index snapshots; empty: no snapshots.
  std::string index_dir;
  // How long a language task or an embedding call may take, when the
  // providers can block (model servers). CPU-only providers cannot hang, and
  // a request timeout costs a lock and a clock-thread wake-up per call, so
  // their calls carry none.
  std::chrono::milliseconds task_timeout{120000};
  bool providers_block = true;
  // Documents are split into chunks of this size (exports.chunk_*), and
  // their text may be this long.
  std::size_t chunk_chars = 1200;
  std::size_t chunk_overlap = 150;
  std::size_t max_document_bytes = 1024 * 1024;
  // Export policy (thresholds the user actor applies before sending a
  // trigger); null: exports off, no triggers are sent.
  std::shared_ptr<exports::export_settings> export_settings;
  // The router (set by the router itself): exporters are reached through it.
  caf::actor router;
  // Search results cache (cache.search.*); null: off.
  std::shared_ptr<const cache_pool> search_cache;
};

user_actor spawn_user(caf::actor_system& sys, std::string user,
                      user_context ctx);

} // namespace engram
