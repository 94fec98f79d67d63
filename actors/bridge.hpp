#pragma once
// Connects the gateway's IO threads to the actor world without blocking
// them: the gateway anon_sends a call with a completion callback, the bridge
// turns it into an asynchronous request to the router (with a finite
// timeout) and runs the callback with the answer, on a CAF worker thread.
// The callback must only post the answer back to the connection.
//
//   (call_atom, bridge_call)   -> nothing; bridge_call::done runs once

#include <chrono>
#include <functional>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/router.hpp"

namespace engram {

struct bridge_call {
  api_call call;
  std::function<void(api_reply)> done; // local only, never crosses nodes
};

caf::actor spawn_bridge(caf::actor_system& sys, router_actor router,
                        std::chrono::milliseconds timeout);

} // namespace engram

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(engram::bridge_call)
