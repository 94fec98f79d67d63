#pragma once
// One actor per user, spawned on demand by the router and passivated when
// idle. It owns the user's write ordering: read-modify-write operations on
// the user's records are decided here, one message at a time, and handed to
// the journal; the reply goes out only once the journal has made the change
// durable.
//
//   (call_atom, api_call) -> api_reply   any /v1/users/{user}/... operation
//   (idle_atom)           -> bool        true: nothing in flight, quitting

#include <memory>
#include <string>

#include <caf/typed_actor.hpp>

#include "actors/journal.hpp"
#include "messages/api_messages.hpp"
#include "messages/atoms.hpp"

namespace engram {

using user_actor = caf::typed_actor<
  caf::replies_to<call_atom, api_call>::with<api_reply>,
  caf::replies_to<idle_atom>::with<bool>>;

/// What every user actor shares: the store for reads and the journal for
/// writes.
struct user_context {
  std::shared_ptr<storage::store> db;
  journal_actor journal;
  // How long a write may wait for the journal before the call fails.
  std::chrono::milliseconds write_timeout{10000};
};

user_actor spawn_user(caf::actor_system& sys, std::string user,
                      user_context ctx);

} // namespace engram
