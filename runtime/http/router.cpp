#include "runtime/http/router.hpp"

#include <algorithm>

#include "messages/errors.hpp"

namespace engram::http {

namespace {

// "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""}. Keeping empty
// segments makes a trailing slash a different path instead of an alias, so
// "/v1/node/" is a 404 rather than silently served.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/')
    return out;
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos)
      return out;
    path.remove_prefix(slash + 1);
  }
}

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{'
         && segment.back() == '}';
}

std::string_view param_name(std::string_view segment) {
  return segment.substr(1, segment.size() - 2);
}

bool is_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
         || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':'
         || c == '-';
}

// Number of literal segments: the more, the more specific the pattern.
size_t literal_count(const std::vector<std::string>& segments) {
  return static_cast<size_t>(
    std::count_if(segments.begin(), segments.end(),
                  [](const std::string& s) { return !is_param(s); }));
}

} // namespace

bool is_valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 128
         && std::all_of(id.begin(), id.end(), is_id_char);
}

void router::add(std::string method, std::string pattern, route_handler h) {
  std::vector<std::string> segments;
  for (auto s : split_path(pattern))
    segments.emplace_back(s);
  routes_.push_back(route{std::move(method), std::move(pattern),
                          std::move(segments), std::move(h)});
}

namespace {

// True when `segments` (a pattern) matches `path`: same length, literals
// equal, each parameter a non-empty segment.
bool matches(const std::vector<std::string>& segments,
             const std::vector<std::string_view>& path) {
  if (segments.size() != path.size())
    return false;
  for (size_t i = 0; i < path.size(); ++i) {
    if (is_param(segments[i]) ? path[i].empty() : segments[i] != path[i])
      return false;
  }
  return true;
}

// Collects parameters; the first invalid one turns the match into a 422.
void bind_params(const std::vector<std::string>& segments,
                 const std::vector<std::string_view>& path, route_match& m) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (!is_param(segments[i]))
      continue;
    std::string name{param_name(segments[i])};
    if (!is_valid_id(path[i])) {
      m.err = make_error(ec::invalid_argument,
                         "path parameter '" + name
                           + "' must match [A-Za-z0-9_.:-]{1,128}",
                         "path." + name);
      m.params.clear();
      return;
    }
    m.params.emplace(std::move(name), std::string{path[i]});
  }
}

void append_allowed(std::string& allow, const std::string& method) {
  // Several patterns may match with the same method; list each method once.
  std::string_view rest = allow;
  while (!rest.empty()) {
    auto comma = rest.find(", ");
    if (rest.substr(0, comma) == method)
      return;
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 2);
  }
  if (!allow.empty())
    allow += ", ";
  allow += method;
}

} // namespace

route_match router::match(std::string_view method,
                          std::string_view path) const {
  auto segs = split_path(path);
  const route* best = nullptr;      // most specific with this method
  const route* best_any = nullptr;  // most specific with any method
  std::string allow;
  auto more_specific = [](const route* candidate, const route* current) {
    // Ties keep the earlier registration.
    return !current
           || literal_count(candidate->segments)
                > literal_count(current->segments);
  };
  for (const auto& r : routes_) {
    if (!matches(r.segments, segs))
      continue;
    append_allowed(allow, r.method);
    if (more_specific(&r, best_any))
      best_any = &r;
    if (r.method == method && more_specific(&r, best))
      best = &r;
  }
  route_match m;
  if (!best_any) {
    m.err = make_error(ec::not_found, "no route for " + std::string{method}
                                        + ' ' + std::string{path});
    return m;
  }
  if (!best) {
    m.pattern = best_any->pattern;
    m.allow = std::move(allow);
    m.err = make_error(ec::method_not_allowed,
                       "method " + std::string{method} + " not allowed for "
                         + std::string{path} + " (allowed: " + m.allow + ")");
    return m;
  }
  m.pattern = best->pattern;
  bind_params(best->segments, segs, m);
  if (!m.err)
    m.handler = &best->handler;
  return m;
}

} // namespace engram::http
