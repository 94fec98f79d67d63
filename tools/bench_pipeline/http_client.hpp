#pragma once
// A blocking HTTP/1.1 keep-alive client for one connection, used from one
// thread at a time. Each request runs Beast's async operations on the
// connection's own io_context with a deadline, so a stuck node times out
// instead of hanging the benchmark. A broken or server-closed connection is
// reopened transparently on the next request.

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
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

  /// Number of (re)connections made so far.
  uint64_t connects() const { return connects_; }

private:
  bool ensure_connected(std::string& error);
  void drop();
  std::string build_request(boost::beast::http::verb method,
                            const std::string& target, const std::string& body);
  bool exchange(const std::string& wire, http_result& out);

  endpoint ep_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  uint64_t connects_ = 0;
};

} // namespace engram::bench
