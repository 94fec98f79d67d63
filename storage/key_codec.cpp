#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

// A 0x00 inside a string is followed by this byte; 0x00 followed by
// `terminator` ends the string. escape > terminator keeps "ab" < "ab\0".
constexpr char escape = '\xFF';
constexpr char terminator = '\x01';

// Flipping the sign bit maps INT64_MIN..INT64_MAX onto 0..UINT64_MAX in order.
constexpr uint64_t sign_bit = uint64_t{1} << 63;

} // namespace

key_builder& key_builder::str(std::string_view s) {
  for (char c : s) {
    buf_.push_back(c);
    if (c == '\0')
      buf_.push_back(escape);
  }
  buf_.push_back('\0');
  buf_.push_back(terminator);
  return *this;
}

key_builder& key_builder::u64(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    buf_.push_back(static_cast<char>((v >> shift) & 0xFF));
  return *this;
}

key_builder& key_builder::i64(int64_t v) {
  return u64(static_cast<uint64_t>(v) ^ sign_bit);
}

std::optional<std::string> key_reader::str() {
  std::string out;
  for (std::size_t i = 0; i < rest_.size(); ++i) {
    if (rest_[i] != '\0') {
      out.push_back(rest_[i]);
      continue;
    }
    if (i + 1 == rest_.size())
      return std::nullopt;
    if (rest_[i + 1] == terminator) {
      rest_.remove_prefix(i + 2);
      return out;
    }
    if (rest_[i + 1] != escape)
      return std::nullopt;
    out.push_back('\0');
    ++i; // skip the escape byte
  }
  return std::nullopt; // no terminator
}

std::optional<uint64_t> key_reader::u64() {
  if (rest_.size() < 8)
    return std::nullopt;
  uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(rest_[i]);
  rest_.remove_prefix(8);
  return v;
}

std::optional<int64_t> key_reader::i64() {
  auto v = u64();
  if (!v)
    return std::nullopt;
  return static_cast<int64_t>(*v ^ sign_bit);
}

std::string user_prefix(std::string_view user) {
  key_builder b;
  b.str(user);
  return std::move(b).bytes();
}

std::string prefix_successor(std::string_view prefix) {
  // Drop trailing 0xFF bytes (they cannot be incremented), then bump the last
  // remaining byte. Nothing left means no key is greater than every key with
  // this prefix.
  std::string out{prefix};
  while (!out.empty() && static_cast<unsigned char>(out.back()) == 0xFF)
    out.pop_back();
  if (!out.empty())
    out.back() = static_cast<char>(static_cast<unsigned char>(out.back()) + 1);
  return out;
}

} // namespace engram::storage
