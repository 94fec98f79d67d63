#pragma once
// Boost includes and short names shared by the server's implementation files.
// Only detail/ and server.cpp include this: Beast headers are slow to compile
// and must not leak into the rest of engram.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace engram::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
// `http` already names engram::http here.
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

using beast_request = bhttp::request<bhttp::string_body>;
using beast_response = bhttp::response<bhttp::string_body>;

} // namespace engram::http::detail
