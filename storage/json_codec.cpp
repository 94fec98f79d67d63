#include "storage/json_codec.hpp"

#include <algorithm>
#include <exception>

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include "messages/errors.hpp"

namespace engram::storage {

namespace {

boost::json::parse_options to_boost(const parse_options& opts) {
  boost::json::parse_options out;
  out.allow_comments = opts.allow_comments;
  out.allow_trailing_commas = opts.allow_trailing_commas;
  out.max_depth = opts.max_depth;
  return out;
}

caf::error parse_error(std::string_view text, std::size_t offset,
                       const boost::json::error_code& err) {
  return make_error(ec::malformed_request,
                    "invalid JSON at " + describe_position(text, offset) + ": "
                      + err.message());
}

} // namespace

std::string describe_position(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  auto before = text.substr(0, offset);
  auto line = 1 + std::count(before.begin(), before.end(), '\n');
  auto last_newline = before.rfind('\n');
  auto column = last_newline == std::string_view::npos
                  ? offset + 1
                  : offset - last_newline;
  return "offset " + std::to_string(offset) + " (line " + std::to_string(line)
         + ", column " + std::to_string(column) + ")";
}


std::string encode_json(const boost::json::value& v) {
  return boost::json::serialize(v);
}

caf::expected<boost::json::value> decode_json(std::string_view text,
                                              const parse_options& opts) {
  // boost::json::parse() reports no position, so drive the parser directly:
  // on failure write() returns the offset where parsing stopped.
  try {
    boost::json::parser p{boost::json::storage_ptr{}, to_boost(opts)};
    boost::json::error_code err;
    auto consumed = p.write(text.data(), text.size(), err);
    if (err)
      return parse_error(text, consumed, err);
    return p.release();
  } catch (const std::exception& e) {
    // Only allocation can throw here; report it rather than unwind.
    return make_error(ec::internal,
                      std::string{"cannot parse JSON: "} + e.what());
  }
}

} // namespace engram::storage
