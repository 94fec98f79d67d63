#include "actors/http_worker.hpp"

#include <memory>

#include <caf/all.hpp>

namespace engram {

namespace {

struct http_worker_state {
  std::unique_ptr<providers::curl_client> client;
  static inline const char* name = "engram.http_worker";
};

using http_worker_self = http_worker_actor::stateful_pointer<http_worker_state>;

// `unused`: CAF 0.17 dereferences an empty argument tuple (UBSan reports a
// null reference) when a function actor takes no arguments.
http_worker_actor::behavior_type http_worker(http_worker_self self, int) {
  self->state.client = std::make_unique<providers::curl_client>();
  return {
    [self](http_atom, providers::http_call& call) -> providers::http_result {
      return self->state.client->post(call);
    },
  };
}

} // namespace

http_worker_actor spawn_http_worker(caf::actor_system& sys) {
  return sys.spawn<caf::detached>(http_worker, 0);
}

} // namespace engram
