// to_json(): the effective options in the config file's shape, printed with
// a fixed layout so diffs between two nodes' --print-config are meaningful.
// reference_markdown(): the option reference, from the same table, so the
// docs list exactly the options the loader accepts.

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include <boost/json.hpp>

#include "config/detail/fields.hpp"
#include "config/detail/sources.hpp"
#include "config/detail/values.hpp"
#include "config/loader.hpp"

namespace engram::config {

namespace {

namespace json = boost::json;
using detail::field;
using detail::value_cref;

template <class Root>
json::object object_of(const std::vector<field<Root>>& table, const Root& root,
                       bool redact);

json::array strings_of(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& item : items)
    out.emplace_back(json::string_view{item});
  return out;
}

json::value value_of(value_cref value, bool redact, bool secret) {
  return std::visit(
    [&](const auto* v) -> json::value {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(v)>>;
      if constexpr (std::is_same_v<T, bool>)
        return *v;
      else if constexpr (std::is_same_v<T, double>)
        return *v;
      else if constexpr (std::is_integral_v<T>)
        return static_cast<uint64_t>(*v);
      else if constexpr (std::is_same_v<T, std::string>)
        return json::string_view{secret && redact && !v->empty()
                                   ? std::string_view{"<redacted>"}
                                   : std::string_view{*v}};
      else if constexpr (std::is_same_v<T, std::vector<std::string>>)
        return strings_of(*v);
      else {
        json::array keys;
        for (const auto& key : *v)
          keys.emplace_back(object_of(detail::api_key_fields(), key, redact));
        return keys;
      }
    },
    value);
}

// The member at a dotted path, creating the objects on the way.
json::value& slot(json::object& obj, std::string_view path) {
  auto dot = path.find('.');
  if (dot == std::string_view::npos)
    return obj[path];
  auto& child = obj[path.substr(0, dot)];
  if (!child.is_object())
    child.emplace_object();
  return slot(child.get_object(), path.substr(dot + 1));
}

template <class Root>
json::object object_of(const std::vector<field<Root>>& table, const Root& root,
                       bool redact) {
  json::object out;
  for (const auto& f : table)
    slot(out, f.path) = value_of(f.access.cref(root), redact, f.secret);
  return out;
}

void pretty(const json::value& v, size_t depth, std::string& out);

void indent(size_t depth, std::string& out) { out.append(2 * depth, ' '); }

void pretty_object(const json::object& obj, size_t depth, std::string& out) {
  if (obj.empty()) {
    out += "{}";
    return;
  }
  out += "{\n";
  size_t printed = 0;
  for (const auto& member : obj) {
    indent(depth + 1, out);
    out += json::serialize(member.key()) + ": ";
    pretty(member.value(), depth + 1, out);
    out += ++printed < obj.size() ? ",\n" : "\n";
  }
  indent(depth, out);
  out += "}";
}

// Lists of scalars (users) stay on one line; lists of objects (keys) do not.
void pretty_array(const json::array& arr, size_t depth, std::string& out) {
  bool flat = std::none_of(arr.begin(), arr.end(), [](const json::value& v) {
    return v.is_object() || v.is_array();
  });
  out += flat || arr.empty() ? "[" : "[\n";
  for (size_t i = 0; i < arr.size(); ++i) {
    if (!flat)
      indent(depth + 1, out);
    pretty(arr[i], depth + 1, out);
    if (i + 1 < arr.size())
      out += flat ? ", " : ",\n";
  }
  if (!flat && !arr.empty()) {
    out += "\n";
    indent(depth, out);
  }
  out += "]";
}

void pretty(const json::value& v, size_t depth, std::string& out) {
  if (v.is_object())
    pretty_object(v.get_object(), depth, out);
  else if (v.is_array())
    pretty_array(v.get_array(), depth, out);
  else
    out += json::serialize(v);
}

std::string env_column(std::string_view path, value_cref value,
                       bool in_env) {
  if (!in_env || !detail::is_scalar(value))
    return "(file only)";
  auto text = "`" + detail::env_name(path) + "`";
  for (const auto& alias : detail::env_aliases())
    if (alias.path == path)
      text += ", `" + std::string{alias.variable} + "`";
  return text;
}

std::string range_note(const detail::rule& valid, value_cref value) {
  if (std::holds_alternative<const uint32_t*>(value))
    return " Must be " + detail::range_text(detail::capped(valid, UINT32_MAX))
           + ".";
  if (std::holds_alternative<const uint64_t*>(value))
    return " Must be " + detail::range_text(detail::capped(valid, UINT64_MAX))
           + ".";
  if (std::holds_alternative<const double*>(value))
    return " Must be between " + detail::format_double(valid.real_min)
           + " and " + detail::format_double(valid.real_max) + ".";
  return {};
}

// Fields below auth.keys[] have no variables: keys come only from the file.
template <class Root>
void reference_rows(const std::vector<field<Root>>& table,
                    std::string_view prefix, std::string& out) {
  bool in_env = prefix.empty();
  for (const auto& f : table) {
    auto value = detail::default_of(f);
    auto path = std::string{prefix} + std::string{f.path};
    auto shown = std::holds_alternative<const double*>(value)
                   ? detail::format_double(*std::get<const double*>(value))
                   : json::serialize(value_of(value, false, false));
    out += "| `" + path + "` | " + env_column(path, value, in_env) + " | `"
           + shown + "` | "
           + std::string{f.doc} + range_note(f.valid, value) + " |\n";
  }
}

} // namespace

std::string reference_markdown() {
  std::string out = "| Option | Environment | Default | Meaning |\n"
                    "|---|---|---|---|\n";
  reference_rows(detail::option_fields(), "", out);
  reference_rows(detail::api_key_fields(), "auth.keys[].", out);
  return out;
}

std::string to_json(const options& opts, bool redact) {
  std::string out;
  pretty(object_of(detail::option_fields(), opts, redact), 0, out);
  out += "\n";
  return out;
}

} // namespace engram::config
