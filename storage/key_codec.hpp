#pragma once
// Order-preserving key encoding. A key is a sequence of typed parts; byte-wise
// (memcmp) order of encoded keys equals the lexicographic order of the parts,
// so RocksDB range scans follow the logical order (users, then time, ...).
//
//   string  bytes with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01
//   u64     8 bytes big-endian
//   i64     8 bytes big-endian with the sign bit flipped
//
// Layout conventions live in docs/ARCHITECTURE.md ("Key layout").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace engram::storage {

class key_builder {
public:
  key_builder& str(std::string_view s);
  key_builder& u64(uint64_t v);
  key_builder& i64(int64_t v);
  const std::string& bytes() const& { return buf_; }
  std::string bytes() && { return std::move(buf_); }

private:
  std::string buf_;
};

/// Reads parts back in the order they were written; each read returns
/// nullopt when the remaining bytes are not a valid part of that type.
class key_reader {
public:
  explicit key_reader(std::string_view key) : rest_(key) {}
  std::optional<std::string> str();
  std::optional<uint64_t> u64();
  std::optional<int64_t> i64();
  bool done() const { return rest_.empty(); }

private:
  std::string_view rest_;
};

/// The prefix shared by every key of `user` (key_builder().str(user)).
std::string user_prefix(std::string_view user);

/// The smallest key greater than every key starting with `prefix`
/// (empty when there is none); an exclusive upper bound for range scans.
std::string prefix_successor(std::string_view prefix);

} // namespace engram::storage
