// The config file layer: read, parse (comments and trailing commas allowed,
// errors with line and column), then apply through the field table.

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <boost/json.hpp>

#include "config/detail/sources.hpp"
#include "config/detail/values.hpp"
#include "messages/errors.hpp"

namespace engram::config::detail {

namespace json = boost::json;

namespace {

caf::error file_error(const std::string& path, const std::string& what) {
  return make_error(ec::invalid_config, "config file " + path + ": " + what);
}

caf::expected<std::string> read_file(const std::string& path) {
  std::error_code err;
  auto status = std::filesystem::status(path, err);
  if (status.type() == std::filesystem::file_type::not_found)
    return file_error(path, "does not exist");
  if (status.type() == std::filesystem::file_type::directory)
    return file_error(path, "is a directory, expected a JSON file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return file_error(path, std::string{"cannot be opened: "}
                              + std::strerror(errno));
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  if (in.bad())
    return file_error(path, "cannot be read");
  return text;
}

// 1-based line and column (in bytes) of `offset`, for editor-friendly errors.
std::string position_of(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  auto before = text.substr(0, offset);
  auto line = 1 + std::count(before.begin(), before.end(), '\n');
  auto last_newline = before.rfind('\n');
  auto column = last_newline == std::string_view::npos
                  ? offset + 1
                  : offset - last_newline;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

caf::expected<json::value> parse(const std::string& path,
                                 std::string_view text) {
  json::parse_options relaxed;
  relaxed.allow_comments = true;
  relaxed.allow_trailing_commas = true;
  json::stream_parser parser({}, relaxed);
  json::error_code err;
  // write() reports how far it got, which locates the error.
  auto consumed = parser.write(text.data(), text.size(), err);
  if (!err)
    parser.finish(err);
  if (err)
    return file_error(path, position_of(text, consumed) + ": " + err.message());
  if (auto dup = find_duplicate_key(text, relaxed))
    return file_error(path, position_of(text, dup->offset)
                              + ": duplicate key \"" + dup->key + "\"");
  return parser.release();
}

} // namespace

caf::error apply_file(const std::string& path, options& opts) {
  auto text = read_file(path);
  if (!text)
    return text.error();
  auto doc = parse(path, *text);
  if (!doc)
    return doc.error();
  if (!doc->is_object())
    return file_error(path, "must hold a JSON object, got " + describe(*doc));
  if (auto p = apply_object(doc->get_object(), opts))
    return config_error("config file " + path, p->where, p->what);
  return caf::none;
}

} // namespace engram::config::detail
