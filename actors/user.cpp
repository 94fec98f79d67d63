#include "actors/user.hpp"

#include <map>
#include <optional>

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/errors.hpp"
#include "runtime/api/entity_input.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/ids.hpp"
#include "storage/entity_record.hpp"
#include "storage/key_codec.hpp"
#include "storage/store.hpp"

namespace engram {

namespace {

using storage::entity_record;

// A change handed to the journal but not yet acknowledged. Later operations
// must see it, or two quick PATCHes would both start from the same version.
struct pending_entity {
  std::optional<entity_record> value; // nullopt: deleted
  uint64_t token = 0;
};

struct user_state {
  std::string user;
  user_context ctx;
  std::map<std::string, pending_entity> pending;
  uint64_t next_token = 0;
  std::size_t inflight = 0;
  static inline const char* name = "engram.user";
};

using user_self = user_actor::stateful_pointer<user_state>;
using reply_promise = caf::typed_response_promise<api_reply>;

api_reply error_reply(const caf::error& err) {
  auto r = http::error_response(err);
  return {static_cast<uint16_t>(r.status), std::move(r.body)};
}

// Marks an operation that answers its promise itself, after the journal.
api_reply deferred() {
  return {0, {}};
}

api_reply json_reply(uint16_t status, const boost::json::object& obj) {
  return {status, boost::json::serialize(obj)};
}

// The current entity, including unacknowledged changes of this actor.
caf::expected<entity_record> current(user_self self, const std::string& id) {
  auto& st = self->state;
  if (auto it = st.pending.find(id); it != st.pending.end()) {
    if (!it->second.value)
      return make_error(ec::not_found, "entity " + id + " not found", "id");
    return *it->second.value;
  }
  auto raw = st.ctx.db->get(storage::column::entities,
                            storage::entity_key(st.user, id));
  if (!raw) {
    if (code_of(raw.error()) == ec::not_found)
      return make_error(ec::not_found, "entity " + id + " not found", "id");
    return raw.error();
  }
  return storage::entity_from_json(*raw);
}

// Journals `m`, remembers `value` as pending for `id` until the ack, and
// answers `rp` with `on_ok(seq)` or the error.
template <class OnOk>
void commit(user_self self, const std::string& id,
            std::optional<entity_record> value, storage::mutation m,
            reply_promise rp, OnOk on_ok) {
  auto& st = self->state;
  auto token = ++st.next_token;
  st.pending[id] = pending_entity{std::move(value), token};
  ++st.inflight;
  auto settle = [self, id, token] {
    auto& st = self->state;
    --st.inflight;
    if (auto it = st.pending.find(id);
        it != st.pending.end() && it->second.token == token)
      st.pending.erase(it);
  };
  self->request(st.ctx.journal, st.ctx.write_timeout, append_atom::value,
                write_request{{std::move(m)}})
    .then(
      [rp, settle, on_ok](commit_ack& ack) mutable {
        settle();
        rp.deliver(on_ok(ack.seq));
      },
      [rp, settle](caf::error& err) mutable {
        settle();
        rp.deliver(error_reply(err));
      });
}

void save(user_self self, entity_record rec, uint16_t status,
          reply_promise rp) {
  auto key = storage::entity_key(self->state.user, rec.id);
  auto m = storage::mutation::make_put(storage::column::entities, key,
                                       boost::json::serialize(to_json(rec)));
  auto id = rec.id;
  commit(self, id, rec, std::move(m), rp, [rec, status](uint64_t seq) {
    auto obj = to_json(rec);
    obj["seq"] = seq;
    return json_reply(status, obj);
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
  auto cur = current(self, id);
  if (cur)
    return error_reply(make_error(ec::conflict,
                                  "entity " + id + " already exists", "id"));
  if (code_of(cur.error()) != ec::not_found)
    return error_reply(cur.error());
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
  if (!cur && (!replace || code_of(cur.error()) != ec::not_found))
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

api_reply delete_entity(user_self self, const api_call& call,
                        reply_promise rp) {
  auto& id = call.params.at("id");
  auto cur = current(self, id);
  if (!cur)
    return error_reply(cur.error());
  auto m = storage::mutation::make_erase(
    storage::column::entities, storage::entity_key(self->state.user, id));
  commit(self, id, std::nullopt, std::move(m), rp, [id](uint64_t seq) {
    return json_reply(200, {{"id", id}, {"deleted", true}, {"seq", seq}});
  });
  return deferred();
}

bool matches(const entity_record& e, const std::string* type,
             const std::string* tag) {
  if (type && e.type != *type)
    return false;
  return !tag || std::find(e.tags.begin(), e.tags.end(), *tag) != e.tags.end();
}

const std::string* query_param(const api_call& call, const char* name) {
  auto it = call.query.find(name);
  return it == call.query.end() ? nullptr : &it->second;
}

// Lists committed entities in id order, filtered by type and tag; `after`
// pages (the last id of the previous page).
api_reply list_entities(user_self self, const api_call& call) {
  auto limit = api::query_uint(query_param(call, "limit"), "limit", 1, 1000, 100);
  if (!limit)
    return error_reply(limit.error());
  auto type = query_param(call, "type");
  auto tag = query_param(call, "tag");
  auto after = query_param(call, "after");
  auto& st = self->state;
  auto prefix = storage::user_prefix(st.user);
  auto start = after ? storage::entity_key(st.user, *after) : std::string{};
  boost::json::array items;
  caf::error bad;
  auto err = st.ctx.db->scan(
    storage::column::entities, prefix, start,
    [&](std::string_view, std::string_view value) {
      auto e = storage::entity_from_json(value);
      if (!e) {
        bad = e.error();
        return false;
      }
      if (matches(*e, type, tag))
        items.emplace_back(to_json(*e));
      return items.size() < *limit;
    });
  if (err || bad)
    return error_reply(err ? err : bad);
  boost::json::value next = nullptr;
  if (items.size() == *limit)
    next = items.back().as_object().at("id");
  return json_reply(200, {{"items", std::move(items)}, {"next_after", next}});
}

api_reply dispatch(user_self self, api_call& call, reply_promise rp) {
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

user_actor::behavior_type user_behavior(user_self self, std::string user,
                                        user_context ctx) {
  self->state.user = std::move(user);
  self->state.ctx = std::move(ctx);
  return {
    [self](call_atom, api_call& call) -> caf::result<api_reply> {
      auto rp = self->make_response_promise<api_reply>();
      auto reply = dispatch(self, call, rp);
      // status 0 means the operation answers `rp` itself, later.
      if (reply.status != 0)
        rp.deliver(std::move(reply));
      return rp;
    },
    [self](idle_atom) {
      bool idle = self->state.inflight == 0;
      if (idle)
        self->quit();
      return idle;
    },
  };
}

} // namespace

user_actor spawn_user(caf::actor_system& sys, std::string user,
                      user_context ctx) {
  return sys.spawn(user_behavior, std::move(user), std::move(ctx));
}

} // namespace engram
