// Boost.JSON keeps the last of two equal keys in an object without a word;
// in a config file that silently drops settings ("http" given twice loses
// the first block). This pass walks the text once more, with a handler that
// only remembers each open object's keys, to find such repeats.

#include <set>

#include <boost/json/basic_parser_impl.hpp>

#include "config/detail/sources.hpp"

namespace engram::config::detail {

namespace {

namespace json = boost::json;
using json::error_code;
using json::string_view;

struct key_tracker {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::vector<std::set<std::string>> open_objects;
  std::string key;
  std::optional<std::string> repeated;

  bool on_object_begin(error_code&) {
    open_objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    open_objects.pop_back();
    return true;
  }
  bool on_key_part(string_view part, std::size_t, error_code&) {
    key.append(part.data(), part.size());
    return true;
  }
  // Stopping the parser here makes its offset point at the repeated key.
  bool on_key(string_view last, std::size_t, error_code& ec) {
    key.append(last.data(), last.size());
    bool fresh = open_objects.back().insert(key).second;
    if (!fresh) {
      repeated = key;
      ec = json::error::syntax;
    }
    key.clear();
    return fresh;
  }

  // Everything else is irrelevant to key uniqueness.
  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t, error_code&) { return true; }
  bool on_string_part(string_view, std::size_t, error_code&) { return true; }
  bool on_string(string_view, std::size_t, error_code&) { return true; }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, string_view, error_code&) { return true; }
  bool on_uint64(std::uint64_t, string_view, error_code&) { return true; }
  bool on_double(double, string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

} // namespace

std::optional<duplicate_key>
find_duplicate_key(std::string_view text, const json::parse_options& syntax) {
  json::basic_parser<key_tracker> parser(syntax);
  error_code ec;
  auto offset = parser.write_some(false, text.data(), text.size(), ec);
  auto& repeated = parser.handler().repeated;
  if (!repeated)
    return std::nullopt;
  return duplicate_key{std::move(*repeated), offset};
}

} // namespace engram::config::detail
