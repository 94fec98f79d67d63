#pragma once
// State of one exporter actor (actors/exporter.hpp) and the functions over
// it, split into exporter.cpp (decisions and the API) and exporter_run.cpp
// (running an export).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/exporter.hpp"
#include "runtime/exports/exporter_record.hpp"

namespace engram::detail {

/// An export decided and not yet finished (or waiting for the running one).
struct export_job {
  std::vector<exports::carried_trigger> carried;
  uint32_t carried_dropped = 0;
  // Kind of the trigger that caused it (for the log of a lone failure).
  exports::trigger_kind cause = exports::trigger_kind::manual;
  // The policy's reason ("forced", "leading edge", "trailing export", ...).
  std::string reason;
  // Manual exports answer their caller once the file is written.
  std::vector<caf::typed_response_promise<api_reply>> waiters;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
};

struct exporter_state {
  std::string user;
  // Shared by every exporter of the node: an idle exporter costs its user
  // id, its record and the actor itself.
  std::shared_ptr<const export_context> ctx;
  exports::exporter_record rec;
  bool exporting = false;
  std::optional<export_job> queued; // decided while one was running
  std::size_t inflight = 0;         // state writes not yet acknowledged
  static inline const char* name = "engram.exporter";
};

using exporter_self = user_actor::stateful_pointer<exporter_state>;

/// Stores the record (and `extra` in the same batch); `then` runs after
/// the ack, `fail` on a write error.
void persist(exporter_self self, storage::mutation_list extra,
             std::function<void()> then = {},
             std::function<void(const caf::error&)> fail = {});

/// Runs `job` now, or queues it behind the running export.
void start_export(exporter_self self, export_job job);

/// Appends one decision to the event log.
void log_event(exporter_self self, const std::vector<std::string>& triggers,
               exports::outcome what, double seconds, const std::string& error,
               uint64_t version, const std::string& reason = {});

std::vector<std::string> labels_of(const export_job& job);

/// The file writer of this user (always the same one).
export_writer_actor writer_of(exporter_self self);

} // namespace engram::detail
