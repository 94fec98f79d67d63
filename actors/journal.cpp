#include "actors/journal.hpp"

#include <chrono>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/errors.hpp"
#include "runtime/metrics.hpp"
#include "storage/key_codec.hpp"
#include "storage/store.hpp"

namespace engram {

namespace {

struct pending_write {
  storage::mutation_list mutations;
  caf::typed_response_promise<commit_ack> promise;
};

struct journal_metrics {
  metrics::counter& writes;
  metrics::counter& batches;
  metrics::counter& failures;
  metrics::histogram& batch_size;
  metrics::histogram& sync_seconds;
  metrics::histogram& batch_bytes;

  explicit journal_metrics(metrics::registry& r)
    : writes(r.get_counter("engram_journal_writes_total",
                           "Writes acknowledged by the journal")),
      batches(r.get_counter("engram_journal_batches_total",
                            "WriteBatches committed by the journal")),
      failures(r.get_counter("engram_journal_failures_total",
                             "Batches whose commit failed")),
      batch_size(r.get_histogram("engram_journal_batch_writes",
                                 "Writes per committed batch", {},
                                 metrics::size_buckets())),
      sync_seconds(r.get_histogram("engram_journal_commit_seconds",
                                   "Time to write and sync one batch")),
      batch_bytes(r.get_histogram(
        "engram_journal_batch_bytes", "Bytes per committed batch", {},
        {256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304})) {}
};

struct journal_state {
  std::shared_ptr<storage::store> db;
  journal_options opts;
  std::unique_ptr<journal_metrics> m;
  std::vector<pending_write> pending;
  uint64_t last_seq = 0;    // last durable seq
  uint64_t window = 0;      // identifies the commit window a tick belongs to
  bool tick_scheduled = false;
  static inline const char* name = "engram.journal";
};

using journal_self = journal_actor::stateful_pointer<journal_state>;

// The last committed seq; 0 for a new store. A damaged value or a read
// error stops the node from starting rather than reusing sequence numbers.
caf::expected<uint64_t> load_last_seq(const storage::store& db) {
  auto v = db.get(storage::column::meta, journal_seq_key);
  if (!v)
    return code_of(v.error()) == ec::not_found ? caf::expected<uint64_t>{0}
                                               : v.error();
  auto seq = storage::key_reader{*v}.u64();
  if (!seq)
    return make_error(ec::storage_failure, "damaged journal_seq in meta");
  return *seq;
}

caf::error validate(const storage::mutation_list& ms) {
  if (ms.empty())
    return make_error(ec::invalid_argument, "empty write", "mutations");
  for (auto& m : ms)
    if (m.col >= storage::column_count || m.kind > storage::mutation::erase)
      return make_error(ec::invalid_argument, "bad mutation", "mutations");
  return caf::none;
}

// Commits every pending write as one batch: each write's mutations, plus the
// new last seq in meta so sequence numbers never repeat after a restart.
void commit(journal_self self) {
  auto& st = self->state;
  ++st.window; // any tick already scheduled now belongs to an old window
  st.tick_scheduled = false;
  if (st.pending.empty())
    return;
  auto batch = std::move(st.pending);
  st.pending.clear();
  storage::mutation_list all;
  std::size_t bytes = 0;
  for (auto& w : batch)
    for (auto& m : w.mutations) {
      bytes += m.key.size() + m.value.size();
      all.emplace_back(std::move(m));
    }
  auto first_seq = st.last_seq + 1;
  auto last_seq = st.last_seq + batch.size();
  all.emplace_back(storage::mutation::make_put(
    storage::column::meta, journal_seq_key,
    storage::key_builder{}.u64(last_seq).bytes()));
  auto t0 = std::chrono::steady_clock::now();
  auto err = st.db->write(all, st.opts.sync);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
  st.m->sync_seconds.observe(took.count());
  if (err) {
    st.m->failures.inc();
    spdlog::error("journal commit failed writes={} error=\"{}\"", batch.size(),
                  message_of(err));
    for (auto& w : batch)
      w.promise.deliver(err);
    return;
  }
  st.last_seq = last_seq;
  st.m->batches.inc();
  st.m->writes.inc(batch.size());
  st.m->batch_size.observe(static_cast<double>(batch.size()));
  st.m->batch_bytes.observe(static_cast<double>(bytes));
  auto n = static_cast<uint32_t>(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i)
    batch[i].promise.deliver(commit_ack{first_seq + i, n});
}

// Arranges for the pending batch to be committed: immediately when full,
// otherwise after the mailbox drains (a self-message queues behind every
// write that has already arrived) or after max_wait_us.
void schedule_commit(journal_self self) {
  auto& st = self->state;
  if (st.pending.size() >= st.opts.max_batch) {
    commit(self);
    return;
  }
  if (st.tick_scheduled)
    return;
  st.tick_scheduled = true;
  if (st.opts.max_wait_us == 0)
    self->send(self, commit_atom::value, st.window);
  else
    self->delayed_send(self, std::chrono::microseconds(st.opts.max_wait_us),
                       commit_atom::value, st.window);
}

journal_actor::behavior_type
journal(journal_self self, std::shared_ptr<storage::store> db,
        journal_options opts, metrics::registry* reg, uint64_t last_seq) {
  auto& st = self->state;
  st.db = std::move(db);
  st.opts = opts;
  st.m = std::make_unique<journal_metrics>(*reg);
  st.last_seq = last_seq;
  // Whatever is pending when the journal is told to stop is committed first,
  // so writers waiting for an ack get one instead of a timeout.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    commit(self);
    self->quit(msg.reason);
  });
  spdlog::info("journal started last_seq={} sync={} max_batch={} "
               "max_wait_us={}",
               st.last_seq, opts.sync, opts.max_batch, opts.max_wait_us);
  return {
    [self](append_atom, write_request& req) -> caf::result<commit_ack> {
      if (auto err = validate(req.mutations))
        return err;
      auto rp = self->make_response_promise<commit_ack>();
      self->state.pending.push_back({std::move(req.mutations), rp});
      schedule_commit(self);
      return rp;
    },
    [self](flush_atom) -> uint64_t {
      commit(self);
      return self->state.last_seq;
    },
    [self](commit_atom, uint64_t window) {
      if (window == self->state.window)
        commit(self);
    },
  };
}

} // namespace

caf::expected<journal_actor> spawn_journal(caf::actor_system& sys,
                                           std::shared_ptr<storage::store> db,
                                           const journal_options& opts,
                                           metrics::registry& metrics) {
  auto last_seq = load_last_seq(*db);
  if (!last_seq)
    return last_seq.error();
  return sys.spawn<caf::detached>(journal, std::move(db), opts, &metrics,
                                  *last_seq);
}

} // namespace engram
