#pragma once
// HTTP/1.1 keep-alive clients. async_conn is one connection driven by
// callbacks on an io_context shared with many others (the load generators
// multiplex every connection on one thread); http_client wraps one of them
// on a private io_context for blocking use from one thread at a time. Every
// request has a deadline, so a stuck node times out instead of hanging the
// benchmark. A broken or server-closed connection is reopened transparently.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

namespace engram::bench {

/// Where the node listens, plus the optional API key sent as a bearer token.
struct endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 8700;
  std::string api_key;
};

/// Parses "http://HOST:PORT[/]" (scheme optional); false when malformed.
bool parse_url(const std::string& url, endpoint& out);

/// The outcome of one request. `status` is 0 when no answer arrived
/// (connect/write/read error or timeout; `error` says which).
struct http_result {
  int status = 0;
  std::string body;
  std::string error;
  bool timed_out = false;
  bool ok() const { return status != 0; }
};

/// The wire form of one request (JSON body when `body` is non-empty).
std::string format_request(const endpoint& ep, boost::beast::http::verb method,
                           const std::string& target, const std::string& body);

/// One keep-alive connection on a caller-run io_context, one request
/// outstanding at a time. A request that fails on a reused connection (the
/// node closed it while idle) is retried once on a fresh one.
class async_conn {
public:
  using handler = std::function<void(http_result&&)>;

  async_conn(boost::asio::io_context& ioc, endpoint ep);
  async_conn(const async_conn&) = delete;
  async_conn& operator=(const async_conn&) = delete;

  /// Sends `wire` (see format_request); `done` runs on the io_context with
  /// the answer, at most `timeout` after the call. `done` may send again.
  void send(std::string wire, std::chrono::milliseconds timeout, handler done);

  const endpoint& where() const { return ep_; }
  /// Number of (re)connections made so far.
  uint64_t connects() const { return connects_; }

private:
  void attempt();
  void write_request();
  void on_write(boost::system::error_code ec);
  void on_read(boost::system::error_code ec);
  void fail(const char* what, boost::system::error_code ec);
  void finish();
  void drop();
  bool resolve(std::string& error);

  endpoint ep_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>>
    parser_;
  std::optional<boost::asio::ip::tcp::endpoint> target_;
  std::string wire_;
  handler done_;
  http_result out_;
  std::chrono::steady_clock::time_point deadline_;
  bool connected_ = false;
  bool reused_ = false;
  int attempt_ = 0;
  uint64_t connects_ = 0;
};

/// A blocking client: one async_conn on its own io_context.
class http_client {
public:
  explicit http_client(endpoint ep);
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends one request (JSON body when `body` is non-empty) and waits for
  /// the answer, at most `timeout` for connect + write + read.
  http_result request(boost::beast::http::verb method, const std::string& target,
                      const std::string& body = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  http_result get(const std::string& target,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return request(boost::beast::http::verb::get, target, {}, timeout);
  }

  http_result post(const std::string& target, const std::string& body,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return request(boost::beast::http::verb::post, target, body, timeout);
  }

  uint64_t connects() const { return conn_.connects(); }

private:
  boost::asio::io_context ioc_;
  async_conn conn_;
};

} // namespace engram::bench
