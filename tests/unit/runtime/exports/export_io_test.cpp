// Specification of runtime/exports/atomic_file and runtime/exports/event_log:
// the file I/O of exports, each test in a fresh temporary directory.

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "runtime/exports/atomic_file.hpp"
#include "runtime/exports/event_log.hpp"

using namespace engram::exports;
using engram::code_of;
using engram::ec;
using engram::message_of;
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::string_literals;

namespace {

// A directory under `base`, removed with everything in it at scope exit.
class temp_dir {
public:
  explicit temp_dir(const std::string& base = "/tmp") {
    std::string tmpl = base + "/engram-export-io-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ignored; // best effort: a leftover dir fails no test
    fs::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }
  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

// Names in `dir`, sorted.
std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  for (auto& entry : fs::directory_iterator{dir})
    out.insert(entry.path().filename().string());
  return out;
}

template <class T>
ec result_code(const caf::expected<T>& x) {
  return x ? ec::none : code_of(x.error());
}

void require_ok(const caf::error& err) {
  INFO(message_of(err));
  REQUIRE(!err);
}

std::string read_ok(const std::string& path) {
  auto content = read_file(path);
  INFO((content ? "" : message_of(content.error())));
  REQUIRE(content);
  return *content;
}

void append_raw(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::app};
  out << bytes;
}

export_event event(const std::string& user, int64_t at_ms,
                   std::string outcome = "exported") {
  export_event e;
  e.at_ms = at_ms;
  e.user_id = user;
  e.triggers = {"schedule", "entity_changed"};
  e.outcome = std::move(outcome);
  e.duration_seconds = 1.5;
  e.mode = "full";
  e.version = 7;
  return e;
}

// The "timestamp" of each record, in order.
std::vector<std::string> timestamps(const std::vector<json::object>& records) {
  std::vector<std::string> out;
  for (auto& r : records)
    out.emplace_back(r.at("timestamp").as_string());
  return out;
}

using strings = std::vector<std::string>;

} // namespace

// -- atomic_file -------------------------------------------------------------

TEST_CASE("a written file reads back byte for byte", "[export_io]") {
  temp_dir dir;
  std::string content = "{\"a\": 1}\n\0binary\xff"s;
  require_ok(write_file_atomically(dir / "x.json", content));
  CHECK(read_ok(dir / "x.json") == content);
  require_ok(write_file_atomically(dir / "empty", ""));
  CHECK(read_ok(dir / "empty").empty());
}

TEST_CASE("a write replaces the old content, longer or shorter",
          "[export_io]") {
  temp_dir dir;
  auto path = dir / "x.json";
  require_ok(write_file_atomically(path, "first version, quite long"));
  require_ok(write_file_atomically(path, "second"));
  CHECK(read_ok(path) == "second");
  CHECK(listing(dir.path()) == std::set<std::string>{"x.json"});
}

TEST_CASE("missing parent directories are created", "[export_io]") {
  temp_dir dir;
  auto path = dir / "users/u1/exports/latest.json";
  require_ok(write_file_atomically(path, "{}"));
  CHECK(read_ok(path) == "{}");
  CHECK(listing(dir / "users/u1/exports")
        == std::set<std::string>{"latest.json"});
}

TEST_CASE("reading a missing file is not_found", "[export_io]") {
  temp_dir dir;
  CHECK(result_code(read_file(dir / "nope.json")) == ec::not_found);
  CHECK(result_code(read_file(dir.path())) == ec::storage_failure); // a dir
}

TEST_CASE("a write under a regular file fails and leaves nothing behind",
          "[export_io]") {
  temp_dir dir;
  require_ok(write_file_atomically(dir / "file", "plain"));
  auto path = dir / "file/sub/out.json";
  auto err = write_file_atomically(path, "{}");
  CHECK(code_of(err) == ec::storage_failure);
  CHECK(message_of(err).find(path) != std::string::npos);
  CHECK(listing(dir.path()) == std::set<std::string>{"file"});
  CHECK(read_ok(dir / "file") == "plain");
}

TEST_CASE("a failed rename removes the temporary file", "[export_io]") {
  temp_dir dir;
  fs::create_directories(dir / "target/inside");
  // The temporary file is written, then cannot replace a directory.
  auto err = write_file_atomically(dir / "target", "{}");
  CHECK(code_of(err) == ec::storage_failure);
  CHECK(message_of(err).find("rename") != std::string::npos);
  CHECK(listing(dir.path()) == std::set<std::string>{"target"});
  CHECK(fs::is_directory(dir / "target/inside"));
}

TEST_CASE("a reader never sees a partial document while a writer rewrites it",
          "[export_io]") {
  // On tmpfs when there is one: fsync is then free, and what this test pins
  // (rename replaces the file in one step) is the same on every file system.
  temp_dir dir{fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp"};
  auto path = dir / "doc.json";
  // Sizes vary a lot, so a read mixing two versions would not parse or
  // would fail the length check.
  auto document = [](int seq) {
    json::object o;
    o["seq"] = seq;
    o["pad"] = std::string(static_cast<std::size_t>((seq * 7919) % 20000), 'p');
    o["pad_size"] = (seq * 7919) % 20000;
    return json::serialize(o);
  };
  require_ok(write_file_atomically(path, document(0)));
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string failure; // written by the reader only, read after join
  std::thread reader{[&] {
    int last_seq = 0;
    while (!done.load() && failure.empty()) {
      auto content = read_file(path);
      if (!content) {
        failure = "read failed: " + message_of(content.error());
        break;
      }
      json::error_code jerr;
      auto v = json::parse(*content, jerr);
      if (jerr || !v.is_object()) {
        failure = "invalid document of " + std::to_string(content->size())
                  + " bytes";
        break;
      }
      auto& o = v.get_object();
      auto seq = static_cast<int>(o.at("seq").as_int64());
      if (static_cast<int64_t>(o.at("pad").as_string().size())
          != o.at("pad_size").as_int64())
        failure = "document " + std::to_string(seq) + " mixes versions";
      if (seq < last_seq)
        failure = "went back from " + std::to_string(last_seq) + " to "
                  + std::to_string(seq);
      last_seq = seq;
      ++reads;
    }
  }};
  caf::error write_err;
  for (int seq = 1; seq <= 500 && !write_err; ++seq)
    write_err = write_file_atomically(path, document(seq));
  done = true;
  reader.join();
  INFO(message_of(write_err));
  CHECK(!write_err);
  INFO(failure);
  CHECK(failure.empty());
  CHECK(reads.load() > 0);
  CHECK(read_ok(path) == document(500));
  CHECK(listing(dir.path()) == std::set<std::string>{"doc.json"});
}

// -- event_log ---------------------------------------------------------------

TEST_CASE("an export event becomes one JSON object with fixed keys",
          "[export_io]") {
  auto e = event("u1", 1234);
  auto o = to_json(e);
  CHECK(json::serialize(o)
        == R"({"timestamp":"1970-01-01T00:00:01.234Z","user_id":"u1",)"
           R"("triggers":["schedule","entity_changed"],"outcome":"exported",)"
           R"("duration_seconds":1.5E0,"success":true,"mode":"full",)"
           R"("error":null,"version":7})");
  e.success = false;
  e.error = "disk full";
  o = to_json(e);
  CHECK(o.at("error") == "disk full");
  CHECK(o.at("success") == false);
}

TEST_CASE("appended events read back as written", "[export_io]") {
  temp_dir dir;
  event_log log{dir / "logs/exports.jsonl"}; // the directory is created
  auto e = event("u1", 1000);
  require_ok(log.append(e));
  auto records = log.read_user("u1", 10, std::nullopt);
  REQUIRE(records.size() == 1);
  CHECK(records[0] == to_json(e));
}

TEST_CASE("records come newest first, limited, before a time, one user only",
          "[export_io]") {
  temp_dir dir;
  event_log log{dir / "exports.jsonl"};
  for (int64_t at : {1000, 3000, 2000, 4000})
    require_ok(log.append(event("u1", at)));
  require_ok(log.append(event("u2", 5000)));
  require_ok(log.append(event("u1", 3000, "second at 3000")));

  auto all = log.read_user("u1", 10, std::nullopt);
  CHECK(timestamps(all)
        == strings{"1970-01-01T00:00:04.000Z", "1970-01-01T00:00:03.000Z",
                   "1970-01-01T00:00:03.000Z", "1970-01-01T00:00:02.000Z",
                   "1970-01-01T00:00:01.000Z"});
  CHECK(all[1].at("outcome") == "second at 3000"); // a tie: later line first

  CHECK(log.read_user("u1", 2, std::nullopt).size() == 2);
  CHECK(log.read_user("u1", 0, std::nullopt).empty());
  CHECK(timestamps(log.read_user("u1", 10, 3000))
        == strings{"1970-01-01T00:00:02.000Z", "1970-01-01T00:00:01.000Z"});
  CHECK(timestamps(log.read_user("u1", 1, 3001))
        == strings{"1970-01-01T00:00:03.000Z"});
  CHECK(timestamps(log.read_user("u2", 10, std::nullopt))
        == strings{"1970-01-01T00:00:05.000Z"});
  CHECK(log.read_user("u3", 10, std::nullopt).empty());
}

TEST_CASE("a small limit over a long log keeps the newest records",
          "[export_io]") {
  temp_dir dir;
  event_log log{dir / "exports.jsonl"};
  // Out of order on purpose, so the newest are spread through the file.
  for (int i = 0; i < 300; ++i)
    require_ok(
      log.append(event(i % 3 == 0 ? "u2" : "u1", (i * 37) % 300 * 1000)));
  auto records = log.read_user("u1", 5, std::nullopt);
  strings expected;
  std::vector<int64_t> at;
  for (int i = 0; i < 300; ++i)
    if (i % 3 != 0)
      at.push_back((i * 37) % 300 * 1000);
  std::sort(at.rbegin(), at.rend());
  for (int k = 0; k < 5; ++k)
    expected.emplace_back(
      to_json(event("u1", at[k])).at("timestamp").as_string());
  CHECK(timestamps(records) == expected);
}

TEST_CASE("a torn last line is skipped and the next append ends it",
          "[export_io]") {
  temp_dir dir;
  auto path = dir / "exports.jsonl";
  {
    event_log log{path};
    require_ok(log.append(event("u1", 1000)));
    require_ok(log.append(event("u1", 2000)));
  }
  // A crash in the middle of writing the third line.
  auto line = json::serialize(to_json(event("u1", 3000)));
  append_raw(path, line.substr(0, line.size() / 2));

  event_log log{path};
  CHECK(timestamps(log.read_user("u1", 10, std::nullopt))
        == strings{"1970-01-01T00:00:02.000Z", "1970-01-01T00:00:01.000Z"});
  require_ok(log.append(event("u1", 4000)));
  CHECK(timestamps(log.read_user("u1", 10, std::nullopt))
        == strings{"1970-01-01T00:00:04.000Z", "1970-01-01T00:00:02.000Z",
                   "1970-01-01T00:00:01.000Z"});
  // Garbage lines of any kind are skipped too.
  append_raw(path, "not json\n[1,2]\n{\"user_id\":\"u1\"}\n\n");
  CHECK(log.read_user("u1", 10, std::nullopt).size() == 3);
}

TEST_CASE("a reopened log appends after the existing records",
          "[export_io]") {
  temp_dir dir;
  auto path = dir / "exports.jsonl";
  {
    event_log log{path};
    require_ok(log.append(event("u1", 1000)));
  }
  event_log_options opts;
  opts.sync_each_append = true;
  event_log log{path, opts};
  require_ok(log.append(event("u1", 2000)));
  CHECK(log.read_user("u1", 10, std::nullopt).size() == 2);
  auto content = read_ok(path);
  CHECK(std::count(content.begin(), content.end(), '\n') == 2);
  CHECK(content.back() == '\n');
}

TEST_CASE("a missing log reads as empty; an unwritable one fails to append",
          "[export_io]") {
  temp_dir dir;
  event_log missing{dir / "none.jsonl"};
  CHECK(missing.read_user("u1", 10, std::nullopt).empty());
  require_ok(write_file_atomically(dir / "file", "plain"));
  event_log log{dir / "file/exports.jsonl"};
  auto err = log.append(event("u1", 1000));
  CHECK(code_of(err) == ec::storage_failure);
  CHECK(message_of(err).find(dir / "file/exports.jsonl") != std::string::npos);
}
