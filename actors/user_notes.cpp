// Session notes: the note-update worker step (a chain of queued updates of
// one (session, entity) rewritten in one job and saved, with every version,
// in one batch that also closes the tasks and marks the composite for
// re-embedding), and the notes API (list, get, history, restore,
// composite).

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/api/session_input.hpp"
#include "runtime/ids.hpp"
#include "storage/documents.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

storage::mutation put_note(user_self self, const note_record& n) {
  return storage::mutation::make_put(
    storage::column::notes,
    storage::note_key(self->state.user, n.session, n.entity_id),
    boost::json::serialize(to_json(n)));
}

storage::mutation put_version(user_self self, const note_record& n) {
  return storage::mutation::make_put(
    storage::column::notes,
    storage::note_version_key(self->state.user, n.session, n.entity_id,
                              n.version),
    boost::json::serialize(to_json(n)));
}

// After a failed write the decided note may be ahead of the disk.
void reload_note(user_self self, const note_slot& slot) {
  auto& st = self->state;
  auto raw = st.ctx.db->get(storage::column::notes,
                            storage::note_key(st.user, slot.first, slot.second));
  if (raw)
    if (auto n = storage::note_from_json(*raw)) {
      st.notes[slot] = std::move(*n);
      return;
    }
  st.notes.erase(slot);
}

uint64_t min_origin(user_self self, const std::vector<std::string>& ids) {
  uint64_t origin = UINT64_MAX;
  for (auto& id : ids)
    if (auto it = self->state.tasks.find(id); it != self->state.tasks.end())
      origin = std::min(origin, it->second.origin);
  return origin == UINT64_MAX ? 0 : origin;
}

// Closes `ids` as done in one batch (with `m`), then continues the slot.
void commit_updates(user_self self, const note_slot& slot,
                    std::vector<std::string> ids, storage::mutation_list m,
                    std::optional<note_record> note) {
  auto& st = self->state;
  for (auto& id : ids) {
    auto& rec = st.tasks.at(id).rec;
    rec.status = storage::task_status::done;
    close_task_in(self, rec, m);
  }
  auto origin = min_origin(self, ids);
  auto doc = storage::composite_doc_key(slot.first, slot.second);
  if (note) {
    m.push_back(put_note(self, *note));
    m.push_back(put_marker(self, doc));
    st.notes[slot] = *note;
  }
  journal_write(
    self, std::move(m),
    [self, slot, ids, origin, doc, has_note = note.has_value()](uint64_t) {
      auto& st = self->state;
      if (has_note) {
        st.sessions_of[slot.second].insert(slot.first);
        mark_dirty(self, doc, origin);
      }
      release_slot(self, slot);
      finish_tasks(self, ids);
      pump(self);
      flush_embeddings(self);
    },
    [self, slot, ids](const caf::error& err) {
      reload_note(self, slot);
      auto& st = self->state;
      for (auto& id : ids)
        if (auto it = st.tasks.find(id); it != st.tasks.end())
          it->second.rec.status = storage::task_status::pending;
      for (std::size_t i = ids.size(); i-- > 1;)
        requeue_front(self, ids[i]);
      task_failed(self, ids.front(), err);
    });
}

void on_rewrite(user_self self, const note_slot& slot,
                const std::vector<std::string>& ids, string_list& notes) {
  auto& st = self->state;
  // A model folds a whole chain into one note: one version for all of it.
  bool folded = notes.size() == 1 && ids.size() > 1;
  if (!st.entities.count(slot.second) || (notes.size() != ids.size() && !folded)) {
    // Deleted meanwhile: nothing to update any more.
    for (auto& id : ids)
      st.tasks.at(id).rec.last_error = "entity deleted; update skipped";
    return commit_updates(self, slot, ids, {}, std::nullopt);
  }
  uint64_t version = 0;
  if (auto it = st.notes.find(slot); it != st.notes.end())
    version = it->second.version;
  auto now = iso8601_ms(now_ms());
  storage::mutation_list m;
  note_record n;
  for (std::size_t i = 0; i < notes.size(); ++i) {
    auto last = folded ? ids.size() - 1 : i;
    n = note_record{slot.second, slot.first, std::move(notes[i]),
                    version + i + 1, st.tasks.at(ids[last]).rec.turn, now,
                    "rewrite"};
    m.push_back(put_version(self, n));
  }
  commit_updates(self, slot, ids, std::move(m), std::move(n));
}

void chain_failed(user_self self, const std::vector<std::string>& ids,
                  const caf::error& err) {
  for (std::size_t i = ids.size(); i-- > 1;)
    requeue_front(self, ids[i]);
  task_failed(self, ids.front(), err);
}

note_slot slot_of(const api_call& call) {
  return {call.params.at("session"), call.params.at("entity_id")};
}

api_reply no_note(const note_slot& slot) {
  return error_reply(make_error(ec::not_found,
                                "entity " + slot.second
                                  + " has no note in session " + slot.first,
                                "entity_id"));
}

} // namespace

void run_note_updates(user_self self, const note_slot& slot) {
  auto& st = self->state;
  auto& q = st.update_q[slot];
  std::vector<std::string> ids;
  auto most = std::max<std::size_t>(1, st.ctx.pipeline.max_updates_per_job);
  while (!q.empty() && ids.size() < most) {
    ids.push_back(q.front());
    q.pop_front();
  }
  if (q.empty())
    st.update_q.erase(slot);
  for (auto& id : ids)
    begin_attempt(self, id);
  auto ent = st.entities.find(slot.second);
  if (ent == st.entities.end()) {
    for (auto& id : ids)
      st.tasks.at(id).rec.last_error = "entity deleted; update skipped";
    return commit_updates(self, slot, ids, {}, std::nullopt);
  }
  rewrite_chain chain;
  chain.user = st.user;
  chain.base.entity_id = slot.second;
  chain.base.entity_title = ent->second.title;
  chain.base.entity_type = ent->second.type;
  chain.base.base_content = ent->second.content;
  if (auto it = st.notes.find(slot); it != st.notes.end())
    chain.base.previous_note = it->second.note;
  chain.base.max_note_chars = st.ctx.pipeline.max_note_chars;
  for (auto& id : ids)
    chain.summaries.push_back(st.tasks.at(id).rec.summary);
  self->request(next_worker(self), call_timeout(self), rewrite_atom::value,
                std::move(chain))
    .then(
      [self, slot, ids](string_list& notes) {
        on_rewrite(self, slot, ids, notes);
      },
      [self, ids](caf::error& err) { chain_failed(self, ids, err); });
}

std::string composite_of(user_self self, const std::string& session,
                         const std::string& entity_id) {
  auto& st = self->state;
  auto ent = st.entities.find(entity_id);
  if (ent == st.entities.end())
    return {};
  std::string_view note;
  if (!session.empty())
    if (auto it = st.notes.find({session, entity_id}); it != st.notes.end())
      note = it->second.note;
  return storage::composite_text(ent->second.content, note);
}

api_reply list_notes(user_self self, const api_call& call) {
  auto& st = self->state;
  auto& session = call.params.at("session");
  boost::json::array items;
  for (auto it = st.notes.lower_bound({session, ""});
       it != st.notes.end() && it->first.first == session; ++it)
    items.emplace_back(to_json(it->second));
  return json_reply(200, {{"session", session}, {"items", std::move(items)}});
}

api_reply get_note(user_self self, const api_call& call) {
  auto slot = slot_of(call);
  auto it = self->state.notes.find(slot);
  if (it == self->state.notes.end())
    return no_note(slot);
  return json_reply(200, to_json(it->second));
}

api_reply note_history(user_self self, const api_call& call) {
  auto& st = self->state;
  auto slot = slot_of(call);
  auto limit = api::query_uint(query_param(call, "limit"), "limit", 1, 1000,
                               50);
  if (!limit)
    return error_reply(limit.error());
  auto after = api::query_uint(query_param(call, "after"), "after", 1,
                               UINT64_MAX, 0);
  if (!after)
    return error_reply(after.error());
  boost::json::array items;
  {
    // scan() starts after this key: the versions older than `after`.
    auto start = *after ? storage::note_version_key(st.user, slot.first,
                                                    slot.second, *after)
                        : std::string{};
    caf::error bad;
    auto err = st.ctx.db->scan(
      storage::column::notes,
      storage::note_history_prefix(st.user, slot.first, slot.second), start,
      [&](std::string_view, std::string_view value) {
        auto n = storage::note_from_json(value);
        if (!n) {
          bad = n.error();
          return false;
        }
        auto obj = to_json(*n);
        obj.erase("entity_id");
        obj.erase("session");
        items.emplace_back(std::move(obj));
        return items.size() < *limit;
      });
    if (err || bad)
      return error_reply(err ? err : bad);
  }
  if (items.empty() && !*after && !st.notes.count(slot))
    return no_note(slot);
  boost::json::value next = nullptr;
  if (items.size() == *limit)
    next = items.back().as_object().at("version");
  return json_reply(200, {{"entity_id", slot.second},
                          {"session", slot.first},
                          {"items", std::move(items)},
                          {"next_after", next}});
}

api_reply restore_note(user_self self, const api_call& call,
                       reply_promise rp) {
  auto& st = self->state;
  auto slot = slot_of(call);
  auto version = api::parse_restore(call.body);
  if (!version)
    return error_reply(version.error());
  auto cur = st.notes.find(slot);
  if (cur == st.notes.end())
    return no_note(slot);
  if (st.update_busy.count(slot))
    return error_reply(make_error(ec::conflict,
                                  "the note is being updated right now; "
                                  "retry the restore",
                                  "entity_id"));
  auto raw = st.ctx.db->get(storage::column::notes,
                            storage::note_version_key(st.user, slot.first,
                                                      slot.second, *version));
  if (!raw) {
    if (code_of(raw.error()) == ec::not_found)
      return error_reply(make_error(ec::not_found,
                                    "the note has no version "
                                      + std::to_string(*version),
                                    "version"));
    return error_reply(raw.error());
  }
  auto old = storage::note_from_json(*raw);
  if (!old)
    return error_reply(old.error());
  note_record n{slot.second, slot.first, old->note, cur->second.version + 1,
                cur->second.last_updated_turn, iso8601_ms(now_ms()),
                "restore"};
  auto doc = storage::composite_doc_key(slot.first, slot.second);
  storage::mutation_list m{put_version(self, n), put_note(self, n),
                           put_marker(self, doc)};
  st.notes[slot] = n;
  journal_write(
    self, std::move(m),
    [self, n, doc, rp](uint64_t seq) mutable {
      mark_dirty(self, doc, seq);
      flush_embeddings(self);
      auto obj = to_json(n);
      obj["seq"] = seq;
      rp.deliver(json_reply(200, obj));
    },
    [self, slot, rp](const caf::error& err) mutable {
      reload_note(self, slot);
      rp.deliver(error_reply(err));
    });
  return deferred();
}

api_reply get_composite(user_self self, const api_call& call) {
  auto& st = self->state;
  auto& id = call.params.at("id");
  if (!st.entities.count(id))
    return error_reply(make_error(ec::not_found, "entity " + id + " not found",
                                  "id"));
  std::string session;
  if (auto s = query_param(call, "session"))
    session = *s;
  bool has_note = !session.empty() && st.notes.count({session, id});
  boost::json::value s = nullptr;
  if (!session.empty())
    s = session;
  return json_reply(
    200, {{"entity_id", id},
          {"session", s},
          {"doc_key", has_note ? storage::composite_doc_key(session, id)
                               : storage::base_doc_key(id)},
          {"text", composite_of(self, has_note ? session : "", id)}});
}

} // namespace engram::detail
