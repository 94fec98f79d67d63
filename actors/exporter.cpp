// The exporter's decisions (triggers, timers, restart) and its read API.
// Running an export: exporter_run.cpp.

#include "actors/exporter.hpp"

#include <ctime>

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/exporter_state.hpp"
#include "messages/errors.hpp"
#include "runtime/api/export_input.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/exports/export_settings.hpp"
#include "runtime/exports/export_stats.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/ids.hpp"
#include "storage/columns.hpp"
#include "storage/store.hpp"

namespace engram {

namespace detail {

namespace {

using exports::outcome;

api_reply reply_of(uint16_t status, const boost::json::object& o) {
  return {status, boost::json::serialize(o)};
}

api_reply error_of(const caf::error& err) {
  auto r = http::error_response(err);
  return {static_cast<uint16_t>(r.status), std::move(r.body)};
}

void arm_timer(exporter_self self, int64_t due_ms, uint64_t generation) {
  auto wait = std::max<int64_t>(0, due_ms - now_unix_ms());
  self->delayed_send(self, std::chrono::milliseconds(wait),
                     timeout_atom::value, generation);
}

export_job job_of(const exports::decision& d, exports::trigger_kind cause) {
  export_job job;
  job.carried = d.carried;
  job.carried_dropped = d.carried_dropped;
  job.cause = cause;
  job.reason = d.reason;
  return job;
}

// Decides about one trigger; answers `rp` (at once, or after the export
// when `wait` and the export runs now).
void decide(exporter_self self, const exports::trigger& t, bool wait,
            caf::typed_response_promise<api_reply> rp) {
  auto& st = self->state;
  auto cfg = st.ctx->settings->get();
  auto d = exports::on_trigger(cfg->policy, st.rec.debounce, t);
  st.rec.stats.count(t.kind);
  st.ctx->stats->count(t.kind);
  if (!d.export_now) {
    st.rec.stats.count(d.what);
    st.ctx->stats->count(d.what);
    log_event(self, {t.label}, d.what, 0, {}, 0, d.reason);
    if (d.what == outcome::ignored)
      spdlog::info("event=export_trigger_ignored user={} trigger={} "
                   "reason=\"{}\"",
                   st.user, t.label, d.reason);
  }
  if (d.what != outcome::ignored && d.what != outcome::unchanged)
    persist(self, {});
  if (d.schedule_timer)
    arm_timer(self, d.timer_due_ms, d.timer_generation);
  boost::json::object body{{"user_id", st.user},
                           {"trigger", exports::to_string(t.kind)},
                           {"outcome", exports::to_string(d.what)},
                           {"reason", d.reason}};
  if (d.timer_due_ms)
    body["due_at"] = iso8601_ms(d.timer_due_ms);
  if (!d.export_now) {
    rp.deliver(reply_of(d.what == outcome::ignored ? 200 : 202, body));
    return;
  }
  auto job = job_of(d, t.kind);
  if (wait)
    job.waiters.push_back(rp);
  else
    rp.deliver(reply_of(202, body));
  start_export(self, std::move(job));
}

exports::trigger trigger_of(const api::trigger_fields& f) {
  exports::trigger t;
  t.kind = f.kind;
  t.at_ms = now_unix_ms();
  t.force = f.force;
  t.concept_count = f.concept_count;
  t.high_impact = f.high_impact;
  t.session_turns = f.session_turns;
  t.label = f.label;
  return t;
}

void on_trigger(exporter_self self, const api_call& call, bool internal,
                caf::typed_response_promise<api_reply> rp) {
  auto f = internal ? api::parse_trigger_event(call.body)
                    : api::parse_trigger_request(call.body);
  if (!f)
  {
    rp.deliver(error_of(f.error()));
    return;
  }
  decide(self, trigger_of(*f), false, rp);
}

void on_manual(exporter_self self, const api_call& call,
               caf::typed_response_promise<api_reply> rp) {
  auto f = api::parse_manual_export(call.body);
  if (!f)
  {
    rp.deliver(error_of(f.error()));
    return;
  }
  exports::trigger t;
  t.kind = exports::trigger_kind::manual;
  t.at_ms = now_unix_ms();
  t.force = f->force;
  t.label = "manual:" + f->reason.substr(0, 48);
  decide(self, t, true, rp);
}

void on_nightly(exporter_self self, caf::typed_response_promise<api_reply> rp) {
  exports::trigger t;
  t.kind = exports::trigger_kind::nightly;
  t.at_ms = now_unix_ms();
  t.label = "nightly";
  // The scheduler only wakes users whose dirty key is set.
  t.changed_since_last_export = true;
  decide(self, t, false, rp);
}

void on_timer(exporter_self self, uint64_t generation) {
  auto& st = self->state;
  auto cfg = st.ctx->settings->get();
  auto due = st.rec.debounce.trailing_due_ms;
  auto now = now_unix_ms();
  auto d = exports::on_timer(cfg->policy, st.rec.debounce, generation, now);
  if (!d)
    return; // stale: an export now absorbed it
  if (due)
    st.ctx->stats->timer_fired(double(now - *due) / 1000.0);
  persist(self, {});
  auto cause = d->carried.empty() ? exports::trigger_kind::manual
                                  : d->carried.back().kind;
  start_export(self, job_of(*d, cause));
}

// Parses "2026-11-22T10:00:00.000Z" (the log's format) or unix ms.
std::optional<int64_t> parse_before(const std::string& s) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit) && s.size() < 16)
    return std::stoll(s);
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms)
      != 7)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t{timegm(&tm)} * 1000 + ms;
}

api_reply on_events(exporter_self self, const api_call& call,
                    caf::typed_response_promise<api_reply> rp) {
  auto it = call.query.find("limit");
  auto limit = api::query_uint(it == call.query.end() ? nullptr : &it->second,
                               "limit", 1, 1000, 100);
  if (!limit)
    return error_of(limit.error());
  int64_t before = 0;
  if (auto b = call.query.find("before"); b != call.query.end()) {
    auto ms = parse_before(b->second);
    if (!ms || *ms <= 0)
      return error_of(make_error(
        ec::invalid_argument,
        "before: must be a timestamp such as 2026-11-22T10:00:00.000Z or "
        "unix milliseconds",
        "before"));
    before = *ms;
  }
  self
    ->request(self->state.ctx->events, caf::infinite, read_atom::value,
              self->state.user, *limit, before)
    .then([rp](std::string& body) mutable { rp.deliver(api_reply{200, body}); },
          [rp](caf::error& err) mutable { rp.deliver(error_of(err)); });
  return {0, {}};
}

api_reply on_latest(exporter_self self,
                    caf::typed_response_promise<api_reply> rp) {
  auto& st = self->state;
  auto user = st.user;
  self
    ->request(writer_of(self), caf::infinite, read_atom::value,
              export_path(st.ctx->dir, st.user))
    .then([rp](std::string& body) mutable { rp.deliver(api_reply{200, body}); },
          [rp, user](caf::error& err) mutable {
            if (err == ec::not_found)
              err = make_error(ec::not_found,
                               "user " + user + " has no export yet");
            rp.deliver(error_of(err));
          });
  return {0, {}};
}

api_reply on_stats(exporter_self self) {
  auto& st = self->state;
  auto cfg = st.ctx->settings->get();
  auto body = exports::to_json(st.rec.stats);
  body["user_id"] = st.user;
  body["mode"] = exports::to_string(cfg->policy.mode);
  body["debounce_ms"] = cfg->policy.debounce_ms;
  body["nightly_at"] = cfg->nightly_at;
  body["version"] = st.rec.version;
  body["content_hash"] = st.rec.last_hash;
  auto& d = st.rec.debounce;
  body["pending_triggers"] = d.pending.size() + d.pending_dropped;
  body["trailing_due_at"] = d.trailing_due_ms
                              ? boost::json::value(iso8601_ms(*d.trailing_due_ms))
                              : boost::json::value(nullptr);
  body["exporting"] = st.exporting;
  return reply_of(200, body);
}

caf::result<api_reply> on_call(exporter_self self, api_call& call) {
  auto rp = self->make_response_promise<api_reply>();
  auto& op = call.op;
  api_reply r{0, {}};
  if (op == "export.trigger")
    on_trigger(self, call, false, rp);
  else if (op == "export.event")
    on_trigger(self, call, true, rp);
  else if (op == "export.manual")
    on_manual(self, call, rp);
  else if (op == "export.nightly")
    on_nightly(self, rp);
  else if (op == "export.wake")
    r = reply_of(200, {{"user_id", self->state.user}});
  else if (op == "export.events")
    r = on_events(self, call, rp);
  else if (op == "export.latest")
    r = on_latest(self, rp);
  else if (op == "export.stats")
    r = on_stats(self);
  else
    r = error_of(make_error(ec::not_found, "unknown operation " + op));
  if (r.status != 0)
    rp.deliver(std::move(r));
  return rp;
}

// Loads the stored record; a scheduled trailing export resumes (re-armed,
// or run now when it fell due while the node was down).
void load(exporter_self self) {
  auto& st = self->state;
  auto raw = st.ctx->db->get(storage::column::exports,
                            exports::exporter_state_key(st.user));
  if (!raw) {
    if (raw.error() != ec::not_found)
      spdlog::error("event=export_state_unreadable user={} error=\"{}\"",
                    st.user, message_of(raw.error()));
    return;
  }
  auto rec = exports::exporter_record_from_json(*raw);
  if (!rec) {
    // Start afresh rather than never exporting this user again; the
    // version goes on from a safe floor so it still only grows.
    spdlog::error("event=export_state_damaged user={} error=\"{}\"", st.user,
                  message_of(rec.error()));
    st.rec.version = static_cast<uint64_t>(now_unix_ms());
    return;
  }
  st.rec = std::move(*rec);
  auto cfg = st.ctx->settings->get();
  auto d = exports::resume(cfg->policy, st.rec.debounce, now_unix_ms());
  if (!d)
    return;
  spdlog::info("event=export_resumed user={} export_now={} pending={}",
               st.user, d->export_now, d->carried_count());
  if (d->schedule_timer)
    arm_timer(self, d->timer_due_ms, d->timer_generation);
  persist(self, {});
  if (d->export_now)
    start_export(self, job_of(*d, d->carried.empty()
                                    ? exports::trigger_kind::manual
                                    : d->carried.back().kind));
}

bool idle(exporter_self self) {
  auto& st = self->state;
  return !st.exporting && !st.queued && st.inflight == 0
         && !st.rec.debounce.trailing_due_ms;
}

user_actor::behavior_type exporter(exporter_self self, std::string user,
                                   std::shared_ptr<const export_context> ctx) {
  self->state.user = std::move(user);
  self->state.ctx = std::move(ctx);
  load(self);
  return {
    [self](call_atom, api_call& call) { return on_call(self, call); },
    [self](idle_atom) {
      bool yes = idle(self);
      if (yes)
        self->quit();
      return yes;
    },
    [](pump_atom) {},
    [](retry_atom, const std::string&) {},
    [self](timeout_atom, uint64_t generation) { on_timer(self, generation); },
  };
}

} // namespace

} // namespace detail

std::string export_path(const std::string& dir, const std::string& user) {
  return dir + "/" + exports::user_dir_name(user) + "/mesh_context.json";
}

user_actor spawn_exporter(caf::actor_system& sys, std::string user,
                          std::shared_ptr<const export_context> ctx) {
  return sys.spawn(detail::exporter, std::move(user), std::move(ctx));
}

} // namespace engram
