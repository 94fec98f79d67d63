#pragma once
// An intent: something a user set out to do, open until the app closes it
// with a resolution. Closing one is a high-impact event for the mesh-context
// exporter. Stored in the intents column at str(user) str(id).

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

namespace engram::storage {

struct intent_record {
  std::string id;
  std::string description;
  bool closed = false;
  std::string resolution;  // empty while open
  std::string created_at;  // ISO-8601 UTC, ms
  std::string updated_at;
  std::string closed_at;   // empty while open
};

/// The API shape: {id, description, status: open|closed, resolution
/// (null while open), created_at, updated_at, closed_at (null while open)}.
boost::json::object to_json(const intent_record& i);

/// ec::storage_failure naming the field when the stored JSON is damaged.
caf::expected<intent_record> intent_from_json(std::string_view text);

std::string intent_key(std::string_view user, std::string_view id);

} // namespace engram::storage
