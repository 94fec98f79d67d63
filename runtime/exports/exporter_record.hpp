#pragma once
// What an exporter persists about its user, in the `exports` column:
//
//   str(user) str("state") -> {"debounce": <debounce_state JSON>,
//                              "version": n, "last_hash": "...",
//                              "stats": <user_export_stats JSON>}
//   str(user) str("dirty") -> ""   the user changed since their last export
//
// The version only grows: it is stored before the file carrying it is
// written. The dirty key is put by the user actor with its first change
// after an export and erased when an export takes the user's context, so
// the nightly run visits exactly the users that changed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "runtime/exports/debounce_policy.hpp"
#include "runtime/exports/export_stats.hpp"

namespace engram::exports {

struct exporter_record {
  debounce_state debounce;
  uint64_t version = 0;
  std::string last_hash;
  user_export_stats stats;
};

std::string to_json(const exporter_record& r);
caf::expected<exporter_record> exporter_record_from_json(std::string_view text);

std::string exporter_state_key(std::string_view user);
std::string export_dirty_key(std::string_view user);

enum class export_key_kind { state, dirty };

/// The user and kind of an `exports` column key made above; nullopt for
/// other keys.
std::optional<std::pair<std::string, export_key_kind>>
parse_export_key(std::string_view key);

/// The directory name of a user's export files: the id itself, except that
/// a leading '.' is written "%2E" (so "." and ".." stay inside the exports
/// directory).
std::string user_dir_name(std::string_view user);

} // namespace engram::exports
