#pragma once
// The last response on a connection, then a polite close.

#include "runtime/http/detail/beast.hpp"
#include "runtime/http/detail/server_state.hpp"

namespace engram::http::detail {

/// Writes `res` (which should say Connection: close), half-closes, reads and
/// discards whatever the client still sends for a short while, then closes.
/// Closing with unread input would make the kernel send a reset, and the
/// client could lose the response (a 413 or 503 it is meant to read). `slot`
/// and `token` are released when the connection is done with.
void send_and_close(server_state& st, beast::tcp_stream stream,
                    beast_response res, connection_slot slot = {},
                    inflight_token token = {});

} // namespace engram::http::detail
