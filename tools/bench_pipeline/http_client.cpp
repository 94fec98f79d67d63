#include "tools/bench_pipeline/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace engram::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;

namespace {

// Largest answer accepted (search answers carry composites).
constexpr std::uint64_t max_response_bytes = 64u << 20;

std::chrono::milliseconds remaining(steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - steady::now());
  return std::max(left, std::chrono::milliseconds(1));
}

} // namespace

bool parse_url(const std::string& url, endpoint& out) {
  std::string rest = url;
  const std::string scheme = "http://";
  if (rest.rfind(scheme, 0) == 0)
    rest = rest.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || rest.find('/') != std::string::npos)
    return false;
  try {
    std::size_t used = 0;
    auto port = std::stoul(rest.substr(colon + 1), &used);
    if (used != rest.size() - colon - 1 || port == 0 || port > 65535)
      return false;
    out.host = rest.substr(0, colon);
    out.port = static_cast<uint16_t>(port);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

http_client::http_client(endpoint ep) : ep_(std::move(ep)), stream_(ioc_) {}

void http_client::drop() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

bool http_client::ensure_connected(std::string& error) {
  if (connected_)
    return true;
  error_code ec;
  auto addr = asio::ip::make_address(ep_.host, ec);
  tcp::endpoint target;
  if (!ec) {
    target = tcp::endpoint(addr, ep_.port);
  } else {
    tcp::resolver resolver(ioc_);
    auto found = resolver.resolve(ep_.host, std::to_string(ep_.port), ec);
    if (ec || found.empty()) {
      error = "resolve " + ep_.host + ": " + ec.message();
      return false;
    }
    target = *found.begin();
  }
  ec = asio::error::would_block;
  stream_.async_connect(target, [&](error_code e) { ec = e; });
  ioc_.restart();
  ioc_.run();
  if (ec) {
    error = "connect: " + ec.message();
    stream_.close();
    return false;
  }
  stream_.socket().set_option(tcp::no_delay(true), ec);
  connected_ = true;
  ++connects_;
  return true;
}

std::string http_client::build_request(http::verb method, const std::string& target,
                                       const std::string& body) {
  std::string wire;
  wire.reserve(256 + body.size());
  wire += std::string(http::to_string(method));
  wire += ' ';
  wire += target;
  wire += " HTTP/1.1\r\nHost: ";
  wire += ep_.host;
  wire += "\r\nConnection: keep-alive\r\n";
  if (!ep_.api_key.empty())
    wire += "Authorization: Bearer " + ep_.api_key + "\r\n";
  if (!body.empty())
    wire += "Content-Type: application/json\r\n";
  if (!body.empty() || method == http::verb::post || method == http::verb::put
      || method == http::verb::patch)
    wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  wire += "\r\n";
  wire += body;
  return wire;
}

// One write + one read on a connected stream; false on any transport error
// (out.error set, connection dropped).
bool http_client::exchange(const std::string& wire, http_result& out) {
  error_code ec = asio::error::would_block;
  asio::async_write(stream_, asio::buffer(wire),
                    [&](error_code e, std::size_t) { ec = e; });
  ioc_.restart();
  ioc_.run();
  if (ec) {
    out.error = "write: " + ec.message();
    out.timed_out = ec == beast::error::timeout;
    return false;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  ec = asio::error::would_block;
  http::async_read(stream_, buffer_, parser,
                   [&](error_code e, std::size_t) { ec = e; });
  ioc_.restart();
  ioc_.run();
  if (ec) {
    out.error = "read: " + ec.message();
    out.timed_out = ec == beast::error::timeout;
    return false;
  }
  auto res = parser.release();
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  if (!res.keep_alive())
    drop();
  return true;
}

http_result http_client::request(http::verb method, const std::string& target,
                                 const std::string& body,
                                 std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  auto wire = build_request(method, target, body);
  http_result out;
  // A keep-alive connection the node closed while idle fails on first use:
  // retry once on a fresh connection before reporting the error.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = connected_;
    stream_.expires_after(remaining(deadline));
    if (!ensure_connected(out.error))
      return out;
    stream_.expires_after(remaining(deadline));
    if (exchange(wire, out))
      return out;
    drop();
    if (!reused || out.timed_out || steady::now() >= deadline)
      break;
  }
  return out;
}

} // namespace engram::bench
