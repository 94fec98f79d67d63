#include <boost/json/serialize.hpp>
#include <caf/send.hpp>

#include "actors/bridge.hpp"
#include "runtime/api/forwarder.hpp"
#include "runtime/api/routes.hpp"
#include "runtime/exports/export_settings.hpp"
#include "runtime/exports/export_stats.hpp"

namespace engram::api {

namespace {

http::response json_ok(const boost::json::object& obj) {
  http::response res;
  res.status = 200;
  res.body = boost::json::serialize(obj);
  return res;
}

} // namespace

void add_export_routes(gateway& gw, export_deps deps) {
  forwarder fwd{deps.bridges};
  const std::string user = "/v1/users/{user}";
  const std::string ex = user + "/exports";
  gw.add_route("POST", ex, access::user, fwd("export.manual", true));
  gw.add_route("POST", ex + "/triggers", access::user,
               fwd("export.trigger", true));
  gw.add_route("GET", ex + "/latest", access::user, fwd("export.latest", false));
  gw.add_route("GET", ex + "/events", access::user, fwd("export.events", false));
  gw.add_route("GET", ex + "/stats", access::user, fwd("export.stats", false));
  gw.add_route("POST", user + "/documents", access::user,
               fwd("document.post", true));
  gw.add_route("GET", user + "/documents", access::user,
               fwd("document.list", false));
  gw.add_route("GET", user + "/documents/{id}", access::user,
               fwd("document.get", false));
  gw.add_route("DELETE", user + "/documents/{id}", access::user,
               fwd("document.delete", false));
  // The body is optional ({high_impact?}); JSON when given.
  gw.add_route("POST", user + "/sessions/{session}/end", access::user,
               [fwd](http::request req, http::path_params params,
                     http::responder done) {
                 if (!req.body.empty())
                   if (auto bad = require_json(req.content_type))
                     return done(std::move(*bad));
                 api_call call;
                 call.user = params["user"];
                 params.erase("user");
                 call.op = "session.end";
                 call.params = std::move(params);
                 call.body = std::move(req.body);
                 call.request_id = std::move(req.request_id);
                 fwd.send(std::move(call), std::move(done));
               });
  auto settings = deps.settings;
  auto stats = deps.stats;
  gw.add_route("GET", "/v1/exports/stats", access::any_key,
               [settings, stats](http::request, http::path_params,
                                 http::responder done) {
                 auto cfg = settings->get();
                 auto body = stats->to_json();
                 body["mode"] = exports::to_string(cfg->policy.mode);
                 body["debounce_ms"] = cfg->policy.debounce_ms;
                 body["nightly_at"] = cfg->nightly_at;
                 done(json_ok(body));
               });
  gw.add_route("GET", "/v1/exports/config", access::any_key,
               [settings](http::request, http::path_params,
                          http::responder done) {
                 done(json_ok(exports::to_json(*settings->get())));
               });
  auto scheduler = deps.scheduler;
  gw.add_route("PUT", "/v1/exports/config", access::admin,
               [scheduler](http::request req, http::path_params,
                           http::responder done) {
                 if (auto bad = require_json(req.content_type))
                   return done(std::move(*bad));
                 api_call call;
                 call.op = "exports.config";
                 call.body = std::move(req.body);
                 call.request_id = std::move(req.request_id);
                 caf::anon_send(scheduler, config_atom::value,
                                bridge_call{std::move(call), [done](api_reply r) {
                                              http::response res;
                                              res.status = r.status;
                                              res.body = std::move(r.body);
                                              done(std::move(res));
                                            }});
               });
}

} // namespace engram::api
