#pragma once
// Plain-text helpers the HTTP session uses to turn a request line and headers
// into an engram::http::request. No Beast here, so they are unit-testable and
// cheap to compile.

#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "runtime/http/message.hpp"

namespace engram::http::detail {

/// Decodes %XX escapes (and '+' as space when `plus_is_space`, as in query
/// strings). nullopt for a truncated or non-hex escape, or a decoded NUL,
/// which no route or id may contain.
std::optional<std::string> percent_decode(std::string_view text,
                                          bool plus_is_space);

/// Fills out.path (decoded), out.query_string (raw) and out.query (decoded;
/// for a repeated key the first value wins) from an origin-form target
/// ("/v1/x?a=1"). ec::malformed_request, field "path" or "query", when the
/// target does not start with '/' or has a bad escape.
caf::error parse_target(std::string_view target, request& out);

/// True for a client X-Request-Id we are willing to echo: 1..128 visible
/// ASCII characters (no spaces or controls that could corrupt logs).
bool is_acceptable_request_id(std::string_view id);

/// A fresh random id: 16 lower-case hex characters.
std::string make_request_id();

/// The client id when acceptable, else a fresh one.
std::string choose_request_id(std::string_view client_id);

} // namespace engram::http::detail
