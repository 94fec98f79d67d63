#include "actors/export_scheduler.hpp"

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/errors.hpp"
#include "runtime/exports/export_settings.hpp"
#include "runtime/exports/exporter_record.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/ids.hpp"
#include "storage/store.hpp"

namespace engram {

namespace {

struct scheduler_state {
  std::shared_ptr<storage::store> db;
  journal_actor journal;
  router_actor router;
  std::shared_ptr<exports::export_settings> settings;
  uint64_t armed = 0; // generation of the live nightly timer
  static inline const char* name = "engram.export_scheduler";
};

using scheduler_self = export_scheduler_actor::stateful_pointer<scheduler_state>;

api_reply error_of(const caf::error& err) {
  auto r = http::error_response(err);
  return {static_cast<uint16_t>(r.status), std::move(r.body)};
}

void arm(scheduler_self self) {
  auto& st = self->state;
  auto cfg = st.settings->get();
  auto now = now_unix_ms();
  auto at = exports::next_daily_ms(now, cfg->nightly_at_s);
  auto gen = ++st.armed;
  self->delayed_send(self, std::chrono::milliseconds(at - now),
                     nightly_atom::value, gen);
  spdlog::debug("event=nightly_armed at={}", iso8601_ms(at));
}

// Sends `op` to the exporters of `users` (fire and forget: each exporter
// logs its own outcome).
void send_all(scheduler_self self, const std::vector<std::string>& users,
              const char* op) {
  for (auto& u : users) {
    api_call c{u, op, {}, {}, {}, std::string{"schedule-"} + u};
    self->request(self->state.router, caf::infinite, call_atom::value,
                  std::move(c))
      .then([](api_reply&) {},
            [u, op](caf::error& err) {
              spdlog::warn("event=export_schedule_failed user={} op={} "
                           "error=\"{}\"",
                           u, op, message_of(err));
            });
  }
}

std::vector<std::string> users_with(scheduler_self self,
                                    exports::export_key_kind kind) {
  std::vector<std::string> users;
  auto err = self->state.db->scan(
    storage::column::exports, {}, {},
    [&](std::string_view key, std::string_view value) {
      auto k = exports::parse_export_key(key);
      if (!k || k->second != kind)
        return true;
      if (kind == exports::export_key_kind::state) {
        auto rec = exports::exporter_record_from_json(value);
        if (!rec || !rec->debounce.trailing_due_ms)
          return true;
      }
      users.push_back(std::move(k->first));
      return true;
    });
  if (err)
    spdlog::error("event=export_scan_failed error=\"{}\"", message_of(err));
  return users;
}

void run_nightly(scheduler_self self, uint64_t gen) {
  if (gen != self->state.armed)
    return; // the schedule changed since this timer was armed
  auto t0 = std::chrono::steady_clock::now();
  auto users = users_with(self, exports::export_key_kind::dirty);
  send_all(self, users, "export.nightly");
  spdlog::info("event=nightly_exports users={} scan_ms={:.1f}", users.size(),
               std::chrono::duration<double, std::milli>(
                 std::chrono::steady_clock::now() - t0)
                 .count());
  arm(self);
}

void update_config(scheduler_self self, bridge_call& call) {
  auto& st = self->state;
  auto patch = exports::parse_settings_patch(call.call.body);
  if (!patch)
    return call.done(error_of(patch.error()));
  // The stored change accumulates: fields not given keep earlier values.
  exports::settings_patch stored;
  if (auto raw = st.db->get(storage::column::meta, exports::exports_config_key()))
    if (auto old = exports::settings_patch_from_json(*raw))
      stored = *old;
  if (patch->mode)
    stored.mode = patch->mode;
  if (patch->debounce_ms)
    stored.debounce_ms = patch->debounce_ms;
  if (patch->nightly_at)
    stored.nightly_at = patch->nightly_at;
  auto m = storage::mutation_list{storage::mutation::make_put(
    storage::column::meta, exports::exports_config_key(),
    exports::to_json(stored))};
  auto done = std::move(call.done);
  auto p = *patch;
  self->request(st.journal, caf::infinite, append_atom::value,
                write_request{std::move(m)})
    .then(
      [self, p, done](commit_ack&) {
        auto now = self->state.settings->apply(p);
        spdlog::info("event=export_config_changed config={}",
                     boost::json::serialize(exports::to_json(*now)));
        if (p.nightly_at)
          arm(self);
        done(api_reply{200, boost::json::serialize(exports::to_json(*now))});
      },
      [done](caf::error& err) { done(error_of(err)); });
}

export_scheduler_actor::behavior_type
scheduler(scheduler_self self, std::shared_ptr<storage::store> db,
          journal_actor journal, router_actor router,
          std::shared_ptr<exports::export_settings> settings) {
  auto& st = self->state;
  st.db = std::move(db);
  st.journal = std::move(journal);
  st.router = std::move(router);
  st.settings = std::move(settings);
  auto pending = users_with(self, exports::export_key_kind::state);
  if (!pending.empty())
    spdlog::info("event=export_resume users={}", pending.size());
  send_all(self, pending, "export.wake");
  arm(self);
  return {
    [self](config_atom, bridge_call& call) { update_config(self, call); },
    [self](nightly_atom, uint64_t gen) { run_nightly(self, gen); },
  };
}

} // namespace

export_scheduler_actor
spawn_export_scheduler(caf::actor_system& sys,
                       std::shared_ptr<storage::store> db,
                       journal_actor journal, router_actor router,
                       std::shared_ptr<exports::export_settings> settings) {
  return sys.spawn(scheduler, std::move(db), std::move(journal),
                   std::move(router), std::move(settings));
}

caf::error load_export_config(const storage::store& db,
                              exports::export_settings& settings) {
  auto raw = db.get(storage::column::meta, exports::exports_config_key());
  if (!raw)
    return raw.error() == ec::not_found ? caf::none : raw.error();
  auto p = exports::settings_patch_from_json(*raw);
  if (!p)
    return p.error();
  settings.apply(*p);
  return caf::none;
}

} // namespace engram
