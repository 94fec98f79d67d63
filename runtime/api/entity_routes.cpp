#include "runtime/api/forwarder.hpp"
#include "runtime/api/routes.hpp"

namespace engram::api {

void add_entity_routes(gateway& gw, std::vector<caf::actor> bridges) {
  forwarder fwd{std::move(bridges)};
  const std::string base = "/v1/users/{user}/entities";
  gw.add_route("POST", base, access::user, fwd("entity.create", true));
  gw.add_route("GET", base, access::user, fwd("entity.list", false));
  gw.add_route("GET", base + "/{id}", access::user, fwd("entity.get", false));
  gw.add_route("PUT", base + "/{id}", access::user, fwd("entity.replace", true));
  gw.add_route("PATCH", base + "/{id}", access::user, fwd("entity.patch", true));
  gw.add_route("DELETE", base + "/{id}", access::user,
               fwd("entity.delete", false));
  gw.add_route("GET", base + "/{id}/composite", access::user,
               fwd("entity.composite", false));
}

} // namespace engram::api
