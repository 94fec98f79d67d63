// Specification of runtime/http/server: a real server on 127.0.0.1:0, driven
// by a small Beast client. Client operations are asynchronous with a 5 s cap,
// so a misbehaving server fails a test instead of hanging the suite.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "messages/errors.hpp"
#include "runtime/http/server.hpp"
#include "runtime/metrics.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;
using namespace engram;

namespace {

using beast_request = bhttp::request<bhttp::string_body>;
using beast_response = bhttp::response<bhttp::string_body>;

// Runs one asynchronous operation to completion; timed_out if it takes more
// than 5 s. No Catch2 macros here: some tests call it from other threads.
template <class Start>
error_code run_op(asio::io_context& io, Start start) {
  auto result = std::make_shared<std::optional<error_code>>();
  start([result](error_code ec, auto&&...) { *result = ec; });
  io.restart();
  io.run_for(5s);
  return *result ? **result : asio::error::timed_out;
}

tcp::endpoint local(uint16_t port) {
  return {asio::ip::make_address("127.0.0.1"), port};
}

class client {
public:
  explicit client(uint16_t port) : stream_(io_) {
    stream_.connect(local(port));
  }

  error_code send(beast_request req) {
    return run_op(io_, [&](auto h) {
      bhttp::async_write(stream_, req, std::move(h));
    });
  }

  error_code send_raw(const std::string& text) {
    return run_op(io_, [&](auto h) {
      asio::async_write(stream_, asio::buffer(text), std::move(h));
    });
  }

  error_code receive(beast_response& res) {
    res = {};
    return run_op(io_, [&](auto h) {
      bhttp::async_read(stream_, buf_, res, std::move(h));
    });
  }

  // The response to a HEAD request: headers only, whatever Content-Length
  // says.
  error_code receive_head(beast_response& res) {
    bhttp::response_parser<bhttp::string_body> p;
    p.skip(true);
    auto ec = run_op(io_, [&](auto h) {
      bhttp::async_read(stream_, buf_, p, std::move(h));
    });
    res = p.release();
    return ec;
  }

  // Sends and receives; an empty response (status 0) on any error.
  beast_response roundtrip(beast_request req) {
    beast_response res;
    if (send(std::move(req)) || receive(res))
      return {};
    return res;
  }

  // True when the server closed the connection: a read ends in EOF or a
  // reset instead of data.
  bool closed_by_server() {
    if (buf_.size() > 0)
      return false;
    char c;
    auto ec = run_op(io_, [&](auto h) {
      stream_.async_read_some(asio::buffer(&c, 1), std::move(h));
    });
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

private:
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
};

beast_request make_request(bhttp::verb verb, std::string target,
                           std::string body = {}) {
  beast_request req{verb, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

http::response text_response(std::string body) {
  http::response res;
  res.content_type = "text/plain";
  res.body = std::move(body);
  return res;
}

// Answers at once with what it saw: "METHOD PATH q=k=v,... body=BODY", plus
// the request id and peer as headers.
http::request_handler echo() {
  return [](http::request req, http::responder done) {
    std::string q;
    for (const auto& [k, v] : req.query)
      q += (q.empty() ? "" : ",") + k + '=' + v;
    auto res = text_response(req.method + ' ' + req.path + " q=" + q
                             + " body=" + req.body);
    res.headers.emplace_back("X-Seen-Request-Id", req.request_id);
    res.headers.emplace_back("X-Seen-Remote", req.remote);
    done(std::move(res));
  };
}

struct test_server {
  metrics::registry metrics; // outlives the server
  config::http_options opts = [] {
    config::http_options o;
    o.listen = "127.0.0.1:0";
    o.io_threads = 2;
    return o;
  }();
  std::unique_ptr<http::server> srv;

  void start(http::request_handler h, http::websocket_handler ws = {}) {
    srv = std::make_unique<http::server>(opts, std::move(h), std::move(ws),
                                         metrics);
    auto err = srv->start();
    REQUIRE_FALSE(err);
    REQUIRE(srv->port() != 0);
  }

  uint16_t port() const { return srv->port(); }

  uint64_t transport_errors(const std::string& kind) {
    return metrics
      .get_counter("engram_http_transport_errors_total", "", {{"kind", kind}})
      .value();
  }
};

// Polls `pred` for up to 2 s: for effects that happen on IO threads.
template <class Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

bool is_hex16(const std::string& s) {
  return s.size() == 16
         && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

const std::string upgrade_headers
  = "Connection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n";

} // namespace

TEST_CASE("keep-alive serves two requests on one connection", "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  auto r1 = c.roundtrip(make_request(bhttp::verb::get, "/v1/one"));
  auto r2 = c.roundtrip(make_request(bhttp::verb::post, "/v1/two", "payload"));
  CHECK(r1.result_int() == 200);
  CHECK(r1.body() == "GET /v1/one q= body=");
  CHECK(r2.result_int() == 200);
  CHECK(r2.body() == "POST /v1/two q= body=payload");
  CHECK(r2.keep_alive());
  CHECK(s.srv->open_connections() == 1);
  CHECK(r2["X-Seen-Remote"].substr(0, 10) == "127.0.0.1:");
}

TEST_CASE("every response carries Server, Content-Type, Content-Length and "
          "X-Request-Id",
          "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  auto r = c.roundtrip(make_request(bhttp::verb::get, "/v1/x"));
  CHECK(r[bhttp::field::server] == "engram");
  CHECK(r[bhttp::field::content_type] == "text/plain");
  CHECK(r[bhttp::field::content_length] == std::to_string(r.body().size()));
  CHECK(is_hex16(std::string{r["X-Request-Id"]}));
}

TEST_CASE("the path is percent-decoded and the query parsed before the "
          "handler runs",
          "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  auto r = c.roundtrip(make_request(bhttp::verb::get, "/v1/a%20b?x=1+2&y=%41"));
  CHECK(r.body() == "GET /v1/a b q=x=1 2,y=A body=");
}

TEST_CASE("a bad percent-escape in the path is a 400 and keep-alive goes on",
          "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  auto bad = c.roundtrip(make_request(bhttp::verb::get, "/v1/%zz"));
  CHECK(bad.result_int() == 400);
  CHECK(bad.body()
        == R"({"error":{"code":"malformed_request","message":"invalid percent-encoding in path","field":"path"}})");
  CHECK(c.roundtrip(make_request(bhttp::verb::get, "/v1/ok")).result_int()
        == 200);
}

TEST_CASE("X-Request-Id is echoed when reasonable and generated otherwise",
          "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  SECTION("a client id is echoed and given to the handler") {
    auto req = make_request(bhttp::verb::get, "/v1/x");
    req.set("X-Request-Id", "abc-123");
    auto r = c.roundtrip(req);
    CHECK(r["X-Request-Id"] == "abc-123");
    CHECK(r["X-Seen-Request-Id"] == "abc-123");
  }
  SECTION("without one, a 16-hex-char id is generated") {
    auto r = c.roundtrip(make_request(bhttp::verb::get, "/v1/x"));
    CHECK(is_hex16(std::string{r["X-Request-Id"]}));
    CHECK(r["X-Seen-Request-Id"] == r["X-Request-Id"]);
  }
  SECTION("an id over 128 characters is replaced") {
    auto req = make_request(bhttp::verb::get, "/v1/x");
    req.set("X-Request-Id", std::string(129, 'a'));
    auto r = c.roundtrip(req);
    CHECK(is_hex16(std::string{r["X-Request-Id"]}));
  }
}

TEST_CASE("a declared body over max_body_bytes gets 413 unread, then the "
          "connection closes",
          "[http]") {
  test_server s;
  std::atomic<bool> handled{false};
  s.start([&](http::request, http::responder done) {
    handled = true;
    done(text_response("should not happen"));
  });
  client c{s.port()};
  REQUIRE_FALSE(c.send_raw("POST /v1/x HTTP/1.1\r\nHost: a\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: 2000000\r\n\r\n"));
  beast_response r;
  REQUIRE_FALSE(c.receive(r));
  CHECK(r.result_int() == 413);
  CHECK(r.body()
        == R"json({"error":{"code":"too_large","message":"request body exceeds http.max_body_bytes (1048576 bytes)","field":"body"}})json");
  CHECK(r[bhttp::field::content_type] == "application/json");
  CHECK_FALSE(r.keep_alive());
  CHECK(c.closed_by_server());
  CHECK_FALSE(handled);
  CHECK(s.transport_errors("too_large") == 1);
}

TEST_CASE("a chunked body growing over max_body_bytes gets 413", "[http]") {
  test_server s;
  s.opts.max_body_bytes = 16;
  s.start(echo());
  client c{s.port()};
  REQUIRE_FALSE(c.send_raw("POST /v1/x HTTP/1.1\r\nHost: a\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"
                           "20\r\n" + std::string(32, 'x') + "\r\n0\r\n\r\n"));
  beast_response r;
  REQUIRE_FALSE(c.receive(r));
  CHECK(r.result_int() == 413);
  CHECK(r.body().find("(16 bytes)") != std::string::npos);
  CHECK(c.closed_by_server());
}

TEST_CASE("a client that sends a partial header is disconnected after "
          "header_timeout_ms",
          "[http]") {
  test_server s;
  s.opts.header_timeout_ms = 200;
  s.start(echo());
  client c{s.port()};
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE_FALSE(c.send_raw("GET /v1/x HTTP/1.1\r\nHost: a\r\n"));
  CHECK(c.closed_by_server());
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 2s);
  CHECK(eventually([&] { return s.transport_errors("timeout") == 1; }));
  CHECK(eventually([&] { return s.srv->open_connections() == 0; }));
}

TEST_CASE("an idle keep-alive connection is closed after idle_timeout_ms",
          "[http]") {
  test_server s;
  s.opts.idle_timeout_ms = 200;
  s.start(echo());
  client c{s.port()};
  REQUIRE(c.roundtrip(make_request(bhttp::verb::get, "/v1/x")).result_int()
          == 200);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(c.closed_by_server());
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 2s);
  CHECK(s.transport_errors("timeout") == 0); // idleness is not an error
}

TEST_CASE("Expect: 100-continue is answered before the body is read",
          "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  REQUIRE_FALSE(c.send_raw("POST /v1/x HTTP/1.1\r\nHost: a\r\n"
                           "Content-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  beast_response interim;
  REQUIRE_FALSE(c.receive(interim));
  CHECK(interim.result_int() == 100);
  REQUIRE_FALSE(c.send_raw("data"));
  beast_response r;
  REQUIRE_FALSE(c.receive(r));
  CHECK(r.body() == "POST /v1/x q= body=data");
}

TEST_CASE("a handler may answer later from another thread", "[http]") {
  test_server s;
  std::mutex mu;
  std::vector<std::thread> workers;
  s.start([&](http::request req, http::responder done) {
    std::lock_guard<std::mutex> guard{mu};
    workers.emplace_back([req = std::move(req), done = std::move(done)] {
      std::this_thread::sleep_for(20ms);
      done(text_response("late " + req.path));
    });
  });
  client c{s.port()};
  auto r1 = c.roundtrip(make_request(bhttp::verb::get, "/v1/a"));
  auto r2 = c.roundtrip(make_request(bhttp::verb::get, "/v1/b"));
  CHECK(r1.body() == "late /v1/a");
  CHECK(r2.body() == "late /v1/b");
  s.srv->stop();
  for (auto& w : workers)
    w.join();
}

TEST_CASE("a handler that drops its responder unanswered yields a 500",
          "[http]") {
  test_server s;
  s.start([](http::request, http::responder) {});
  client c{s.port()};
  auto r = c.roundtrip(make_request(bhttp::verb::get, "/v1/x"));
  CHECK(r.result_int() == 500);
  CHECK(r.body().find(R"("code":"internal")") != std::string::npos);
}

TEST_CASE("a handler that throws yields a 500 and the server goes on",
          "[http]") {
  test_server s;
  s.start([](http::request, http::responder) {
    throw std::runtime_error("boom");
  });
  client c{s.port()};
  CHECK(c.roundtrip(make_request(bhttp::verb::get, "/v1/x")).result_int()
        == 500);
  CHECK(c.roundtrip(make_request(bhttp::verb::get, "/v1/x")).result_int()
        == 500);
}

TEST_CASE("connections beyond max_connections get a 503 and are closed",
          "[http]") {
  test_server s;
  s.opts.max_connections = 1;
  s.start(echo());
  client first{s.port()};
  REQUIRE(first.roundtrip(make_request(bhttp::verb::get, "/v1/x"))
            .result_int()
          == 200);
  client second{s.port()};
  beast_response r;
  REQUIRE_FALSE(second.receive(r));
  CHECK(r.result_int() == 503);
  CHECK(r.body().find(R"("code":"unavailable")") != std::string::npos);
  CHECK(second.closed_by_server());
  CHECK(s.metrics.get_counter("engram_http_connections_rejected_total", "")
          .value()
        == 1);
  // The admitted connection is unaffected.
  CHECK(first.roundtrip(make_request(bhttp::verb::get, "/v1/y")).result_int()
        == 200);
}

TEST_CASE("a malformed request line gets 400 and the connection closes",
          "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  REQUIRE_FALSE(c.send_raw("NOT A REQUEST\r\n\r\n"));
  beast_response r;
  REQUIRE_FALSE(c.receive(r));
  CHECK(r.result_int() == 400);
  CHECK(r.body().find(R"("code":"malformed_request")") != std::string::npos);
  CHECK(c.closed_by_server());
  CHECK(s.transport_errors("malformed") == 1);
}

TEST_CASE("garbage input never takes the server down", "[http]") {
  test_server s;
  s.start(echo());
  const std::vector<std::string> inputs = {
    std::string("\0\0\0\0\r\n\r\n", 8),
    "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "GET /\x01 HTTP/1.1\r\n\r\n",
    "GET " + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n",
    "\xff\xfe\xfd",
  };
  for (const auto& in : inputs) {
    client c{s.port()};
    c.send_raw(in); // the server may already have hung up: ignore the result
    beast_response ignored;
    c.receive(ignored);
  }
  client c{s.port()};
  CHECK(c.roundtrip(make_request(bhttp::verb::get, "/v1/alive")).result_int()
        == 200);
}

TEST_CASE("HEAD gets the Content-Length of the body but no body", "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  REQUIRE_FALSE(c.send(make_request(bhttp::verb::head, "/v1/x")));
  beast_response r;
  REQUIRE_FALSE(c.receive_head(r));
  CHECK(r[bhttp::field::content_length]
        == std::to_string(std::string("HEAD /v1/x q= body=").size()));
  // Nothing but the next response follows on the connection.
  CHECK(c.roundtrip(make_request(bhttp::verb::get, "/v1/y")).body()
        == "GET /v1/y q= body=");
}

TEST_CASE("a WebSocket upgrade on an accepted path echoes and takes sends "
          "from other threads",
          "[http][websocket]") {
  test_server s;
  std::mutex mu;
  std::shared_ptr<http::websocket_session> session;
  std::string opened_path;
  std::atomic<int> closes{0};
  http::websocket_handler ws;
  ws.accepts = [](const http::request& r) { return r.path == "/v1/ws"; };
  ws.on_open = [&](std::shared_ptr<http::websocket_session> ses,
                   const http::request& r) {
    std::lock_guard<std::mutex> guard{mu};
    session = std::move(ses);
    opened_path = r.path;
  };
  ws.on_message = [](std::shared_ptr<http::websocket_session> ses,
                     std::string text) { ses->send("echo:" + text); };
  ws.on_close = [&](std::shared_ptr<http::websocket_session>) { ++closes; };
  s.start(echo(), ws);

  asio::io_context io;
  websocket::stream<beast::tcp_stream> wsc{io};
  beast::get_lowest_layer(wsc).connect(local(s.port()));
  REQUIRE_FALSE(run_op(io, [&](auto h) {
    wsc.async_handshake("127.0.0.1", "/v1/ws", std::move(h));
  }));
  beast::flat_buffer buf;
  auto read_text = [&] {
    buf.clear();
    auto ec = run_op(io, [&](auto h) { wsc.async_read(buf, std::move(h)); });
    return ec ? "error: " + ec.message() : beast::buffers_to_string(buf.data());
  };
  std::string hello = "hi";
  REQUIRE_FALSE(run_op(io, [&](auto h) {
    wsc.async_write(asio::buffer(hello), std::move(h));
  }));
  CHECK(read_text() == "echo:hi");
  {
    std::lock_guard<std::mutex> guard{mu};
    CHECK(opened_path == "/v1/ws");
  }
  auto ses = [&] {
    std::lock_guard<std::mutex> guard{mu};
    return session;
  }();
  REQUIRE(ses);
  std::thread sender{[ses] {
    ses->send("one");
    ses->send("two");
  }};
  sender.join();
  CHECK(read_text() == "one");
  CHECK(read_text() == "two");
  CHECK(s.srv->open_connections() == 1);

  SECTION("a client close ends the session and on_close runs once") {
    CHECK_FALSE(run_op(io, [&](auto h) {
      wsc.async_close(websocket::close_code::normal, std::move(h));
    }));
  }
  SECTION("close() from the server ends it gracefully") {
    ses->close();
    buf.clear();
    auto ec = run_op(io, [&](auto h) { wsc.async_read(buf, std::move(h)); });
    CHECK(ec == websocket::error::closed);
  }
  CHECK(eventually([&] { return closes.load() == 1; }));
  CHECK(eventually([&] { return s.srv->open_connections() == 0; }));
  ses->send("after the end is dropped");
  std::this_thread::sleep_for(20ms);
  CHECK(closes.load() == 1);
}

TEST_CASE("an upgrade request the WebSocket handler refuses is a 404",
          "[http][websocket]") {
  test_server s;
  http::websocket_handler ws;
  ws.accepts = [](const http::request& r) { return r.path == "/v1/ws"; };
  s.start(echo(), ws);
  client c{s.port()};
  REQUIRE_FALSE(c.send_raw("GET /v1/other HTTP/1.1\r\nHost: a\r\n"
                           + upgrade_headers + "\r\n"));
  beast_response r;
  REQUIRE_FALSE(c.receive(r));
  CHECK(r.result_int() == 404);
  CHECK(r.body().find(R"("code":"not_found")") != std::string::npos);
}

TEST_CASE("without a WebSocket handler every upgrade is a 404",
          "[http][websocket]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  REQUIRE_FALSE(c.send_raw("GET /v1/ws HTTP/1.1\r\nHost: a\r\n"
                           + upgrade_headers + "\r\n"));
  beast_response r;
  REQUIRE_FALSE(c.receive(r));
  CHECK(r.result_int() == 404);
}

TEST_CASE("drain waits for an in-flight request", "[http]") {
  test_server s;
  std::mutex mu;
  std::optional<http::responder> parked;
  std::atomic<bool> arrived{false};
  s.start([&](http::request, http::responder done) {
    std::lock_guard<std::mutex> guard{mu};
    parked = std::move(done);
    arrived = true;
  });
  beast_response res;
  std::thread requester{[&] {
    client c{s.port()};
    res = c.roundtrip(make_request(bhttp::verb::get, "/v1/slow"));
  }};
  REQUIRE(eventually([&] { return arrived.load(); }));
  s.srv->stop_accepting();
  CHECK_FALSE(s.srv->drain(std::chrono::steady_clock::now() + 50ms));
  std::thread answerer{[&] {
    std::this_thread::sleep_for(100ms);
    std::lock_guard<std::mutex> guard{mu};
    (*parked)(text_response("done"));
  }};
  auto t0 = std::chrono::steady_clock::now();
  CHECK(s.srv->drain(t0 + 3s));
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  answerer.join();
  requester.join();
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "done");
  CHECK_FALSE(res.keep_alive()); // stop_accepting(): last response
}

TEST_CASE("after stop_accepting() new connections are refused and the next "
          "response closes",
          "[http]") {
  test_server s;
  s.start(echo());
  client c{s.port()};
  REQUIRE(c.roundtrip(make_request(bhttp::verb::get, "/v1/a")).keep_alive());
  s.srv->stop_accepting();
  auto r = c.roundtrip(make_request(bhttp::verb::get, "/v1/b"));
  CHECK(r.result_int() == 200);
  CHECK_FALSE(r.keep_alive());
  CHECK(c.closed_by_server());
  asio::io_context io;
  tcp::socket sock{io};
  error_code ec;
  sock.connect(local(s.port()), ec);
  CHECK(ec);
}

TEST_CASE("stop() with open idle connections returns promptly", "[http]") {
  test_server s;
  s.start(echo());
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<client>(s.port()));
    REQUIRE(clients.back()
              ->roundtrip(make_request(bhttp::verb::get, "/v1/x"))
              .result_int()
            == 200);
  }
  CHECK(s.srv->open_connections() == 3);
  auto t0 = std::chrono::steady_clock::now();
  s.srv->stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  for (auto& c : clients)
    CHECK(c->closed_by_server());
  CHECK(s.srv->open_connections() == 0);
  CHECK(s.metrics.get_gauge("engram_http_connections", "").value() == 0);
  s.srv->stop(); // idempotent
}

TEST_CASE("responders and WebSocket sessions that outlive the server are "
          "harmless",
          "[http]") {
  test_server s;
  std::mutex mu;
  std::optional<http::responder> parked;
  std::shared_ptr<http::websocket_session> session;
  http::websocket_handler ws;
  ws.accepts = [](const http::request&) { return true; };
  ws.on_open = [&](std::shared_ptr<http::websocket_session> ses,
                   const http::request&) {
    std::lock_guard<std::mutex> guard{mu};
    session = std::move(ses);
  };
  s.start(
    [&](http::request, http::responder done) {
      std::lock_guard<std::mutex> guard{mu};
      parked = std::move(done);
    },
    ws);
  client c{s.port()};
  REQUIRE_FALSE(c.send(make_request(bhttp::verb::get, "/v1/x")));
  asio::io_context io;
  websocket::stream<beast::tcp_stream> wsc{io};
  beast::get_lowest_layer(wsc).connect(local(s.port()));
  REQUIRE_FALSE(run_op(io, [&](auto h) {
    wsc.async_handshake("127.0.0.1", "/v1/ws", std::move(h));
  }));
  REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> guard{mu};
    return parked && session;
  }));
  s.srv.reset(); // stops and destroys the server
  std::lock_guard<std::mutex> guard{mu};
  (*parked)(text_response("too late"));
  parked.reset();
  session->send("too late");
  session->close();
  session.reset();
  CHECK(c.closed_by_server());
}

TEST_CASE("start() reports unusable listen addresses", "[http]") {
  metrics::registry reg;
  auto start_on = [&](std::string listen) {
    config::http_options o;
    o.listen = std::move(listen);
    http::server srv{o, echo(), {}, reg};
    return srv.start();
  };
  CHECK(code_of(start_on("nonsense")) == ec::invalid_config);
  CHECK(field_of(start_on("127.0.0.1:99999")) == "http.listen");
  CHECK(code_of(start_on("not-an-ip:80")) == ec::invalid_config);
  test_server busy;
  busy.start(echo());
  CHECK(code_of(start_on("127.0.0.1:" + std::to_string(busy.port())))
        == ec::unavailable);
}
