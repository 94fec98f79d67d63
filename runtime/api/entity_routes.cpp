#include <atomic>

#include <caf/send.hpp>

#include "actors/bridge.hpp"
#include "messages/errors.hpp"
#include "runtime/api/routes.hpp"
#include "runtime/http/error_body.hpp"

namespace engram::api {

namespace {

// Bodies of writes must be JSON; parameters like "; charset=utf-8" are fine.
bool is_json(const std::string& content_type) {
  auto semi = content_type.find(';');
  auto media = content_type.substr(0, semi);
  while (!media.empty() && media.back() == ' ')
    media.pop_back();
  for (auto& c : media)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return media == "application/json";
}

struct forwarder {
  std::shared_ptr<std::vector<caf::actor>> bridges;
  std::shared_ptr<std::atomic<uint64_t>> next;

  // Returns the handler that sends `op` for the routed user to the router.
  http::route_handler operator()(std::string op, bool has_body) const {
    auto self = *this;
    return [self, op, has_body](http::request req, http::path_params params,
                                http::responder done) {
      if (has_body && !is_json(req.content_type))
        return done(http::error_response(make_error(
          ec::unsupported_media_type,
          "Content-Type must be application/json, got '" + req.content_type
            + "'",
          "Content-Type")));
      api_call call;
      call.user = params["user"];
      params.erase("user");
      call.op = op;
      call.params = std::move(params);
      call.query = std::move(req.query);
      call.body = std::move(req.body);
      call.request_id = std::move(req.request_id);
      auto& bridge = (*self.bridges)[self.next->fetch_add(1)
                                     % self.bridges->size()];
      caf::anon_send(bridge, call_atom::value,
                     bridge_call{std::move(call), [done](api_reply r) {
                                   http::response res;
                                   res.status = r.status;
                                   res.body = std::move(r.body);
                                   done(std::move(res));
                                 }});
    };
  }
};

} // namespace

void add_entity_routes(gateway& gw, std::vector<caf::actor> bridges) {
  forwarder fwd{std::make_shared<std::vector<caf::actor>>(std::move(bridges)),
                std::make_shared<std::atomic<uint64_t>>(0)};
  const std::string base = "/v1/users/{user}/entities";
  gw.add_route("POST", base, access::user, fwd("entity.create", true));
  gw.add_route("GET", base, access::user, fwd("entity.list", false));
  gw.add_route("GET", base + "/{id}", access::user, fwd("entity.get", false));
  gw.add_route("PUT", base + "/{id}", access::user, fwd("entity.replace", true));
  gw.add_route("PATCH", base + "/{id}", access::user, fwd("entity.patch", true));
  gw.add_route("DELETE", base + "/{id}", access::user,
               fwd("entity.delete", false));
}

} // namespace engram::api
