// Walks a JSON object against a field table: known paths are assigned,
// sections are descended into, anything else is an unknown option (with a
// suggestion when it looks like a typo).

#include <algorithm>
#include <numeric>

#include <boost/json.hpp>

#include "config/detail/values.hpp"

namespace engram::config::detail {

namespace json = boost::json;

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

size_t depth_of(std::string_view path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '.'));
}

// `path` cut to its first `depth + 1` segments ("http.listen", 0 -> "http").
std::string_view truncated(std::string_view path, size_t depth) {
  size_t dots = 0;
  for (size_t i = 0; i < path.size(); ++i)
    if (path[i] == '.' && dots++ == depth)
      return path.substr(0, i);
  return path;
}

std::string_view last_segment(std::string_view path) {
  auto dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// Two typos in a long name are a slip; in "foo" vs "log" they are not.
bool looks_like_typo(std::string_view typed, std::string_view known) {
  auto distance = edit_distance(typed, known);
  return distance <= 2 && distance * 3 <= known.size();
}

// A known path (or section) at the same depth that looks like a typo of it,
// or a field whose last segment matches (a key put in the wrong section).
template <class Root>
std::string suggestion(const std::vector<field<Root>>& table,
                       std::string_view path) {
  for (const auto& f : table) {
    auto same_depth = truncated(f.path, depth_of(path));
    if (looks_like_typo(path, same_depth))
      return std::string{same_depth};
  }
  for (const auto& f : table)
    if (last_segment(f.path) == last_segment(path))
      return std::string{f.path};
  return {};
}

template <class Root>
std::string unknown_option_text(const std::vector<field<Root>>& table,
                                std::string_view path) {
  auto hint = suggestion(table, path);
  if (hint.empty())
    return "unknown option";
  return "unknown option (did you mean " + hint + "?)";
}

template <class Root>
problem unknown_member(const std::vector<field<Root>>& table,
                       const std::string& path) {
  return {path, unknown_option_text(table, path)};
}

// Dotted or empty keys would alias real paths ("http.listen" at top level);
// the file must spell out the nesting.
bool plain_key(std::string_view key) {
  return !key.empty() && key.find_first_of(".[]") == std::string_view::npos;
}

template <class Root>
outcome apply_members(const std::vector<field<Root>>& table,
                      const json::object& obj, const std::string& prefix,
                      Root& root);

template <class Root>
outcome apply_member(const std::vector<field<Root>>& table,
                     const std::string& path, const json::value& value,
                     Root& root) {
  if (const auto* f = find_field(table, path)) {
    auto p = assign_json(f->access.ref(root), f->valid, value);
    if (p)
      p->where = join_path(path, p->where);
    return p;
  }
  if (!is_section(table, path))
    return unknown_member(table, path);
  if (!value.is_object())
    return problem{path, "must be an object, got " + describe(value)};
  return apply_members(table, value.get_object(), path, root);
}

template <class Root>
outcome apply_members(const std::vector<field<Root>>& table,
                      const json::object& obj, const std::string& prefix,
                      Root& root) {
  for (const auto& member : obj) {
    auto path = join_path(prefix, member.key());
    if (!plain_key(member.key()))
      return unknown_member(table, path);
    if (auto p = apply_member(table, path, member.value(), root))
      return p;
  }
  return std::nullopt;
}

} // namespace

std::string unknown_option(std::string_view path) {
  return unknown_option_text(option_fields(), path);
}

outcome apply_object(const json::object& obj, options& root) {
  return apply_members(option_fields(), obj, {}, root);
}

outcome apply_object(const json::object& obj, api_key_options& root) {
  return apply_members(api_key_fields(), obj, {}, root);
}

} // namespace engram::config::detail
