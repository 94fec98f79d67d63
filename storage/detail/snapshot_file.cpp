#include "storage/detail/snapshot_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <sodium.h>

#include "messages/errors.hpp"

namespace engram::storage::detail {

namespace {

// Large stdio buffers: snapshots are written and read in one sequential pass.
constexpr std::size_t io_buffer_bytes = 1 << 20;

caf::error io_error(const std::string& path, const std::string& what, int err) {
  return make_error(ec::storage_failure,
                    path + ": " + what + ": " + std::strerror(err));
}

caf::error sodium_ready() {
  // sodium_init() is idempotent and thread-safe; it only picks the fastest
  // BLAKE2b implementation for this CPU.
  if (sodium_init() < 0)
    return make_error(ec::internal, "libsodium failed to initialise");
  return {};
}

// fsync of the directory holding `path`, so that a rename survives a crash.
caf::error sync_parent_dir(const std::string& path) {
  auto dir = std::filesystem::path{path}.parent_path();
  std::string name = dir.empty() ? "." : dir.string();
  int fd = ::open(name.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return io_error(name, "cannot open directory", errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? caf::error{} : io_error(name, "fsync of directory", err);
}

} // namespace

// -- snapshot_writer ----------------------------------------------------------

struct snapshot_writer::impl {
  std::string path;
  std::string tmp_path;
  std::FILE* file = nullptr;
  crypto_generichash_state hash;
  caf::error err;
  bool committed = false;

  ~impl() {
    if (file != nullptr)
      std::fclose(file);
    if (!committed)
      std::remove(tmp_path.c_str()); // best effort: a leftover .tmp is harmless
  }

  void fail(const std::string& what, int e) {
    if (!err)
      err = io_error(tmp_path, what, e);
  }
};

caf::expected<snapshot_writer> snapshot_writer::open(const std::string& path) {
  if (auto err = sodium_ready())
    return err;
  auto p = std::make_unique<impl>();
  p->path = path;
  p->tmp_path = path + ".tmp";
  p->file = std::fopen(p->tmp_path.c_str(), "wb");
  if (p->file == nullptr)
    return io_error(p->tmp_path, "cannot create", errno);
  std::setvbuf(p->file, nullptr, _IOFBF, io_buffer_bytes);
  crypto_generichash_init(&p->hash, nullptr, 0, snapshot_checksum_bytes);
  return snapshot_writer{std::move(p)};
}

snapshot_writer::snapshot_writer(std::unique_ptr<impl> p)
  : impl_(std::move(p)) {}
snapshot_writer::snapshot_writer(snapshot_writer&&) noexcept = default;
snapshot_writer&
snapshot_writer::operator=(snapshot_writer&&) noexcept = default;
snapshot_writer::~snapshot_writer() = default;

void snapshot_writer::write(const void* data, std::size_t size) {
  if (impl_->err || size == 0)
    return;
  crypto_generichash_update(&impl_->hash,
                            static_cast<const unsigned char*>(data), size);
  if (std::fwrite(data, 1, size, impl_->file) != size)
    impl_->fail("write", errno);
}

caf::error snapshot_writer::commit() {
  auto& s = *impl_;
  if (!s.err) {
    unsigned char sum[snapshot_checksum_bytes];
    crypto_generichash_final(&s.hash, sum, sizeof(sum));
    if (std::fwrite(sum, 1, sizeof(sum), s.file) != sizeof(sum))
      s.fail("write", errno);
  }
  if (!s.err && std::fflush(s.file) != 0)
    s.fail("flush", errno);
  if (!s.err && ::fsync(fileno(s.file)) != 0)
    s.fail("fsync", errno);
  if (std::fclose(s.file) != 0)
    s.fail("close", errno);
  s.file = nullptr;
  if (s.err)
    return s.err;
  if (std::rename(s.tmp_path.c_str(), s.path.c_str()) != 0)
    return io_error(s.path, "rename from " + s.tmp_path, errno);
  s.committed = true;
  return sync_parent_dir(s.path);
}

// -- snapshot_reader ----------------------------------------------------------

struct snapshot_reader::impl {
  std::string path;
  std::FILE* file = nullptr;
  uint64_t left = 0; // payload bytes not read yet
  bool broken = false;
  crypto_generichash_state hash;

  ~impl() {
    if (file != nullptr)
      std::fclose(file);
  }
};

caf::expected<snapshot_reader> snapshot_reader::open(const std::string& path) {
  if (auto err = sodium_ready())
    return err;
  auto p = std::make_unique<impl>();
  p->path = path;
  p->file = std::fopen(path.c_str(), "rb");
  if (p->file == nullptr) {
    if (errno == ENOENT)
      return make_error(ec::not_found, path + ": no such snapshot");
    return io_error(path, "cannot open", errno);
  }
  std::setvbuf(p->file, nullptr, _IOFBF, io_buffer_bytes);
  struct stat st;
  if (::fstat(fileno(p->file), &st) != 0)
    return io_error(path, "stat", errno);
  auto size = static_cast<uint64_t>(st.st_size);
  if (!S_ISREG(st.st_mode) || size < snapshot_checksum_bytes)
    return make_error(ec::storage_failure, path + ": truncated snapshot ("
                                             + std::to_string(size)
                                             + " bytes)");
  p->left = size - snapshot_checksum_bytes;
  crypto_generichash_init(&p->hash, nullptr, 0, snapshot_checksum_bytes);
  return snapshot_reader{std::move(p)};
}

snapshot_reader::snapshot_reader(std::unique_ptr<impl> p)
  : impl_(std::move(p)) {}
snapshot_reader::snapshot_reader(snapshot_reader&&) noexcept = default;
snapshot_reader&
snapshot_reader::operator=(snapshot_reader&&) noexcept = default;
snapshot_reader::~snapshot_reader() = default;

uint64_t snapshot_reader::remaining() const {
  return impl_->broken ? 0 : impl_->left;
}

bool snapshot_reader::read(void* out, std::size_t size) {
  auto& s = *impl_;
  if (s.broken || size > s.left) {
    s.broken = true;
    return false;
  }
  if (size == 0)
    return true;
  if (std::fread(out, 1, size, s.file) != size) {
    s.broken = true; // the file shrank under us, or an I/O error
    return false;
  }
  crypto_generichash_update(&s.hash, static_cast<unsigned char*>(out), size);
  s.left -= size;
  return true;
}

caf::error snapshot_reader::verify() {
  auto& s = *impl_;
  if (s.broken || s.left != 0)
    return make_error(ec::storage_failure,
                      s.path + ": snapshot length does not match its content");
  unsigned char expected[snapshot_checksum_bytes];
  unsigned char stored[snapshot_checksum_bytes];
  crypto_generichash_final(&s.hash, expected, sizeof(expected));
  if (std::fread(stored, 1, sizeof(stored), s.file) != sizeof(stored))
    return make_error(ec::storage_failure, s.path + ": cannot read checksum");
  if (std::memcmp(expected, stored, sizeof(stored)) != 0)
    return make_error(ec::storage_failure,
                      s.path + ": snapshot checksum mismatch (corrupt file)");
  return {};
}

const std::string& snapshot_reader::path() const {
  return impl_->path;
}

} // namespace engram::storage::detail
