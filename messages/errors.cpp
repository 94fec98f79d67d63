#include "messages/errors.hpp"

#include <caf/sec.hpp>

namespace engram {

namespace {
const caf::atom_value engram_category = caf::atom("engram");
} // namespace

const char* to_string(ec code) {
  switch (code) {
    case ec::none: return "none";
    case ec::malformed_request: return "malformed_request";
    case ec::invalid_argument: return "invalid_argument";
    case ec::not_found: return "not_found";
    case ec::method_not_allowed: return "method_not_allowed";
    case ec::conflict: return "conflict";
    case ec::too_large: return "too_large";
    case ec::unsupported_media_type: return "unsupported_media_type";
    case ec::unauthenticated: return "unauthenticated";
    case ec::forbidden: return "forbidden";
    case ec::overloaded: return "overloaded";
    case ec::unavailable: return "unavailable";
    case ec::storage_failure: return "storage_failure";
    case ec::schema_too_new: return "schema_too_new";
    case ec::invalid_config: return "invalid_config";
    case ec::internal: return "internal";
  }
  return "internal";
}

caf::error make_error(ec code, std::string message, std::string field) {
  return caf::error{static_cast<uint8_t>(code), engram_category,
                    caf::make_message(std::move(message), std::move(field))};
}

ec code_of(const caf::error& err) {
  if (!err)
    return ec::none;
  if (err.category() != engram_category)
    return err == caf::sec::request_timeout ? ec::unavailable : ec::internal;
  return static_cast<ec>(err.code());
}

std::string message_of(const caf::error& err) {
  if (!err)
    return {};
  if (err.category() == engram_category
      && err.context().match_elements<std::string, std::string>())
    return err.context().get_as<std::string>(0);
  return caf::to_string(err);
}

std::string field_of(const caf::error& err) {
  if (err && err.category() == engram_category
      && err.context().match_elements<std::string, std::string>())
    return err.context().get_as<std::string>(1);
  return {};
}

} // namespace engram
