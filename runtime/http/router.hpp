#pragma once
// Maps (method, path) to a handler. Patterns are literal segments and
// `{name}` parameters ("/v1/users/{user}/entities/{id}"); a parameter matches
// one non-empty segment. Parameter values must be valid ids
// ([A-Za-z0-9_.:-]{1,128}); otherwise the match fails with 422 naming it.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

#include "runtime/http/message.hpp"

namespace engram::http {

using path_params = std::map<std::string, std::string>;

/// A routed handler gets the request, its path parameters and the responder.
using route_handler = std::function<void(request, path_params, responder)>;

struct route_match {
  const route_handler* handler = nullptr; // null when err is set
  path_params params;
  std::string pattern; // matched pattern, the metrics label for the route
  // ec::not_found (no such path), ec::method_not_allowed (path exists;
  // `allow` lists methods), ec::invalid_argument (bad id parameter).
  caf::error err;
  std::string allow;
};

/// True when `id` matches [A-Za-z0-9_.:-]{1,128}.
bool is_valid_id(std::string_view id);

class router {
public:
  void add(std::string method, std::string pattern, route_handler h);
  route_match match(std::string_view method, std::string_view path) const;

private:
  struct route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    route_handler handler;
  };
  std::vector<route> routes_;
};

} // namespace engram::http
