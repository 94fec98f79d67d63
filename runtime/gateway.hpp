#pragma once
// The request pipeline between the HTTP server and the API handlers: bounds
// the requests in flight, routes, authenticates and authorizes, times every
// request into /metrics by route and status, and writes the access log with
// the request id. Handlers register here with the access they need.

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>

#include "config/options.hpp"
#include "runtime/auth.hpp"
#include "runtime/http/message.hpp"
#include "runtime/http/router.hpp"
#include "runtime/metrics.hpp"

namespace engram {

enum class access {
  open,    // no credentials (probes, scraping)
  any_key, // any valid key
  admin,   // admin keys only
  user,    // admin, or a user key listing the {user} path parameter
};

class gateway {
public:
  gateway(const config::http_options& opts, authenticator auth,
          metrics::registry& metrics);
  ~gateway();

  void add_route(std::string method, std::string pattern, access a,
                 http::route_handler h);

  /// The http::request_handler of the server.
  void handle(http::request req, http::responder done);

  /// Access check on its own (used by the WebSocket upgrade).
  caf::error check_access(access a, const http::request& req,
                          const http::path_params& params) const;

  /// Requests currently inside the node.
  uint64_t inflight() const { return inflight_.load(); }

private:
  struct route_metrics;
  route_metrics& metrics_for(const std::string& route,
                             const std::string& method);
  http::responder instrument(const http::request& req, std::string route,
                             http::responder done);

  config::http_options opts_;
  authenticator auth_;
  metrics::registry& metrics_;
  http::router router_;
  std::atomic<uint64_t> inflight_{0};
  std::mutex mu_; // guards route_metrics_
  std::unordered_map<std::string, std::unique_ptr<route_metrics>> route_metrics_;
};

} // namespace engram
