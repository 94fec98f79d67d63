#pragma once
// The blocking side of exports, in detached actors so that no fsync runs on
// a scheduler thread:
//
// file writer (a small pool; each user always uses the same one, so two
// writes of one user's file never race):
//   (write_atom, path, content) -> bool   atomic replace (temp, fsync,
//                                         rename, dir fsync); error on failure
//   (read_atom, path)           -> string the file; ec::not_found if absent
//
// event log (one per node: the JSON-lines file has a single owner):
//   (log_atom, line)                        append one record (a JSON object)
//   (read_atom, user, limit, before_ms)     -> string: {"events": [...]},
//                                             newest first; before_ms 0 = none

#include <string>
#include <vector>

#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "runtime/exports/event_log.hpp"

namespace engram {

using export_writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, std::string, std::string>::with<bool>,
  caf::replies_to<read_atom, std::string>::with<std::string>>;

using event_log_actor = caf::typed_actor<
  caf::reacts_to<log_atom, std::string>,
  caf::replies_to<read_atom, std::string, uint64_t, int64_t>::with<std::string>>;

export_writer_actor spawn_export_writer(caf::actor_system& sys);

event_log_actor spawn_event_log(caf::actor_system& sys, std::string path,
                                exports::event_log_options opts = {});

} // namespace engram
