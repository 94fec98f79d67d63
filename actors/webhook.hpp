#pragma once
// Delivers export notifications to the configured webhook URL, off the
// exporters' path: an exporter sends and forgets; this detached actor POSTs
// (signed, see runtime/exports/webhook_signature.hpp), retries failures
// with exponential back-off (timers, not sleeps) and counts the results.
// Deliveries are at most `max_queue` at once; more are dropped (counted as
// failed and logged): a webhook that is down must never hold exports or
// memory.
//
//   (notify_atom, body)          queue one delivery (a JSON object)
//   (retry_atom, uint64_t id)    internal: a back-off ended

#include <memory>
#include <string>

#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"

namespace engram {

namespace exports {
class node_export_stats;
}

using webhook_actor = caf::typed_actor<caf::reacts_to<notify_atom, std::string>,
                                       caf::reacts_to<retry_atom, uint64_t>>;

struct webhook_options {
  std::string url;
  std::string secret; // empty: unsigned
  uint32_t timeout_ms = 5000;
  uint32_t max_retries = 5;
  uint32_t base_delay_ms = 500;
  uint32_t max_delay_ms = 60000;
  std::size_t max_queue = 10000;
};

webhook_actor spawn_webhook(caf::actor_system& sys, webhook_options opts,
                            std::shared_ptr<exports::node_export_stats> stats);

} // namespace engram
