#pragma once
// engram's one error vocabulary. Fallible functions return caf::error or
// caf::expected<T> carrying an `ec`; the gateway maps each code to an HTTP
// status in exactly one place (runtime/http/error_body.cpp).

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>

namespace engram {

enum class ec : uint8_t {
  /// Zero is reserved by CAF for "no error".
  none = 0,
  /// Body is not parseable (bad JSON, bad encoding). HTTP 400.
  malformed_request,
  /// A field is missing, has the wrong type or is out of range. HTTP 422.
  invalid_argument,
  /// The named resource or route does not exist. HTTP 404.
  not_found,
  /// The route exists but not for this method. HTTP 405.
  method_not_allowed,
  /// The request conflicts with current state (duplicate, version). HTTP 409.
  conflict,
  /// A size limit was exceeded; the message names the limit. HTTP 413.
  too_large,
  /// The body is not JSON. HTTP 415.
  unsupported_media_type,
  /// No or unknown credentials. HTTP 401.
  unauthenticated,
  /// Credentials are valid but do not grant this resource. HTTP 403.
  forbidden,
  /// A bound on concurrent work was hit; retry later. HTTP 429.
  overloaded,
  /// The node is starting, stopping or a dependency is down. HTTP 503.
  unavailable,
  /// RocksDB reported an I/O error or corruption. HTTP 500.
  storage_failure,
  /// The data directory was written by a newer engram (refuse to open it).
  schema_too_new,
  /// A configuration value is invalid; the field names the option path.
  invalid_config,
  /// An internal invariant failed. HTTP 500.
  internal,
};

/// Short stable name of a code ("invalid_argument"); used in JSON errors.
const char* to_string(ec code);

/// Builds an engram error: `message` is human readable, `field` names the
/// offending input (JSON path, option path or header) or is empty.
caf::error make_error(ec code, std::string message, std::string field = {});

/// The code of an engram error, ec::internal for foreign (CAF) errors and
/// ec::none for "no error".
ec code_of(const caf::error& err);

/// The human-readable message of an error (also for CAF's own errors).
std::string message_of(const caf::error& err);

/// The field an engram error names, or empty.
std::string field_of(const caf::error& err);

} // namespace engram

CAF_ERROR_CODE_ENUM(engram::ec, "engram")
