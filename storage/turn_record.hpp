#pragma once
// Conversation turns as stored in the `turns` column: key
// str(user) str(session) i64(turn), value the JSON below. A turn records the
// ids of the tasks it caused and how many of them are still open, so its
// status can move to `applied` in the same batch that finishes its last
// task.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

namespace engram::storage {

enum class turn_status : uint8_t { pending, analysed, applied, failed };

/// "pending", "analysed", "applied", "failed".
std::string_view to_string(turn_status s);
std::optional<turn_status> turn_status_from(std::string_view s);

struct turn_record {
  std::string session;
  int64_t turn = 0;
  std::string event_id;            // node-made, time-ordered, unique
  std::string text;
  turn_status status = turn_status::pending;
  std::vector<std::string> task_ids; // the analysis task, then its results
  uint32_t open_tasks = 0;         // tasks of this turn not done yet
  std::string created_at;          // ISO-8601 UTC with milliseconds
  std::string updated_at;
};

/// {"session","turn","event_id","text","status","task_ids","open_tasks",
///  "created_at","updated_at"}
boost::json::object to_json(const turn_record& t);

/// ec::storage_failure (naming the bad field) when the value is damaged.
caf::expected<turn_record> turn_from_json(std::string_view text);

/// Key of (session, turn) of `user` in column::turns.
std::string turn_key(std::string_view user, std::string_view session,
                     int64_t turn);

/// Prefix of every turn of one session (turn order).
std::string turn_session_prefix(std::string_view user,
                                std::string_view session);

/// Key in column::meta mapping an event id to its user, so that
/// /v1/tasks/{task_id} (which carries no user) finds the owner.
std::string event_owner_key(std::string_view event_id);

} // namespace engram::storage
