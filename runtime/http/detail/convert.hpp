#pragma once
// Conversions between Beast messages and engram's transport-neutral ones.

#include <string>

#include <caf/error.hpp>

#include "runtime/http/detail/beast.hpp"
#include "runtime/http/message.hpp"

namespace engram::http::detail {

/// Fills `out` from a complete Beast request, moving its body.
/// ec::malformed_request when the target has a bad path or query.
caf::error to_request(beast_request& in, std::string remote, request& out);

/// The wire form of `r`: Server, Content-Type, Content-Length, X-Request-Id
/// and Connection set here; extra headers the server owns, or that could
/// split the header (CR, LF, NUL), are dropped. A HEAD request gets the
/// Content-Length of the body without the body; 204 and 304 get neither, as
/// RFC 9110 requires. Statuses outside 200..599 become 500.
beast_response to_beast(response r, const std::string& request_id,
                        bool keep_alive, bool head_request);

/// "ip:port" ("[::1]:80" for IPv6), or "unknown" when the socket has no peer.
std::string peer_of(const tcp::socket& sock);

} // namespace engram::http::detail
