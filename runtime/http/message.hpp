#pragma once
// Transport-neutral request and response values exchanged between the
// Beast server and the API handlers. Handlers never see Beast types.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace engram::http {

struct request {
  std::string method;       // "GET", "POST", ...
  std::string path;         // decoded path without the query ("/v1/node")
  std::string query_string; // raw text after '?', may be empty
  std::map<std::string, std::string> query; // decoded query parameters
  std::string content_type;  // Content-Type header, may be empty
  std::string authorization; // Authorization header, may be empty
  std::string request_id;    // X-Request-Id (client's, or generated)
  std::string remote;        // "ip:port" of the peer
  std::string body;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // extra headers
};

/// Completes a request. Call exactly once, from any thread: the server posts
/// the response back onto the connection's own executor.
using responder = std::function<void(response)>;

/// Handles one request. Must not block: do the work elsewhere (actors) and
/// call `done` later.
using request_handler = std::function<void(request, responder)>;

/// One WebSocket connection as seen by a handler. send() may be called from
/// any thread; messages are written in order.
class websocket_session {
public:
  virtual ~websocket_session() = default;
  virtual void send(std::string text) = 0;
  virtual void close() = 0;
};

/// Called once per accepted upgrade; returns the callback for incoming text
/// messages (may be empty to ignore them). The session lives until either
/// side closes; `on_close` (if set) runs once then.
struct websocket_handler {
  std::function<bool(const request&)> accepts; // path check before upgrade
  std::function<void(std::shared_ptr<websocket_session>, const request&)>
    on_open;
  std::function<void(std::shared_ptr<websocket_session>, std::string)>
    on_message;
  std::function<void(std::shared_ptr<websocket_session>)> on_close;
};

} // namespace engram::http
