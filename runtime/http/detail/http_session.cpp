#include "runtime/http/detail/http_session.hpp"

#include <chrono>

#include "messages/errors.hpp"
#include "runtime/http/detail/closer.hpp"
#include "runtime/http/detail/convert.hpp"
#include "runtime/http/detail/target.hpp"
#include "runtime/http/detail/websocket.hpp"
#include "runtime/http/error_body.hpp"

namespace engram::http::detail {

namespace {

// Request line plus headers. Beast's default; named so the 413 can say it.
constexpr uint32_t max_header_bytes = 8 * 1024;

std::chrono::milliseconds ms(uint32_t n) {
  return std::chrono::milliseconds{n};
}

const boost::system::error_category& http_parse_category() {
  return bhttp::make_error_code(bhttp::error::bad_method).category();
}

caf::error body_too_large(uint64_t limit) {
  return make_error(ec::too_large,
                    "request body exceeds http.max_body_bytes ("
                      + std::to_string(limit) + " bytes)",
                    "body");
}

// The completion side of a responder. Shared by every copy of the
// std::function handed to the request handler; the first complete() wins,
// and if the last copy dies unanswered (a handler bug) the client still gets
// a 500 instead of a connection that hangs.
class response_guard {
public:
  response_guard(std::weak_ptr<http_session> session,
                 std::shared_ptr<server_state> state, inflight_token token)
    : session_(std::move(session)),
      state_(std::move(state)),
      token_(std::move(token)) {
  }

  ~response_guard() {
    if (!done_.exchange(true))
      post(error_response(make_error(
        ec::internal, "request handler dropped its responder")));
  }

  void complete(response r) {
    if (!done_.exchange(true))
      post(std::move(r));
  }

private:
  // May run on any thread: only a post onto the session's strand touches it.
  void post(response r) {
    state_->with_io([&] {
      auto s = session_.lock();
      if (!s)
        return; // connection already closed: nobody to answer
      asio::post(s->strand(), [s, r = std::move(r),
                               t = std::move(token_)]() mutable {
        s->deliver(std::move(r), std::move(t));
      });
    });
  }

  std::weak_ptr<http_session> session_;
  std::shared_ptr<server_state> state_; // keeps with_io() callable
  inflight_token token_;                // declared after state_: dies first
  std::atomic<bool> done_{false};
};

} // namespace

http_session::http_session(server_state& st, tcp::socket sock,
                           connection_slot slot)
  : state_(st),
    strand_(sock.get_executor()),
    remote_(peer_of(sock)),
    stream_(std::move(sock)),
    slot_(std::move(slot)) {
}

http_session::~http_session() {
  state_.untrack(this);
}

void http_session::start() {
  state_.track(this, weak_from_this());
  read_header();
}

void http_session::shutdown() {
  asio::post(strand_, [self = shared_from_this()] {
    self->close();
    self->self_hold_.reset();
  });
}

void http_session::abandon() {
  // The caller holds a reference, so dropping ours cannot destroy `this`.
  close();
  self_hold_.reset();
}

// -- reading -----------------------------------------------------------------

void http_session::wait_for_next_request() {
  if (buffer_.size() > 0) { // the client already sent (part of) it
    read_header();
    return;
  }
  // Between requests the idle timeout applies; once the first bytes are in,
  // the (shorter) header timeout takes over in read_header().
  stream_.expires_after(ms(state_.opts.idle_timeout_ms));
  stream_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](error_code ec, size_t n) {
                            if (ec) {
                              self->close(); // idle, gone or stopped: normal
                              return;
                            }
                            self->buffer_.commit(n);
                            self->read_header();
                          });
}

void http_session::read_header() {
  parser_.emplace();
  parser_->header_limit(max_header_bytes);
  parser_->body_limit(state_.opts.max_body_bytes);
  stream_.expires_after(ms(state_.opts.header_timeout_ms));
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](error_code ec, size_t) {
                             self->on_header(ec);
                           });
}

void http_session::on_header(error_code ec) {
  if (ec) {
    on_read_error(ec);
    return;
  }
  // Refuse a declared oversize body before reading any of it.
  auto declared = parser_->content_length();
  if (declared && *declared > state_.opts.max_body_bytes) {
    on_read_error(bhttp::error::body_limit);
    return;
  }
  if (parser_->is_done()) {
    dispatch();
    return;
  }
  if (beast::iequals(parser_->get()[bhttp::field::expect], "100-continue"))
    send_continue();
  else
    read_body();
}

void http_session::send_continue() {
  // Clients such as curl wait (up to a second) for this before sending a
  // body; the size check above has already passed.
  continue_ = {bhttp::status::continue_, 11};
  bhttp::async_write(stream_, continue_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec)
                         self->on_read_error(ec);
                       else
                         self->read_body();
                     });
}

void http_session::read_body() {
  // A stalled upload counts as idleness: the header timeout is meant for
  // the small header, not for a large body on a slow link.
  stream_.expires_after(ms(state_.opts.idle_timeout_ms));
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](error_code ec, size_t) {
                      if (ec)
                        self->on_read_error(ec);
                      else
                        self->dispatch();
                    });
}

void http_session::on_read_error(error_code ec) {
  if (ec == asio::error::operation_aborted || closed_)
    return; // we closed the socket ourselves
  if (ec == beast::error::timeout) {
    state_.count(transport_error::timeout);
    close();
  } else if (ec == bhttp::error::body_limit) {
    state_.count(transport_error::too_large);
    reply_and_close(body_too_large(state_.opts.max_body_bytes));
  } else if (ec == bhttp::error::header_limit) {
    state_.count(transport_error::too_large);
    reply_and_close(make_error(ec::too_large,
                               "request header exceeds "
                                 + std::to_string(max_header_bytes) + " bytes",
                               "headers"));
  } else if (ec == bhttp::error::end_of_stream
             || ec == bhttp::error::partial_message) {
    close(); // the client hung up, possibly mid-request
  } else if (ec.category() == http_parse_category()) {
    state_.count(transport_error::malformed);
    reply_and_close(make_error(ec::malformed_request,
                               "malformed HTTP request: " + ec.message()));
  } else {
    state_.count(transport_error::io);
    close();
  }
}

// -- answering -----------------------------------------------------------------

void http_session::dispatch() {
  auto& breq = parser_->get();
  request_id_ = choose_request_id(breq["X-Request-Id"]);
  keep_alive_ = breq.keep_alive();
  head_ = breq.method() == bhttp::verb::head;
  request req;
  req.request_id = request_id_;
  if (auto err = to_request(breq, remote_, req)) {
    state_.count(transport_error::malformed);
    reply(error_response(err)); // framing was fine: keep-alive may go on
    return;
  }
  if (!is_websocket_upgrade(breq)) {
    call_handler(std::move(req));
    return;
  }
  if (!wants_websocket(state_, req)) {
    reply(error_response(
      make_error(ec::not_found, "no WebSocket endpoint at " + req.path)));
    return;
  }
  closed_ = true; // the socket now belongs to the WebSocket
  start_websocket(state_, std::move(stream_), parser_->release(),
                  std::move(req), std::move(slot_));
}

void http_session::call_handler(request req) {
  auto guard = std::make_shared<response_guard>(
    weak_from_this(), state_.shared_from_this(), inflight_token{state_});
  self_hold_ = shared_from_this();
  responder done = [guard](response r) { guard->complete(std::move(r)); };
  try {
    state_.handler(std::move(req), std::move(done));
  } catch (...) {
    // An exception must not unwind into Asio and kill an IO thread; the
    // client learns no details of it.
    guard->complete(error_response(
      make_error(ec::internal, "request handler failed")));
  }
}

void http_session::deliver(response r, inflight_token token) {
  self_hold_.reset(); // the posted handler calling us holds a reference
  if (closed_)
    return;
  reply(std::move(r), std::move(token));
}

void http_session::reply(response r, inflight_token token) {
  // After stop_accepting() every answer is the connection's last.
  bool keep = keep_alive_ && state_.accepting.load();
  auto res = to_beast(std::move(r), request_id_, keep, head_);
  if (!keep) {
    closed_ = true;
    send_and_close(state_, std::move(stream_), std::move(res),
                   std::move(slot_), std::move(token));
    return;
  }
  res_ = std::move(res);
  write_token_ = std::move(token);
  // A client that stops reading cannot pin the connection.
  stream_.expires_after(ms(state_.opts.idle_timeout_ms));
  bhttp::async_write(stream_, res_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->on_write(ec);
                     });
}

void http_session::reply_and_close(const caf::error& err) {
  std::string_view client_id; // none when the header never parsed
  if (parser_ && parser_->is_header_done())
    client_id = parser_->get()["X-Request-Id"];
  auto rid = choose_request_id(client_id);
  closed_ = true;
  send_and_close(state_, std::move(stream_),
                 to_beast(error_response(err), rid, false, false),
                 std::move(slot_));
}

void http_session::on_write(error_code ec) {
  write_token_.release();
  if (ec) {
    close(); // peer gone, write timed out, or stop()
    return;
  }
  wait_for_next_request();
}

void http_session::close() {
  if (closed_)
    return;
  closed_ = true;
  error_code ignored; // shutting down an already dead socket is fine
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  slot_.release();
}

} // namespace engram::http::detail
