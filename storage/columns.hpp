#pragma once
// The RocksDB column families of an engram data directory. All of them are
// created when a data directory is first opened, so later features never need
// a migration just to get a column family. Keys in every user-scoped column
// start with key_codec::user_prefix(user): one user's data is one range.

#include <array>
#include <cstdint>
#include <string_view>

namespace engram::storage {

enum class column : uint8_t {
  meta,             // schema version, checkpoints, node identity
  entities,         // lore entries
  notes,            // session notes and their versions
  turns,            // conversation turns
  tasks,            // durable mailbox tasks (analysis, note update, ...)
  vectors,          // embeddings (raw float32)
  states,           // entity state transitions over time
  memories,         // document / meeting chunks
  intents,          // open and closed intents
  contexts,         // hierarchical contexts (latest)
  context_versions, // every version of every context
  exports,          // export state and event log
  handoff,          // writes held for a cluster member that is down
};

inline constexpr std::size_t column_count = 13;

/// RocksDB column family name of `c` (stable: it is on disk).
constexpr std::string_view column_name(column c) {
  constexpr std::array<std::string_view, column_count> names{
    "meta",   "entities", "notes",    "turns",    "tasks",
    "vectors", "states",  "memories", "intents",  "contexts",
    "context_versions",   "exports",  "handoff"};
  return names[static_cast<std::size_t>(c)];
}

} // namespace engram::storage
