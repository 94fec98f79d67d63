#include "runtime/http/server.hpp"

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>

#include "config/endpoint.hpp"
#include "messages/errors.hpp"
#include "runtime/http/detail/beast.hpp"
#include "runtime/http/detail/listener.hpp"
#include "runtime/http/detail/server_state.hpp"

namespace engram::http {

using namespace detail;

namespace {

// How long stop() lets closing connections finish their last handlers
// before it stops the io_context outright.
constexpr std::chrono::milliseconds graceful_stop{500};

// The endpoint to bind: config::parse_endpoint is the one parser of listen
// addresses; "localhost" binds 127.0.0.1 so binding never depends on DNS.
caf::expected<tcp::endpoint> parse_listen(const std::string& listen) {
  auto ep = config::parse_endpoint(listen);
  if (!ep)
    return make_error(ec::invalid_config,
                      "http.listen '" + listen + "': " + message_of(ep.error()),
                      "http.listen");
  auto host = ep->host == "localhost" ? std::string("127.0.0.1") : ep->host;
  error_code addr_err;
  auto addr = asio::ip::make_address(host, addr_err);
  if (addr_err)
    return make_error(ec::invalid_config,
                      "http.listen '" + listen
                        + "': host must be a numeric IPv4 or IPv6 address",
                      "http.listen");
  return tcp::endpoint{addr, ep->port};
}

caf::expected<tcp::acceptor> open_acceptor(asio::io_context& io,
                                           const tcp::endpoint& ep,
                                           const std::string& listen) {
  tcp::acceptor acc{asio::make_strand(io)};
  error_code ec;
  acc.open(ep.protocol(), ec);
  if (!ec)
    acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ec::unavailable,
                      "cannot listen on " + listen + ": " + ec.message(),
                      "http.listen");
  return acc;
}

} // namespace

struct server::impl {
  impl(const config::http_options& opts, request_handler handler,
       websocket_handler ws, metrics::registry& metrics)
    : state(std::make_shared<server_state>(opts, std::move(handler),
                                           std::move(ws), metrics)) {
  }

  void run_io_thread();
  void stop_accepting_locked();
  void join_threads();

  std::shared_ptr<server_state> state;
  std::shared_ptr<listener> acceptor;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    work;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};

  std::mutex lifecycle_mu; // guards started, stopped, acceptor, threads
  bool started = false;
  bool stopped = false;

  std::mutex exit_mu; // guards exited
  std::condition_variable exit_cv;
  size_t exited = 0;
};

void server::impl::run_io_thread() {
  for (;;) {
    try {
      state->io().run();
      break;
    } catch (...) {
      // Handlers catch what they call; should something still escape, keep
      // this thread serving instead of losing it (or the process).
    }
  }
  std::lock_guard<std::mutex> guard{exit_mu};
  ++exited;
  exit_cv.notify_all();
}

void server::impl::stop_accepting_locked() {
  state->accepting = false;
  if (acceptor)
    acceptor->close();
}

void server::impl::join_threads() {
  // Without the work guard, run() returns once every connection is closed;
  // if some handler keeps it busy past the grace period, stop it outright.
  work.reset();
  {
    std::unique_lock<std::mutex> lk{exit_mu};
    exit_cv.wait_for(lk, graceful_stop,
                     [this] { return exited == threads.size(); });
  }
  state->io().stop();
  for (auto& t : threads)
    t.join();
  threads.clear();
}

server::server(const config::http_options& opts, request_handler handler,
               websocket_handler ws, metrics::registry& metrics)
  : impl_(std::make_unique<impl>(opts, std::move(handler), std::move(ws),
                                 metrics)) {
}

server::~server() {
  stop();
}

caf::error server::start() {
  std::lock_guard<std::mutex> guard{impl_->lifecycle_mu};
  if (impl_->started || impl_->stopped)
    return make_error(ec::internal, "http server started twice");
  auto& st = *impl_->state;
  auto ep = parse_listen(st.opts.listen);
  if (!ep)
    return ep.error();
  auto acc = open_acceptor(st.io(), *ep, st.opts.listen);
  if (!acc)
    return acc.error();
  impl_->port = acc->local_endpoint().port();
  impl_->acceptor = std::make_shared<listener>(st, std::move(*acc));
  st.accepting = true;
  impl_->acceptor->start();
  impl_->work.emplace(st.io().get_executor());
  auto n = std::max<uint32_t>(1, st.opts.io_threads);
  for (uint32_t i = 0; i < n; ++i)
    impl_->threads.emplace_back([this] { impl_->run_io_thread(); });
  impl_->started = true;
  return caf::none;
}

uint16_t server::port() const {
  return impl_->port.load();
}

void server::stop_accepting() {
  std::lock_guard<std::mutex> guard{impl_->lifecycle_mu};
  if (!impl_->stopped)
    impl_->stop_accepting_locked();
}

bool server::drain(std::chrono::steady_clock::time_point deadline) {
  // Polling is fine here: it only runs once, at shutdown.
  for (;;) {
    if (impl_->state->inflight.load(std::memory_order_acquire) == 0)
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
}

// Joins the IO threads, so it must not run on one of them (from a request
// or WebSocket callback); the node calls it from its own shutdown path.
void server::stop() {
  std::lock_guard<std::mutex> guard{impl_->lifecycle_mu};
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  auto& st = *impl_->state;
  if (impl_->started) {
    impl_->stop_accepting_locked();
    st.shutdown_all();
    impl_->join_threads();
    // Nothing runs now: close what the posted shutdowns did not reach and
    // break the self-references of sessions still waiting for a handler.
    st.abandon_all();
  }
  impl_->acceptor.reset();
  // Queued handlers (and the sessions they own) die here, while the rest of
  // the state they refer to is still alive.
  st.destroy_io();
}

std::size_t server::open_connections() const {
  return impl_->state->open.load();
}

} // namespace engram::http
