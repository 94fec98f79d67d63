// Entity CRUD inside the user actor, and the loading of entities and notes
// at start. Every change of an entity re-embeds its base-lore document and
// each session composite that includes it; deleting it removes its notes
// and documents.

#include <algorithm>
#include <cctype>

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/api/entity_input.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/ids.hpp"
#include "storage/documents.hpp"
#include "storage/key_codec.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

caf::expected<entity_record> current(user_self self, const std::string& id) {
  auto& st = self->state;
  if (auto it = st.entities.find(id); it != st.entities.end())
    return it->second;
  return make_error(ec::not_found, "entity " + id + " not found", "id");
}

// After a failed write the in-memory view may be ahead of the disk.
void reload_entity(user_self self, const std::string& id) {
  auto& st = self->state;
  st.known_stale = true;
  auto raw = st.ctx.db->get(storage::column::entities,
                            storage::entity_key(st.user, id));
  if (raw) {
    if (auto e = storage::entity_from_json(*raw))
      st.entities[id] = std::move(*e);
    return;
  }
  st.entities.erase(id);
}

// The documents that show entity `id`: its base lore and its composites.
std::vector<std::string> docs_of(user_self self, const std::string& id) {
  std::vector<std::string> docs{storage::base_doc_key(id)};
  auto& st = self->state;
  if (auto it = st.sessions_of.find(id); it != st.sessions_of.end())
    for (auto& s : it->second)
      docs.push_back(storage::composite_doc_key(s, id));
  return docs;
}

void save(user_self self, entity_record rec, uint16_t status,
          reply_promise rp) {
  auto& st = self->state;
  auto id = rec.id;
  storage::mutation_list m;
  m.push_back(storage::mutation::make_put(
    storage::column::entities, storage::entity_key(st.user, id),
    boost::json::serialize(to_json(rec))));
  auto docs = docs_of(self, id);
  for (auto& d : docs)
    m.push_back(put_marker(self, d));
  st.entities[id] = rec;
  st.known_stale = true;
  journal_write(
    self, std::move(m),
    [self, rec, status, rp, docs](uint64_t seq) mutable {
      for (auto& d : docs)
        mark_dirty(self, d, seq);
      flush_embeddings(self);
      auto obj = to_json(rec);
      obj["seq"] = seq;
      rp.deliver(json_reply(status, obj));
    },
    [self, id, rp](const caf::error& err) mutable {
      reload_entity(self, id);
      rp.deliver(error_reply(err));
    });
}

caf::error check_version(const entity_record& cur,
                         const api::entity_fields& f) {
  if (f.expected_version && *f.expected_version != cur.version)
    return make_error(ec::conflict,
                      "version mismatch: entity is at version "
                        + std::to_string(cur.version) + ", request expects "
                        + std::to_string(*f.expected_version),
                      "version");
  return caf::none;
}

void apply_fields(entity_record& rec, api::entity_fields& f) {
  if (f.type)
    rec.type = std::move(*f.type);
  if (f.title)
    rec.title = std::move(*f.title);
  if (f.content)
    rec.content = std::move(*f.content);
  if (f.tags)
    rec.tags = std::move(*f.tags);
}

api_reply create_entity(user_self self, const api_call& call,
                        reply_promise rp) {
  auto f = api::parse_entity_create(call.body);
  if (!f)
    return error_reply(f.error());
  auto id = f->id ? *f->id : make_time_id();
  if (current(self, id))
    return error_reply(make_error(ec::conflict,
                                  "entity " + id + " already exists", "id"));
  entity_record rec;
  rec.id = id;
  apply_fields(rec, *f);
  rec.created_at = rec.updated_at = iso8601_ms(now_unix_ms());
  save(self, std::move(rec), 201, rp);
  return deferred();
}

api_reply get_entity(user_self self, const api_call& call) {
  auto cur = current(self, call.params.at("id"));
  if (!cur)
    return error_reply(cur.error());
  return json_reply(200, to_json(*cur));
}

// PUT replaces (or creates) the entity; PATCH changes the given fields.
api_reply change_entity(user_self self, const api_call& call, bool replace,
                        reply_promise rp) {
  auto& id = call.params.at("id");
  auto f = replace ? api::parse_entity_replace(call.body, id)
                   : api::parse_entity_patch(call.body);
  if (!f)
    return error_reply(f.error());
  auto cur = current(self, id);
  if (!cur && !replace)
    return error_reply(cur.error());
  auto now = iso8601_ms(now_unix_ms());
  entity_record rec;
  if (cur) {
    if (auto err = check_version(*cur, *f))
      return error_reply(err);
    rec = *cur;
    ++rec.version;
  } else {
    if (f->expected_version)
      return error_reply(make_error(ec::conflict, "entity " + id
                                    + " does not exist", "version"));
    rec.id = id;
    rec.created_at = now;
  }
  if (replace) {
    rec.content.clear();
    rec.tags.clear();
  }
  apply_fields(rec, *f);
  rec.updated_at = now;
  save(self, std::move(rec), cur ? 200 : 201, rp);
  return deferred();
}

// Erases every version of the note of (session, id) into `m`.
caf::error erase_history_in(user_self self, const std::string& session,
                            const std::string& id, storage::mutation_list& m) {
  auto& st = self->state;
  return st.ctx.db->scan(
    storage::column::notes,
    storage::note_history_prefix(st.user, session, id), {},
    [&](std::string_view key, std::string_view) {
      m.push_back(storage::mutation::make_erase(storage::column::notes,
                                                std::string{key}));
      return true;
    });
}

api_reply delete_entity(user_self self, const api_call& call,
                        reply_promise rp) {
  auto& st = self->state;
  auto id = call.params.at("id");
  if (auto cur = current(self, id); !cur)
    return error_reply(cur.error());
  storage::mutation_list m;
  m.push_back(storage::mutation::make_erase(
    storage::column::entities, storage::entity_key(st.user, id)));
  std::set<std::string> sessions;
  if (auto it = st.sessions_of.find(id); it != st.sessions_of.end())
    sessions = it->second;
  for (auto& s : sessions) {
    m.push_back(storage::mutation::make_erase(
      storage::column::notes, storage::note_key(st.user, s, id)));
    if (auto err = erase_history_in(self, s, id, m))
      return error_reply(err);
  }
  auto docs = docs_of(self, id);
  for (auto& d : docs)
    drop_doc_in(self, d, m);
  st.entities.erase(id);
  st.known_stale = true;
  journal_write(
    self, std::move(m),
    [self, id, sessions, docs, rp](uint64_t seq) mutable {
      auto& st = self->state;
      for (auto& s : sessions)
        st.notes.erase({s, id});
      st.sessions_of.erase(id);
      after_drop_docs(self, docs);
      wake_waiters(self);
      rp.deliver(json_reply(200, {{"id", id}, {"deleted", true},
                                  {"seq", seq}}));
    },
    [self, id, rp](const caf::error& err) mutable {
      reload_entity(self, id);
      rp.deliver(error_reply(err));
    });
  return deferred();
}

bool matches(const entity_record& e, const std::string* type,
             const std::string* tag) {
  if (type && e.type != *type)
    return false;
  return !tag || std::find(e.tags.begin(), e.tags.end(), *tag) != e.tags.end();
}

// Entities in id order, filtered by type and tag; `after` pages.
api_reply list_entities(user_self self, const api_call& call) {
  auto limit = api::query_uint(query_param(call, "limit"), "limit", 1, 1000,
                               100);
  if (!limit)
    return error_reply(limit.error());
  auto type = query_param(call, "type");
  auto tag = query_param(call, "tag");
  auto after = query_param(call, "after");
  auto& ents = self->state.entities;
  auto it = after ? ents.upper_bound(*after) : ents.begin();
  boost::json::array items;
  for (; it != ents.end() && items.size() < *limit; ++it)
    if (matches(it->second, type, tag))
      items.emplace_back(to_json(it->second));
  boost::json::value next = nullptr;
  if (items.size() == *limit && it != ents.end())
    next = items.back().as_object().at("id");
  return json_reply(200, {{"items", std::move(items)}, {"next_after", next}});
}

} // namespace

api_reply entity_op(user_self self, api_call& call, reply_promise rp) {
  auto& op = call.op;
  if (op == "entity.create")
    return create_entity(self, call, rp);
  if (op == "entity.get")
    return get_entity(self, call);
  if (op == "entity.replace")
    return change_entity(self, call, true, rp);
  if (op == "entity.patch")
    return change_entity(self, call, false, rp);
  if (op == "entity.delete")
    return delete_entity(self, call, rp);
  if (op == "entity.list")
    return list_entities(self, call);
  return error_reply(make_error(ec::not_found, "unknown operation " + op));
}

caf::error load_entities(user_self self) {
  auto& st = self->state;
  caf::error bad;
  auto err = st.ctx.db->scan(
    storage::column::entities, storage::user_prefix(st.user), {},
    [&](std::string_view, std::string_view value) {
      auto e = storage::entity_from_json(value);
      if (!e) {
        bad = e.error();
        return false;
      }
      auto id = e->id;
      st.entities.emplace(std::move(id), std::move(*e));
      return true;
    });
  st.known_stale = true;
  return err ? err : bad;
}

caf::error load_notes(user_self self) {
  auto& st = self->state;
  caf::error bad;
  auto err = st.ctx.db->scan(
    storage::column::notes, storage::note_user_prefix(st.user), {},
    [&](std::string_view, std::string_view value) {
      auto n = storage::note_from_json(value);
      if (!n) {
        bad = n.error();
        return false;
      }
      st.sessions_of[n->entity_id].insert(n->session);
      note_slot slot{n->session, n->entity_id};
      st.notes.emplace(std::move(slot), std::move(*n));
      return true;
    });
  return err ? err : bad;
}

std::string new_entity_id(user_self self, const std::string& title) {
  std::string slug;
  for (unsigned char c : title) {
    if (std::isalnum(c))
      slug += static_cast<char>(std::tolower(c));
    else if (!slug.empty() && slug.back() != '-')
      slug += '-';
    if (slug.size() >= 96)
      break;
  }
  while (!slug.empty() && slug.back() == '-')
    slug.pop_back();
  if (slug.empty())
    return make_time_id();
  auto& ents = self->state.entities;
  if (!ents.count(slug))
    return slug;
  for (int i = 2; i < 1000; ++i) {
    auto candidate = slug + "-" + std::to_string(i);
    if (!ents.count(candidate))
      return candidate;
  }
  return make_time_id();
}

} // namespace engram::detail
