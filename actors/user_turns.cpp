// Turns: the idempotent, durable ingest (turn + its analysis task in one
// batch, 202 after the fsync) and the analysis step, whose result becomes
// note-update and entity-creation tasks in the same batch that marks the
// turn analysed.

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/api/session_input.hpp"
#include "runtime/ids.hpp"
#include "runtime/providers/task_json.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

constexpr const char* alias_prefix = "alias:";

task_record new_task(const turn_record& turn, std::string id,
                     storage::task_queue q, int64_t now) {
  task_record t;
  t.id = std::move(id);
  t.queue = q;
  t.session = turn.session;
  t.turn = turn.turn;
  t.event_id = turn.event_id;
  t.created_ms = t.updated_ms = now;
  return t;
}

std::vector<task_record> tasks_from(const turn_record& turn,
                                    const providers::analysis_result& r,
                                    int64_t now) {
  std::vector<task_record> out;
  for (std::size_t i = 0; i < r.updates.size(); ++i) {
    auto t = new_task(turn, storage::update_task_id(turn.event_id, i),
                      storage::task_queue::note_update, now);
    t.entity_id = r.updates[i].lore_entry_id;
    t.summary = r.updates[i].update_summary;
    out.push_back(std::move(t));
  }
  for (std::size_t i = 0; i < r.creations.size(); ++i) {
    auto t = new_task(turn, storage::creation_task_id(turn.event_id, i),
                      storage::task_queue::entity_creation, now);
    t.entity_type = r.creations[i].entity_type;
    t.summary = r.creations[i].creation_summary;
    t.name = r.creations[i].name;
    out.push_back(std::move(t));
  }
  return out;
}

caf::error under_analysis(const caf::error& err) {
  auto field = field_of(err);
  auto path = field.empty() ? std::string{"analysis"} : "analysis." + field;
  return make_error(ec::invalid_argument,
                    "analysis." + message_of(err), path);
}

api_reply duplicate_reply(user_self self, const turn_record& t) {
  return json_reply(202, {{"event_id", t.event_id},
                          {"turn", t.turn},
                          {"status", to_string(t.status)},
                          {"seq", self->state.last_seq},
                          {"duplicate", true}});
}

// The stored or in-flight turn (session, n), if any.
caf::expected<std::optional<turn_record>>
existing_turn(user_self self, const std::string& session, int64_t n) {
  auto& st = self->state;
  if (auto it = st.turns_in_write.find({session, n});
      it != st.turns_in_write.end())
    return std::optional<turn_record>{it->second.turn};
  auto raw = st.ctx.db->get(storage::column::turns,
                            storage::turn_key(st.user, session, n));
  if (!raw) {
    if (code_of(raw.error()) == ec::not_found)
      return std::optional<turn_record>{};
    return raw.error();
  }
  auto t = storage::turn_from_json(*raw);
  if (!t)
    return t.error();
  return std::optional<turn_record>{std::move(*t)};
}

// Forgets the in-write entry of (session, n), returning the resends that
// waited for it.
std::vector<reply_promise> take_resends(user_self self,
                                        const std::string& session, int64_t n) {
  auto& st = self->state;
  std::vector<reply_promise> out;
  if (auto it = st.turns_in_write.find({session, n});
      it != st.turns_in_write.end()) {
    out = std::move(it->second.resends);
    st.turns_in_write.erase(it);
  }
  return out;
}

storage::mutation event_owner(user_self self, const turn_record& t) {
  boost::json::object owner{{"user", self->state.user},
                            {"session", t.session},
                            {"turn", t.turn}};
  return storage::mutation::make_put(storage::column::meta,
                                     storage::event_owner_key(t.event_id),
                                     boost::json::serialize(owner));
}

void on_analysis(user_self self, const std::string& id,
                 providers::analysis_result& result) {
  auto& st = self->state;
  auto it = st.tasks.find(id);
  if (it == st.tasks.end())
    return;
  auto& rec = it->second.rec;
  auto origin = it->second.origin;
  release_session(self, rec.session);
  auto now = now_ms();
  auto turn_it = st.open_turns.find(rec.event_id);
  if (turn_it == st.open_turns.end())
    return task_failed(self, id, make_error(ec::internal, "turn not loaded"));
  auto& turn = turn_it->second;
  auto created = tasks_from(turn, result, now);
  storage::mutation_list m;
  for (auto& t : created) {
    turn.task_ids.push_back(t.id);
    ++turn.open_tasks;
    m.push_back(put_task(self, t));
  }
  turn.status = storage::turn_status::analysed;
  rec.status = storage::task_status::done;
  close_task_in(self, rec, m);
  journal_write(
    self, std::move(m),
    [self, id, origin, created](uint64_t) mutable {
      for (auto& t : created)
        activate(self, std::move(t), origin);
      finish_tasks(self, {id});
      pump(self);
    },
    [self, id](const caf::error& err) {
      if (auto it = self->state.tasks.find(id); it != self->state.tasks.end())
        it->second.rec.status = storage::task_status::pending;
      task_failed(self, id, err);
    });
}

} // namespace

const std::vector<providers::known_entity>& known_entities(user_self self) {
  auto& st = self->state;
  if (!st.known_stale)
    return st.known;
  st.known.clear();
  st.known.reserve(st.entities.size());
  for (auto& [id, e] : st.entities) {
    providers::known_entity k{id, e.type, e.title, {}};
    for (auto& tag : e.tags)
      if (tag.rfind(alias_prefix, 0) == 0 && tag.size() > 6)
        k.aliases.push_back(tag.substr(6));
    st.known.push_back(std::move(k));
  }
  st.known_stale = false;
  return st.known;
}

api_reply post_turn(user_self self, const api_call& call, reply_promise rp) {
  auto& st = self->state;
  auto& session = call.params.at("session");
  auto f = api::parse_turn(call.body, st.ctx.pipeline.max_turn_chars);
  if (!f)
    return error_reply(f.error());
  if (f->analysis)
    if (auto err = providers::validate(*f->analysis, known_entities(self)))
      return error_reply(under_analysis(err));
  auto prior = existing_turn(self, session, f->turn);
  if (!prior)
    return error_reply(prior.error());
  if (*prior) {
    if ((*prior)->text != f->text)
      return error_reply(make_error(
        ec::conflict,
        "turn " + std::to_string(f->turn) + " of session " + session
          + " already exists with a different text",
        "text"));
    // Not durable yet: answer when the original is.
    if (auto it = st.turns_in_write.find({session, f->turn});
        it != st.turns_in_write.end()) {
      it->second.resends.push_back(rp);
      return deferred();
    }
    return duplicate_reply(self, **prior);
  }
  auto now = now_ms();
  turn_record turn;
  turn.session = session;
  turn.turn = f->turn;
  turn.event_id = make_time_id();
  turn.text = std::move(f->text);
  turn.created_at = turn.updated_at = iso8601_ms(now);
  std::vector<task_record> tasks;
  if (f->analysis) {
    tasks = tasks_from(turn, *f->analysis, now);
    turn.status = tasks.empty() ? storage::turn_status::applied
                                : storage::turn_status::analysed;
  } else {
    tasks.push_back(new_task(turn, storage::analysis_task_id(turn.event_id),
                             storage::task_queue::analysis, now));
  }
  storage::mutation_list m;
  for (auto& t : tasks) {
    turn.task_ids.push_back(t.id);
    m.push_back(put_task(self, t));
  }
  turn.open_tasks = static_cast<uint32_t>(tasks.size());
  m.push_back(put_turn(self, turn));
  m.push_back(event_owner(self, turn));
  st.turns_in_write[{session, turn.turn}] = {turn, {}};
  journal_write(
    self, std::move(m),
    [self, turn, tasks, rp](uint64_t seq) mutable {
      auto& st = self->state;
      auto resends = take_resends(self, turn.session, turn.turn);
      for (auto& r : resends)
        r.deliver(duplicate_reply(self, turn));
      if (turn.status != storage::turn_status::applied)
        st.open_turns[turn.event_id] = turn;
      for (auto& t : tasks)
        activate(self, std::move(t), seq);
      pump(self);
      rp.deliver(json_reply(202, {{"event_id", turn.event_id},
                                  {"turn", turn.turn},
                                  {"status", to_string(turn.status)},
                                  {"seq", seq},
                                  {"duplicate", false}}));
    },
    [self, session, n = turn.turn, rp](const caf::error& err) mutable {
      for (auto& r : take_resends(self, session, n))
        r.deliver(error_reply(err));
      rp.deliver(error_reply(err));
    });
  return deferred();
}

void run_analysis(user_self self, const std::string& id) {
  auto& st = self->state;
  auto& t = begin_attempt(self, id);
  auto turn = st.open_turns.find(t.rec.event_id);
  if (turn == st.open_turns.end())
    return task_failed(self, id, make_error(ec::storage_failure,
                                            "the task's turn record is missing"));
  providers::analysis_input in{st.user, t.rec.session, t.rec.turn,
                               turn->second.text, known_entities(self)};
  self->request(next_worker(self), call_timeout(self), analyse_atom::value,
                std::move(in))
    .then(
      [self, id](providers::analysis_result& r) { on_analysis(self, id, r); },
      [self, id](caf::error& err) { task_failed(self, id, err); });
}

} // namespace engram::detail
