#pragma once
// The persistent map under every engram node: RocksDB with one column family
// per storage::column. Thread-safe: any actor may read concurrently; writes on
// the hot path go through the journal actor, which batches them.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "storage/columns.hpp"
#include "storage/mutation.hpp"

namespace engram::storage {

/// The on-disk schema this build writes. Opening a data directory whose
/// meta/schema_version is larger fails with ec::schema_too_new.
inline constexpr uint32_t schema_version = 1;

struct store_options {
  // Directory of the RocksDB database (created if missing).
  std::string path;
  uint64_t block_cache_bytes = 128ull * 1024 * 1024;
  uint64_t write_buffer_bytes = 64ull * 1024 * 1024;
};

/// Called for each record of a scan; return false to stop early.
using scan_visitor = std::function<bool(std::string_view key,
                                        std::string_view value)>;

class store {
public:
  /// Opens (or creates) the database with every column family, writes the
  /// schema version on first open, and refuses a newer schema
  /// (ec::schema_too_new) or a damaged database (ec::storage_failure), with
  /// the path and RocksDB's reason in the message.
  static caf::expected<std::unique_ptr<store>> open(const store_options& opts);

  ~store(); // flushes memtables and closes the database

  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// The value of `key`; ec::not_found if absent; ec::storage_failure on I/O
  /// error or corruption.
  caf::expected<std::string> get(column col, std::string_view key) const;

  /// Visits records whose key starts with `prefix`, in key order, starting at
  /// the first key > `after` when `after` is non-empty (for paging). Returns
  /// the storage error if iteration failed.
  caf::error scan(column col, std::string_view prefix, std::string_view after,
                  const scan_visitor& visit) const;

  /// Applies every mutation atomically (one WriteBatch). With `sync`, the WAL
  /// is fsynced before returning, so the change survives a crash or power
  /// loss. Malformed mutations (unknown column) fail before anything is
  /// written.
  caf::error write(const mutation_list& batch, bool sync);

  /// Flushes memtables to SST files (used at shutdown and by tests).
  caf::error flush();

  /// The schema version stored in meta.
  uint32_t stored_schema_version() const;

  /// A RocksDB integer property summed over column families (e.g.
  /// "rocksdb.estimate-num-keys"); 0 when unknown. For /metrics.
  uint64_t int_property(std::string_view name) const;

  /// The database directory.
  const std::string& path() const;

private:
  struct impl;
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace engram::storage
