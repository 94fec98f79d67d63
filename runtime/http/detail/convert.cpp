#include "runtime/http/detail/convert.hpp"

#include <algorithm>

#include "runtime/http/detail/target.hpp"

namespace engram::http::detail {

caf::error to_request(beast_request& in, std::string remote, request& out) {
  out.method = std::string{in.method_string()};
  if (auto err = parse_target(in.target(), out))
    return err;
  out.content_type = std::string{in[bhttp::field::content_type]};
  out.authorization = std::string{in[bhttp::field::authorization]};
  out.remote = std::move(remote);
  out.body = std::move(in.body());
  return caf::none;
}

namespace {

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
         || (c >= '0' && c <= '9')
         || std::string_view{"!#$%&'*+-.^_`|~"}.find(c)
              != std::string_view::npos;
}

// Headers the transport computes itself; letting a handler set them would
// desynchronise framing (Content-Length, Transfer-Encoding, Connection) or
// break the promises of server.hpp (Server, X-Request-Id, Content-Type).
bool is_owned_by_server(std::string_view name) {
  for (auto owned : {"content-length", "transfer-encoding", "connection",
                     "server", "x-request-id", "content-type"})
    if (beast::iequals(name, owned))
      return true;
  return false;
}

bool is_safe_header(std::string_view name, std::string_view value) {
  return !name.empty() && std::all_of(name.begin(), name.end(), is_token_char)
         && value.find_first_of(std::string_view{"\r\n\0", 3})
              == std::string_view::npos
         && !is_owned_by_server(name);
}

// A handler's 1xx would leave the client waiting for a second response, and
// numbers outside the HTTP range do not serialise: both become 500.
unsigned sane_status(unsigned s) {
  return s >= 200 && s <= 599 ? s : 500;
}

bool forbids_body(unsigned status) {
  return status == 204 || status == 304;
}

} // namespace

beast_response to_beast(response r, const std::string& request_id,
                        bool keep_alive, bool head_request) {
  beast_response res;
  res.version(11);
  auto status = sane_status(r.status);
  res.result(status);
  res.set(bhttp::field::server, "engram");
  bool type_ok = !r.content_type.empty() && is_safe_header("x", r.content_type);
  res.set(bhttp::field::content_type,
          type_ok ? r.content_type : "application/octet-stream");
  res.set("X-Request-Id", request_id);
  for (auto& [name, value] : r.headers)
    if (is_safe_header(name, value))
      res.insert(name, value);
  if (!forbids_body(status)) {
    // Content-Length first: for HEAD it announces the body we do not send.
    res.content_length(r.body.size());
    if (!head_request)
      res.body() = std::move(r.body);
  }
  res.keep_alive(keep_alive);
  return res;
}

std::string peer_of(const tcp::socket& sock) {
  error_code ec;
  auto ep = sock.remote_endpoint(ec);
  if (ec)
    return "unknown";
  auto addr = ep.address().to_string();
  if (ep.address().is_v6())
    addr = '[' + addr + ']';
  return addr + ':' + std::to_string(ep.port());
}

} // namespace engram::http::detail
