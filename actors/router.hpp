#pragma once
// Maps a user id to that user's actor, spawning it on first use and
// passivating it after `user_idle` without calls. Passivation is a
// handshake (the user actor agrees only when nothing is in flight) and calls
// that arrive meanwhile wait in the router, so a user never has two actors
// at once. Later, the cluster layer decides here whether the user is local.
//
// Each user has up to two actors with the same interface: the user actor
// (every operation) and the exporter (operations "export.*",
// actors/exporter.hpp). Both get the router's handle, to reach each other.
//
//   (call_atom, api_call) -> api_reply    answered by the user's actor
//   (status_atom)         -> uint64_t     number of live user actors
//   (idle_atom)                           internal sweep tick

#include <chrono>

#include <caf/typed_actor.hpp>

#include "actors/exporter.hpp"
#include "actors/user.hpp"

namespace engram {

using router_actor = caf::typed_actor<
  caf::replies_to<call_atom, api_call>::with<api_reply>,
  caf::replies_to<status_atom>::with<uint64_t>, // live user actors
  caf::reacts_to<idle_atom>>;

namespace metrics {
class gauge;
}

struct router_options {
  // A user actor without calls for this long is passivated.
  std::chrono::milliseconds user_idle{60000};
  // An exporter without calls for this long is passivated (only when it has
  // nothing scheduled: its state is in RocksDB, so an idle user's exporter
  // costs no memory). Short: exporters are cheap to start again.
  std::chrono::milliseconds exporter_idle{2000};
  // Live actor counts, refreshed by each sweep (may be null).
  metrics::gauge* live_users = nullptr;
  metrics::gauge* live_exporters = nullptr;
};

/// Without exporter writers (`ectx.writers` empty) export operations are
/// answered 503.
router_actor spawn_router(caf::actor_system& sys, user_context ctx,
                          export_context ectx, router_options opts);

} // namespace engram
