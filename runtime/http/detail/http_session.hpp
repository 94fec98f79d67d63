#pragma once
// One HTTP/1.1 connection: reads a request (header first, so limits apply
// before the body arrives), hands it to the request handler or upgrades it
// to a WebSocket, writes the answer, and repeats while keep-alive holds.
// Everything except deliver()'s caller runs on the connection's strand; one
// request at a time (no pipelining).

#include <memory>
#include <optional>
#include <string>

#include <caf/error.hpp>

#include "runtime/http/detail/beast.hpp"
#include "runtime/http/detail/server_state.hpp"

namespace engram::http::detail {

class http_session : public closable,
                     public std::enable_shared_from_this<http_session> {
public:
  http_session(server_state& st, tcp::socket sock, connection_slot slot);
  ~http_session() override;

  /// Registers with the server and reads the first request.
  void start();

  /// On the strand: writes the handler's answer to the current request.
  /// `token` keeps the request in flight until the answer is written.
  void deliver(response r, inflight_token token);

  const asio::any_io_executor& strand() const { return strand_; }

  void shutdown() override;
  void abandon() override;

private:
  // Reading, in order.
  void wait_for_next_request();
  void read_header();
  void on_header(error_code ec);
  void send_continue();
  void read_body();
  void on_read_error(error_code ec);
  // Answering.
  void dispatch();
  void call_handler(request req);
  void reply(response r, inflight_token token = {});
  void reply_and_close(const caf::error& err);
  void on_write(error_code ec);
  void close();

  server_state& state_;
  asio::any_io_executor strand_;
  std::string remote_; // before stream_: read from the socket it takes
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::empty_body> continue_;
  beast_response res_;
  connection_slot slot_;
  inflight_token write_token_; // the request whose answer is being written
  std::string request_id_; // of the current request
  bool keep_alive_ = false;
  bool head_ = false;
  bool closed_ = false; // socket closed or handed to a closer/WebSocket
  // Keeps the session alive while the handler owns the request: responders
  // hold only a weak reference, so a response arriving after stop() finds
  // nothing rather than a socket whose io_context is gone.
  std::shared_ptr<http_session> self_hold_;
};

} // namespace engram::http::detail
