#pragma once
// Internals of storage::store, shared by store.cpp (the read and write verbs)
// and store_open.cpp (open, schema check, close). Nothing outside storage/
// includes this; RocksDB types stay behind it.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "storage/store.hpp"

namespace engram::storage {

struct store::impl {
  std::string path;
  std::unique_ptr<rocksdb::DB> db;
  // handles[i] is column i for i < column_count; the rest are "default" and
  // families unknown to this build, open only because RocksDB requires it.
  // All are destroyed in close(), before the DB.
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  uint32_t schema = 0; // as read (or written) at open

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() { close(); }

  rocksdb::ColumnFamilyHandle* cf(column c) const {
    return handles[static_cast<std::size_t>(c)];
  }

  // store_open.cpp
  caf::error open(const store_options& opts);
  caf::error check_schema();
  void close() noexcept;

  // store.cpp
  caf::expected<std::string> get(column col, std::string_view key) const;
  caf::error scan(column col, std::string_view prefix, std::string_view after,
                  const scan_visitor& visit) const;
  caf::error write(const mutation_list& batch, bool sync);
  caf::error flush();
};

namespace detail {

/// ec::storage_failure naming the data directory, the operation that failed
/// and RocksDB's reason.
caf::error storage_error(const std::string& path, std::string_view what,
                         const rocksdb::Status& st);

} // namespace detail

} // namespace engram::storage
