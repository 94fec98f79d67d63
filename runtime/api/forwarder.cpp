#include "runtime/api/forwarder.hpp"

#include <cctype>

#include <caf/send.hpp>

#include "actors/bridge.hpp"
#include "messages/errors.hpp"
#include "runtime/http/error_body.hpp"

namespace engram::api {

std::optional<http::response> require_json(const std::string& content_type) {
  auto semi = content_type.find(';');
  auto media = content_type.substr(0, semi);
  while (!media.empty() && media.back() == ' ')
    media.pop_back();
  for (auto& c : media)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (media == "application/json")
    return std::nullopt;
  return http::error_response(make_error(
    ec::unsupported_media_type,
    "Content-Type must be application/json, got '" + content_type + "'",
    "Content-Type"));
}

forwarder::forwarder(std::vector<caf::actor> bs)
  : bridges(std::make_shared<std::vector<caf::actor>>(std::move(bs))),
    next(std::make_shared<std::atomic<uint64_t>>(0)) {
}

void forwarder::send(api_call call, http::responder done) const {
  auto& bridge = (*bridges)[next->fetch_add(1) % bridges->size()];
  caf::anon_send(bridge, call_atom::value,
                 bridge_call{std::move(call), [done](api_reply r) {
                               http::response res;
                               res.status = r.status;
                               res.body = std::move(r.body);
                               done(std::move(res));
                             }});
}

http::route_handler forwarder::operator()(std::string op,
                                          bool has_body) const {
  auto self = *this;
  return [self, op, has_body](http::request req, http::path_params params,
                              http::responder done) {
    if (has_body)
      if (auto bad = require_json(req.content_type))
        return done(std::move(*bad));
    api_call call;
    call.user = params["user"];
    params.erase("user");
    call.op = op;
    call.params = std::move(params);
    call.query = std::move(req.query);
    call.body = std::move(req.body);
    call.request_id = std::move(req.request_id);
    self.send(std::move(call), std::move(done));
  };
}

} // namespace engram::api
