#include "runtime/http/detail/listener.hpp"

#include <chrono>

#include "messages/errors.hpp"
#include "runtime/http/detail/closer.hpp"
#include "runtime/http/detail/convert.hpp"
#include "runtime/http/detail/http_session.hpp"
#include "runtime/http/detail/target.hpp"
#include "runtime/http/error_body.hpp"

namespace engram::http::detail {

listener::listener(server_state& st, tcp::acceptor acceptor)
  : state_(st),
    acceptor_(std::move(acceptor)),
    retry_(acceptor_.get_executor()) {
}

void listener::start() {
  asio::post(acceptor_.get_executor(),
             [self = shared_from_this()] { self->accept(); });
}

void listener::close() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    self->closed_ = true;
    error_code ignored; // closing twice is harmless
    self->acceptor_.close(ignored);
    self->retry_.cancel();
  });
}

void listener::accept() {
  if (closed_)
    return;
  // Each connection gets its own strand: its handlers never run
  // concurrently, whichever IO thread picks them up.
  acceptor_.async_accept(
    asio::make_strand(state_.io()),
    [self = shared_from_this()](error_code ec, tcp::socket sock) {
      self->on_accept(ec, std::move(sock));
    });
}

void listener::on_accept(error_code ec, tcp::socket sock) {
  if (closed_ || ec == asio::error::operation_aborted)
    return;
  if (ec) {
    // Typically EMFILE: retrying at once would spin, so wait a little.
    state_.count(transport_error::io);
    retry_.expires_after(std::chrono::milliseconds{50});
    retry_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec)
        self->accept();
    });
    return;
  }
  if (state_.open.load() >= state_.opts.max_connections)
    reject(std::move(sock));
  else
    admit(std::move(sock));
  accept();
}

void listener::admit(tcp::socket sock) {
  auto session = std::make_shared<http_session>(state_, std::move(sock),
                                                connection_slot{state_});
  // Start on the connection's strand: from then on stop() may close it
  // concurrently, and only the strand serialises the two.
  asio::post(session->strand(), [session] { session->start(); });
}

void listener::reject(tcp::socket sock) {
  state_.rejected.inc();
  auto err = make_error(ec::unavailable,
                        "too many open connections (http.max_connections = "
                          + std::to_string(state_.opts.max_connections) + ")");
  send_and_close(state_, beast::tcp_stream{std::move(sock)},
                 to_beast(error_response(err), make_request_id(), false,
                          false));
}

} // namespace engram::http::detail
