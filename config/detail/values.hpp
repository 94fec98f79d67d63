#pragma once
// Typed reading and checking of single option values, from JSON (the config
// file) or from text (environment variables, --set). Internal to config/.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "config/detail/fields.hpp"

namespace engram::config::detail {

/// Why a value was rejected. `where` locates the bad part below the field
/// being read ("" for the value itself, "[2]" for a list element,
/// "[0].role" inside an API key, "lisen" for an unknown key of an object);
/// `what` says what was expected and what was found.
struct problem {
  std::string where;
  std::string what;
};

/// nullopt on success.
using outcome = std::optional<problem>;

/// Appends a sub-path: ("auth.keys", "[0].role") -> "auth.keys[0].role",
/// ("http", "listen") -> "http.listen".
std::string join_path(std::string_view base, std::string_view sub);

/// "[i]", the path step to a list element.
std::string index_path(size_t i);

/// Converts `value` to the target's type, checks it against `valid` and
/// stores it. On failure the target is unchanged.
outcome assign_json(value_ref target, const rule& valid,
                    const boost::json::value& value);

/// Same for the text of an environment variable or a --set value; only for
/// scalar targets (booleans accept true/false/1/0).
outcome assign_text(value_ref target, const rule& valid, std::string_view text);

/// Checks a stored value against `valid` (integer range, string check, every
/// list element; API keys get their own rules from check_api_keys).
outcome check(value_cref value, const rule& valid);

/// Every rule an auth.keys list must meet: each key's fields, exactly one
/// secret source, role/users consistency and unique names.
outcome check_api_keys(const std::vector<api_key_options>& keys);

/// Applies the members of a JSON object to `root` via its field table;
/// unknown members are problems whose `where` is their path.
outcome apply_object(const boost::json::object& obj, options& root);
outcome apply_object(const boost::json::object& obj, api_key_options& root);

/// Inclusive bounds of an integer field.
struct int_range {
  uint64_t min;
  uint64_t max;
};

/// The rule's bounds narrowed to what the field's type can hold, so a uint32
/// option refuses 2^32 instead of wrapping.
int_range capped(const rule& valid, uint64_t type_max);

/// "between 1 and 64", or "at least 1048576" without an upper bound.
std::string range_text(const int_range& range);

/// nullopt when `n` is within `range`.
outcome check_range(uint64_t n, const int_range& range);

/// Reads a non-negative integer within `range` from a JSON number (integral
/// doubles such as 1e6 included) or from decimal text into `out`.
outcome read_integer(const boost::json::value& v, const int_range& range,
                     uint64_t& out);
outcome read_integer(std::string_view text, const int_range& range,
                     uint64_t& out);

/// `"text"` for messages, shortened when long.
std::string quoted(std::string_view s);

/// A double as a person would write it ("1.5", "1e+30").
std::string format_double(double d);

/// "unknown option", with a "did you mean" hint when `path` looks like a
/// typo of a real option path.
std::string unknown_option(std::string_view path);

/// Short description of a JSON value for messages: `string "abc"`,
/// `number 1.5`, `an array`, ...
std::string describe(const boost::json::value& value);

} // namespace engram::config::detail
