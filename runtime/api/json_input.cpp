#include "runtime/api/json_input.hpp"

#include <algorithm>

#include "messages/errors.hpp"
#include "storage/json_codec.hpp"

namespace engram::api {

namespace {

std::string range_text(text_limits lim) {
  return std::to_string(lim.min) + ".." + std::to_string(lim.max);
}

// Length in code points, so limits mean characters, not bytes.
std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
    s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

caf::error check_text(std::string_view value, std::string_view field,
                      text_limits lim) {
  auto n = utf8_length(value);
  if (n < lim.min || n > lim.max)
    return make_error(ec::invalid_argument,
                      std::string(field) + ": must be " + range_text(lim)
                        + " characters, got " + std::to_string(n),
                      std::string(field));
  if (lim.min > 0 && value.find_first_not_of(" \t\r\n") == std::string::npos)
    return make_error(ec::invalid_argument,
                      std::string(field) + ": must not be blank",
                      std::string(field));
  return caf::none;
}

} // namespace

caf::expected<boost::json::object> parse_object(std::string_view body) {
  if (body.empty())
    return make_error(ec::malformed_request, "request body is empty; "
                      "expected a JSON object", "body");
  auto v = storage::decode_json(body);
  if (!v)
    return v.error();
  if (!v->is_object())
    return make_error(ec::malformed_request,
                      "request body must be a JSON object", "body");
  return std::move(v->as_object());
}

caf::error reject_unknown(const boost::json::object& obj,
                          std::initializer_list<std::string_view> allowed) {
  for (auto& kv : obj) {
    auto k = std::string_view{kv.key().data(), kv.key().size()};
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      return make_error(ec::invalid_argument,
                        std::string(k) + ": unknown field", std::string(k));
  }
  return caf::none;
}

caf::expected<std::optional<std::string>>
read_string(const boost::json::object& obj, std::string_view key,
            text_limits lim, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || (it->value().is_null() && !required)) {
    if (required)
      return make_error(ec::invalid_argument,
                        std::string(key) + ": required field is missing",
                        std::string(key));
    return std::optional<std::string>{};
  }
  if (!it->value().is_string())
    return make_error(ec::invalid_argument,
                      std::string(key) + ": must be a string",
                      std::string(key));
  auto& s = it->value().get_string();
  std::string value{s.data(), s.size()};
  if (auto err = check_text(value, key, lim))
    return err;
  return std::optional<std::string>{std::move(value)};
}

caf::expected<std::optional<std::vector<std::string>>>
read_string_array(const boost::json::object& obj, std::string_view key,
                  std::size_t max_items, text_limits each) {
  using result = std::optional<std::vector<std::string>>;
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null())
    return result{};
  if (!it->value().is_array())
    return make_error(ec::invalid_argument,
                      std::string(key) + ": must be an array of strings",
                      std::string(key));
  auto& arr = it->value().get_array();
  if (arr.size() > max_items)
    return make_error(ec::invalid_argument,
                      std::string(key) + ": at most " + std::to_string(max_items)
                        + " items, got " + std::to_string(arr.size()),
                      std::string(key));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    auto field = std::string(key) + "[" + std::to_string(i) + "]";
    if (!arr[i].is_string())
      return make_error(ec::invalid_argument, field + ": must be a string",
                        field);
    std::string v{arr[i].get_string().data(), arr[i].get_string().size()};
    if (auto err = check_text(v, field, each))
      return err;
    out.push_back(std::move(v));
  }
  return result{std::move(out)};
}

caf::expected<std::optional<uint64_t>>
read_uint(const boost::json::object& obj, std::string_view key, uint64_t min,
          uint64_t max) {
  using result = std::optional<uint64_t>;
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null())
    return result{};
  auto& v = it->value();
  auto bad = [&] {
    return make_error(ec::invalid_argument,
                      std::string(key) + ": must be an integer in "
                        + std::to_string(min) + ".." + std::to_string(max),
                      std::string(key));
  };
  uint64_t n = 0;
  if (v.is_uint64())
    n = v.get_uint64();
  else if (v.is_int64() && v.get_int64() >= 0)
    n = static_cast<uint64_t>(v.get_int64());
  else
    return bad();
  if (n < min || n > max)
    return bad();
  return result{n};
}

caf::expected<uint64_t> query_uint(const std::string* text,
                                   std::string_view name, uint64_t min,
                                   uint64_t max, uint64_t fallback) {
  if (!text)
    return fallback;
  auto bad = make_error(ec::invalid_argument,
                        std::string(name) + ": must be an integer in "
                          + std::to_string(min) + ".." + std::to_string(max),
                        "query." + std::string(name));
  if (text->empty() || text->size() > 19
      || text->find_first_not_of("0123456789") != std::string::npos)
    return bad;
  auto n = std::stoull(*text);
  if (n < min || n > max)
    return bad;
  return n;
}

} // namespace engram::api
