// store's public verbs and the RocksDB reads and writes behind them. Opening,
// the schema check and closing are in store_open.cpp.

#include "storage/store.hpp"

#include <algorithm>
#include <exception>

#include <rocksdb/write_batch.h>

#include "messages/errors.hpp"
#include "storage/detail/store_impl.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

caf::error detail::storage_error(const std::string& path, std::string_view what,
                                 const rocksdb::Status& st) {
  auto msg = "data directory " + path + ": " + std::string{what} + ": "
             + st.ToString();
  // RocksDB's LOCK failure ("lock hold by current process", "Resource
  // temporarily unavailable") does not name its usual cause.
  if (st.IsIOError() && msg.find("LOCK") != std::string::npos)
    msg += " (is another engramd using this data directory?)";
  return make_error(ec::storage_failure, std::move(msg));
}

namespace {

caf::error exception_error(const std::string& path, std::string_view what,
                           const char* reason) {
  return make_error(ec::internal, "data directory " + path + ": "
                                    + std::string{what}
                                    + ": unexpected exception: " + reason);
}

// Runs `f`, turning any exception into ec::internal: RocksDB reports failures
// through Status, so an exception means allocation failure or a bug (maybe in
// a scan visitor), and it must not unwind into an actor.
template <class F>
auto guarded(const std::string& path, std::string_view what, F&& f)
  -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return exception_error(path, what, e.what());
  } catch (...) {
    return exception_error(path, what, "unknown");
  }
}

std::string label(column c) {
  return std::string{column_name(c)};
}

caf::error check_column(column c) {
  auto n = static_cast<std::size_t>(c);
  if (n < column_count)
    return caf::none;
  return make_error(ec::invalid_argument, "unknown column " + std::to_string(n),
                    "col");
}

// Fails on the first mutation with an unknown column or kind.
caf::error validate(const mutation_list& batch) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& m = batch[i];
    auto field = "batch[" + std::to_string(i) + "]";
    if (m.col >= column_count)
      return make_error(ec::invalid_argument,
                        "unknown column " + std::to_string(m.col),
                        field + ".col");
    if (m.kind != mutation::put && m.kind != mutation::erase)
      return make_error(ec::invalid_argument,
                        "unknown mutation kind " + std::to_string(m.kind),
                        field + ".kind");
  }
  return caf::none;
}

// The first key to visit: the prefix itself, or the smallest key strictly
// greater than `after` (after + '\0') when that lies beyond it.
std::string scan_start(std::string_view prefix, std::string_view after) {
  std::string start{prefix};
  if (!after.empty())
    start = std::max(start, std::string{after} + '\0');
  return start;
}

} // namespace

// -- impl ---------------------------------------------------------------------

caf::expected<std::string> store::impl::get(column col,
                                            std::string_view key) const {
  if (auto err = check_column(col))
    return err;
  std::string value;
  auto st = db->Get(rocksdb::ReadOptions{}, cf(col), key, &value);
  if (st.IsNotFound())
    return make_error(ec::not_found, "no such key in column " + label(col));
  if (!st.ok())
    return detail::storage_error(path, "get from " + label(col), st);
  return value;
}

caf::error store::impl::scan(column col, std::string_view prefix,
                             std::string_view after,
                             const scan_visitor& visit) const {
  if (auto err = check_column(col))
    return err;
  auto upper = prefix_successor(prefix);
  rocksdb::Slice upper_slice{upper};
  rocksdb::ReadOptions ro;
  if (!upper.empty()) // empty: nothing sorts past the prefix, scan to the end
    ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro, cf(col))};
  rocksdb::Slice pfx{prefix.data(), prefix.size()};
  for (it->Seek(scan_start(prefix, after));
       // An empty prefix scans the whole column (and would hand memcmp a
       // null pointer).
       it->Valid() && (prefix.empty() || it->key().starts_with(pfx));
       it->Next())
    if (!visit(it->key().ToStringView(), it->value().ToStringView()))
      break;
  auto st = it->status();
  if (!st.ok())
    return detail::storage_error(path, "scan of " + label(col), st);
  return caf::none;
}

caf::error store::impl::write(const mutation_list& batch, bool sync) {
  if (auto err = validate(batch))
    return err; // before anything is written
  rocksdb::WriteBatch wb;
  for (const auto& m : batch) {
    auto* h = cf(static_cast<column>(m.col));
    auto st = m.kind == mutation::put ? wb.Put(h, m.key, m.value)
                                      : wb.Delete(h, m.key);
    if (!st.ok())
      return detail::storage_error(path, "build write batch", st);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  auto st = db->Write(wo, &wb);
  if (!st.ok())
    return detail::storage_error(path, "write", st);
  return caf::none;
}

caf::error store::impl::flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  auto st = db->Flush(fo, handles);
  if (!st.ok())
    return detail::storage_error(path, "flush", st);
  return caf::none;
}

// -- store --------------------------------------------------------------------

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {
  // nop
}

store::~store() = default; // impl's destructor flushes and closes

caf::expected<std::unique_ptr<store>> store::open(const store_options& opts) {
  if (opts.path.empty())
    return make_error(ec::invalid_config, "storage path is empty", "path");
  using result = caf::expected<std::unique_ptr<store>>;
  return guarded(opts.path, "open", [&]() -> result {
    auto p = std::make_unique<impl>();
    if (auto err = p->open(opts))
      return err;
    return std::unique_ptr<store>{new store(std::move(p))};
  });
}

caf::expected<std::string> store::get(column col, std::string_view key) const {
  return guarded(impl_->path, "get", [&] { return impl_->get(col, key); });
}

caf::error store::scan(column col, std::string_view prefix,
                       std::string_view after,
                       const scan_visitor& visit) const {
  return guarded(impl_->path, "scan",
                 [&] { return impl_->scan(col, prefix, after, visit); });
}

caf::error store::write(const mutation_list& batch, bool sync) {
  return guarded(impl_->path, "write",
                 [&] { return impl_->write(batch, sync); });
}

caf::error store::flush() {
  return guarded(impl_->path, "flush", [&] { return impl_->flush(); });
}

uint32_t store::stored_schema_version() const {
  return impl_->schema;
}

uint64_t store::int_property(std::string_view name) const {
  try {
    rocksdb::Slice prop{name.data(), name.size()};
    uint64_t total = 0;
    for (auto* h : impl_->handles) {
      uint64_t v = 0;
      if (impl_->db->GetIntProperty(h, prop, &v))
        total += v;
    }
    return total;
  } catch (...) {
    return 0; // documented: 0 when unknown
  }
}

const std::string& store::path() const {
  return impl_->path;
}

} // namespace engram::storage
