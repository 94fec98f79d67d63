#pragma once
// engram's own atoms (CAF 0.17: at most 10 characters, only [0-9A-Za-z_ ]).
// Our own names keep our handlers from matching CAF-internal traffic.

#include <caf/atom.hpp>

namespace engram {

/// Journal: append a batch of mutations (replied with commit_ack).
using append_atom = caf::atom_constant<caf::atom("e_append")>;
/// Journal: commit whatever is pending now.
using flush_atom = caf::atom_constant<caf::atom("e_flush")>;
/// Journal: an internal "the commit window ended" tick.
using commit_atom = caf::atom_constant<caf::atom("e_commit")>;
/// Router / user actors: an API call envelope.
using call_atom = caf::atom_constant<caf::atom("e_call")>;
/// Ask an actor for its status/stats.
using status_atom = caf::atom_constant<caf::atom("e_status")>;
/// Idle check for passivating per-user actors.
using idle_atom = caf::atom_constant<caf::atom("e_idle")>;

} // namespace engram
