#pragma once
// A worker that runs language tasks (analysis, note rewrite, entity
// creation) through an llm_provider. Workers of a blocking provider (a
// model behind HTTP) run detached, so a slow call never holds a scheduler
// thread; workers of a CPU-only provider (rules) are scheduled actors,
// because a detached actor pays a thread wake-up per message. The node spawns `pipeline.workers` of them; user actors spread their jobs over
// them and keep the durable queues themselves, so a worker holds no state
// beyond its provider.
//
//   (analyse_atom, analysis_input) -> analysis_result | error
//   (rewrite_atom, rewrite_chain)  -> string_list (note after each update)
//   (create_atom, creation_input)  -> creation_result | error
//
// Every answer is validated here (providers/task_json.hpp) before it goes
// back, so a provider cannot name an entity that was not offered.

#include <functional>
#include <memory>

#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/pipeline_messages.hpp"

namespace engram::metrics {
class registry;
}

namespace engram {

using llm_worker_actor = caf::typed_actor<
  caf::replies_to<analyse_atom, providers::analysis_input>::with<
    providers::analysis_result>,
  caf::replies_to<rewrite_atom, rewrite_chain>::with<string_list>,
  caf::replies_to<create_atom, providers::creation_input>::with<
    providers::creation_result>>;

using provider_factory
  = std::function<std::unique_ptr<providers::llm_provider>()>;

/// Spawns one worker owning a provider made by `make` (detached when the
/// provider blocks()).
llm_worker_actor spawn_llm_worker(caf::actor_system& sys,
                                  const provider_factory& make,
                                  metrics::registry& metrics);

} // namespace engram
