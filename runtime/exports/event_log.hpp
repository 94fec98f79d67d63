#pragma once
// An append-only JSON-lines file recording each export decision: one object
// per line, with the keys of to_json() below. A crash can leave a torn last
// line; readers skip lines that do not parse, and the next append first ends
// the torn line so that it cannot swallow the new record.
//
// Thread safety: none, by design. One actor owns an event_log and is the
// only caller of both append and read_user; a second writer of the same
// file (another event_log, another process) is not supported.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/error.hpp>

namespace engram::exports {

struct export_event {
  /// When the decision was made, Unix milliseconds.
  int64_t at_ms = 0;
  std::string user_id;
  /// What asked for the export ("intent_closed:i42", "manual", ...).
  std::vector<std::string> triggers;
  /// What was decided or done (exported, debounced, coalesced, ignored,
  /// unchanged, failed).
  std::string outcome;
  double duration_seconds = 0;
  bool success = true;
  /// The export mode in force ("event", "nightly", "hybrid").
  std::string mode;
  /// Why it failed; empty on success.
  std::string error;
  /// Why the policy decided so (e.g. why a trigger was ignored); may be
  /// empty.
  std::string reason;
  /// The export version written (0 if none).
  uint64_t version = 0;
};

/// {"timestamp": ISO-8601 UTC with ms (iso8601_ms), "user_id", "triggers",
///  "outcome", "duration_seconds", "success", "mode", "error" (null when
///  empty), "version", "reason" (only when not empty)}.
boost::json::object to_json(const export_event& e);

struct event_log_options {
  // fsync after every append, so an acknowledged record survives a power
  // loss, not only a process crash. Costs one disk sync per export decision.
  // Default: false (fflush only). Restart required.
  bool sync_each_append = false;
};

class event_log {
public:
  /// Nothing is opened until the first append; a missing file reads as empty.
  explicit event_log(std::string path, event_log_options opts = {});
  ~event_log();
  event_log(event_log&& other) noexcept;
  event_log& operator=(event_log&& other) noexcept;
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;

  /// Appends `e` as one line, written with write(2) straight to the OS (no
  /// user-space buffer, so nothing is left to flush) (and syncs it when
  /// sync_each_append is set). Creates the file and its parent directories
  /// when missing. ec::storage_failure (path and reason) on error; the next
  /// append then reopens the file.
  caf::error append(const export_event& e);

  /// Appends one already serialised record (a JSON object without the line
  /// end, e.g. serialize(to_json(e))), as append does.
  caf::error append_json(std::string line);

  /// Up to `limit` records of `user`, newest first (by timestamp, ties by
  /// position in the file, later first); with `before_ms`, only records
  /// strictly older than it. Lines that do not parse or lack "user_id" or
  /// "timestamp" are skipped; an unreadable or missing file gives none.
  /// Cost: reads and parses the whole file on every call (O(file size)
  /// time, O(limit) memory); fine for an audit log read by an operator,
  /// not for a hot path.
  std::vector<boost::json::object>
  read_user(const std::string& user, std::size_t limit,
            std::optional<int64_t> before_ms) const;

  const std::string& path() const {
    return path_;
  }

private:
  caf::error open_for_append();
  void close();

  std::string path_;
  event_log_options opts_;
  int fd_ = -1; // opened with O_APPEND by the first append; -1 until then
};

} // namespace engram::exports
