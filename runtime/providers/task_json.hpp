#pragma once
// JSON shapes of the language tasks and the checks every provider's answer
// must pass before the pipeline acts on it. The `rules` provider produces
// valid results by construction; a model-backed provider parses the model's
// reply with the *_from_json functions and then calls validate(), so a model
// cannot name an entity that does not exist or smuggle in an invalid type.
//
//   analysis: {"updates":   [{"lore_entry_id": str, "update_summary": str}],
//              "creations": [{"entity_type": str, "creation_summary": str,
//                             "name"?: str | null}]}
//   creation: {"title": str, "content": str, "tags": [str]}
//
// Parsing is strict about types and required keys and ignores keys it does
// not know (models add commentary fields). Every error is
// ec::invalid_argument whose field is a path such as "creations[2].name"
// (empty for the document itself), except text that is not JSON at all,
// which keeps decode_json's ec::malformed_request.

#include <cstddef>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "runtime/providers/llm_provider.hpp"

namespace engram::providers {

/// Longest update or creation summary, in characters (code points).
inline constexpr std::size_t max_summary_chars = 8000;

/// Longest entity type, in characters; types match [A-Za-z0-9_.:-]{1,64}.
inline constexpr std::size_t max_entity_type_chars = 64;

/// True when `type` matches [A-Za-z0-9_.:-]{1,64}, the rule for entity types.
bool is_valid_entity_type(std::string_view type);

boost::json::object to_json(const analysis_result& r);

/// Leaves out "name" when it is empty.
boost::json::object to_json(const creation_result& r);

/// Reads the analysis shape; "name" may be absent or null (-> empty).
caf::expected<analysis_result> analysis_from_json(const boost::json::value& v);
caf::expected<analysis_result> analysis_from_json(std::string_view text);

caf::expected<creation_result> creation_from_json(const boost::json::value& v);
caf::expected<creation_result> creation_from_json(std::string_view text);

/// Checks an analysis against the entities the analyser was shown: each
/// lore_entry_id names one of `known` and appears once, summaries are
/// 1..8000 characters and not blank, entity types match the type rule and
/// names fit in a title (at most 512 characters). Returns the first
/// violation (ec::invalid_argument with its field path) or no error.
caf::error validate(const analysis_result& r,
                    const std::vector<known_entity>& known);

/// Checks a creation against the limits of the entity API: title 1..512
/// characters and not blank, content at most 65536 characters, at most 64
/// tags of 1..64 characters each.
caf::error validate(const creation_result& r);

} // namespace engram::providers
