#pragma once
// Cache keys: parts joined with the unit separator (0x1F, which ids and
// model names never contain), and content digests for keys that stand for
// large inputs (texts to embed, model prompts).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace engram::cache {

inline constexpr char key_sep = '\x1f';

/// parts[0] SEP parts[1] SEP ...
std::string make_key(std::initializer_list<std::string_view> parts);

/// Lower-case hex of a 128-bit BLAKE2b digest of `data` (libsodium): a
/// collision needs ~2^64 distinct inputs.
std::string digest(std::string_view data);

/// Search results of `user` at write generation `gen`.
std::string search_key(std::string_view user, uint64_t gen,
                       std::string_view query, uint32_t k,
                       std::string_view session);

/// The prefix of every search key of `user` (for explicit invalidation).
std::string search_user_prefix(std::string_view user);

} // namespace engram::cache
