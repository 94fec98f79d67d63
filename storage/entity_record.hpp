#pragma once
// Entities ("lore entries") as stored in the `entities` column: key
// user_prefix(user) + str(id), value the JSON object that the API returns.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

namespace engram::storage {

struct entity_record {
  std::string id;
  std::string type;
  std::string title;
  std::string content;
  std::vector<std::string> tags;
  bool is_dynamically_generated = false;
  std::string created_at; // ISO-8601 UTC with milliseconds
  std::string updated_at;
  uint64_t version = 1;   // grows by one with every change
};

boost::json::object to_json(const entity_record& e);

/// Decodes a stored entity; ec::storage_failure when the value is damaged.
caf::expected<entity_record> entity_from_json(std::string_view text);

/// Key of entity `id` of `user` in column::entities.
std::string entity_key(std::string_view user, std::string_view id);

} // namespace engram::storage
