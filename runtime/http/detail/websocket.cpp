#include "runtime/http/detail/websocket.hpp"

#include <chrono>
#include <deque>

#include <boost/beast/websocket.hpp>

namespace engram::http::detail {

namespace websocket = beast::websocket;

namespace {

class ws_connection;

// What handlers hold. It may outlive the connection and even the server, so
// it refers to the connection weakly and reaches the io_context only through
// with_io(); calls after the end are silently dropped.
class ws_handle : public websocket_session {
public:
  ws_handle(std::weak_ptr<ws_connection> conn,
            std::shared_ptr<server_state> state)
    : conn_(std::move(conn)), state_(std::move(state)) {
  }
  void send(std::string text) override;
  void close() override;

private:
  template <class Fn>
  void post(Fn fn);

  std::weak_ptr<ws_connection> conn_;
  std::shared_ptr<server_state> state_;
};

// The Beast side. Runs on the strand of the socket it took over; at most one
// write is outstanding (Beast allows one), further messages wait in queue_.
class ws_connection : public closable,
                      public std::enable_shared_from_this<ws_connection> {
public:
  ws_connection(server_state& st, beast::tcp_stream stream, request req,
                connection_slot slot)
    : state_(st),
      strand_(stream.get_executor()),
      ws_(std::move(stream)),
      req_(std::move(req)),
      slot_(std::move(slot)) {
  }

  ~ws_connection() override { state_.untrack(this); }

  const asio::any_io_executor& strand() const { return strand_; }

  void start(beast_request upgrade);
  void enqueue(std::string text);
  void request_close();

  void shutdown() override {
    asio::post(strand_, [self = shared_from_this()] { self->finish(); });
  }
  void abandon() override { finish(); }

private:
  void configure();
  void on_accept(error_code ec);
  void read();
  void on_read(error_code ec);
  void write_next();
  void close_handshake();
  void finish();

  server_state& state_;
  asio::any_io_executor strand_;
  websocket::stream<beast::tcp_stream> ws_;
  request req_;
  connection_slot slot_;
  beast_request upgrade_; // read by async_accept until it completes
  beast::flat_buffer buf_;
  std::shared_ptr<ws_handle> handle_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool close_requested_ = false;
  bool opened_ = false;
  bool finished_ = false;
};

// -- ws_handle -------------------------------------------------------------------

template <class Fn>
void ws_handle::post(Fn fn) {
  state_->with_io([&] {
    if (auto c = conn_.lock())
      asio::post(c->strand(),
                 [c, fn = std::move(fn)]() mutable { fn(*c); });
  });
}

void ws_handle::send(std::string text) {
  post([t = std::move(text)](ws_connection& c) mutable {
    c.enqueue(std::move(t));
  });
}

void ws_handle::close() {
  post([](ws_connection& c) { c.request_close(); });
}

// -- ws_connection ---------------------------------------------------------------

void ws_connection::configure() {
  // The WebSocket stream has its own timeouts (with pings while idle); the
  // HTTP ones on the tcp_stream would otherwise cut a quiet subscription.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::milliseconds{state_.opts.header_timeout_ms};
  t.idle_timeout = std::chrono::milliseconds{state_.opts.idle_timeout_ms};
  t.keep_alive_pings = true;
  ws_.set_option(t);
  ws_.read_message_max(state_.opts.max_body_bytes);
  auto rid = req_.request_id;
  ws_.set_option(websocket::stream_base::decorator(
    [rid](websocket::response_type& res) {
      res.set(bhttp::field::server, "engram");
      res.set("X-Request-Id", rid);
    }));
}

void ws_connection::start(beast_request upgrade) {
  state_.track(this, weak_from_this());
  handle_ = std::make_shared<ws_handle>(weak_from_this(),
                                        state_.shared_from_this());
  configure();
  upgrade_ = std::move(upgrade);
  ws_.async_accept(upgrade_, [self = shared_from_this()](error_code ec) {
    self->on_accept(ec);
  });
}

void ws_connection::on_accept(error_code ec) {
  if (ec) {
    if (ec != asio::error::operation_aborted)
      state_.count(transport_error::websocket);
    finish();
    return;
  }
  opened_ = true;
  if (state_.ws.on_open) {
    try {
      state_.ws.on_open(handle_, req_);
    } catch (...) {
      // A throwing callback must not unwind into Asio; drop the connection.
      finish();
      return;
    }
  }
  read();
}

void ws_connection::read() {
  ws_.async_read(buf_, [self = shared_from_this()](error_code ec, size_t) {
    self->on_read(ec);
  });
}

void ws_connection::on_read(error_code ec) {
  if (ec) {
    bool normal = ec == websocket::error::closed
                  || ec == asio::error::operation_aborted
                  || ec == asio::error::eof;
    if (!normal && !finished_)
      state_.count(transport_error::websocket);
    finish();
    return;
  }
  // Binary frames are not part of engram's protocol: read and ignored.
  if (ws_.got_text() && state_.ws.on_message) {
    try {
      state_.ws.on_message(handle_, beast::buffers_to_string(buf_.data()));
    } catch (...) {
      buf_.consume(buf_.size());
      finish();
      return;
    }
  }
  buf_.consume(buf_.size());
  read();
}

void ws_connection::enqueue(std::string text) {
  if (finished_ || close_requested_ || !opened_)
    return;
  queue_.push_back(std::move(text));
  if (!writing_)
    write_next();
}

void ws_connection::write_next() {
  if (finished_)
    return;
  if (queue_.empty()) {
    writing_ = false;
    if (close_requested_)
      close_handshake();
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(asio::buffer(queue_.front()),
                  [self = shared_from_this()](error_code ec, size_t) {
                    if (ec) {
                      self->writing_ = false;
                      self->queue_.clear();
                      self->finish();
                      return;
                    }
                    self->queue_.pop_front();
                    self->write_next();
                  });
}

void ws_connection::request_close() {
  if (finished_ || close_requested_)
    return;
  close_requested_ = true;
  // Queued messages go out first; Beast forbids a close while writing.
  if (!writing_)
    close_handshake();
}

void ws_connection::close_handshake() {
  // The pending read sees the peer's answering close frame and ends with
  // websocket::error::closed, which calls finish().
  ws_.async_close(websocket::close_code::normal,
                  [self = shared_from_this()](error_code ec) {
                    if (ec)
                      self->finish();
                  });
}

void ws_connection::finish() {
  if (finished_)
    return;
  finished_ = true;
  // A write in progress still reads queue_.front(); its completion (an
  // error now) clears the queue instead.
  if (!writing_)
    queue_.clear();
  beast::get_lowest_layer(ws_).close();
  slot_.release();
  if (opened_ && state_.ws.on_close) {
    try {
      state_.ws.on_close(handle_);
    } catch (...) {
      // Nothing left to clean up; the exception must not reach Asio.
    }
  }
}

} // namespace

bool is_websocket_upgrade(const beast_request& req) {
  return websocket::is_upgrade(req);
}

bool wants_websocket(server_state& st, const request& req) {
  try {
    return st.ws.accepts && st.ws.accepts(req);
  } catch (...) {
    return false; // a throwing check refuses, it does not crash the server
  }
}

void start_websocket(server_state& st, beast::tcp_stream stream,
                     beast_request upgrade, request req, connection_slot slot) {
  std::make_shared<ws_connection>(st, std::move(stream), std::move(req),
                                  std::move(slot))
    ->start(std::move(upgrade));
}

} // namespace engram::http::detail
