#pragma once
// Strict reading of JSON request bodies with precise errors: each failure is
// ec::invalid_argument naming the field and the rule ("title: must be 1..512
// characters"), or ec::malformed_request / ec::unsupported_media_type for
// the body as a whole. Plain functions, unit-tested without a node.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

namespace engram::api {

/// Parses a body that must be a JSON object.
caf::expected<boost::json::object> parse_object(std::string_view body);

/// ec::invalid_argument naming the first key of `obj` not in `allowed`.
caf::error reject_unknown(const boost::json::object& obj,
                          std::initializer_list<std::string_view> allowed);

struct text_limits {
  std::size_t min = 0;
  std::size_t max = 65536;
};

/// The string at `key`: absent -> nullopt (or error when `required`), wrong
/// type or length outside `lim` -> ec::invalid_argument.
caf::expected<std::optional<std::string>>
read_string(const boost::json::object& obj, std::string_view key,
            text_limits lim, bool required);

/// An array of strings, each within `each`, at most `max_items`.
caf::expected<std::optional<std::vector<std::string>>>
read_string_array(const boost::json::object& obj, std::string_view key,
                  std::size_t max_items, text_limits each);

/// A non-negative integer in [min, max].
caf::expected<std::optional<uint64_t>>
read_uint(const boost::json::object& obj, std::string_view key, uint64_t min,
          uint64_t max);

/// A query parameter parsed as an integer in [min, max] (or `fallback`).
caf::expected<uint64_t> query_uint(const std::string* text,
                                   std::string_view name, uint64_t min,
                                   uint64_t max, uint64_t fallback);

} // namespace engram::api
