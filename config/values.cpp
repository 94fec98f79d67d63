// Reading one option value from JSON or text into its typed field, with the
// same checks whichever source it came from.

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include <boost/json.hpp>

#include "config/detail/values.hpp"

namespace engram::config::detail {

namespace json = boost::json;

namespace {

template <class T>
constexpr bool is_int_v = std::is_same_v<T, uint32_t>
                          || std::is_same_v<T, uint64_t>;

// Source is a JSON value (file) or text (environment, --set).
template <class T, class Source>
outcome assign_integer(T* target, const rule& valid, const Source& source) {
  uint64_t n = 0;
  if (auto p = read_integer(source, capped(valid, std::numeric_limits<T>::max()),
                            n))
    return p;
  *target = static_cast<T>(n);
  return std::nullopt;
}

outcome check_real(double d, const rule& valid) {
  if (d >= valid.real_min && d <= valid.real_max)
    return std::nullopt;
  return problem{{}, "must be between " + format_double(valid.real_min)
                       + " and " + format_double(valid.real_max) + ", got "
                       + format_double(d)};
}

outcome assign_real(double* target, const rule& valid, double d) {
  if (auto p = check_real(d, valid))
    return p;
  *target = d;
  return std::nullopt;
}

outcome assign_json_real(double* target, const rule& valid,
                         const json::value& v) {
  if (!v.is_number())
    return problem{{}, "must be a number, got " + describe(v)};
  return assign_real(target, valid, v.to_number<double>());
}

outcome assign_text_real(double* target, const rule& valid,
                         std::string_view text) {
  std::string s{text};
  char* end = nullptr;
  errno = 0;
  double d = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
  if (s.empty() || errno != 0 || end != s.c_str() + s.size()
      || !std::isfinite(d))
    return problem{{}, "must be a number, got " + quoted(text)};
  return assign_real(target, valid, d);
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
  return check_range(*value, capped(valid, std::numeric_limits<T>::max()));
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
      else if constexpr (std::is_same_v<T, double>)
        return assign_json_real(t, valid, value);
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
        return assign_integer(t, valid, text);
      else if constexpr (std::is_same_v<T, double>)
        return assign_text_real(t, valid, text);
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
      else if constexpr (std::is_same_v<T, double>)
        return check_real(*v, valid);
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
