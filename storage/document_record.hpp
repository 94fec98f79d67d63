#pragma once
// An uploaded document ("memory"): its metadata and its chunks, in the
// memories column:
//
//   str(user) str("d") str(id)          -> document_record JSON
//   str(user) str("c") str(id) u64(i)   -> chunk i: {"text", "begin", "end"}
//
// Each chunk is embedded as doc key memory_doc_key(id, i)
// (storage/documents.hpp) and found by search with kind "memory".

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

namespace engram::storage {

struct document_record {
  std::string id;
  std::string name;
  std::string type;
  uint32_t chunks = 0;
  uint64_t bytes = 0;      // of the text
  std::string created_at;  // ISO-8601 UTC, ms
};

/// {id, name, type, chunks, bytes, created_at}.
boost::json::object to_json(const document_record& d);
/// ec::storage_failure naming the field when the stored JSON is damaged.
caf::expected<document_record> document_from_json(std::string_view text);

struct chunk_record {
  std::string text;
  uint64_t begin = 0; // byte range in the document's text
  uint64_t end = 0;
};

std::string to_json(const chunk_record& c);
caf::expected<chunk_record> chunk_from_json(std::string_view text);

std::string document_key(std::string_view user, std::string_view id);
std::string document_prefix(std::string_view user);
std::string chunk_key(std::string_view user, std::string_view id, uint32_t i);
std::string chunk_prefix(std::string_view user, std::string_view id);

} // namespace engram::storage
