#include "tools/bench_pipeline/http_client.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
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

std::string format_request(const endpoint& ep, http::verb method,
                           const std::string& target, const std::string& body) {
  std::string wire;
  wire.reserve(256 + body.size());
  wire += std::string(http::to_string(method));
  wire += ' ';
  wire += target;
  wire += " HTTP/1.1\r\nHost: ";
  wire += ep.host;
  wire += "\r\nConnection: keep-alive\r\n";
  if (!ep.api_key.empty())
    wire += "Authorization: Bearer " + ep.api_key + "\r\n";
  if (!body.empty())
    wire += "Content-Type: application/json\r\n";
  if (!body.empty() || method == http::verb::post || method == http::verb::put
      || method == http::verb::patch)
    wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  wire += "\r\n";
  wire += body;
  return wire;
}

// --- async_conn -------------------------------------------------------------

async_conn::async_conn(asio::io_context& ioc, endpoint ep)
  : ep_(std::move(ep)), stream_(ioc) {}

void async_conn::send(std::string wire, std::chrono::milliseconds timeout,
                      handler done) {
  wire_ = std::move(wire);
  done_ = std::move(done);
  deadline_ = steady::now() + timeout;
  attempt_ = 0;
  attempt();
}

bool async_conn::resolve(std::string& error) {
  if (target_)
    return true;
  error_code ec;
  auto addr = asio::ip::make_address(ep_.host, ec);
  if (!ec) {
    target_ = tcp::endpoint(addr, ep_.port);
    return true;
  }
  tcp::resolver resolver(stream_.get_executor());
  auto found = resolver.resolve(ep_.host, std::to_string(ep_.port), ec);
  if (ec || found.empty()) {
    error = "resolve " + ep_.host + ": " + ec.message();
    return false;
  }
  target_ = *found.begin();
  return true;
}

void async_conn::attempt() {
  out_ = {};
  reused_ = connected_;
  stream_.expires_after(remaining(deadline_));
  if (connected_)
    return write_request();
  if (!resolve(out_.error)) // completes later: never re-enter the caller
    return asio::post(stream_.get_executor(), [this] { finish(); });
  stream_.async_connect(*target_, [this](error_code ec) {
    if (!ec) {
      stream_.socket().set_option(tcp::no_delay(true), ec);
      connected_ = true;
      ++connects_;
      return write_request();
    }
    out_.error = "connect: " + ec.message();
    out_.timed_out = ec == beast::error::timeout;
    stream_.close();
    finish();
  });
}

void async_conn::write_request() {
  asio::async_write(stream_, asio::buffer(wire_),
                    [this](error_code ec, std::size_t) { on_write(ec); });
}

void async_conn::on_write(error_code ec) {
  if (ec)
    return fail("write", ec);
  parser_.emplace();
  parser_->body_limit(max_response_bytes);
  http::async_read(stream_, buffer_, *parser_,
                   [this](error_code e, std::size_t) { on_read(e); });
}

void async_conn::on_read(error_code ec) {
  if (ec)
    return fail("read", ec);
  auto res = parser_->release();
  out_.status = static_cast<int>(res.result_int());
  out_.body = std::move(res.body());
  if (!res.keep_alive())
    drop();
  finish();
}

// A keep-alive connection the node closed while idle fails on first use:
// retry once on a fresh connection before reporting the error.
void async_conn::fail(const char* what, error_code ec) {
  out_.error = std::string(what) + ": " + ec.message();
  out_.timed_out = ec == beast::error::timeout;
  drop();
  if (reused_ && attempt_ == 0 && !out_.timed_out && steady::now() < deadline_) {
    ++attempt_;
    return attempt();
  }
  finish();
}

void async_conn::finish() {
  auto done = std::move(done_);
  done_ = nullptr;
  done(std::move(out_));
}

void async_conn::drop() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

// --- http_client ------------------------------------------------------------

http_client::http_client(endpoint ep) : conn_(ioc_, std::move(ep)) {}

http_result http_client::request(http::verb method, const std::string& target,
                                 const std::string& body,
                                 std::chrono::milliseconds timeout) {
  http_result out;
  conn_.send(format_request(conn_.where(), method, target, body), timeout,
             [&out](http_result&& r) { out = std::move(r); });
  ioc_.restart();
  ioc_.run();
  return out;
}

} // namespace engram::bench
