#include "runtime/http/error_body.hpp"

#include <boost/json.hpp>

namespace engram::http {

unsigned status_of(ec code) {
  switch (code) {
    case ec::malformed_request: return 400;
    case ec::invalid_argument: return 422;
    case ec::not_found: return 404;
    case ec::method_not_allowed: return 405;
    case ec::conflict: return 409;
    case ec::too_large: return 413;
    case ec::unsupported_media_type: return 415;
    case ec::unauthenticated: return 401;
    case ec::forbidden: return 403;
    case ec::overloaded: return 429;
    case ec::unavailable: return 503;
    default: return 500;
  }
}

response error_response(const caf::error& err) {
  // "No error" reaching here is a caller bug; answer it as an internal one
  // rather than with a 200 that carries an error body.
  auto code = err ? code_of(err) : ec::internal;
  boost::json::object inner;
  inner["code"] = to_string(code);
  inner["message"] = err ? message_of(err) : "internal error";
  if (auto field = field_of(err); !field.empty())
    inner["field"] = field;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  response res;
  res.status = status_of(code);
  res.body = boost::json::serialize(outer);
  return res;
}

} // namespace engram::http
