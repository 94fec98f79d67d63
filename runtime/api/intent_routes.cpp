#include "runtime/api/forwarder.hpp"
#include "runtime/api/routes.hpp"

namespace engram::api {

void add_intent_routes(gateway& gw, std::vector<caf::actor> bridges) {
  forwarder fwd{std::move(bridges)};
  const std::string base = "/v1/users/{user}/intents";
  gw.add_route("POST", base, access::user, fwd("intent.create", true));
  gw.add_route("GET", base, access::user, fwd("intent.list", false));
  gw.add_route("GET", base + "/{id}", access::user, fwd("intent.get", false));
  gw.add_route("POST", base + "/{id}/close", access::user,
               fwd("intent.close", true));
}

} // namespace engram::api
