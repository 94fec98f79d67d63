// store::impl's lifecycle: creating and opening the data directory, checking
// the schema version, and closing. The read/write verbs are in store.cpp.

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>

#include <rocksdb/filter_policy.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/table.h>

#include "messages/errors.hpp"
#include "storage/detail/store_impl.hpp"

namespace engram::storage {

namespace {

constexpr std::string_view schema_key = "schema_version";

std::optional<uint32_t> parse_version(std::string_view text) {
  uint32_t v = 0;
  const char* end = text.data() + text.size();
  auto [stop, err] = std::from_chars(text.data(), end, v);
  if (text.empty() || err != std::errc{} || stop != end)
    return std::nullopt;
  return v;
}

rocksdb::ColumnFamilyOptions column_options(const store_options& opts) {
  // One LRU cache shared by every column family bounds block cache memory as
  // a whole rather than per column.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(opts.block_cache_bytes);
  // Most point reads on the hot path miss (is this turn new? does this note
  // exist?): bloom filters answer "no" without touching data blocks, in the
  // memtable and in every SST file (~10 bits per key, ~1% false positives).
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  table.whole_key_filtering = true;
  rocksdb::ColumnFamilyOptions out;
  out.write_buffer_size = opts.write_buffer_bytes;
  out.memtable_whole_key_filtering = true;
  out.memtable_prefix_bloom_size_ratio = 0.02;
  out.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return out;
}

// Column families already on disk. Any this build does not know (created by a
// newer engramd) must be opened too, or RocksDB refuses the open before the
// schema check can explain why. Failure means a new directory: none to add.
std::vector<std::string> existing_families(const std::string& path) {
  std::vector<std::string> names;
  auto st = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions{}, path, &names);
  if (!st.ok())
    names.clear();
  return names;
}

// Every known column in enum order (so handle i is column i), then "default",
// then unknown families found on disk.
std::vector<rocksdb::ColumnFamilyDescriptor>
descriptors(const store_options& opts) {
  auto cf_opts = column_options(opts);
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  for (std::size_t i = 0; i < column_count; ++i)
    out.emplace_back(std::string{column_name(static_cast<column>(i))}, cf_opts);
  out.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_opts);
  for (auto& name : existing_families(opts.path)) {
    auto known = std::any_of(out.begin(), out.end(),
                             [&](const auto& d) { return d.name == name; });
    if (!known)
      out.emplace_back(name, cf_opts);
  }
  return out;
}

caf::error too_new(const std::string& path, uint32_t version) {
  return make_error(ec::schema_too_new,
                    "data directory " + path + " was written by schema version "
                      + std::to_string(version)
                      + "; this engramd supports up to "
                      + std::to_string(schema_version) + "; upgrade engramd");
}

} // namespace

caf::error store::impl::open(const store_options& opts) {
  path = opts.path;
  std::error_code mkdir_err;
  std::filesystem::create_directories(path, mkdir_err);
  if (mkdir_err)
    return make_error(ec::storage_failure, "data directory " + path
                                             + ": cannot create: "
                                             + mkdir_err.message());
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(db_opts, path, descriptors(opts), &handles, &raw);
  db.reset(raw);
  if (!st.ok())
    return detail::storage_error(path, "cannot open", st);
  return check_schema();
}

caf::error store::impl::check_schema() {
  auto stored = get(column::meta, schema_key);
  if (!stored && code_of(stored.error()) != ec::not_found)
    return stored.error();
  if (!stored) { // first open of this directory
    schema = schema_version;
    return write({mutation::make_put(column::meta, std::string{schema_key},
                                     std::to_string(schema_version))},
                 true);
  }
  auto version = parse_version(*stored);
  if (!version)
    return make_error(ec::storage_failure,
                      "data directory " + path + ": meta/schema_version is '"
                        + *stored + "', not a schema version");
  if (*version > schema_version)
    return too_new(path, *version);
  schema = *version;
  return caf::none;
}

void store::impl::close() noexcept {
  if (!db)
    return;
  try {
    // Errors are ignored on purpose: nobody is left to report them to, and
    // every acknowledged write is in the WAL, replayed on the next open.
    static_cast<void>(flush());
    rocksdb::CancelAllBackgroundWork(db.get(), true);
    for (auto* h : handles)
      db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    handles.clear();
    db->Close().PermitUncheckedError();
    db.reset();
  } catch (...) {
    // Called from destructors: never let an exception escape.
  }
}

} // namespace engram::storage
