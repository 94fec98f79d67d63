#pragma once
// The one place where engram's error vocabulary becomes HTTP: a status per
// `ec` and the JSON body every error response carries,
//   {"error":{"code":"<ec name>","message":"...","field":"..."}}
// with "field" omitted when the error names no input.

#include <caf/error.hpp>

#include "messages/errors.hpp"
#include "runtime/http/message.hpp"

namespace engram::http {

/// HTTP status for `code`; 500 for codes that have no better status.
unsigned status_of(ec code);

/// A complete JSON error response for `err`. Foreign (CAF) errors map via
/// code_of(): a request timeout becomes 503, anything else 500.
response error_response(const caf::error& err);

} // namespace engram::http
