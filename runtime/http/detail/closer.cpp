#include "runtime/http/detail/closer.hpp"

#include <chrono>

#include <boost/asio/dispatch.hpp>

namespace engram::http::detail {

namespace {

// How long and how much we keep reading after the last response. A client
// that honours Connection: close hangs up well within this.
constexpr std::chrono::milliseconds linger_time{500};
constexpr size_t linger_bytes = 1024 * 1024;

class closing_connection
  : public closable,
    public std::enable_shared_from_this<closing_connection> {
public:
  closing_connection(server_state& st, beast::tcp_stream stream,
                     beast_response res, connection_slot slot,
                     inflight_token token)
    : state_(st),
      strand_(stream.get_executor()),
      stream_(std::move(stream)),
      res_(std::move(res)),
      slot_(std::move(slot)),
      token_(std::move(token)) {
  }

  ~closing_connection() override { state_.untrack(this); }

  void start() {
    state_.track(this, weak_from_this());
    // A client that does not read cannot pin the connection forever.
    stream_.expires_after(std::chrono::milliseconds{state_.opts.idle_timeout_ms});
    bhttp::async_write(stream_, res_,
                       [self = shared_from_this()](error_code ec, size_t) {
                         self->on_write(ec);
                       });
  }

  void shutdown() override {
    asio::post(strand_, [self = shared_from_this()] { self->close(); });
  }

  void abandon() override { close(); }

private:
  void on_write(error_code ec) {
    token_.release(); // the response is out (or will never be): drained
    if (ec) {
      close();
      return;
    }
    error_code ignored; // the peer may already be gone; we close anyway
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(linger_time);
    drain();
  }

  void drain() {
    stream_.async_read_some(
      buf_.prepare(64 * 1024), // never committed: the bytes are dropped
      [self = shared_from_this()](error_code ec, size_t n) {
        self->discarded_ += n;
        if (ec || self->discarded_ >= linger_bytes) {
          self->close();
          return;
        }
        self->drain();
      });
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    stream_.close();
    slot_.release();
  }

  server_state& state_;
  asio::any_io_executor strand_;
  beast::tcp_stream stream_;
  beast_response res_;
  beast::flat_buffer buf_;
  size_t discarded_ = 0;
  connection_slot slot_;
  inflight_token token_;
  bool closed_ = false;
};

} // namespace

void send_and_close(server_state& st, beast::tcp_stream stream,
                    beast_response res, connection_slot slot,
                    inflight_token token) {
  res.keep_alive(false);
  auto strand = stream.get_executor();
  auto conn = std::make_shared<closing_connection>(
    st, std::move(stream), std::move(res), std::move(slot), std::move(token));
  // Inline when called on the connection's strand (an HTTP session), posted
  // otherwise (the listener), so start() never races a shutdown().
  asio::dispatch(strand, [conn] { conn->start(); });
}

} // namespace engram::http::detail
