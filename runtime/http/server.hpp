#pragma once
// HTTP/1.1 + WebSocket server on Boost.Beast. Owns the IO threads, enforces
// transport limits (body size, header and idle timeouts, connection count)
// and hands complete requests to a request_handler. Knows nothing of routes
// or actors.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/error.hpp>

#include "config/options.hpp"
#include "runtime/http/message.hpp"

namespace engram::metrics {
class registry;
}

namespace engram::http {

class server {
public:
  /// `handler` gets every request that passed the transport checks; `ws`
  /// handles upgrade requests it accepts. Transport errors (413 body too
  /// large, 400 unparseable HTTP, 503 too many connections) are answered
  /// here in the standard JSON error shape.
  server(const config::http_options& opts, request_handler handler,
         websocket_handler ws, metrics::registry& metrics);
  ~server(); // stops and joins the IO threads

  /// Binds and starts accepting on opts.listen; ec::invalid_config when the
  /// address does not parse, ec::unavailable when bind fails (in use, ...).
  caf::error start();

  /// The bound port (useful with port 0).
  uint16_t port() const;

  /// Stops accepting new connections; open ones finish their current
  /// request, then close (no more keep-alive).
  void stop_accepting();

  /// Waits until no request is in flight or `deadline` passes; true when
  /// drained.
  bool drain(std::chrono::steady_clock::time_point deadline);

  /// Closes every connection and joins the IO threads.
  void stop();

  std::size_t open_connections() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace engram::http
