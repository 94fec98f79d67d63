#pragma once
// The documents that get embedded, their keys, and how vectors are stored.
//
// - Base lore of an entity: doc key "e/<entity_id>", text
//   "[Base Lore]\n<content>".
// - Composite of (session, entity): doc key "c/<session>/<entity_id>", text
//   "[Base Lore]\n<content>\n\n[Session-Specific Notes]\n<note>".
// - Chunk of an uploaded document (a "memory"): doc key
//   "m/<document_id>/<chunk index>", text the chunk's text.
// Ids never contain '/', so a doc key splits unambiguously.
//
// Vectors (column `vectors`): key str(user) str(doc_key), value the floats
// as little-endian IEEE-754 binary32, nothing else. The per-user vector
// generation (meta column, key vector_generation_key(user), value u64
// big-endian) grows with every batch that changes the user's vectors; an
// index snapshot records the generation it covers, so a stale snapshot is
// detected and rebuilt.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace engram::storage {

struct doc_ref {
  std::string session;   // empty for base lore and memories
  std::string entity_id; // empty for memories
  std::string memory_id; // a document's id: this is one of its chunks
  uint32_t chunk = 0;

  bool is_memory() const { return !memory_id.empty(); }
};

std::string base_doc_key(std::string_view entity_id);
std::string composite_doc_key(std::string_view session,
                              std::string_view entity_id);
std::string memory_doc_key(std::string_view document_id, uint32_t chunk);
/// nullopt when `key` is not a doc key made above.
std::optional<doc_ref> parse_doc_key(std::string_view key);

/// "[Base Lore]\n{content}" when `note` is empty, otherwise
/// "[Base Lore]\n{content}\n\n[Session-Specific Notes]\n{note}".
std::string composite_text(std::string_view content, std::string_view note);

/// Group of a session in a user's vector index: a non-zero 32-bit hash of
/// the session id (0 is base lore). Different sessions may collide, so
/// callers re-check the session of each hit's doc key.
uint32_t session_group(std::string_view session);

std::string vector_key(std::string_view user, std::string_view doc_key);
std::string vector_user_prefix(std::string_view user);
/// The doc key of a vector key of `user`, or nullopt.
std::optional<std::string> doc_key_of_vector(std::string_view user,
                                             std::string_view key);

std::string encode_vector(const std::vector<float>& v);
/// ec::storage_failure when the size is not a multiple of 4 or, with
/// `dim` != 0, not dim floats.
caf::expected<std::vector<float>> decode_vector(std::string_view bytes,
                                                std::size_t dim = 0);

std::string vector_generation_key(std::string_view user);
std::string encode_u64(uint64_t v);
/// ec::storage_failure when not 8 bytes.
caf::expected<uint64_t> decode_u64(std::string_view bytes);

} // namespace engram::storage
