// The user actor's side of mesh-context exports: the context an export
// writes, the triggers the user's events fire (intent closed, document
// ready, concept change, session end), and the dirty key that tells the
// nightly run which users changed since their last export.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/exports/export_settings.hpp"
#include "runtime/exports/exporter_record.hpp"
#include "runtime/exports/mesh_context.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

// Columns whose changes an export shows.
bool shown_in_export(uint8_t col) {
  using storage::column;
  return col == static_cast<uint8_t>(column::entities)
         || col == static_cast<uint8_t>(column::notes)
         || col == static_cast<uint8_t>(column::intents)
         || col == static_cast<uint8_t>(column::memories);
}

exports::context_snapshot snapshot_of(user_self self) {
  auto& st = self->state;
  exports::context_snapshot s;
  s.entities.reserve(st.entities.size());
  for (auto& [_, e] : st.entities)
    s.entities.push_back(e);
  s.notes.reserve(st.notes.size());
  for (auto& [_, n] : st.notes)
    s.notes.push_back(n);
  for (auto& [_, i] : st.intents)
    s.intents.push_back(i);
  for (auto& [_, d] : st.documents)
    s.documents.push_back({d.id, d.name, d.type, d.chunks, d.created_at});
  return s;
}

caf::expected<uint32_t> session_turns(user_self self,
                                      const std::string& session) {
  auto& st = self->state;
  uint32_t n = 0;
  auto err = st.ctx.db->scan(storage::column::turns,
                             storage::turn_session_prefix(st.user, session), {},
                             [&](std::string_view, std::string_view) {
                               ++n;
                               return true;
                             });
  if (err)
    return err;
  return n;
}

} // namespace

api_reply export_context(user_self self) {
  auto& st = self->state;
  auto body = boost::json::serialize(exports::build_context(snapshot_of(self)));
  if (st.export_dirty) {
    // Changes after this point put the key again (mark_export_dirty); the
    // journal applies this erase before any such batch.
    st.export_dirty = false;
    journal_write(self,
                  {storage::mutation::make_erase(
                    storage::column::exports,
                    exports::export_dirty_key(st.user))},
                  [](uint64_t) {}, [](const caf::error&) {});
  }
  return {200, std::move(body)};
}

api_reply end_session(user_self self, const api_call& call, reply_promise rp) {
  auto& st = self->state;
  auto& session = call.params.at("session");
  auto high = api::parse_session_end(call.body);
  if (!high)
    return error_reply(high.error());
  auto turns = session_turns(self, session);
  if (!turns)
    return error_reply(turns.error());
  boost::json::object out{{"session", session},
                          {"turns", *turns},
                          {"high_impact", *high}};
  if (!st.ctx.router || !st.ctx.export_settings) {
    out["export"] = nullptr;
    return json_reply(200, out);
  }
  api::trigger_fields f;
  f.kind = exports::trigger_kind::session_end;
  f.high_impact = *high;
  f.session_turns = *turns;
  f.label = "session_end:" + session;
  api_call c{st.user, "export.event", {}, {}, api::trigger_event_body(f),
             call.request_id};
  self->request(st.ctx.router, caf::infinite, call_atom::value, std::move(c))
    .then(
      [out, rp](api_reply& r) mutable {
        boost::system::error_code ec;
        auto v = boost::json::parse(r.body, ec);
        out["export"] = ec ? boost::json::value(nullptr) : v;
        rp.deliver(json_reply(r.status >= 400 ? r.status : 200, out));
      },
      [rp](caf::error& err) mutable { rp.deliver(error_reply(err)); });
  return deferred();
}

void send_export_trigger(user_self self, const api::trigger_fields& f) {
  auto& st = self->state;
  if (!st.ctx.router || !st.ctx.export_settings)
    return;
  api_call c{st.user, "export.event", {}, {}, api::trigger_event_body(f),
             "trigger-" + st.user};
  self->request(st.ctx.router, caf::infinite, call_atom::value, std::move(c))
    .then([](api_reply&) {},
          [user = st.user, label = f.label](caf::error& err) {
            spdlog::warn("event=export_trigger_lost user={} trigger={} "
                         "error=\"{}\"",
                         user, label, message_of(err));
          });
}

void turn_applied(user_self self, const turn_record& turn) {
  auto& st = self->state;
  if (!st.ctx.export_settings)
    return;
  auto analysis = storage::analysis_task_id(turn.event_id);
  uint32_t concepts = 0;
  for (auto& id : turn.task_ids)
    concepts += id == analysis ? 0 : 1;
  auto threshold = st.ctx.export_settings->get()->policy.concept_change_threshold;
  // Below the threshold nothing is sent: one message per turn would cost
  // more than the decision it leads to.
  if (concepts == 0 || concepts < threshold)
    return;
  api::trigger_fields f;
  f.kind = exports::trigger_kind::concept_change;
  f.concept_count = concepts;
  f.label = "concept_change:" + turn.session + "/" + std::to_string(turn.turn);
  send_export_trigger(self, f);
}

void mark_export_dirty(user_self self, storage::mutation_list& m) {
  auto& st = self->state;
  if (st.export_dirty || !st.ctx.export_settings)
    return;
  if (std::none_of(m.begin(), m.end(),
                   [](auto& x) { return shown_in_export(x.col); }))
    return;
  st.export_dirty = true;
  m.push_back(storage::mutation::make_put(
    storage::column::exports, exports::export_dirty_key(st.user), ""));
}

caf::error load_export_dirty(user_self self) {
  auto& st = self->state;
  auto raw = st.ctx.db->get(storage::column::exports,
                            exports::export_dirty_key(st.user));
  if (raw) {
    st.export_dirty = true;
    return caf::none;
  }
  return raw.error() == ec::not_found ? caf::none : raw.error();
}

} // namespace engram::detail
