#include "runtime/exports/event_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>
#include <tuple>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "messages/errors.hpp"
#include "runtime/ids.hpp"

namespace engram::exports {

namespace json = boost::json;

namespace {

caf::error io_error(const std::string& path, const std::string& what, int err) {
  return make_error(ec::storage_failure,
                    path + ": " + what + ": " + std::strerror(err));
}

caf::error write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    auto n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error(path, "append", errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// True when the non-empty file behind `fd` does not end with a newline: a
// crash tore its last line.
bool torn_tail(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_size == 0)
    return false;
  char last = '\n';
  return ::pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n';
}

// A record as read back: its timestamp and line number order it.
struct hit {
  std::string timestamp;
  std::size_t line = 0;
  json::object record;
};

bool newer(const hit& a, const hit& b) {
  return std::tie(a.timestamp, a.line) > std::tie(b.timestamp, b.line);
}

// The record on `line` if it is an object with string "user_id" and
// "timestamp", else nullopt (torn or foreign lines).
std::optional<json::object> parse_record(const std::string& line) {
  json::error_code err;
  auto v = json::parse(line, err);
  if (err || !v.is_object())
    return std::nullopt;
  auto& obj = v.get_object();
  auto* user = obj.if_contains("user_id");
  auto* ts = obj.if_contains("timestamp");
  if (!user || !user->is_string() || !ts || !ts->is_string())
    return std::nullopt;
  return std::move(obj);
}

} // namespace

json::object to_json(const export_event& e) {
  json::array triggers;
  for (auto& t : e.triggers)
    triggers.emplace_back(t);
  json::object out;
  out["timestamp"] = iso8601_ms(e.at_ms);
  out["user_id"] = e.user_id;
  out["triggers"] = std::move(triggers);
  out["outcome"] = e.outcome;
  // JSON has no NaN or infinity; a broken clock must not break the line.
  out["duration_seconds"] = std::isfinite(e.duration_seconds)
                              ? e.duration_seconds
                              : 0.0;
  out["success"] = e.success;
  out["mode"] = e.mode;
  if (e.error.empty())
    out["error"] = nullptr;
  else
    out["error"] = e.error;
  out["version"] = e.version;
  if (!e.reason.empty())
    out["reason"] = e.reason;
  return out;
}

event_log::event_log(std::string path, event_log_options opts)
  : path_(std::move(path)), opts_(opts) {}

event_log::~event_log() {
  close();
}

event_log::event_log(event_log&& other) noexcept
  : path_(std::move(other.path_)),
    opts_(other.opts_),
    fd_(std::exchange(other.fd_, -1)) {}

event_log& event_log::operator=(event_log&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    opts_ = other.opts_;
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void event_log::close() {
  if (fd_ >= 0)
    ::close(fd_); // every append already reached the OS; nothing to report
  fd_ = -1;
}

caf::error event_log::open_for_append() {
  auto dir = std::filesystem::path{path_}.parent_path();
  std::error_code fs_err;
  if (!dir.empty()
      && (std::filesystem::create_directories(dir, fs_err), fs_err))
    return make_error(ec::storage_failure, path_ + ": cannot create directory "
                                             + dir.string() + ": "
                                             + fs_err.message());
  // Read access only to look at the last byte (torn_tail).
  int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_error(path_, "cannot open", errno);
  // End a torn line first, or the next record would continue it and both
  // would be lost to readers.
  if (torn_tail(fd)) {
    if (auto err = write_all(fd, "\n", path_)) {
      ::close(fd);
      return err;
    }
  }
  fd_ = fd;
  return {};
}

caf::error event_log::append(const export_event& e) {
  return append_json(json::serialize(to_json(e)));
}

caf::error event_log::append_json(std::string line) {
  if (fd_ < 0)
    if (auto err = open_for_append())
      return err;
  line += '\n';
  auto err = write_all(fd_, line, path_);
  if (!err && opts_.sync_each_append && ::fsync(fd_) != 0)
    err = io_error(path_, "fsync", errno);
  if (err)
    close(); // the line may be torn: reopening checks the tail again
  return err;
}

std::vector<json::object>
event_log::read_user(const std::string& user, std::size_t limit,
                     std::optional<int64_t> before_ms) const {
  if (limit == 0 || (before_ms && *before_ms <= 0))
    return {};
  std::ifstream in{path_, std::ios::binary};
  if (!in)
    return {};
  // Timestamps share one fixed-width format, so text order is time order.
  auto before = before_ms ? iso8601_ms(*before_ms) : std::string{};
  // Keep at most ~2 * limit hits: memory stays O(limit) on a long log.
  auto compact_at = limit > std::numeric_limits<std::size_t>::max() / 4
                      ? std::numeric_limits<std::size_t>::max()
                      : 2 * limit + 64;
  std::vector<hit> hits;
  std::string line;
  for (std::size_t n = 0; std::getline(in, line); ++n) {
    auto rec = parse_record(line);
    if (!rec || (*rec)["user_id"].get_string() != user)
      continue;
    std::string ts{(*rec)["timestamp"].get_string()};
    if (before_ms && !(ts < before))
      continue;
    hits.push_back({std::move(ts), n, std::move(*rec)});
    if (hits.size() >= compact_at) {
      std::nth_element(hits.begin(), hits.begin() + limit, hits.end(), newer);
      hits.resize(limit);
    }
  }
  std::sort(hits.begin(), hits.end(), newer);
  hits.resize(std::min(hits.size(), limit));
  std::vector<json::object> out;
  out.reserve(hits.size());
  for (auto& h : hits)
    out.push_back(std::move(h.record));
  return out;
}

} // namespace engram::exports
