// The entity-creation worker step: the provider turns what a turn said
// about a new entity into {title, content, tags}; the entity is created
// (is_dynamically_generated) in the same batch that closes the task and
// marks its base lore for embedding. A creation whose title the user
// already has becomes a note update of that entity instead of a duplicate.

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/ids.hpp"
#include "storage/documents.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s)
    out += static_cast<char>(std::tolower(c));
  return out;
}

// The entity titled `title` (ASCII case-insensitive), if any.
const entity_record* by_title(user_self self, const std::string& title) {
  auto want = fold(title);
  for (auto& [id, e] : self->state.entities)
    if (fold(e.title) == want)
      return &e;
  return nullptr;
}

// The creation names an entity the user has: update its note instead.
void become_update(user_self self, const std::string& id,
                   const std::string& entity_id) {
  auto& st = self->state;
  auto& t = st.tasks.at(id);
  auto origin = t.origin;
  auto& rec = t.rec;
  task_record u;
  u.id = rec.id + "u";
  u.queue = storage::task_queue::note_update;
  u.session = rec.session;
  u.turn = rec.turn;
  u.event_id = rec.event_id;
  u.entity_id = entity_id;
  u.summary = rec.summary;
  u.created_ms = u.updated_ms = now_ms();
  storage::mutation_list m{put_task(self, u)};
  if (auto turn = st.open_turns.find(rec.event_id);
      turn != st.open_turns.end()) {
    turn->second.task_ids.push_back(u.id);
    ++turn->second.open_tasks;
  }
  rec.entity_id = entity_id;
  rec.status = storage::task_status::done;
  close_task_in(self, rec, m);
  journal_write(
    self, std::move(m),
    [self, id, u, origin](uint64_t) mutable {
      activate(self, std::move(u), origin);
      finish_tasks(self, {id});
      pump(self);
    },
    [self, id](const caf::error& err) {
      if (auto it = self->state.tasks.find(id); it != self->state.tasks.end())
        it->second.rec.status = storage::task_status::pending;
      task_failed(self, id, err);
    });
}

void on_created(user_self self, const std::string& id,
                providers::creation_result& r) {
  auto& st = self->state;
  auto it = st.tasks.find(id);
  if (it == st.tasks.end())
    return;
  if (auto existing = by_title(self, r.title))
    return become_update(self, id, existing->id);
  auto& rec = it->second.rec;
  auto origin = it->second.origin;
  auto now = iso8601_ms(now_ms());
  entity_record e;
  e.id = new_entity_id(self, r.title);
  e.type = rec.entity_type;
  e.title = std::move(r.title);
  e.content = std::move(r.content);
  e.tags = std::move(r.tags);
  e.is_dynamically_generated = true;
  e.created_at = e.updated_at = now;
  auto doc = storage::base_doc_key(e.id);
  storage::mutation_list m{
    storage::mutation::make_put(storage::column::entities,
                                storage::entity_key(st.user, e.id),
                                boost::json::serialize(to_json(e))),
    put_marker(self, doc)};
  rec.entity_id = e.id;
  rec.status = storage::task_status::done;
  close_task_in(self, rec, m);
  auto eid = e.id;
  st.entities[eid] = std::move(e);
  st.known_stale = true;
  journal_write(
    self, std::move(m),
    [self, id, doc, origin](uint64_t) {
      mark_dirty(self, doc, origin);
      finish_tasks(self, {id});
      pump(self);
      flush_embeddings(self);
    },
    [self, id, eid](const caf::error& err) {
      auto& st = self->state;
      st.entities.erase(eid);
      st.known_stale = true;
      if (auto it = st.tasks.find(id); it != st.tasks.end())
        it->second.rec.status = storage::task_status::pending;
      task_failed(self, id, err);
    });
}

} // namespace

void run_creation(user_self self, const std::string& id) {
  auto& t = begin_attempt(self, id);
  providers::creation_input in{t.rec.entity_type, t.rec.summary, t.rec.name,
                               self->state.user};
  self->request(next_worker(self), call_timeout(self), create_atom::value,
                std::move(in))
    .then(
      [self, id](providers::creation_result& r) { on_created(self, id, r); },
      [self, id](caf::error& err) { task_failed(self, id, err); });
}

} // namespace engram::detail
