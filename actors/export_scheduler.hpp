#pragma once
// The node's export schedule, one actor per node:
// - at start, wakes the exporters whose stored state has a trailing export
//   scheduled (no timer survives a restart; the exporter re-arms or runs it);
// - every day at nightly_at (UTC) sends a nightly trigger to every user
//   whose dirty key says they changed since their last export (the users'
//   exporters decide by mode; nightly mode or hybrid export);
// - applies PUT /v1/exports/config: validates, stores the change (meta
//   column, synced) and only then makes it live and re-arms the schedule.
//
//   (config_atom, bridge_call)    answer via bridge_call::done
//   (nightly_atom, generation)    internal: the nightly timer

#include <memory>

#include <caf/typed_actor.hpp>

#include "actors/bridge.hpp"
#include "actors/journal.hpp"
#include "actors/router.hpp"

namespace engram {

namespace exports {
class export_settings;
}

using export_scheduler_actor =
  caf::typed_actor<caf::reacts_to<config_atom, bridge_call>,
                   caf::reacts_to<nightly_atom, uint64_t>>;

export_scheduler_actor
spawn_export_scheduler(caf::actor_system& sys,
                       std::shared_ptr<storage::store> db,
                       journal_actor journal, router_actor router,
                       std::shared_ptr<exports::export_settings> settings);

/// Applies the change stored by an earlier PUT /v1/exports/config to
/// `settings` (at start, before any exporter runs). A damaged record is
/// an error naming it.
caf::error load_export_config(const storage::store& db,
                              exports::export_settings& settings);

} // namespace engram
