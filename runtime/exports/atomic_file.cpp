#include "runtime/exports/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <sodium.h>

#include "messages/errors.hpp"

namespace engram::exports {

namespace fs = std::filesystem;

namespace {

caf::error io_error(const std::string& path, const std::string& what, int err) {
  return make_error(ec::storage_failure,
                    path + ": " + what + ": " + std::strerror(err));
}

// Closes a descriptor at scope exit unless released.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd); // error paths only: the success path closes and checks
  }
  int release() {
    return std::exchange(fd, -1);
  }
};

// A name no other writer (thread or process) picks: pid, a per-process
// counter and random bits; O_EXCL below catches the impossible clash.
std::string temp_path_for(const fs::path& target) {
  static std::atomic<uint64_t> counter{0};
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), ".tmp-%ld-%llu-%08x",
                static_cast<long>(::getpid()),
                static_cast<unsigned long long>(++counter),
                static_cast<unsigned>(randombytes_random()));
  auto name = "." + target.filename().string() + suffix;
  return (target.parent_path() / name).string();
}

caf::error write_all(int fd, std::string_view content, const std::string& tmp) {
  while (!content.empty()) {
    auto n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error(tmp, "write", errno);
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Writes and syncs `content` into the new file `tmp`.
caf::error write_temp(const std::string& tmp, std::string_view content) {
  fd_guard file{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                       0644)};
  if (file.fd < 0)
    return io_error(tmp, "cannot create", errno);
  if (auto err = write_all(file.fd, content, tmp))
    return err;
  if (::fsync(file.fd) != 0)
    return io_error(tmp, "fsync", errno);
  if (::close(file.release()) != 0)
    return io_error(tmp, "close", errno);
  return {};
}

// fsync of `dir`, so that a rename into it survives a crash.
caf::error sync_dir(const std::string& dir) {
  fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0)
    return io_error(dir, "cannot open directory", errno);
  if (::fsync(d.fd) != 0)
    return io_error(dir, "fsync of directory", errno);
  return {};
}

} // namespace

caf::error write_file_atomically(const std::string& path,
                                 std::string_view content) {
  if (sodium_init() < 0) // idempotent; randombytes needs it
    return make_error(ec::internal, "libsodium failed to initialise");
  fs::path target{path};
  if (target.filename().empty())
    return make_error(ec::storage_failure, path + ": not a file name");
  auto dir = target.parent_path();
  std::error_code fs_err;
  if (!dir.empty() && (fs::create_directories(dir, fs_err), fs_err))
    return make_error(ec::storage_failure, path + ": cannot create directory "
                                             + dir.string() + ": "
                                             + fs_err.message());
  auto tmp = temp_path_for(target);
  auto err = write_temp(tmp, content);
  if (!err && std::rename(tmp.c_str(), path.c_str()) != 0)
    err = io_error(path, "rename from " + tmp, errno);
  if (err) {
    ::unlink(tmp.c_str()); // may not exist when creating it failed
    return err;
  }
  return sync_dir(dir.empty() ? "." : dir.string());
}

caf::expected<std::string> read_file(const std::string& path) {
  fd_guard file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    if (errno == ENOENT)
      return make_error(ec::not_found, path + ": no such file");
    return io_error(path, "cannot open", errno);
  }
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    auto n = ::read(file.fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error(path, "read", errno);
    if (n == 0)
      return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

} // namespace engram::exports
