#pragma once
// Validation of intent request bodies and queries, so the user actor only
// applies valid input.

#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace engram::api {

inline constexpr std::size_t max_intent_description_chars = 4000;
inline constexpr std::size_t max_intent_resolution_chars = 4000;

struct intent_create_fields {
  std::optional<std::string> id;
  std::string description;
};

/// POST .../intents: {id?, description}; description 1..4000 characters.
caf::expected<intent_create_fields> parse_intent_create(std::string_view body);

/// POST .../intents/{id}/close: {resolution}, 1..4000 characters.
caf::expected<std::string> parse_intent_close(std::string_view body);

/// ?status=open|closed; absent = every intent.
caf::expected<std::optional<bool>> parse_intent_status(const std::string* q);

} // namespace engram::api
