// Intents inside the user actor: create, close (once), list and get. The
// user's intents are few, so all of them live in the actor's state and are
// loaded at start; the intents column is the durable copy.

#include <boost/json/serialize.hpp>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/api/intent_input.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/ids.hpp"
#include "storage/key_codec.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

caf::error no_intent(const std::string& id) {
  return make_error(ec::not_found, "intent " + id + " not found", "id");
}

// Writes `rec`, answering `status` with the intent and its seq. On failure
// the in-memory copy goes back to `before` (nullopt: it did not exist).
void save_intent(user_self self, storage::intent_record rec,
                 std::optional<storage::intent_record> before, uint16_t status,
                 reply_promise rp) {
  auto& st = self->state;
  st.intents[rec.id] = rec;
  storage::mutation_list m{storage::mutation::make_put(
    storage::column::intents, storage::intent_key(st.user, rec.id),
    boost::json::serialize(to_json(rec)))};
  journal_write(
    self, std::move(m),
    [self, rec, before, status, rp](uint64_t seq) mutable {
      auto obj = to_json(rec);
      obj["seq"] = seq;
      rp.deliver(json_reply(status, obj));
      if (rec.closed && before && !before->closed) {
        api::trigger_fields f;
        f.kind = exports::trigger_kind::intent_closed;
        f.label = "intent_closed:" + rec.id;
        send_export_trigger(self, f);
      }
    },
    [self, id = rec.id, before, rp](const caf::error& err) mutable {
      if (before)
        self->state.intents[id] = *before;
      else
        self->state.intents.erase(id);
      rp.deliver(error_reply(err));
    });
}

api_reply create_intent(user_self self, const api_call& call, reply_promise rp) {
  auto f = api::parse_intent_create(call.body);
  if (!f)
    return error_reply(f.error());
  auto id = f->id ? *f->id : make_time_id();
  if (self->state.intents.count(id))
    return error_reply(make_error(ec::conflict,
                                  "intent " + id + " already exists", "id"));
  storage::intent_record rec;
  rec.id = id;
  rec.description = std::move(f->description);
  rec.created_at = rec.updated_at = iso8601_ms(now_unix_ms());
  save_intent(self, std::move(rec), std::nullopt, 201, rp);
  return deferred();
}

api_reply close_intent(user_self self, const api_call& call, reply_promise rp) {
  auto& id = call.params.at("id");
  auto it = self->state.intents.find(id);
  if (it == self->state.intents.end())
    return error_reply(no_intent(id));
  auto resolution = api::parse_intent_close(call.body);
  if (!resolution)
    return error_reply(resolution.error());
  if (it->second.closed)
    return error_reply(make_error(
      ec::conflict,
      "intent " + id + " was already closed at " + it->second.closed_at,
      "id"));
  auto before = it->second;
  auto rec = it->second;
  rec.closed = true;
  rec.resolution = std::move(*resolution);
  rec.closed_at = rec.updated_at = iso8601_ms(now_unix_ms());
  save_intent(self, std::move(rec), before, 200, rp);
  return deferred();
}

api_reply get_intent(user_self self, const api_call& call) {
  auto& id = call.params.at("id");
  auto it = self->state.intents.find(id);
  if (it == self->state.intents.end())
    return error_reply(no_intent(id));
  return json_reply(200, to_json(it->second));
}

api_reply list_intents(user_self self, const api_call& call) {
  auto status = api::parse_intent_status(query_param(call, "status"));
  if (!status)
    return error_reply(status.error());
  auto limit = api::query_uint(query_param(call, "limit"), "limit", 1, 1000,
                               100);
  if (!limit)
    return error_reply(limit.error());
  auto after = query_param(call, "after");
  auto& all = self->state.intents;
  auto it = after ? all.upper_bound(*after) : all.begin();
  boost::json::array items;
  for (; it != all.end() && items.size() < *limit; ++it)
    if (!*status || it->second.closed == **status)
      items.emplace_back(to_json(it->second));
  boost::json::value next = nullptr;
  if (items.size() == *limit && it != all.end())
    next = items.back().as_object().at("id");
  return json_reply(200, {{"items", std::move(items)}, {"next_after", next}});
}

} // namespace

api_reply intent_op(user_self self, api_call& call, reply_promise rp) {
  auto& op = call.op;
  if (op == "intent.create")
    return create_intent(self, call, rp);
  if (op == "intent.close")
    return close_intent(self, call, rp);
  if (op == "intent.get")
    return get_intent(self, call);
  if (op == "intent.list")
    return list_intents(self, call);
  return error_reply(make_error(ec::not_found, "unknown operation " + op));
}

caf::error load_intents(user_self self) {
  auto& st = self->state;
  caf::error bad;
  auto err = st.ctx.db->scan(
    storage::column::intents, storage::user_prefix(st.user), {},
    [&](std::string_view, std::string_view value) {
      auto i = storage::intent_from_json(value);
      if (!i) {
        bad = i.error();
        return false;
      }
      auto id = i->id;
      st.intents.emplace(std::move(id), std::move(*i));
      return true;
    });
  return err ? err : bad;
}

} // namespace engram::detail
