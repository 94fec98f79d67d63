// Tests storage/store.cpp and store_open.cpp against a real RocksDB in a
// fresh temporary directory per test.

#include "storage/store.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "messages/errors.hpp"
#include "storage/key_codec.hpp"

using namespace engram::storage;
using engram::code_of;
using engram::ec;
using engram::field_of;
using engram::message_of;
using namespace std::string_view_literals;

namespace {

// The code of a failed result, ec::none for a value. (Calling error() on an
// expected that holds a value is undefined behaviour in CAF 0.17.)
template <class T>
ec result_code(const caf::expected<T>& x) {
  return x ? ec::none : code_of(x.error());
}

// The message of a failed result, empty for a value.
template <class T>
std::string result_message(const caf::expected<T>& x) {
  return x ? std::string{} : message_of(x.error());
}

// A directory under /tmp, removed with everything in it at scope exit.
class temp_dir {
public:
  temp_dir() {
    std::string tmpl = "/tmp/engram-store-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ignored; // best effort: a leftover dir fails no test
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

store_options small_options(const std::string& path) {
  store_options opts;
  opts.path = path;
  opts.block_cache_bytes = 1 << 20;
  opts.write_buffer_bytes = 1 << 20;
  return opts;
}

std::unique_ptr<store> open_store(const std::string& path) {
  auto s = store::open(small_options(path));
  INFO(result_message(s));
  REQUIRE(s);
  return std::move(*s);
}

void require_ok(const caf::error& err) {
  INFO(message_of(err));
  REQUIRE(!err);
}

std::string require_get(const store& s, column col, std::string_view key) {
  auto v = s.get(col, key);
  INFO(result_message(v));
  REQUIRE(v);
  return *v;
}

std::vector<std::string> family_names(const std::string& path) {
  std::vector<std::string> names;
  auto st = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions{}, path, &names);
  REQUIRE(st.ok());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> expected_families() {
  std::vector<std::string> names{"default"};
  for (std::size_t i = 0; i < column_count; ++i)
    names.emplace_back(column_name(static_cast<column>(i)));
  std::sort(names.begin(), names.end());
  return names;
}

std::string entity_key(std::string_view user, uint64_t seq) {
  return key_builder{}.str(user).u64(seq).bytes();
}

// Scans and collects keys; stops after `limit` records when limit > 0.
std::vector<std::string> scan_keys(const store& s, std::string_view prefix,
                                   std::string_view after = {},
                                   std::size_t limit = 0) {
  std::vector<std::string> keys;
  auto err = s.scan(column::entities, prefix, after,
                    [&](std::string_view k, std::string_view) {
                      keys.emplace_back(k);
                      return limit == 0 || keys.size() < limit;
                    });
  require_ok(err);
  return keys;
}

// Opens the database behind the store's back, adds `family` and puts
// `version` into meta/schema_version, as a future engramd might.
void write_as_future_engramd(const std::string& path, const std::string& family,
                             const std::string& version) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (auto& name : family_names(path))
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions{});
  cfs.emplace_back(family, rocksdb::ColumnFamilyOptions{});
  rocksdb::DBOptions opts;
  opts.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  REQUIRE(rocksdb::DB::Open(opts, path, cfs, &handles, &db).ok());
  auto meta = std::find_if(handles.begin(), handles.end(),
                           [](auto* h) { return h->GetName() == "meta"; });
  REQUIRE(meta != handles.end());
  CHECK(db->Put(rocksdb::WriteOptions{}, *meta, "schema_version", version).ok());
  for (auto* h : handles)
    CHECK(db->DestroyColumnFamilyHandle(h).ok());
  CHECK(db->Close().ok());
  delete db;
}

} // namespace

TEST_CASE("every column family exists after open and after reopen") {
  temp_dir dir;
  open_store(dir.path()).reset();
  CHECK(family_names(dir.path()) == expected_families());
  auto s = open_store(dir.path());
  CHECK(family_names(dir.path()) == expected_families());
  for (std::size_t i = 0; i < column_count; ++i) {
    auto col = static_cast<column>(i);
    require_ok(s->write({mutation::make_put(col, "k", "v")}, false));
    CHECK(require_get(*s, col, "k") == "v");
  }
}

TEST_CASE("a missing parent directory is created") {
  temp_dir dir;
  auto s = open_store(dir.path() + "/nested/data");
  CHECK(s->path() == dir.path() + "/nested/data");
}

TEST_CASE("get of an absent key is not_found") {
  temp_dir dir;
  auto s = open_store(dir.path());
  auto v = s->get(column::entities, "nope");
  REQUIRE_FALSE(v);
  CHECK(result_code(v) == ec::not_found);
}

TEST_CASE("a batch applies every put and erase together") {
  temp_dir dir;
  auto s = open_store(dir.path());
  require_ok(s->write({mutation::make_put(column::notes, "gone", "x")}, false));
  require_ok(s->write({mutation::make_put(column::notes, "a", "1"),
                       mutation::make_put(column::turns, "b", "2"),
                       mutation::make_erase(column::notes, "gone")},
                      true));
  CHECK(require_get(*s, column::notes, "a") == "1");
  CHECK(require_get(*s, column::turns, "b") == "2");
  CHECK(result_code(s->get(column::notes, "gone")) == ec::not_found);
}

TEST_CASE("a batch with one invalid mutation writes nothing") {
  temp_dir dir;
  auto s = open_store(dir.path());
  auto bad = mutation::make_put(column::notes, "b", "2");
  SECTION("unknown column") {
    bad.col = 200;
    auto err = s->write({mutation::make_put(column::notes, "a", "1"), bad}, true);
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == "batch[1].col");
  }
  SECTION("unknown kind") {
    bad.kind = 7;
    auto err = s->write({mutation::make_put(column::notes, "a", "1"), bad}, true);
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == "batch[1].kind");
  }
  CHECK(result_code(s->get(column::notes, "a")) == ec::not_found);
  CHECK(result_code(s->get(column::notes, "b")) == ec::not_found);
}

TEST_CASE("a column outside the enum is invalid_argument for reads") {
  temp_dir dir;
  auto s = open_store(dir.path());
  auto bogus = static_cast<column>(column_count);
  CHECK(result_code(s->get(bogus, "k")) == ec::invalid_argument);
  auto err = s->scan(bogus, "", "", [](auto, auto) { return true; });
  CHECK(code_of(err) == ec::invalid_argument);
}

TEST_CASE("scan visits exactly the keys with the prefix, in key order") {
  temp_dir dir;
  auto s = open_store(dir.path());
  mutation_list batch;
  for (auto user : {"bo"sv, "bob"sv, "bobby"sv, "bob\0"sv})
    for (uint64_t seq : {300, 2, 1000000, 0})
      batch.push_back(
        mutation::make_put(column::entities, entity_key(user, seq), "v"));
  require_ok(s->write(batch, false));
  std::vector<std::string> expected;
  for (uint64_t seq : {0, 2, 300, 1000000})
    expected.push_back(entity_key("bob", seq));
  CHECK(scan_keys(*s, user_prefix("bob")) == expected);
  CHECK(scan_keys(*s, "").size() == batch.size());
  CHECK(scan_keys(*s, user_prefix("nobody")).empty());
}

TEST_CASE("scan pages with after, resuming strictly past the last key") {
  temp_dir dir;
  auto s = open_store(dir.path());
  mutation_list batch;
  std::vector<std::string> all;
  for (uint64_t seq = 0; seq < 10; ++seq) {
    all.push_back(entity_key("u1", seq));
    batch.push_back(mutation::make_put(column::entities, all.back(), "v"));
  }
  batch.push_back(mutation::make_put(column::entities, entity_key("u2", 0), "v"));
  require_ok(s->write(batch, false));
  std::vector<std::string> paged;
  std::string after;
  for (int page = 0; page < 10; ++page) {
    auto keys = scan_keys(*s, user_prefix("u1"), after, 3);
    if (keys.empty())
      break;
    CHECK(keys.size() <= 3);
    paged.insert(paged.end(), keys.begin(), keys.end());
    after = keys.back();
  }
  CHECK(paged == all);
  SECTION("an `after` before the prefix starts at the prefix") {
    CHECK(scan_keys(*s, user_prefix("u1"), "a") == all);
  }
  SECTION("an `after` past the prefix yields nothing") {
    CHECK(scan_keys(*s, user_prefix("u1"), user_prefix("u2")).empty());
  }
}

TEST_CASE("scan of an all-0xFF prefix reaches the end of the column") {
  temp_dir dir;
  auto s = open_store(dir.path());
  require_ok(s->write({mutation::make_put(column::entities, "\xFF\xFF", "a"),
                       mutation::make_put(column::entities, "\xFF\xFF\xFF", "b"),
                       mutation::make_put(column::entities, "\xFE", "c")},
                      false));
  CHECK(scan_keys(*s, "\xFF\xFF")
        == std::vector<std::string>{"\xFF\xFF", "\xFF\xFF\xFF"});
}

TEST_CASE("a throwing scan visitor becomes an error, not a crash") {
  temp_dir dir;
  auto s = open_store(dir.path());
  require_ok(s->write({mutation::make_put(column::entities, "k", "v")}, false));
  auto err = s->scan(column::entities, "", "", [](auto, auto) -> bool {
    throw std::runtime_error("visitor broke");
  });
  CHECK(code_of(err) == ec::internal);
  CHECK(message_of(err).find("visitor broke") != std::string::npos);
}

TEST_CASE("records survive close and reopen") {
  temp_dir dir;
  {
    auto s = open_store(dir.path());
    require_ok(s->write({mutation::make_put(column::tasks, "t1", "queued")},
                        false));
    require_ok(s->write({mutation::make_put(column::vectors, "v1", "xyz")},
                        true));
  }
  auto s = open_store(dir.path());
  CHECK(require_get(*s, column::tasks, "t1") == "queued");
  CHECK(require_get(*s, column::vectors, "v1") == "xyz");
}

TEST_CASE("the schema version is written on first open") {
  temp_dir dir;
  auto s = open_store(dir.path());
  CHECK(s->stored_schema_version() == schema_version);
  CHECK(require_get(*s, column::meta, "schema_version")
        == std::to_string(schema_version));
}

TEST_CASE("a data directory from a newer schema is refused") {
  temp_dir dir;
  {
    auto s = open_store(dir.path());
    require_ok(
      s->write({mutation::make_put(column::meta, "schema_version", "7")}, true));
  }
  auto s = store::open(small_options(dir.path()));
  REQUIRE_FALSE(s);
  CHECK(result_code(s) == ec::schema_too_new);
  CHECK(result_message(s)
        == "data directory " + dir.path()
             + " was written by schema version 7; this engramd supports up "
               "to 1; upgrade engramd");
}

TEST_CASE("a newer schema with column families we do not know is refused "
          "by the schema check") {
  temp_dir dir;
  open_store(dir.path()).reset();
  write_as_future_engramd(dir.path(), "future_column", "2");
  auto s = store::open(small_options(dir.path()));
  REQUIRE_FALSE(s);
  INFO(result_message(s));
  CHECK(result_code(s) == ec::schema_too_new);
}

TEST_CASE("an unknown column family alone does not prevent opening") {
  temp_dir dir;
  open_store(dir.path()).reset();
  write_as_future_engramd(dir.path(), "future_column", "1");
  auto s = open_store(dir.path());
  CHECK(s->stored_schema_version() == 1);
}

TEST_CASE("a garbled schema version is a storage_failure") {
  temp_dir dir;
  {
    auto s = open_store(dir.path());
    require_ok(s->write(
      {mutation::make_put(column::meta, "schema_version", "1x")}, true));
  }
  auto s = store::open(small_options(dir.path()));
  REQUIRE_FALSE(s);
  CHECK(result_code(s) == ec::storage_failure);
  CHECK(result_message(s).find("'1x'") != std::string::npos);
}

TEST_CASE("a second open of a data directory in use fails cleanly") {
  temp_dir dir;
  auto first = open_store(dir.path());
  auto second = store::open(small_options(dir.path()));
  REQUIRE_FALSE(second);
  CHECK(result_code(second) == ec::storage_failure);
  auto msg = result_message(second);
  INFO(msg);
  CHECK(msg.find(dir.path()) != std::string::npos);
  CHECK(msg.find("LOCK") != std::string::npos);
  // The first store is unharmed.
  require_ok(first->write({mutation::make_put(column::meta, "k", "v")}, true));
}

TEST_CASE("an empty path is an invalid_config") {
  auto s = store::open(store_options{});
  REQUIRE_FALSE(s);
  CHECK(result_code(s) == ec::invalid_config);
}

TEST_CASE("int_property sums over column families") {
  temp_dir dir;
  auto s = open_store(dir.path());
  mutation_list batch;
  for (std::size_t i = 0; i < column_count; ++i)
    batch.push_back(
      mutation::make_put(static_cast<column>(i), "key" + std::to_string(i), "v"));
  require_ok(s->write(batch, false));
  require_ok(s->flush());
  // Every column got one key, and meta also holds schema_version.
  CHECK(s->int_property("rocksdb.estimate-num-keys") == column_count + 1);
  CHECK(s->int_property("rocksdb.no-such-property") == 0);
}
