#pragma once
// Validation of entity request bodies (create, replace, patch). Every rule
// and limit is here, so the user actor only applies already-valid input.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace engram::api {

/// Limits of entity fields (characters).
inline constexpr std::size_t max_type_chars = 64;
inline constexpr std::size_t max_title_chars = 512;
inline constexpr std::size_t max_content_chars = 65536;
inline constexpr std::size_t max_tags = 64;
inline constexpr std::size_t max_tag_chars = 64;

/// Fields present in a request; absent ones stay nullopt.
struct entity_fields {
  std::optional<std::string> id;
  std::optional<std::string> type;
  std::optional<std::string> title;
  std::optional<std::string> content;
  std::optional<std::vector<std::string>> tags;
  // When given, the change applies only if the stored version matches
  // (optimistic concurrency); otherwise 409.
  std::optional<uint64_t> expected_version;
};

/// POST: type and title required; id optional (valid id); content, tags
/// optional.
caf::expected<entity_fields> parse_entity_create(std::string_view body);

/// PUT: like create, but an id in the body must equal `path_id`; `version`
/// is the expected current version.
caf::expected<entity_fields> parse_entity_replace(std::string_view body,
                                                  std::string_view path_id);

/// PATCH: any subset of type, title, content, tags, version; at least one.
caf::expected<entity_fields> parse_entity_patch(std::string_view body);

} // namespace engram::api
