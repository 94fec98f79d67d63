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
#include "storage/json_codec.hpp"

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

// Comments and trailing commas are allowed; duplicate keys are not (JSON
// would silently keep the last one, hiding a mistake).
caf::expected<json::value> parse(const std::string& path,
                                 std::string_view text) {
  storage::parse_options relaxed;
  relaxed.allow_comments = true;
  relaxed.allow_trailing_commas = true;
  auto doc = storage::decode_json(text, relaxed);
  if (!doc)
    return file_error(path, message_of(doc.error()));
  json::parse_options boost_opts;
  boost_opts.allow_comments = true;
  boost_opts.allow_trailing_commas = true;
  if (auto dup = find_duplicate_key(text, boost_opts))
    return file_error(path, "duplicate key \"" + dup->key + "\" at "
                              + storage::describe_position(text, dup->offset));
  return doc;
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
