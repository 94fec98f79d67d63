#include "runtime/http/detail/server_state.hpp"

#include <utility>
#include <vector>

namespace engram::http::detail {

// -- connection_slot -------------------------------------------------------------

connection_slot::connection_slot(server_state& st) : state_(&st) {
  st.open.fetch_add(1, std::memory_order_relaxed);
  st.connections_gauge.add(1);
}

connection_slot::connection_slot(connection_slot&& other) noexcept
  : state_(std::exchange(other.state_, nullptr)) {
}

connection_slot& connection_slot::operator=(connection_slot&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

void connection_slot::release() {
  if (auto* st = std::exchange(state_, nullptr)) {
    st->open.fetch_sub(1, std::memory_order_relaxed);
    st->connections_gauge.add(-1);
  }
}

// -- inflight_token --------------------------------------------------------------

inflight_token::inflight_token(server_state& st) : state_(&st) {
  st.inflight.fetch_add(1, std::memory_order_relaxed);
}

inflight_token::inflight_token(inflight_token&& other) noexcept
  : state_(std::exchange(other.state_, nullptr)) {
}

inflight_token& inflight_token::operator=(inflight_token&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

void inflight_token::release() {
  if (auto* st = std::exchange(state_, nullptr))
    st->inflight.fetch_sub(1, std::memory_order_acq_rel);
}

// -- server_state ----------------------------------------------------------------

namespace {

const char* kind_name(size_t i) {
  static const char* names[transport_error_kinds] = {
    "timeout", "malformed", "too_large", "io", "websocket"};
  return names[i];
}

} // namespace

server_state::server_state(const config::http_options& o, request_handler h,
                           websocket_handler w, metrics::registry& reg)
  : opts(o),
    handler(std::move(h)),
    ws(std::move(w)),
    connections_gauge(reg.get_gauge("engram_http_connections",
                                    "Open HTTP and WebSocket connections.")),
    rejected(reg.get_counter(
      "engram_http_connections_rejected_total",
      "Connections refused with 503 because http.max_connections was hit.")),
    io_(std::make_unique<boost::asio::io_context>()) {
  for (size_t i = 0; i < transport_error_kinds; ++i)
    transport_errors_[i] = &reg.get_counter(
      "engram_http_transport_errors_total",
      "Connections or requests that failed below the API: timeouts, "
      "malformed HTTP, size limits, socket and WebSocket errors.",
      {{"kind", kind_name(i)}});
}

void server_state::count(transport_error kind) {
  transport_errors_[static_cast<size_t>(kind)]->inc();
}

void server_state::track(closable* c, std::weak_ptr<closable> ref) {
  std::lock_guard<std::mutex> guard{sessions_mu_};
  sessions_[c] = std::move(ref);
}

void server_state::untrack(closable* c) {
  std::lock_guard<std::mutex> guard{sessions_mu_};
  sessions_.erase(c);
}

namespace {

// Strong references to every live connection, taken under the lock and used
// outside it: closing may destroy a connection, whose destructor untracks.
template <class Map>
std::vector<std::shared_ptr<closable>> lock_all(std::mutex& mu, Map& m) {
  std::vector<std::shared_ptr<closable>> out;
  std::lock_guard<std::mutex> guard{mu};
  for (auto& [key, weak] : m)
    if (auto strong = weak.lock())
      out.push_back(std::move(strong));
  return out;
}

} // namespace

void server_state::shutdown_all() {
  for (auto& c : lock_all(sessions_mu_, sessions_))
    c->shutdown();
}

void server_state::abandon_all() {
  for (auto& c : lock_all(sessions_mu_, sessions_))
    c->abandon();
}

void server_state::destroy_io() {
  {
    std::lock_guard<std::mutex> guard{io_mu_};
    io_alive_ = false;
  }
  // Outside the lock: handlers destroyed here may own responders whose
  // destructors call with_io() (and now find the io_context gone).
  io_.reset();
}

} // namespace engram::http::detail
