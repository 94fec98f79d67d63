#pragma once
// The journal: the one writer of the hot path. It gathers the writes that
// arrive while it is busy (or within storage.max_wait_us) into one synced
// RocksDB WriteBatch (group commit) and acknowledges each write only after
// that batch is durable. Runs detached: fsync blocks its own thread, never a
// scheduler worker.
//
//   (append_atom, write_request) -> commit_ack   durable; seq strictly grows
//                                   | error      ec::invalid_argument (bad
//                                                 mutation, nothing written)
//                                                 ec::storage_failure
//   (flush_atom)                 -> uint64_t     commits what is pending now;
//                                                 answers the last durable seq

#include <memory>

#include <caf/expected.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/journal_messages.hpp"

namespace engram::storage {
class store;
}
namespace engram::metrics {
class registry;
}

namespace engram {

using journal_actor = caf::typed_actor<
  caf::replies_to<append_atom, write_request>::with<commit_ack>,
  caf::replies_to<flush_atom>::with<uint64_t>,
  caf::reacts_to<commit_atom, uint64_t>>;

struct journal_options {
  // fsync each batch before acknowledging it (storage.sync).
  bool sync = true;
  // Most writes per batch; a full batch commits at once (storage.max_batch).
  uint32_t max_batch = 1024;
  // Longest a non-full batch waits for company (storage.max_wait_us). 0 means
  // "commit as soon as the mailbox has been drained".
  uint32_t max_wait_us = 0;
};

/// Spawns the journal on its own thread, continuing after the last seq
/// stored in `db`; fails when that seq cannot be read.
caf::expected<journal_actor> spawn_journal(caf::actor_system& sys,
                                           std::shared_ptr<storage::store> db,
                                           const journal_options& opts,
                                           metrics::registry& metrics);

/// Key in the meta column holding the last committed journal seq.
inline constexpr const char* journal_seq_key = "journal_seq";

} // namespace engram
