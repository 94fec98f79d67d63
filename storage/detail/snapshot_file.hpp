#pragma once
// Checksummed, atomically replaced files for derived indexes (the vector
// index snapshot). A file is the payload followed by a 32-byte BLAKE2b
// checksum (libsodium crypto_generichash) of the payload. Nothing outside
// storage/ includes this.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace engram::storage::detail {

/// Size of the checksum at the end of every snapshot file.
inline constexpr std::size_t snapshot_checksum_bytes = 32;

/// Writes `<path>.tmp`; commit() appends the checksum, fsyncs the file,
/// renames it over `path` and fsyncs the directory, so `path` holds either
/// the old or the complete new file after a crash. Destroying a writer that
/// was not committed removes the temp file. Errors are sticky: after the
/// first failure, writes do nothing and commit() returns that failure
/// (ec::storage_failure, naming the path and the OS reason).
class snapshot_writer {
public:
  static caf::expected<snapshot_writer> open(const std::string& path);

  snapshot_writer(snapshot_writer&&) noexcept;
  snapshot_writer& operator=(snapshot_writer&&) noexcept;
  ~snapshot_writer();

  void write(const void* data, std::size_t size);

  /// Writes the object representation of `x` (native byte order).
  template <class T>
  void put(const T& x) {
    static_assert(std::is_trivially_copyable_v<T>);
    write(&x, sizeof(T));
  }

  [[nodiscard]] caf::error commit();

private:
  struct impl;
  explicit snapshot_writer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Reads a snapshot file front to back. Every read is checked against the
/// payload size known from the file size, so a length read from a damaged
/// file can neither read past the end nor justify an allocation larger than
/// the file: callers check `remaining()` before allocating.
class snapshot_reader {
public:
  /// ec::not_found when `path` does not exist; ec::storage_failure when it
  /// cannot be read or is too short to hold a checksum.
  static caf::expected<snapshot_reader> open(const std::string& path);

  snapshot_reader(snapshot_reader&&) noexcept;
  snapshot_reader& operator=(snapshot_reader&&) noexcept;
  ~snapshot_reader();

  /// Payload bytes not yet read.
  uint64_t remaining() const;

  /// Reads exactly `size` bytes into `out`; false (and the reader unusable)
  /// when fewer remain or the read fails.
  [[nodiscard]] bool read(void* out, std::size_t size);

  template <class T>
  [[nodiscard]] bool get(T& x) {
    static_assert(std::is_trivially_copyable_v<T>);
    return read(&x, sizeof(T));
  }

  /// No error when the whole payload was read and its checksum matches;
  /// ec::storage_failure otherwise.
  [[nodiscard]] caf::error verify();

  const std::string& path() const;

private:
  struct impl;
  explicit snapshot_reader(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace engram::storage::detail
