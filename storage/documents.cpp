#include "storage/documents.hpp"

#include <cstring>
#include <limits>

#include "messages/errors.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4,
              "vectors are stored as IEEE-754 binary32");

constexpr std::string_view base_lore_header = "[Base Lore]\n";
constexpr std::string_view notes_header = "\n\n[Session-Specific Notes]\n";

// Splits off the text before the next '/'; nullopt when it is empty.
std::optional<std::string_view> next_part(std::string_view& rest) {
  auto slash = rest.find('/');
  auto part = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{}
                                         : rest.substr(slash + 1);
  if (part.empty())
    return std::nullopt;
  return part;
}

} // namespace

std::string base_doc_key(std::string_view entity_id) {
  return "e/" + std::string{entity_id};
}

std::string composite_doc_key(std::string_view session,
                              std::string_view entity_id) {
  return "c/" + std::string{session} + "/" + std::string{entity_id};
}

std::string memory_doc_key(std::string_view document_id, uint32_t chunk) {
  return "m/" + std::string{document_id} + "/" + std::to_string(chunk);
}

namespace {

std::optional<doc_ref> parse_memory_key(std::string_view rest) {
  auto id = next_part(rest);
  if (!id || rest.empty() || rest.size() > 9
      || rest.find_first_not_of("0123456789") != std::string_view::npos
      || (rest.size() > 1 && rest.front() == '0'))
    return std::nullopt;
  doc_ref ref;
  ref.memory_id = std::string{*id};
  ref.chunk = static_cast<uint32_t>(std::stoul(std::string{rest}));
  return ref;
}

} // namespace

std::optional<doc_ref> parse_doc_key(std::string_view key) {
  auto kind = key.substr(0, 2);
  auto rest = key.substr(kind.size());
  doc_ref ref;
  if (kind == "m/")
    return parse_memory_key(rest);
  if (kind == "c/") {
    auto session = next_part(rest);
    if (!session)
      return std::nullopt;
    ref.session = std::string{*session};
  } else if (kind != "e/") {
    return std::nullopt;
  }
  // The entity id is the last part: no further '/' allowed.
  if (rest.empty() || rest.find('/') != std::string_view::npos)
    return std::nullopt;
  ref.entity_id = std::string{rest};
  return ref;
}

std::string composite_text(std::string_view content, std::string_view note) {
  std::string out;
  out.reserve(base_lore_header.size() + content.size() + notes_header.size()
              + note.size());
  out.append(base_lore_header).append(content);
  if (!note.empty())
    out.append(notes_header).append(note);
  return out;
}

uint32_t session_group(std::string_view session) {
  // FNV-1a, 32 bit. 0 marks base lore, so a session hashing to 0 moves to 1.
  uint32_t h = 2166136261u;
  for (char c : session) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h == 0 ? 1 : h;
}

std::string vector_key(std::string_view user, std::string_view doc_key) {
  return key_builder{}.str(user).str(doc_key).bytes();
}

std::string vector_user_prefix(std::string_view user) {
  return user_prefix(user);
}

std::optional<std::string> doc_key_of_vector(std::string_view user,
                                             std::string_view key) {
  key_reader r{key};
  if (r.str() != user)
    return std::nullopt;
  auto doc_key = r.str();
  if (!doc_key || !r.done())
    return std::nullopt;
  return doc_key;
}

std::string encode_vector(const std::vector<float>& v) {
  // Byte by byte from the bit pattern: little-endian on any host.
  std::string out;
  out.reserve(v.size() * 4);
  for (float f : v) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    for (int shift = 0; shift < 32; shift += 8)
      out.push_back(static_cast<char>((bits >> shift) & 0xFF));
  }
  return out;
}

caf::expected<std::vector<float>> decode_vector(std::string_view bytes,
                                                std::size_t dim) {
  if (bytes.size() % 4 != 0)
    return make_error(ec::storage_failure,
                      "damaged vector: " + std::to_string(bytes.size())
                        + " bytes is not a whole number of floats");
  if (dim != 0 && bytes.size() / 4 != dim)
    return make_error(ec::storage_failure,
                      "damaged vector: " + std::to_string(bytes.size() / 4)
                        + " floats, expected " + std::to_string(dim));
  std::vector<float> out(bytes.size() / 4);
  for (std::size_t i = 0; i < out.size(); ++i) {
    uint32_t bits = 0;
    for (int b = 3; b >= 0; --b)
      bits = (bits << 8) | static_cast<unsigned char>(bytes[i * 4 + b]);
    std::memcpy(&out[i], &bits, sizeof bits);
  }
  return out;
}

std::string vector_generation_key(std::string_view user) {
  // Meta is node-wide, so the key starts with what it counts, not a user.
  return key_builder{}.str("vector_generation").str(user).bytes();
}

std::string encode_u64(uint64_t v) {
  return key_builder{}.u64(v).bytes();
}

caf::expected<uint64_t> decode_u64(std::string_view bytes) {
  if (bytes.size() != 8)
    return make_error(ec::storage_failure,
                      "damaged u64: " + std::to_string(bytes.size())
                        + " bytes, expected 8");
  return *key_reader{bytes}.u64();
}

} // namespace engram::storage
