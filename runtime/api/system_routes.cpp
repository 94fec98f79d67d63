#include <boost/json/serialize.hpp>

#include "runtime/api/routes.hpp"
#include "runtime/http/router.hpp"

namespace engram::api {

namespace {

http::response json_response(unsigned status, const boost::json::object& obj) {
  http::response r;
  r.status = status;
  r.body = boost::json::serialize(obj);
  return r;
}

} // namespace

void add_system_routes(gateway& gw, system_deps deps) {
  gw.add_route("GET", "/healthz", access::open,
               [deps](http::request, http::path_params, http::responder done) {
                 auto report = deps.health->run();
                 auto failing = report["status"] == "failing";
                 done(json_response(failing ? 503 : 200, report));
               });
  gw.add_route("GET", "/readyz", access::open,
               [deps](http::request, http::path_params, http::responder done) {
                 bool ready = deps.ready->load();
                 done(json_response(ready ? 200 : 503, {{"ready", ready}}));
               });
  gw.add_route("GET", "/metrics", access::open,
               [deps](http::request, http::path_params, http::responder done) {
                 http::response r;
                 r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                 r.body = deps.metrics->render();
                 done(std::move(r));
               });
  gw.add_route("GET", "/v1/node", access::any_key,
               [deps](http::request, http::path_params, http::responder done) {
                 done(json_response(200, deps.node_info()));
               });
  gw.add_route("GET", "/v1/providers", access::any_key,
               [deps](http::request, http::path_params, http::responder done) {
                 done(json_response(200, deps.providers
                                           ? deps.providers()
                                           : boost::json::object{}));
               });
}

http::websocket_handler node_websocket(gateway& gw, system_deps deps) {
  http::websocket_handler ws;
  ws.accepts = [&gw](const http::request& req) {
    return req.path == "/v1/node/ws"
           && !gw.check_access(access::any_key, req, {});
  };
  ws.on_open = [deps](std::shared_ptr<http::websocket_session> s,
                      const http::request&) {
    s->send(boost::json::serialize(deps.node_info()));
  };
  ws.on_message = [deps](std::shared_ptr<http::websocket_session> s,
                         std::string) {
    s->send(boost::json::serialize(deps.node_info()));
  };
  return ws;
}

} // namespace engram::api
