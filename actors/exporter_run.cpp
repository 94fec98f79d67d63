// Running one export: context from the user actor, hash check, version
// stored first, file written by a detached writer, then log, stats and
// webhook. One export of a user runs at a time; exports decided meanwhile
// are merged into one queued job.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/exporter_state.hpp"
#include "messages/errors.hpp"
#include "runtime/exports/export_settings.hpp"
#include "runtime/exports/export_stats.hpp"
#include "runtime/exports/mesh_context.hpp"
#include "runtime/ids.hpp"
#include "storage/columns.hpp"

namespace engram::detail {

namespace {

using exports::outcome;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
    .count();
}

void notify_webhook(exporter_self self, const export_job& job,
                    int64_t generated_ms) {
  auto& st = self->state;
  if (!st.ctx->webhook)
    return;
  boost::json::array triggers;
  for (auto& l : labels_of(job))
    triggers.emplace_back(l);
  auto body = boost::json::serialize(boost::json::object{
    {"user_id", st.user},
    {"version", st.rec.version},
    {"content_hash", st.rec.last_hash},
    {"generated_at", iso8601_ms(generated_ms)},
    {"triggers", std::move(triggers)}});
  self->send(st.ctx->webhook, notify_atom::value, std::move(body));
}

void run_next(exporter_self self);

// Every path of an export ends here, exactly once.
void finish(exporter_self self, export_job job, outcome what,
            const std::string& error) {
  auto& st = self->state;
  auto now = now_unix_ms();
  auto secs = seconds_since(job.t0);
  st.rec.stats.count(what);
  st.ctx->stats->count(what);
  storage::mutation_list extra;
  if (what == outcome::failed) {
    // The user's changes are still unexported: the nightly run retries.
    extra.push_back(storage::mutation::make_put(
      storage::column::exports, exports::export_dirty_key(st.user), ""));
    spdlog::warn("event=export_failed user={} triggers={} error=\"{}\"",
                 st.user, job.carried.size() + job.carried_dropped, error);
  } else {
    exports::on_exported(st.rec.debounce, now);
  }
  if (what == outcome::exported) {
    st.rec.stats.exported(secs, now);
    st.ctx->stats->exported(secs, now);
    notify_webhook(self, job, now);
  }
  persist(self, std::move(extra));
  auto labels = labels_of(job);
  log_event(self, labels, what, secs, error,
            what == outcome::exported ? st.rec.version : 0, job.reason);
  boost::json::array triggers;
  for (auto& l : labels)
    triggers.emplace_back(l);
  boost::json::object body{{"user_id", st.user},
                           {"outcome", exports::to_string(what)},
                           {"version", st.rec.version},
                           {"content_hash", st.rec.last_hash},
                           {"triggers", std::move(triggers)},
                           {"duration_seconds", secs}};
  if (!error.empty())
    body["error"] = error;
  auto text = boost::json::serialize(body);
  for (auto& rp : job.waiters)
    rp.deliver(api_reply{static_cast<uint16_t>(what == outcome::failed ? 503 : 200),
                         text});
  st.exporting = false;
  run_next(self);
}

void write_file(exporter_self self, export_job job,
                boost::json::object context, std::string hash) {
  auto& st = self->state;
  auto now = now_unix_ms();
  exports::export_header h{st.user, now, st.rec.version, labels_of(job)};
  auto text = exports::render_export(h, context, hash);
  self
    ->request(writer_of(self), caf::infinite, write_atom::value,
              export_path(st.ctx->dir, st.user), std::move(text))
    .then(
      [self, job, hash](bool) mutable {
        self->state.rec.last_hash = hash;
        finish(self, std::move(job), outcome::exported, {});
      },
      [self, job](caf::error& err) mutable {
        finish(self, std::move(job), outcome::failed, message_of(err));
      });
}

void got_context(exporter_self self, export_job job, const api_reply& r) {
  auto& st = self->state;
  if (r.status != 200)
    return finish(self, std::move(job), outcome::failed,
                  "user context unavailable: HTTP " + std::to_string(r.status)
                    + " " + r.body);
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object())
    return finish(self, std::move(job), outcome::failed,
                  "user context is not a JSON object");
  auto context = std::move(v.as_object());
  auto hash = exports::content_hash(context);
  if (hash == st.rec.last_hash)
    return finish(self, std::move(job), outcome::unchanged, {});
  // The version is durable before any file carries it, so it only grows.
  ++st.rec.version;
  persist(
    self, {},
    [self, job, context, hash]() mutable {
      write_file(self, std::move(job), std::move(context), std::move(hash));
    },
    [self, job](const caf::error& err) mutable {
      finish(self, std::move(job), outcome::failed, message_of(err));
    });
}

void run(exporter_self self, export_job job) {
  auto& st = self->state;
  st.exporting = true;
  api_call call;
  call.user = st.user;
  call.op = "user.export_context";
  call.request_id = "export-" + st.user;
  self
    ->request(st.ctx->router, st.ctx->context_timeout, call_atom::value,
              std::move(call))
    .then(
      [self, job](api_reply& r) mutable { got_context(self, std::move(job), r); },
      [self, job](caf::error& err) mutable {
        finish(self, std::move(job), outcome::failed,
               "user context unavailable: " + message_of(err));
      });
}

void run_next(exporter_self self) {
  auto& st = self->state;
  if (st.exporting || !st.queued)
    return;
  auto job = std::move(*st.queued);
  st.queued.reset();
  run(self, std::move(job));
}

} // namespace

export_writer_actor writer_of(exporter_self self) {
  auto& w = self->state.ctx->writers;
  return w[std::hash<std::string>{}(self->state.user) % w.size()];
}

std::vector<std::string> labels_of(const export_job& job) {
  std::vector<std::string> out;
  out.reserve(job.carried.size() + 1);
  for (auto& c : job.carried)
    out.push_back(c.label.empty() ? exports::to_string(c.kind) : c.label);
  if (job.carried_dropped)
    out.push_back("+" + std::to_string(job.carried_dropped) + " more");
  return out;
}

void start_export(exporter_self self, export_job job) {
  auto& st = self->state;
  if (!st.exporting)
    return run(self, std::move(job));
  if (!st.queued) {
    st.queued = std::move(job);
    return;
  }
  auto& q = *st.queued;
  q.carried.insert(q.carried.end(), job.carried.begin(), job.carried.end());
  q.carried_dropped += job.carried_dropped;
  q.reason += "; " + job.reason;
  for (auto& w : job.waiters)
    q.waiters.push_back(std::move(w));
}

void persist(exporter_self self, storage::mutation_list extra,
             std::function<void()> then,
             std::function<void(const caf::error&)> fail) {
  auto& st = self->state;
  extra.push_back(storage::mutation::make_put(
    storage::column::exports, exports::exporter_state_key(st.user),
    exports::to_json(st.rec)));
  ++st.inflight;
  self
    ->request(st.ctx->journal, caf::infinite, append_atom::value,
              write_request{std::move(extra)})
    .then(
      [self, then](commit_ack&) {
        --self->state.inflight;
        if (then)
          then();
      },
      [self, fail](caf::error& err) {
        --self->state.inflight;
        spdlog::error("event=export_state_write_failed user={} error=\"{}\"",
                      self->state.user, message_of(err));
        if (fail)
          fail(err);
      });
}

void log_event(exporter_self self, const std::vector<std::string>& triggers,
               exports::outcome what, double seconds, const std::string& error,
               uint64_t version, const std::string& reason) {
  auto& st = self->state;
  exports::export_event e;
  e.at_ms = now_unix_ms();
  e.user_id = st.user;
  e.triggers = triggers;
  e.outcome = exports::to_string(what);
  e.duration_seconds = seconds;
  e.success = what != outcome::failed;
  e.mode = exports::to_string(st.ctx->settings->get()->policy.mode);
  e.error = error;
  e.version = version;
  e.reason = reason;
  self->send(st.ctx->events, log_atom::value,
             boost::json::serialize(exports::to_json(e)));
}

} // namespace engram::detail
