#pragma once
// Messages of the write path: what callers send the journal and what it
// answers once the write is durable.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

#include "storage/mutation.hpp"

namespace engram {

/// Sent with append_atom: records that must change together.
struct write_request {
  storage::mutation_list mutations;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_request& x) {
  return f(caf::meta::type_name("engram::write_request"), x.mutations);
}

/// The journal's answer once the write is in a synced WriteBatch.
struct commit_ack {
  // Journal sequence number of this write: strictly increasing node-wide,
  // persisted, so "everything up to seq N is durable" is meaningful.
  uint64_t seq = 0;
  // How many writes shared the batch (observability only).
  uint32_t batch_size = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_ack& x) {
  return f(caf::meta::type_name("engram::commit_ack"), x.seq, x.batch_size);
}

} // namespace engram
