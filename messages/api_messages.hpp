#pragma once
// The envelope in which the gateway hands an API operation to the router and
// on to a user actor, and the answer that comes back. Plain data, so that the
// same call can later be forwarded to the node that owns the user and the
// client gets exactly the same status and body.

#include <cstdint>
#include <map>
#include <string>

#include <caf/meta/type_name.hpp>

namespace engram {

struct api_call {
  std::string user;        // the {user} path parameter
  std::string op;          // operation name, e.g. "entity.create"
  std::map<std::string, std::string> params; // other path parameters
  std::map<std::string, std::string> query;  // decoded query parameters
  std::string body;        // request body (JSON text, may be empty)
  std::string request_id;  // correlation id for logs
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, api_call& x) {
  return f(caf::meta::type_name("engram::api_call"), x.user, x.op, x.params,
           x.query, x.body, x.request_id);
}

struct api_reply {
  uint16_t status = 200;
  std::string body; // JSON text
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, api_reply& x) {
  return f(caf::meta::type_name("engram::api_reply"), x.status, x.body);
}

} // namespace engram
