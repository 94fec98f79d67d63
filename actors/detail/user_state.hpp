#pragma once
// The state of one user actor and the functions that work on it, split by
// concern over actors/user_*.cpp. Everything here runs inside the user
// actor, one message at a time; nothing is shared with other actors.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/all.hpp>

#include "actors/user.hpp"
#include "storage/document_record.hpp"
#include "storage/documents.hpp"
#include "storage/entity_record.hpp"
#include "storage/mutation.hpp"
#include "storage/intent_record.hpp"
#include "storage/note_record.hpp"
#include "storage/task_record.hpp"
#include "storage/turn_record.hpp"
#include "storage/vector_index.hpp"
#include "runtime/api/export_input.hpp"

namespace engram::detail {

using storage::entity_record;
using storage::note_record;
using storage::task_record;
using storage::turn_record;

/// (session, entity id): one session note, one serial note-update queue.
using note_slot = std::pair<std::string, std::string>;

/// A task this actor is responsible for (pending, backing off or running).
struct active_task {
  task_record rec;
  // Journal seq of the write that (transitively) caused this task; 0 for
  // tasks recovered at start (older than anything a client holds).
  uint64_t origin = 0;
  bool running = false;
  bool backing_off = false;
};

/// A read parked until the user's work up to min_seq is done.
struct waiter {
  uint64_t min_seq = 0;
  api_call call;
  caf::typed_response_promise<api_reply> rp;
};

/// A document that needs (re-)embedding; a durable marker exists for it.
struct dirty_doc {
  uint64_t origin = 0;
  int64_t since_ms = 0;    // when it first needed embedding
  uint64_t generation = 0; // bumped whenever the doc is marked again
};

struct user_state {
  std::string user;
  user_context ctx;

  // Every entity of the user, including writes handed to the journal but
  // not yet acknowledged (a failed write reloads the entity from RocksDB).
  std::map<std::string, entity_record> entities;
  // Intents by id (few per user, loaded at start).
  std::map<std::string, storage::intent_record> intents;
  // Uploaded documents (metadata; chunk text stays on disk), and how many
  // chunks of each still wait for their vectors: at zero the document is
  // searchable and the document_upload export trigger fires.
  std::map<std::string, storage::document_record> documents;
  std::map<std::string, uint32_t> doc_unembedded;
  // The exports column holds this user's dirty key (changed since the last
  // export); the first change after an export puts it.
  bool export_dirty = false;
  bool known_stale = true;
  std::vector<providers::known_entity> known; // what the analyser is shown

  // Committed current notes, and which sessions each entity has notes in.
  std::map<note_slot, note_record> notes;
  std::map<std::string, std::set<std::string>> sessions_of;

  // Turns handed to the journal but not yet acknowledged (duplicate check),
  // with the resends that arrived meanwhile: they are answered only once
  // the original is durable.
  struct turn_in_write {
    turn_record turn;
    std::vector<caf::typed_response_promise<api_reply>> resends;
  };
  std::map<std::pair<std::string, int64_t>, turn_in_write> turns_in_write;
  // Turns with open tasks, by event id (mirror of their records).
  std::map<std::string, turn_record> open_turns;

  // Active tasks by id, and the queues of ready ones.
  std::map<std::string, active_task> tasks;
  std::map<std::string, std::map<int64_t, std::string>> analysis_q;
  std::set<std::string> analysis_busy;          // sessions
  std::map<note_slot, std::deque<std::string>> update_q;
  std::set<note_slot> update_busy;
  std::deque<std::string> creation_q;
  // Sessions / slots with queued work and nothing running, in FIFO order
  // (fair: a session that just finished queues behind the others).
  std::deque<std::string> ready_sessions;
  std::set<std::string> ready_session_set;
  std::deque<note_slot> ready_slots;
  std::set<note_slot> ready_slot_set;
  std::size_t running = 0;
  std::size_t next_queue = 0; // round-robin over the three queues

  // Documents to embed, those in the current embedding call, the index.
  std::map<std::string, dirty_doc> dirty;
  bool embed_busy = false;
  uint64_t next_generation = 0;
  std::optional<storage::vector_index> index;
  uint64_t vector_gen = 0;       // matches meta vector_generation_key(user)
  uint64_t saved_vector_gen = 0; // what the snapshot on disk covers

  // Read your writes: origins of unfinished work, parked reads.
  std::multiset<uint64_t> outstanding;
  uint64_t last_seq = 0;
  std::map<uint64_t, waiter> waiters;
  uint64_t next_waiter = 0;

  std::size_t inflight = 0; // journal writes not yet acknowledged
  // Write generation for cache keys: bumped when a write is handed to the
  // journal and again when it is acknowledged. Starts at a random value so
  // a restarted actor never meets keys of an earlier one.
  uint64_t cache_gen = std::random_device{}() * 0x100000000ull
                       + std::random_device{}();
  // Whether meta holds this user's "active" key (storage/active_users.hpp).
  bool active_marker = false;
  bool clearing_marker = false;
  uint64_t marker_epoch = 0; // batches that put the key
  std::size_t next_worker = 0;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "engram.user";
};

using user_self = user_actor::stateful_pointer<user_state>;
using reply_promise = caf::typed_response_promise<api_reply>;

// --- replies (user.cpp) ---------------------------------------------------
api_reply error_reply(const caf::error& err);
api_reply json_reply(uint16_t status, const boost::json::object& obj);
/// Marks an operation that answers its promise itself, later.
api_reply deferred();
const std::string* query_param(const api_call& call, const char* name);
int64_t now_ms();

// --- journal (user.cpp) ---------------------------------------------------
using ack_fn = std::function<void(uint64_t seq)>;
using fail_fn = std::function<void(const caf::error&)>;
/// Hands `m` to the journal as one atomic batch; exactly one of the
/// callbacks runs later, inside this actor.
void journal_write(user_self self, storage::mutation_list m, ack_fn on_ack,
                   fail_fn on_fail);

// --- watermark (user_tasks.cpp) ---------------------------------------------
void add_outstanding(user_self self, uint64_t origin);
void drop_outstanding(user_self self, uint64_t origin);
bool caught_up(user_self self, uint64_t min_seq);
/// Answers parked reads whose min_seq is now covered.
void wake_waiters(user_self self);

// --- tasks (user_tasks.cpp) -----------------------------------------------
storage::mutation put_task(user_self self, const task_record& t);
storage::mutation put_turn(user_self self, const turn_record& t);
/// Makes an acknowledged task active and queues it.
void activate(user_self self, task_record rec, uint64_t origin);
/// Puts the task in its queue (ready to run).
void enqueue(user_self self, const std::string& id);
/// The session's analysis / the slot's note update finished: the next
/// queued one may start.
void release_session(user_self self, const std::string& session);
void release_slot(user_self self, const note_slot& slot);
/// Starts as many ready tasks as the per-user limit allows.
void pump(user_self self);
/// The task finished (done or failed for good): forget it, update its turn
/// inside `m` (which the caller journals). Returns nothing; the caller
/// calls finish_tasks after the ack.
void close_task_in(user_self self, task_record& rec, storage::mutation_list& m);
/// After the ack of a batch that closed `ids`: stats, watermark, queues.
void finish_tasks(user_self self, const std::vector<std::string>& ids);
/// Marks the task running (attempts + 1) and counts it; returns it.
active_task& begin_attempt(user_self self, const std::string& id);
/// A task attempt failed: retry with back-off or fail for good.
void task_failed(user_self self, const std::string& id, const caf::error& err);
/// Undoes begin_attempt for a task that did not really run (it shared a
/// job with a task that failed) and puts it back at the front of its queue.
void requeue_front(user_self self, const std::string& id);
/// A back-off ended: the task goes back to the front of its queue.
void resume_task(user_self self, const std::string& id);
/// The timeout of a provider call (see user_context::providers_block).
caf::duration call_timeout(user_self self);
/// Round-robin pick of an LLM worker.
llm_worker_actor next_worker(user_self self);
api_reply get_turn(user_self self, const api_call& call);
api_reply list_tasks(user_self self, const api_call& call);
api_reply retry_task(user_self self, const api_call& call, reply_promise rp);
/// Loads active tasks, open turns and embedding markers at start.
caf::error recover_tasks(user_self self);

// --- turns and analysis (user_turns.cpp) ----------------------------------
api_reply post_turn(user_self self, const api_call& call, reply_promise rp);
void run_analysis(user_self self, const std::string& id);
const std::vector<providers::known_entity>& known_entities(user_self self);

// --- notes (user_notes.cpp) -----------------------------------------------
void run_note_updates(user_self self, const note_slot& slot);
api_reply list_notes(user_self self, const api_call& call);
api_reply get_note(user_self self, const api_call& call);
api_reply note_history(user_self self, const api_call& call);
api_reply restore_note(user_self self, const api_call& call, reply_promise rp);
api_reply get_composite(user_self self, const api_call& call);
/// Composite text of (session, entity) from this actor's current view.
std::string composite_of(user_self self, const std::string& session,
                         const std::string& entity_id);

// --- creation (user_creation.cpp) -----------------------------------------
void run_creation(user_self self, const std::string& id);

// --- intents (user_intents.cpp) --------------------------------------------
api_reply intent_op(user_self self, api_call& call, reply_promise rp);
caf::error load_intents(user_self self);

// --- documents (user_documents.cpp) ------------------------------------------
api_reply document_op(user_self self, api_call& call, reply_promise rp);
caf::error load_documents(user_self self);
/// After recovery: chunks of each document still waiting for vectors.
void count_unembedded(user_self self);
/// A memory chunk's vector is stored (or it was dropped).
void memory_embedded(user_self self, const storage::doc_ref& ref);
bool memory_alive(user_self self, const storage::doc_ref& ref);
/// The chunk's text (from RocksDB); empty when it is gone.
std::string memory_text(user_self self, const storage::doc_ref& ref);
/// A search hit for a memory chunk; nullopt when it is gone.
std::optional<boost::json::object>
memory_hit(user_self self, const storage::doc_ref& ref, float score);

// --- exports (user_exports.cpp) ---------------------------------------------
/// op "user.export_context": the context the exporter writes.
api_reply export_context(user_self self);
/// op "session.end": fires session_end; answers with the exporter's decision.
api_reply end_session(user_self self, const api_call& call, reply_promise rp);
/// Sends an export trigger to the user's exporter (fire and forget).
void send_export_trigger(user_self self, const api::trigger_fields& f);
/// A turn's changes are all applied: maybe a concept_change trigger.
void turn_applied(user_self self, const turn_record& turn);
/// Adds the dirty key to a batch that changes what an export shows.
void mark_export_dirty(user_self self, storage::mutation_list& m);
caf::error load_export_dirty(user_self self);

// --- entities (user_entities.cpp) -----------------------------------------
api_reply entity_op(user_self self, api_call& call, reply_promise rp);
caf::error load_entities(user_self self);
caf::error load_notes(user_self self);
/// Unique, readable id for a new entity titled `title`.
std::string new_entity_id(user_self self, const std::string& title);

// --- embedding, index and search (user_search.cpp) ------------------------
/// Adds the marker for `doc_key` to `m` and remembers to mark the doc dirty
/// after the ack (call mark_dirty then).
storage::mutation put_marker(user_self self, const std::string& doc_key);
void mark_dirty(user_self self, const std::string& doc_key, uint64_t origin);
/// Forgets a doc (entity deleted): marker, vector and index entry go in `m`.
void drop_doc_in(user_self self, const std::string& doc_key,
                 storage::mutation_list& m);
void after_drop_docs(user_self self, const std::vector<std::string>& docs);
/// Starts an embedding call if documents are waiting and none is running.
void flush_embeddings(user_self self);
caf::error load_index(user_self self);
void save_index(user_self self);
api_reply search(user_self self, const api_call& call, reply_promise rp);

} // namespace engram::detail
