#pragma once
// Messages between the model-provider actors (llm_client -> http_worker).
// They stay on one node, but like every message type they are inspectable
// and registered, so a type that is not cannot slip in unnoticed.

#include <caf/meta/type_name.hpp>

#include "runtime/providers/curl_client.hpp"

namespace engram::providers {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_call& x) {
  return f(caf::meta::type_name("engram::http_call"), x.url, x.headers, x.body,
           x.timeout_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_result& x) {
  return f(caf::meta::type_name("engram::http_result"), x.status, x.body,
           x.retry_after, x.error, x.timed_out, x.seconds);
}

} // namespace engram::providers
