#pragma once
// The embedding actor: turns document texts into vectors for every user
// actor of the node. It micro-batches: requests that arrive within
// `max_wait` (or while a batch is being embedded) are embedded together, up
// to `batch_size` texts per call, which is what a model server wants and
// costs the offline `hash` embedder nothing. Runs detached when the
// embedder blocks (a model behind HTTP), as a scheduled actor otherwise.
//
//   (embed_atom, string_list) -> vector_list   one vector per text, in order
//   (query_atom, string_list) -> vector_list   same, but never waits for
//                                              company (search latency)
//   (flush_atom, uint64_t)                     internal: a batch window ended
//
// Coalescing of repeated re-embeds of one document happens before this
// actor: a user actor sends only the newest text of each document.

#include <chrono>
#include <memory>

#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/pipeline_messages.hpp"

namespace engram::providers {
class embedder;
}
namespace engram::metrics {
class registry;
}

namespace engram {

using embedder_actor = caf::typed_actor<
  caf::replies_to<embed_atom, string_list>::with<vector_list>,
  caf::replies_to<query_atom, string_list>::with<vector_list>,
  caf::reacts_to<flush_atom, uint64_t>>;

struct embedder_actor_options {
  // Most texts per embed() call (embedder.batch_size).
  std::size_t batch_size = 64;
  // Longest a partial batch waits for more texts (embedder.max_wait_us);
  // 0: embed as soon as the mailbox is drained.
  std::chrono::microseconds max_wait{1000};
};

embedder_actor spawn_embedder(caf::actor_system& sys,
                              std::shared_ptr<providers::embedder> impl,
                              embedder_actor_options opts,
                              metrics::registry& metrics);

} // namespace engram
