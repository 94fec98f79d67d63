#include "actors/bridge.hpp"

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/http/error_body.hpp"

namespace engram {

namespace {

caf::behavior bridge(caf::event_based_actor* self, router_actor router,
                     std::chrono::milliseconds timeout) {
  return {
    [=](call_atom, bridge_call& bc) {
      auto done = std::move(bc.done);
      self->request(router, timeout, call_atom::value, std::move(bc.call))
        .then([done](api_reply& r) { done(std::move(r)); },
              [done](caf::error& err) {
                // Timeouts mean an actor is overloaded or stuck: the client
                // may retry, nothing was acknowledged.
                auto e = err == caf::sec::request_timeout
                           ? make_error(ec::unavailable,
                                        "the request timed out inside the node")
                           : err;
                auto r = http::error_response(e);
                done(api_reply{static_cast<uint16_t>(r.status), r.body});
              });
    },
  };
}

} // namespace

caf::actor spawn_bridge(caf::actor_system& sys, router_actor router,
                        std::chrono::milliseconds timeout) {
  return sys.spawn(bridge, std::move(router), timeout);
}

} // namespace engram
