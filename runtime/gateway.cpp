#include "runtime/gateway.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "messages/errors.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/logging.hpp"

namespace engram {

struct gateway::route_metrics {
  metrics::histogram& latency;
  std::string route;
  std::string method;
};

gateway::gateway(const config::http_options& opts, authenticator auth,
                 metrics::registry& metrics)
  : opts_(opts), auth_(std::move(auth)), metrics_(metrics) {
  metrics_.add_collector([this] {
    metrics_.get_gauge("engram_http_inflight_requests",
                       "Requests being processed inside the node")
      .set(static_cast<double>(inflight_.load()));
  });
}

gateway::~gateway() = default;

caf::error gateway::check_access(access a, const http::request& req,
                                 const http::path_params& params) const {
  if (a == access::open || !auth_.enabled())
    return caf::none;
  auto who = auth_.authenticate(req.authorization);
  if (!who)
    return who.error();
  if (a == access::any_key)
    return caf::none;
  auto it = params.find("user");
  auto user = a == access::user && it != params.end() ? it->second : "";
  return authenticator::authorize(*who, user);
}

void gateway::add_route(std::string method, std::string pattern, access a,
                        http::route_handler h) {
  router_.add(std::move(method), std::move(pattern),
              [this, a, h = std::move(h)](http::request req,
                                          http::path_params params,
                                          http::responder done) {
                if (auto err = check_access(a, req, params))
                  return done(http::error_response(err));
                h(std::move(req), std::move(params), std::move(done));
              });
}

gateway::route_metrics& gateway::metrics_for(const std::string& route,
                                             const std::string& method) {
  std::lock_guard<std::mutex> guard{mu_};
  auto& slot = route_metrics_[method + " " + route];
  if (!slot)
    slot.reset(new route_metrics{
      metrics_.get_histogram("engram_http_request_seconds",
                             "HTTP request latency by route",
                             {{"route", route}, {"method", method}}),
      route, method});
  return *slot;
}

namespace {

// Releases the in-flight slot exactly once, even when a handler drops its
// responder without answering (the server then answers 500 on its own).
struct inflight_slot {
  std::atomic<uint64_t>& counter;
  ~inflight_slot() { counter.fetch_sub(1); }
};

} // namespace

// Wraps `done` so that answering also records latency, status and the
// access log line, and releases the in-flight slot.
http::responder gateway::instrument(const http::request& req,
                                    std::string route, http::responder done) {
  auto t0 = std::chrono::steady_clock::now();
  auto& m = metrics_for(route, req.method);
  std::shared_ptr<inflight_slot> slot{new inflight_slot{inflight_}};
  return [this, &m, t0, slot, id = req.request_id, path = req.path,
          done = std::move(done)](http::response res) mutable {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    m.latency.observe(took.count());
    metrics_
      .get_counter("engram_http_requests_total",
                   "HTTP requests by route and status",
                   {{"route", m.route}, {"method", m.method},
                    {"status", std::to_string(res.status)}})
      .inc();
    slot.reset();
    auto lvl = res.status >= 500 ? spdlog::level::warn : spdlog::level::debug;
    spdlog::log(lvl, "http request id={} method={} path={} route={} status={} "
                "ms={:.3f}", id, m.method, logging::quote(path),
                logging::quote(m.route), res.status, took.count() * 1000);
    done(std::move(res));
  };
}

void gateway::handle(http::request req, http::responder done) {
  auto match = router_.match(req.method, req.path);
  auto route = match.handler ? match.pattern : std::string("unmatched");
  if (inflight_.fetch_add(1) >= opts_.max_inflight_requests) {
    auto respond = instrument(req, route, std::move(done));
    return respond(http::error_response(make_error(
      ec::overloaded, "too many requests in flight (http.max_inflight_requests="
                        + std::to_string(opts_.max_inflight_requests) + ")")));
  }
  auto respond = instrument(req, route, std::move(done));
  if (!match.handler) {
    auto res = http::error_response(match.err);
    if (!match.allow.empty())
      res.headers.emplace_back("Allow", match.allow);
    return respond(std::move(res));
  }
  (*match.handler)(std::move(req), std::move(match.params), std::move(respond));
}

} // namespace engram
