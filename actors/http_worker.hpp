#pragma once
// A detached actor that makes blocking HTTP calls to a model server, one at
// a time, over its own reused libcurl handle (keep-alive). The llm_client
// owns max_concurrency of them: a slow server holds these threads, never a
// scheduler thread.
//
//   (http_atom, http_call) -> http_result   always answers; a transport
//                                           failure is a result, not an error

#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/provider_messages.hpp"

namespace engram {

using http_worker_actor = caf::typed_actor<caf::replies_to<
  http_atom, providers::http_call>::with<providers::http_result>>;

http_worker_actor spawn_http_worker(caf::actor_system& sys);

} // namespace engram
