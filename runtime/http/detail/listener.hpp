#pragma once
// Accepts connections and decides who gets served: up to
// http.max_connections open connections, beyond that a 503 and a close.

#include <memory>

#include <boost/asio/steady_timer.hpp>

#include "runtime/http/detail/beast.hpp"
#include "runtime/http/detail/server_state.hpp"

namespace engram::http::detail {

class listener : public std::enable_shared_from_this<listener> {
public:
  /// `acceptor` is bound and listening, with a strand as its executor.
  listener(server_state& st, tcp::acceptor acceptor);

  /// Starts the accept loop.
  void start();

  /// Thread-safe: closes the acceptor (on its strand); the loop then ends.
  void close();

private:
  void accept();
  void on_accept(error_code ec, tcp::socket sock);
  void admit(tcp::socket sock);
  void reject(tcp::socket sock);

  server_state& state_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_; // backs off when accept fails (out of fds)
  bool closed_ = false;
};

} // namespace engram::http::detail
