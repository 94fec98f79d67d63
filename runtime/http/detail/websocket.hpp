#pragma once
// WebSocket connections: the upgrade hand-off from an HTTP session, and the
// session object handlers talk to.

#include "runtime/http/detail/beast.hpp"
#include "runtime/http/detail/server_state.hpp"

namespace engram::http::detail {

/// True when `req` asks to become a WebSocket.
bool is_websocket_upgrade(const beast_request& req);

/// True when the server's websocket_handler is set and accepts `req`.
bool wants_websocket(server_state& st, const request& req);

/// Completes the handshake on `stream` (which keeps its strand) and runs the
/// connection: on_open, then on_message per text message, on_close once.
void start_websocket(server_state& st, beast::tcp_stream stream,
                     beast_request upgrade, request req, connection_slot slot);

} // namespace engram::http::detail
