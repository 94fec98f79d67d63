#pragma once
// Route handlers that hand an operation to the user actors: the handler
// builds an api_call (user, op, path params, query, body, request id) and
// sends it to one of the bridges (round-robin), which asks the router and
// posts the answer back to the connection. Never blocks an IO thread.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "messages/api_messages.hpp"
#include "runtime/http/message.hpp"
#include "runtime/http/router.hpp"

namespace engram::api {

struct forwarder {
  std::shared_ptr<std::vector<caf::actor>> bridges;
  std::shared_ptr<std::atomic<uint64_t>> next;

  explicit forwarder(std::vector<caf::actor> bs);

  /// A handler sending `op` for the {user} path parameter; `has_body`
  /// requires a JSON Content-Type (415 otherwise).
  http::route_handler operator()(std::string op, bool has_body) const;

  /// Sends a ready-made call; `done` gets the user actor's answer.
  void send(api_call call, http::responder done) const;
};

/// 415 error unless `content_type` is application/json (parameters such as
/// "; charset=utf-8" are fine); nullopt when it is.
std::optional<http::response> require_json(const std::string& content_type);

} // namespace engram::api
