#pragma once
// Durable mailbox tasks (column `tasks`) and their state machine.
//
// Keys: str(user) str("t") str(session) str(task_id). Task ids are
// "<event_id>.a" (the analysis of a turn), "<event_id>.u<i>" (note update i
// of the analysis) and "<event_id>.c<i>" (entity creation i), so one turn's
// tasks sort together and the event id (and through event_owner_key, the
// user) can be read off any task id.
//
// Embedding requests are durable too, but coalesced: one marker per
// document, key str(user) str("e") str(doc_key), value {"origin": ...};
// a newer request for the same document overwrites the marker, and storing
// the vector erases it in the same batch.
//
// State machine:
//   pending   --start-->          in_flight
//   in_flight --succeed-->        done
//   in_flight --fail_retryable--> pending   (attempts < max, after a back-off)
//   in_flight --fail_final-->     failed    (keeps last_error)
//   in_flight --recover-->        pending   (node restarted mid-task)
//   failed    --retry-->          pending   (API; attempts reset to 0)
// Anything else is a bug and is refused (ec::conflict).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace engram::storage {

enum class task_queue : uint8_t { analysis, note_update, entity_creation };
enum class task_status : uint8_t { pending, in_flight, done, failed };
enum class task_event : uint8_t {
  start,
  succeed,
  fail_retryable,
  fail_final,
  recover,
  retry
};

/// "analysis", "note_update", "entity_creation".
std::string_view to_string(task_queue q);
std::optional<task_queue> task_queue_from(std::string_view s);
/// "pending", "in_flight", "done", "failed".
std::string_view to_string(task_status s);
std::optional<task_status> task_status_from(std::string_view s);
/// "start", "succeed", ... (for error messages).
std::string_view to_string(task_event e);

/// The state after `ev`, or ec::conflict ("cannot <event> a <status> task").
caf::expected<task_status> next_status(task_status from, task_event ev);

struct task_record {
  std::string id;
  task_queue queue = task_queue::analysis;
  task_status status = task_status::pending;
  std::string session;
  int64_t turn = 0;
  std::string event_id;
  // note_update: the entity and what the turn says about it.
  // entity_creation: entity_type, summary and (maybe empty) name.
  std::string entity_id;
  std::string entity_type;
  std::string summary;
  std::string name;
  uint32_t attempts = 0;      // started attempts since creation / last retry
  std::string last_error;     // empty when none
  int64_t created_ms = 0;     // unix ms
  int64_t updated_ms = 0;
};

/// {"task_id","queue","status","session","turn","event_id","entity_id",
///  "entity_type","summary","name","attempts","last_error" (null when
///  empty),"created_ms","updated_ms"}
boost::json::object to_json(const task_record& t);

/// ec::storage_failure (naming the bad field) when the value is damaged.
caf::expected<task_record> task_from_json(std::string_view text);

/// "<event_id>.a", "<event_id>.u<i>", "<event_id>.c<i>".
std::string analysis_task_id(std::string_view event_id);
std::string update_task_id(std::string_view event_id, std::size_t i);
std::string creation_task_id(std::string_view event_id, std::size_t i);
/// The event id part of a task id (before the first '.'); empty if none.
std::string_view event_of_task(std::string_view task_id);

std::string task_key(std::string_view user, std::string_view session,
                     std::string_view task_id);
/// Prefix of every task of one session (task id order).
std::string task_session_prefix(std::string_view user,
                                std::string_view session);
/// Prefix of every task of the user.
std::string task_user_prefix(std::string_view user);

/// Embedding markers (see above).
std::string embed_marker_key(std::string_view user, std::string_view doc_key);
std::string embed_marker_prefix(std::string_view user);
/// The doc key of a marker key, or nullopt if `key` is not one of `user`'s.
std::optional<std::string> doc_key_of_marker(std::string_view user,
                                             std::string_view key);

/// Delay before attempt `attempts + 1` after a retryable failure:
/// min(max, base * 2^(attempts-1)) scaled by (0.5 + 0.5 * jitter) where
/// `jitter` in [0, 1) comes from the caller's random source ("equal
/// jitter": never less than half the exponential delay, so retries of many
/// tasks spread out but still back off). attempts >= 1.
std::chrono::milliseconds retry_delay(uint32_t attempts,
                                      std::chrono::milliseconds base,
                                      std::chrono::milliseconds max,
                                      double jitter);

} // namespace engram::storage
