// The durable task queues of one user: activation after the journal ack,
// per-session / per-note ordering, the running limit, retries with back-off,
// the read-your-writes watermark, recovery at start and the task API.

#include <algorithm>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/api/session_input.hpp"
#include "runtime/ids.hpp"
#include "runtime/queue_stats.hpp"
#include "storage/documents.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

queue_kind kind_of(storage::task_queue q) {
  switch (q) {
    case storage::task_queue::analysis:
      return queue_kind::analysis;
    case storage::task_queue::note_update:
      return queue_kind::note_update;
    case storage::task_queue::entity_creation:
      return queue_kind::entity_creation;
  }
  return queue_kind::analysis;
}

void mark_ready_session(user_self self, const std::string& s) {
  auto& st = self->state;
  auto q = st.analysis_q.find(s);
  if (q == st.analysis_q.end() || q->second.empty() || st.analysis_busy.count(s)
      || !st.ready_session_set.insert(s).second)
    return;
  st.ready_sessions.push_back(s);
}

void mark_ready_slot(user_self self, const note_slot& slot) {
  auto& st = self->state;
  auto q = st.update_q.find(slot);
  if (q == st.update_q.end() || q->second.empty() || st.update_busy.count(slot)
      || !st.ready_slot_set.insert(slot).second)
    return;
  st.ready_slots.push_back(slot);
}

// The session or note slot a task blocks while it runs or backs off.
void release(user_self self, const task_record& rec) {
  if (rec.queue == storage::task_queue::analysis)
    release_session(self, rec.session);
  else if (rec.queue == storage::task_queue::note_update)
    release_slot(self, {rec.session, rec.entity_id});
}

caf::expected<task_record> read_task(user_self self,
                                     const std::string& session,
                                     const std::string& id) {
  auto& st = self->state;
  auto raw = st.ctx.db->get(storage::column::tasks,
                            storage::task_key(st.user, session, id));
  if (!raw)
    return raw.error();
  return storage::task_from_json(*raw);
}

// The task as the API shows it: active tasks from memory (in_flight is
// never written to disk), others from RocksDB.
boost::json::object task_view(user_self self, const task_record& stored) {
  auto& st = self->state;
  if (auto it = st.tasks.find(stored.id); it != st.tasks.end()) {
    auto rec = it->second.rec;
    rec.status = it->second.running ? storage::task_status::in_flight
                                    : storage::task_status::pending;
    return to_json(rec);
  }
  return to_json(stored);
}

caf::expected<turn_record> read_turn(user_self self,
                                     const std::string& session,
                                     int64_t turn) {
  auto& st = self->state;
  auto raw = st.ctx.db->get(storage::column::turns,
                            storage::turn_key(st.user, session, turn));
  if (!raw) {
    if (code_of(raw.error()) == ec::not_found)
      return make_error(ec::not_found,
                        "turn " + std::to_string(turn) + " of session "
                          + session + " not found",
                        "turn");
    return raw.error();
  }
  auto t = storage::turn_from_json(*raw);
  if (!t)
    return t.error();
  // A decided but not yet acknowledged change is newer than the disk.
  if (auto it = st.open_turns.find(t->event_id); it != st.open_turns.end())
    return it->second;
  return t;
}

} // namespace

// --- watermark ---------------------------------------------------------------

void add_outstanding(user_self self, uint64_t origin) {
  self->state.outstanding.insert(origin);
}

void drop_outstanding(user_self self, uint64_t origin) {
  auto& out = self->state.outstanding;
  if (auto it = out.find(origin); it != out.end())
    out.erase(it);
}

bool caught_up(user_self self, uint64_t min_seq) {
  auto& out = self->state.outstanding;
  return out.empty() || *out.begin() > min_seq;
}

// --- records -----------------------------------------------------------------

storage::mutation put_task(user_self self, const task_record& t) {
  return storage::mutation::make_put(
    storage::column::tasks,
    storage::task_key(self->state.user, t.session, t.id),
    boost::json::serialize(to_json(t)));
}

storage::mutation put_turn(user_self self, const turn_record& t) {
  return storage::mutation::make_put(
    storage::column::turns,
    storage::turn_key(self->state.user, t.session, t.turn),
    boost::json::serialize(to_json(t)));
}

// --- queues ------------------------------------------------------------------

void activate(user_self self, task_record rec, uint64_t origin) {
  auto& st = self->state;
  auto id = rec.id;
  st.ctx.stats->pending_added(kind_of(rec.queue), rec.created_ms);
  add_outstanding(self, origin);
  st.tasks[id] = active_task{std::move(rec), origin, false, false};
  enqueue(self, id);
}

void enqueue(user_self self, const std::string& id) {
  auto& st = self->state;
  auto& rec = st.tasks.at(id).rec;
  switch (rec.queue) {
    case storage::task_queue::analysis:
      st.analysis_q[rec.session][rec.turn] = id;
      mark_ready_session(self, rec.session);
      break;
    case storage::task_queue::note_update:
      st.update_q[{rec.session, rec.entity_id}].push_back(id);
      mark_ready_slot(self, {rec.session, rec.entity_id});
      break;
    case storage::task_queue::entity_creation:
      st.creation_q.push_back(id);
      break;
  }
}

void resume_task(user_self self, const std::string& id) {
  auto& st = self->state;
  auto it = st.tasks.find(id);
  if (it == st.tasks.end() || !it->second.backing_off)
    return;
  it->second.backing_off = false;
  auto& rec = it->second.rec;
  // A retried task goes first: later tasks of its session or note wait.
  if (rec.queue == storage::task_queue::analysis)
    st.analysis_q[rec.session][rec.turn] = id;
  else if (rec.queue == storage::task_queue::note_update)
    st.update_q[{rec.session, rec.entity_id}].push_front(id);
  else
    st.creation_q.push_front(id);
  release(self, rec);
}

void release_session(user_self self, const std::string& session) {
  self->state.analysis_busy.erase(session);
  mark_ready_session(self, session);
}

void release_slot(user_self self, const note_slot& slot) {
  self->state.update_busy.erase(slot);
  mark_ready_slot(self, slot);
}

namespace {

// Starts the next ready analysis; false when none is ready.
bool start_analysis(user_self self) {
  auto& st = self->state;
  while (!st.ready_sessions.empty()) {
    auto s = std::move(st.ready_sessions.front());
    st.ready_sessions.pop_front();
    st.ready_session_set.erase(s);
    auto q = st.analysis_q.find(s);
    if (q == st.analysis_q.end() || q->second.empty()
        || st.analysis_busy.count(s))
      continue;
    auto id = q->second.begin()->second;
    q->second.erase(q->second.begin());
    if (q->second.empty())
      st.analysis_q.erase(q);
    st.analysis_busy.insert(s);
    run_analysis(self, id);
    return true;
  }
  return false;
}

bool start_note_update(user_self self) {
  auto& st = self->state;
  while (!st.ready_slots.empty()) {
    auto slot = std::move(st.ready_slots.front());
    st.ready_slots.pop_front();
    st.ready_slot_set.erase(slot);
    auto q = st.update_q.find(slot);
    if (q == st.update_q.end() || q->second.empty()
        || st.update_busy.count(slot))
      continue;
    st.update_busy.insert(slot);
    run_note_updates(self, slot);
    return true;
  }
  return false;
}

bool start_creation(user_self self) {
  auto& st = self->state;
  if (st.creation_q.empty())
    return false;
  auto id = st.creation_q.front();
  st.creation_q.pop_front();
  run_creation(self, id);
  return true;
}

} // namespace

// The three queues take turns for the free running places, so a flood of
// turns cannot starve the note updates their analyses created (or the
// other way round).
void pump(user_self self) {
  auto& st = self->state;
  auto limit = std::max<std::size_t>(1, st.ctx.pipeline.max_running_per_user);
  using starter = bool (*)(user_self);
  static constexpr starter starters[] = {start_note_update, start_creation,
                                         start_analysis};
  constexpr std::size_t n = sizeof(starters) / sizeof(starters[0]);
  std::size_t idle_in_a_row = 0;
  while (st.running < limit && idle_in_a_row < n) {
    auto which = st.next_queue++ % n;
    if (starters[which](self))
      idle_in_a_row = 0;
    else
      ++idle_in_a_row;
  }
}

caf::duration call_timeout(user_self self) {
  auto& ctx = self->state.ctx;
  if (!ctx.providers_block)
    return caf::infinite;
  return caf::duration{ctx.task_timeout};
}

llm_worker_actor next_worker(user_self self) {
  auto& st = self->state;
  return st.ctx.workers[st.next_worker++ % st.ctx.workers.size()];
}

active_task& begin_attempt(user_self self, const std::string& id) {
  auto& st = self->state;
  auto& t = st.tasks.at(id);
  t.running = true;
  ++t.rec.attempts;
  ++st.running;
  auto kind = kind_of(t.rec.queue);
  st.ctx.stats->pending_removed(kind, t.rec.created_ms);
  st.ctx.stats->started(kind);
  return t;
}

namespace {

void end_attempt(user_self self, active_task& t) {
  auto& st = self->state;
  if (!t.running)
    return;
  t.running = false;
  --st.running;
  st.ctx.stats->stopped(kind_of(t.rec.queue));
}

} // namespace

void requeue_front(user_self self, const std::string& id) {
  auto& st = self->state;
  auto it = st.tasks.find(id);
  if (it == st.tasks.end())
    return;
  auto& t = it->second;
  end_attempt(self, t);
  if (t.rec.attempts > 0)
    --t.rec.attempts;
  st.ctx.stats->pending_added(kind_of(t.rec.queue), t.rec.created_ms);
  if (t.rec.queue == storage::task_queue::note_update) {
    st.update_q[{t.rec.session, t.rec.entity_id}].push_front(id);
    mark_ready_slot(self, {t.rec.session, t.rec.entity_id});
  } else {
    enqueue(self, id);
  }
}

void close_task_in(user_self self, task_record& rec,
                   storage::mutation_list& m) {
  auto& st = self->state;
  rec.updated_ms = now_ms();
  m.push_back(put_task(self, rec));
  auto it = st.open_turns.find(rec.event_id);
  if (it == st.open_turns.end())
    return;
  auto& turn = it->second;
  if (rec.status == storage::task_status::done) {
    if (turn.open_tasks > 0)
      --turn.open_tasks;
    if (turn.open_tasks == 0 && turn.status == storage::turn_status::analysed)
      turn.status = storage::turn_status::applied;
  } else {
    turn.status = storage::turn_status::failed;
  }
  turn.updated_at = iso8601_ms(rec.updated_ms);
  m.push_back(put_turn(self, turn));
}

void finish_tasks(user_self self, const std::vector<std::string>& ids) {
  auto& st = self->state;
  auto now = now_ms();
  for (auto& id : ids) {
    auto it = st.tasks.find(id);
    if (it == st.tasks.end())
      continue;
    auto& t = it->second;
    end_attempt(self, t);
    auto kind = kind_of(t.rec.queue);
    if (t.rec.status == storage::task_status::done)
      st.ctx.stats->done(kind, double(now - t.rec.created_ms));
    else
      st.ctx.stats->failed(kind);
    auto event = t.rec.event_id;
    drop_outstanding(self, t.origin);
    st.tasks.erase(it);
    // A failed turn stays while siblings run: they still update its record.
    auto turn = st.open_turns.find(event);
    if (turn == st.open_turns.end())
      continue;
    auto status = turn->second.status;
    auto sibling = [&](auto& kv) { return kv.second.rec.event_id == event; };
    if (status == storage::turn_status::applied)
      turn_applied(self, turn->second);
    if (status == storage::turn_status::applied
        || (status == storage::turn_status::failed
            && std::none_of(st.tasks.begin(), st.tasks.end(), sibling)))
      st.open_turns.erase(turn);
  }
  wake_waiters(self);
}

void task_failed(user_self self, const std::string& id,
                 const caf::error& err) {
  auto& st = self->state;
  auto it = st.tasks.find(id);
  if (it == st.tasks.end())
    return;
  auto& t = it->second;
  end_attempt(self, t);
  t.rec.last_error = message_of(err);
  t.rec.updated_ms = now_ms();
  auto kind = kind_of(t.rec.queue);
  spdlog::warn("event=task_attempt_failed user={} task={} queue={} "
               "attempt={} error=\"{}\"",
               st.user, id, to_string(t.rec.queue), t.rec.attempts,
               t.rec.last_error);
  if (t.rec.attempts >= st.ctx.pipeline.max_attempts) {
    t.rec.status = storage::task_status::failed;
    storage::mutation_list m;
    close_task_in(self, t.rec, m);
    release(self, t.rec);
    journal_write(
      self, std::move(m),
      [self, id](uint64_t) {
        finish_tasks(self, {id});
        pump(self);
      },
      [self, id](const caf::error&) {
        finish_tasks(self, {id});
        pump(self);
      });
    return;
  }
  t.rec.status = storage::task_status::pending;
  t.backing_off = true;
  st.ctx.stats->retried(kind);
  st.ctx.stats->pending_added(kind, t.rec.created_ms);
  journal_write(self, {put_task(self, t.rec)}, [](uint64_t) {},
                [](const caf::error&) {});
  std::uniform_real_distribution<double> jitter{0.0, 1.0};
  auto delay = storage::retry_delay(
    t.rec.attempts, std::chrono::milliseconds(st.ctx.pipeline.retry_base_ms),
    std::chrono::milliseconds(st.ctx.pipeline.retry_max_ms), jitter(st.rng));
  self->delayed_send(self, delay, retry_atom::value, id);
}

// --- recovery ----------------------------------------------------------------

caf::error recover_tasks(user_self self) {
  auto& st = self->state;
  std::vector<task_record> found;
  caf::error bad;
  auto err = st.ctx.db->scan(
    storage::column::tasks, storage::task_user_prefix(st.user), {},
    [&](std::string_view, std::string_view value) {
      auto t = storage::task_from_json(value);
      if (!t) {
        bad = t.error();
        return false;
      }
      if (t->status == storage::task_status::pending
          || t->status == storage::task_status::in_flight)
        found.push_back(std::move(*t));
      return true;
    });
  if (err || bad)
    return err ? err : bad;
  // Note updates of one slot must run in turn order.
  std::stable_sort(found.begin(), found.end(),
                   [](const task_record& a, const task_record& b) {
                     return std::tie(a.turn, a.id) < std::tie(b.turn, b.id);
                   });
  for (auto& t : found) {
    if (!st.open_turns.count(t.event_id)) {
      auto raw = st.ctx.db->get(storage::column::turns,
                                storage::turn_key(st.user, t.session, t.turn));
      if (raw)
        if (auto turn = storage::turn_from_json(*raw))
          st.open_turns.emplace(t.event_id, std::move(*turn));
    }
    t.status = storage::task_status::pending;
    activate(self, std::move(t), 0);
  }
  auto now = now_ms();
  err = st.ctx.db->scan(
    storage::column::tasks, storage::embed_marker_prefix(st.user), {},
    [&](std::string_view key, std::string_view) {
      if (auto doc = storage::doc_key_of_marker(st.user, key)) {
        st.dirty[*doc] = dirty_doc{0, now, ++st.next_generation};
        add_outstanding(self, 0);
        st.ctx.stats->pending_added(queue_kind::embedding, now);
      }
      return true;
    });
  return err;
}

// --- API ---------------------------------------------------------------------

api_reply get_turn(user_self self, const api_call& call) {
  auto& session = call.params.at("session");
  auto n = api::parse_turn_param(call.params.at("turn"));
  if (!n)
    return error_reply(n.error());
  auto turn = read_turn(self, session, *n);
  if (!turn)
    return error_reply(turn.error());
  auto obj = to_json(*turn);
  boost::json::array tasks;
  for (auto& id : turn->task_ids) {
    if (auto it = self->state.tasks.find(id); it != self->state.tasks.end()) {
      tasks.emplace_back(task_view(self, it->second.rec));
      continue;
    }
    auto t = read_task(self, session, id);
    if (!t)
      return error_reply(t.error());
    tasks.emplace_back(task_view(self, *t));
  }
  obj["tasks"] = std::move(tasks);
  obj.erase("task_ids");
  return json_reply(200, obj);
}

api_reply list_tasks(user_self self, const api_call& call) {
  auto& st = self->state;
  auto& session = call.params.at("session");
  std::optional<storage::task_queue> queue;
  std::optional<storage::task_status> status;
  if (auto q = query_param(call, "queue")) {
    queue = storage::task_queue_from(*q);
    if (!queue)
      return error_reply(make_error(
        ec::invalid_argument,
        "query.queue: must be analysis, note_update or entity_creation",
        "query.queue"));
  }
  if (auto s = query_param(call, "status")) {
    status = storage::task_status_from(*s);
    if (!status)
      return error_reply(make_error(
        ec::invalid_argument,
        "query.status: must be pending, in_flight, done or failed",
        "query.status"));
  }
  auto limit = api::query_uint(query_param(call, "limit"), "limit", 1, 10000,
                               1000);
  if (!limit)
    return error_reply(limit.error());
  boost::json::array items;
  caf::error bad;
  auto err = st.ctx.db->scan(
    storage::column::tasks, storage::task_session_prefix(st.user, session),
    {}, [&](std::string_view, std::string_view value) {
      auto t = storage::task_from_json(value);
      if (!t) {
        bad = t.error();
        return false;
      }
      auto view = task_view(self, *t);
      if (queue && t->queue != *queue)
        return true;
      if (status && view.at("status").as_string() != to_string(*status))
        return true;
      items.emplace_back(std::move(view));
      return items.size() < *limit;
    });
  if (err || bad)
    return error_reply(err ? err : bad);
  return json_reply(200, {{"items", std::move(items)}});
}

api_reply retry_task(user_self self, const api_call& call, reply_promise rp) {
  auto& st = self->state;
  auto& id = call.params.at("task_id");
  auto& session = call.params.at("session");
  if (st.tasks.count(id))
    return error_reply(make_error(ec::conflict, "task " + id
                                  + " is not failed (it is pending)", "task_id"));
  auto t = read_task(self, session, id);
  if (!t) {
    if (code_of(t.error()) == ec::not_found)
      return error_reply(make_error(ec::not_found, "task " + id + " not found",
                                    "task_id"));
    return error_reply(t.error());
  }
  auto next = storage::next_status(t->status, storage::task_event::retry);
  if (!next)
    return error_reply(make_error(ec::conflict, "task " + id + " is not failed"
                                  " (it is " + std::string{to_string(t->status)}
                                  + ")", "task_id"));
  auto turn = read_turn(self, session, t->turn);
  if (!turn)
    return error_reply(turn.error());
  t->status = *next;
  t->attempts = 0;
  t->last_error.clear();
  t->updated_ms = now_ms();
  if (turn->status == storage::turn_status::failed)
    turn->status = storage::turn_status::analysed;
  storage::mutation_list m{put_task(self, *t), put_turn(self, *turn)};
  st.open_turns[turn->event_id] = *turn;
  journal_write(
    self, std::move(m),
    [self, rec = *t, rp](uint64_t seq) mutable {
      auto obj = to_json(rec);
      activate(self, std::move(rec), seq);
      pump(self);
      obj["seq"] = seq;
      rp.deliver(json_reply(200, obj));
    },
    [rp](const caf::error& err) mutable { rp.deliver(error_reply(err)); });
  return deferred();
}

} // namespace engram::detail
