// Reading one option value from JSON or text into its typed field, with the
// same checks whichever source it came from.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>

#include <boost/json.hpp>

#include "config/detail/values.hpp"

namespace engram::config::detail {

namespace json = boost::json;

namespace {

constexpr uint64_t no_limit = std::numeric_limits<uint64_t>::max();

template <class T>
constexpr bool is_int_v = std::is_same_v<T, uint32_t>
                          || std::is_same_v<T, uint64_t>;

// A uint32 field can never hold more than 2^32-1, whatever its rule says.
template <class T>
uint64_t max_of(const rule& valid) {
  if constexpr (std::is_same_v<T, uint32_t>)
    return std::min<uint64_t>(valid.max, std::numeric_limits<uint32_t>::max());
  return valid.max;
}

template <class T>
std::string range_text(const rule& valid) {
  auto hi = max_of<T>(valid);
  if (hi == no_limit)
    return "at least " + std::to_string(valid.min);
  return "between " + std::to_string(valid.min) + " and " + std::to_string(hi);
}

template <class T>
problem out_of_range(const rule& valid, const std::string& got) {
  return {{}, "must be " + range_text<T>(valid) + ", got " + got};
}

template <class T>
problem not_integer(const rule& valid, const std::string& got) {
  return {{}, "must be an integer " + range_text<T>(valid) + ", got " + got};
}

std::string quoted(std::string_view s) {
  constexpr size_t limit = 60; // keep messages one line even for long junk
  if (s.size() > limit)
    return "\"" + std::string{s.substr(0, limit)} + "...\"";
  return "\"" + std::string{s} + "\"";
}

std::string format_double(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  return buf;
}

template <class T>
outcome store_integer(T* target, const rule& valid, uint64_t n) {
  if (n < valid.min || n > max_of<T>(valid))
    return out_of_range<T>(valid, std::to_string(n));
  *target = static_cast<T>(n);
  return std::nullopt;
}

// JSON has one number type; 1e6 is an integer here, 1.5 is not.
template <class T>
outcome assign_double(T* target, const rule& valid, double d) {
  if (std::isfinite(d) && d != std::trunc(d))
    return not_integer<T>(valid, format_double(d));
  constexpr double two_pow_64 = 18446744073709551616.0;
  if (!std::isfinite(d) || d < 0 || d >= two_pow_64)
    return out_of_range<T>(valid, format_double(d));
  return store_integer(target, valid, static_cast<uint64_t>(d));
}

template <class T>
outcome assign_integer(T* target, const rule& valid, const json::value& v) {
  switch (v.kind()) {
    case json::kind::uint64:
      return store_integer(target, valid, v.get_uint64());
    case json::kind::int64:
      if (v.get_int64() < 0)
        return out_of_range<T>(valid, std::to_string(v.get_int64()));
      return store_integer(target, valid, static_cast<uint64_t>(v.get_int64()));
    case json::kind::double_:
      return assign_double(target, valid, v.get_double());
    default:
      return not_integer<T>(valid, describe(v));
  }
}

// Plain decimal digits only: "0x10", "+5" or " 5" in an environment variable
// are more likely mistakes than intent.
template <class T>
outcome assign_integer_text(T* target, const rule& valid,
                            std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  auto digits = negative ? text.substr(1) : text;
  bool all_digits = !digits.empty()
                    && digits.find_first_not_of("0123456789")
                         == std::string_view::npos;
  if (!all_digits)
    return not_integer<T>(valid, quoted(text));
  uint64_t n = 0;
  auto [end, err] = std::from_chars(digits.data(),
                                    digits.data() + digits.size(), n);
  if (negative || err == std::errc::result_out_of_range)
    return out_of_range<T>(valid, std::string{text});
  return store_integer(target, valid, n);
}

outcome check_string(const rule& valid, std::string_view value) {
  if (!valid.check)
    return std::nullopt;
  auto what = valid.check(value);
  if (what.empty())
    return std::nullopt;
  return problem{{}, std::move(what)};
}

outcome assign_string(std::string* target, const rule& valid,
                      std::string value) {
  if (auto p = check_string(valid, value))
    return p;
  *target = std::move(value);
  return std::nullopt;
}

outcome assign_json_bool(bool* target, const json::value& v) {
  if (!v.is_bool())
    return problem{{}, "must be true or false, got " + describe(v)};
  *target = v.get_bool();
  return std::nullopt;
}

outcome assign_text_bool(bool* target, std::string_view text) {
  if (text == "true" || text == "1")
    *target = true;
  else if (text == "false" || text == "0")
    *target = false;
  else
    return problem{{}, "must be true, false, 1 or 0, got " + quoted(text)};
  return std::nullopt;
}

outcome assign_json_string(std::string* target, const rule& valid,
                           const json::value& v) {
  if (!v.is_string())
    return problem{{}, "must be a string, got " + describe(v)};
  return assign_string(target, valid, std::string{v.get_string()});
}

outcome assign_json_list(std::vector<std::string>* target, const rule& valid,
                         const json::value& v) {
  if (!v.is_array())
    return problem{{}, "must be an array of strings, got " + describe(v)};
  std::vector<std::string> items;
  for (const auto& element : v.get_array()) {
    std::string item;
    if (auto p = assign_json_string(&item, valid, element))
      return problem{index_path(items.size()), p->what};
    items.push_back(std::move(item));
  }
  *target = std::move(items);
  return std::nullopt;
}

outcome assign_json_keys(std::vector<api_key_options>* target,
                         const json::value& v) {
  if (!v.is_array())
    return problem{{}, "must be an array of API key objects, got "
                         + describe(v)};
  std::vector<api_key_options> keys;
  for (const auto& element : v.get_array()) {
    auto where = index_path(keys.size());
    if (!element.is_object())
      return problem{where, "must be an object, got " + describe(element)};
    api_key_options key;
    if (auto p = apply_object(element.get_object(), key))
      return problem{join_path(where, p->where), p->what};
    keys.push_back(std::move(key));
  }
  if (auto p = check_api_keys(keys))
    return p;
  *target = std::move(keys);
  return std::nullopt;
}

template <class T>
outcome check_integer(const T* value, const rule& valid) {
  if (*value < valid.min || *value > max_of<T>(valid))
    return out_of_range<T>(valid, std::to_string(*value));
  return std::nullopt;
}

outcome check_list(const std::vector<std::string>* items, const rule& valid) {
  for (size_t i = 0; i < items->size(); ++i)
    if (auto p = check_string(valid, (*items)[i]))
      return problem{index_path(i), p->what};
  return std::nullopt;
}

} // namespace

std::string index_path(size_t i) { return "[" + std::to_string(i) + "]"; }

std::string join_path(std::string_view base, std::string_view sub) {
  if (sub.empty())
    return std::string{base};
  if (base.empty())
    return std::string{sub};
  auto glue = sub.front() == '[' ? "" : ".";
  return std::string{base} + glue + std::string{sub};
}

outcome assign_json(value_ref target, const rule& valid,
                    const json::value& value) {
  return std::visit(
    [&](auto* t) -> outcome {
      using T = std::remove_pointer_t<decltype(t)>;
      if constexpr (std::is_same_v<T, bool>)
        return assign_json_bool(t, value);
      else if constexpr (is_int_v<T>)
        return assign_integer(t, valid, value);
      else if constexpr (std::is_same_v<T, std::string>)
        return assign_json_string(t, valid, value);
      else if constexpr (std::is_same_v<T, std::vector<std::string>>)
        return assign_json_list(t, valid, value);
      else
        return assign_json_keys(t, value);
    },
    target);
}

outcome assign_text(value_ref target, const rule& valid,
                    std::string_view text) {
  return std::visit(
    [&](auto* t) -> outcome {
      using T = std::remove_pointer_t<decltype(t)>;
      if constexpr (std::is_same_v<T, bool>)
        return assign_text_bool(t, text);
      else if constexpr (is_int_v<T>)
        return assign_integer_text(t, valid, text);
      else if constexpr (std::is_same_v<T, std::string>)
        return assign_string(t, valid, std::string{text});
      else
        return problem{{}, "can only be set in the config file"};
    },
    target);
}

outcome check(value_cref value, const rule& valid) {
  return std::visit(
    [&](const auto* v) -> outcome {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(v)>>;
      if constexpr (std::is_same_v<T, bool>)
        return std::nullopt;
      else if constexpr (is_int_v<T>)
        return check_integer(v, valid);
      else if constexpr (std::is_same_v<T, std::string>)
        return check_string(valid, *v);
      else if constexpr (std::is_same_v<T, std::vector<std::string>>)
        return check_list(v, valid);
      else
        return check_api_keys(*v);
    },
    value);
}

std::string describe(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string:
      return "string " + quoted(value.get_string());
    case json::kind::int64:
    case json::kind::uint64:
      return "number " + json::serialize(value);
    case json::kind::double_:
      return "number " + format_double(value.get_double());
    case json::kind::bool_:
      return value.get_bool() ? "true" : "false";
    case json::kind::null:
      return "null";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

} // namespace engram::config::detail
