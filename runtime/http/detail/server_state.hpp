#pragma once
// What every connection of one http::server shares: options, callbacks,
// metrics, counters, the set of open connections (so stop() can close them)
// and the io_context.
//
// Lifetime: connections refer to the state by plain reference; they only
// live inside the io_context (its handlers) or briefly in a thread that
// posts to them, and the io_context is destroyed (by destroy_io, in stop())
// before the state. Responders and WebSocket handles given to handlers may
// outlive the server; they hold a shared_ptr to the state and reach the
// io_context only through with_io(), which knows whether it still exists.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "config/options.hpp"
#include "runtime/http/message.hpp"
#include "runtime/metrics.hpp"

namespace engram::http::detail {

/// A connection stop() can close: HTTP session, WebSocket or closing socket.
class closable {
public:
  virtual ~closable() = default;
  /// Thread-safe: asks the connection to close soon, on its own strand.
  virtual void shutdown() = 0;
  /// Only once no IO thread runs: closes now and drops self-references, so
  /// the object dies with the io_context's handlers at the latest.
  virtual void abandon() = 0;
};

/// Labels of engram_http_transport_errors_total{kind=...}.
enum class transport_error { timeout, malformed, too_large, io, websocket };
constexpr size_t transport_error_kinds = 5;

struct server_state;

/// Counts one open connection while it lives; moves with the socket from
/// the HTTP session to a WebSocket or a closing connection.
class connection_slot {
public:
  connection_slot() = default;
  explicit connection_slot(server_state& st);
  connection_slot(connection_slot&& other) noexcept;
  connection_slot& operator=(connection_slot&& other) noexcept;
  ~connection_slot() { release(); }
  void release();

private:
  server_state* state_ = nullptr;
};

/// Counts one request between the handler call and the end of writing its
/// response, which is what drain() waits for.
class inflight_token {
public:
  inflight_token() = default;
  explicit inflight_token(server_state& st);
  inflight_token(inflight_token&& other) noexcept;
  inflight_token& operator=(inflight_token&& other) noexcept;
  ~inflight_token() { release(); }
  void release();

private:
  server_state* state_ = nullptr;
};

struct server_state : std::enable_shared_from_this<server_state> {
  server_state(const config::http_options& o, request_handler h,
               websocket_handler w, metrics::registry& reg);

  const config::http_options opts;
  const request_handler handler;
  const websocket_handler ws;

  metrics::gauge& connections_gauge;
  metrics::counter& rejected;
  void count(transport_error kind);

  /// False before start() and after stop_accepting(): responses then carry
  /// Connection: close.
  std::atomic<bool> accepting{false};
  std::atomic<size_t> open{0};
  std::atomic<int64_t> inflight{0};

  // -- open connections (weak: the set must not keep anything alive) --------
  void track(closable* c, std::weak_ptr<closable> ref);
  void untrack(closable* c);
  void shutdown_all();
  void abandon_all();

  // -- the io_context ---------------------------------------------------------
  /// Only for code running while the server runs (IO threads, start/stop).
  boost::asio::io_context& io() { return *io_; }
  /// Runs fn() while the io_context is guaranteed to exist; false (and fn
  /// not run) once destroy_io() happened. fn must be short: it holds a lock.
  template <class Fn>
  bool with_io(Fn&& fn) {
    std::lock_guard<std::mutex> guard{io_mu_};
    if (!io_alive_)
      return false;
    fn();
    return true;
  }
  /// Destroys the io_context and every handler still queued in it. Only after
  /// the IO threads are joined.
  void destroy_io();

private:
  std::array<metrics::counter*, transport_error_kinds> transport_errors_;

  std::mutex sessions_mu_; // guards sessions_
  std::unordered_map<closable*, std::weak_ptr<closable>> sessions_;

  std::mutex io_mu_;     // guards io_alive_ against destroy_io()
  bool io_alive_ = true; // false once io_ is (being) destroyed
  std::unique_ptr<boost::asio::io_context> io_;
};

} // namespace engram::http::detail
