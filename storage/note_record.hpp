#pragma once
// Session notes (column `notes`). The current note of (session, entity):
//   key str(user) str("n") str(session) str(entity_id)
// and every version ever written, newest first in key order:
//   key str(user) str("h") str(session) str(entity_id) u64(~version)
// A rewrite or restore writes both in one batch; versions are never
// overwritten or erased (except when the entity is deleted).

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

namespace engram::storage {

struct note_record {
  std::string entity_id;
  std::string session;
  std::string note;
  uint64_t version = 1;
  int64_t last_updated_turn = 0;
  std::string updated_at;          // ISO-8601 UTC with milliseconds
  std::string origin = "rewrite";  // "rewrite" or "restore"
};

/// {"entity_id","session","note","version","last_updated_turn",
///  "updated_at","origin"}
boost::json::object to_json(const note_record& n);

/// ec::storage_failure (naming the bad field) when the value is damaged.
caf::expected<note_record> note_from_json(std::string_view text);

std::string note_key(std::string_view user, std::string_view session,
                     std::string_view entity_id);
/// Prefix of the current notes of one session (entity id order).
std::string note_session_prefix(std::string_view user,
                                std::string_view session);
/// Prefix of every current note of the user (session, then entity order).
std::string note_user_prefix(std::string_view user);

std::string note_version_key(std::string_view user, std::string_view session,
                             std::string_view entity_id, uint64_t version);
/// Prefix of every version of one note (newest first).
std::string note_history_prefix(std::string_view user,
                                std::string_view session,
                                std::string_view entity_id);
/// The version encoded in a key made by note_version_key; 0 when the key is
/// not one.
uint64_t version_of_history_key(std::string_view key);

} // namespace engram::storage
