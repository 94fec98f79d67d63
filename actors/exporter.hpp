#pragma once
// One exporter per user: decides, with the debounce policy
// (runtime/exports/debounce_policy.hpp), when the user's mesh-context file
// is rewritten, and rewrites it. Spawned on demand by the router (it routes
// every "export.*" operation here) and passivated like a user actor when
// idle: no trailing export scheduled, no export or state write in flight.
// Its debounce state, file version, last content hash and stats are stored
// in the `exports` column after every change, so a restart resumes a
// scheduled trailing export (the export scheduler wakes such exporters).
//
// An export asks the user's actor for the context (op
// "user.export_context", through the router), skips the write when the
// content hash is unchanged, else stores the next version, writes the file
// atomically in a detached writer, logs the outcome, updates stats and
// notifies the webhook. Timers are delayed messages carrying the policy's
// timer generation.
//
// It has the user actor's interface, so the router treats both alike:
//   (call_atom, api_call) -> api_reply   export.trigger / .event / .manual /
//                                        .nightly / .wake / .latest /
//                                        .events / .stats
//   (idle_atom) -> bool                  true: nothing pending, quitting
//   (timeout_atom, generation)           a trailing-export timer fired

#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/export_io.hpp"
#include "actors/journal.hpp"
#include "actors/user.hpp"
#include "actors/webhook.hpp"

namespace engram {

namespace exports {
class export_settings;
class node_export_stats;
} // namespace exports

struct export_context {
  std::shared_ptr<storage::store> db;
  journal_actor journal;
  std::vector<export_writer_actor> writers; // at least one
  event_log_actor events;
  webhook_actor webhook; // may be null: no webhook configured
  std::shared_ptr<exports::export_settings> settings;
  std::shared_ptr<exports::node_export_stats> stats;
  // {data}/exports; the user's file is <dir>/<user>/mesh_context.json.
  std::string dir;
  // How long the user actor may take to hand over the context.
  std::chrono::milliseconds context_timeout{30000};
  // The router (set by the router when it spawns exporters).
  caf::actor router;
};

user_actor spawn_exporter(caf::actor_system& sys, std::string user,
                          std::shared_ptr<const export_context> ctx);

/// Where `user`'s export lives under `dir`.
std::string export_path(const std::string& dir, const std::string& user);

} // namespace engram
