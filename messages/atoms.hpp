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

/// LLM workers: the three language tasks.
using analyse_atom = caf::atom_constant<caf::atom("e_analyse")>;
using rewrite_atom = caf::atom_constant<caf::atom("e_rewrite")>;
using create_atom = caf::atom_constant<caf::atom("e_create")>;
/// Embedding actor: embed documents (batched) / a query (at once).
using embed_atom = caf::atom_constant<caf::atom("e_embed")>;
using query_atom = caf::atom_constant<caf::atom("e_query")>;
/// A delayed "try again now" for a task or timer-driven work.
using retry_atom = caf::atom_constant<caf::atom("e_retry")>;
/// A read that waited for min_seq has run out of time.
using timeout_atom = caf::atom_constant<caf::atom("e_timeout")>;
/// User actors: load state, pump queues (internal).
using pump_atom = caf::atom_constant<caf::atom("e_pump")>;
/// HTTP workers: make one blocking call to a model server.
using http_atom = caf::atom_constant<caf::atom("e_http")>;

/// Exports: write / read a file, append to / read the event log, deliver a
/// webhook, a nightly tick, a config change.
using write_atom = caf::atom_constant<caf::atom("e_write")>;
using read_atom = caf::atom_constant<caf::atom("e_read")>;
using log_atom = caf::atom_constant<caf::atom("e_log")>;
using notify_atom = caf::atom_constant<caf::atom("e_notify")>;
using nightly_atom = caf::atom_constant<caf::atom("e_nightly")>;
using config_atom = caf::atom_constant<caf::atom("e_config")>;

/// Cache shards: get, put, erase, invalidate by prefix.
using cget_atom = caf::atom_constant<caf::atom("e_cget")>;
using cput_atom = caf::atom_constant<caf::atom("e_cput")>;
using cerase_atom = caf::atom_constant<caf::atom("e_cerase")>;
using cinval_atom = caf::atom_constant<caf::atom("e_cinval")>;

} // namespace engram
