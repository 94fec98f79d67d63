#pragma once
// Validation of the session-memory request bodies and read parameters
// (turns, search, note restore, min_seq/wait_ms). Every rule and limit is
// here, so user actors only act on valid input.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "runtime/providers/llm_provider.hpp"

namespace engram::api {

/// Largest turn number (2^53, so every JSON client represents it exactly).
inline constexpr int64_t max_turn_number = int64_t{1} << 53;
/// Longest search query, in characters.
inline constexpr std::size_t max_query_chars = 4096;
/// Longest read wait and the default when min_seq is given.
inline constexpr uint64_t max_wait_ms = 60000;
inline constexpr uint64_t default_wait_ms = 5000;

struct turn_fields {
  int64_t turn = 0;
  std::string text;
  // Supplied by the app: the analysis step is skipped. Checked for shape
  // here; the entity ids are checked by the user actor, which knows them.
  std::optional<providers::analysis_result> analysis;
};

/// {turn, text, analysis?}: turn an integer 0..2^53, text 1..max_text_chars
/// characters (code points). Errors name the field ("turn", "text",
/// "analysis.updates[0].update_summary").
caf::expected<turn_fields> parse_turn(std::string_view body,
                                      std::size_t max_text_chars);

/// A turn number in a path ("path.turn" on error).
caf::expected<int64_t> parse_turn_param(const std::string& text);

/// When a read must wait for the user's writes up to min_seq.
struct read_wait {
  std::optional<uint64_t> min_seq;
  uint64_t wait_ms = default_wait_ms;
};

/// From query parameters min_seq and wait_ms ("query.min_seq", ...).
caf::expected<read_wait>
parse_read_wait(const std::map<std::string, std::string>& query);

struct search_fields {
  std::string query;
  std::size_t k = 10;
  std::optional<std::string> session;
  read_wait wait;
};

/// {query, k?, session?, min_seq?, wait_ms?}: query 1..4096 characters, k
/// 1..100 (default 10), session an id.
caf::expected<search_fields> parse_search(std::string_view body);

/// {version}: a version number >= 1.
caf::expected<uint64_t> parse_restore(std::string_view body);

} // namespace engram::api
