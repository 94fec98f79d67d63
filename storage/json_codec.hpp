#pragma once
// JSON values as stored in RocksDB and carried in HTTP bodies (Boost.JSON).
// Parsing is strict by default (RFC 8259); the config loader enables comments
// and trailing commas through parse_options.

#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <caf/expected.hpp>

namespace engram::storage {

struct parse_options {
  bool allow_comments = false;
  bool allow_trailing_commas = false;
  // Deeper nesting is rejected (guards the stack against hostile input).
  std::size_t max_depth = 64;
};

/// "offset 17 (line 2, column 5)" for a byte offset into `text`: the offset
/// is what tools use, line and column what a person editing a file needs.
std::string describe_position(std::string_view text, std::size_t offset);

/// Serialises compactly (no whitespace).
std::string encode_json(const boost::json::value& v);

/// Parses `text`; ec::malformed_request with the byte offset and reason in
/// the message when it is not valid JSON. Never throws.
caf::expected<boost::json::value> decode_json(std::string_view text,
                                              const parse_options& opts = {});

} // namespace engram::storage
