#include "actors/router.hpp"

#include <unordered_map>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/errors.hpp"
#include "runtime/metrics.hpp"
#include "runtime/http/error_body.hpp"

namespace engram {

namespace {

struct queued_call {
  api_call call;
  caf::typed_response_promise<api_reply> rp;
};

struct user_entry {
  user_actor handle;
  std::chrono::steady_clock::time_point last_call;
  bool closing = false;          // an idle handshake is under way
  std::vector<queued_call> queue; // calls that arrived while closing
};

struct router_state {
  user_context ctx;
  std::shared_ptr<const export_context> ectx; // router set; shared by all
  router_options opts;
  std::unordered_map<std::string, user_entry> users;
  static inline const char* name = "engram.router";
};

using router_self = router_actor::stateful_pointer<router_state>;

// Entry keys: the user id for user actors, '\x01' + user id for exporters
// (ids never contain control characters).
constexpr char exporter_mark = '\x01';

bool is_exporter(const std::string& key) {
  return !key.empty() && key.front() == exporter_mark;
}

std::string key_of(const api_call& call) {
  if (call.op.rfind("export.", 0) == 0)
    return exporter_mark + call.user;
  return call.user;
}

user_entry& spawn_entry(router_self self, const std::string& key) {
  auto& st = self->state;
  auto& e = st.users[key];
  auto me = caf::actor_cast<caf::actor>(self);
  if (is_exporter(key)) {
    e.handle = spawn_exporter(self->system(), key.substr(1), st.ectx);
  } else {
    auto ctx = st.ctx;
    ctx.router = me;
    e.handle = spawn_user(self->system(), key, std::move(ctx));
  }
  e.closing = false;
  self->link_to(e.handle); // a router that stops takes its users along
  return e;
}

void flush_queue(router_self self, const std::string& user) {
  auto& e = self->state.users[user];
  auto queue = std::move(e.queue);
  e.queue.clear();
  for (auto& q : queue)
    q.rp.delegate(e.handle, call_atom::value, std::move(q.call));
}

// Asks an idle user actor to quit; keeps it when it is still busy.
void passivate(router_self self, const std::string& user) {
  auto& e = self->state.users[user];
  e.closing = true;
  self->request(e.handle, std::chrono::seconds(5), idle_atom::value)
    .then(
      [self, user](bool quitting) {
        auto& e = self->state.users[user];
        if (quitting && e.queue.empty()) {
          self->state.users.erase(user);
          return;
        }
        if (quitting)
          spawn_entry(self, user);
        e.closing = false;
        e.last_call = std::chrono::steady_clock::now();
        flush_queue(self, user);
      },
      [self, user](caf::error&) {
        auto& e = self->state.users[user];
        e.closing = false;
        flush_queue(self, user);
      });
}

// A user actor ended without the handshake (a bug or an exception): forget
// it, so the next call starts a fresh one, and fail the calls it held. Any
// other exit (the node stopping) ends the router too.
void on_exit(router_self self, caf::exit_msg& msg) {
  auto& users = self->state.users;
  for (auto it = users.begin(); it != users.end(); ++it) {
    if (it->second.handle.address() != msg.source)
      continue;
    auto user = is_exporter(it->first) ? it->first.substr(1) : it->first;
    spdlog::error("event={}_actor_died user={} reason=\"{}\"",
                  is_exporter(it->first) ? "exporter" : "user", user,
                  caf::to_string(msg.reason));
    auto r = http::error_response(
      make_error(ec::unavailable, "the user's actor stopped; retry"));
    for (auto& q : it->second.queue)
      q.rp.deliver(api_reply{static_cast<uint16_t>(r.status), r.body});
    users.erase(it);
    return;
  }
  // A passivated actor's own exit arrives after the handshake removed it.
  if (msg.reason == caf::exit_reason::normal)
    return;
  self->quit(msg.reason);
}

std::chrono::milliseconds sweep_interval(const router_options& o) {
  return std::max(std::chrono::milliseconds(10),
                  std::min(o.user_idle, o.exporter_idle) / 2);
}

void sweep(router_self self) {
  auto& opts = self->state.opts;
  auto now = std::chrono::steady_clock::now();
  std::vector<std::string> idle;
  double users = 0, exporters = 0;
  for (auto& [key, e] : self->state.users) {
    auto limit = is_exporter(key) ? opts.exporter_idle : opts.user_idle;
    (is_exporter(key) ? exporters : users) += 1;
    if (!e.closing && now - e.last_call >= limit)
      idle.push_back(key);
  }
  if (opts.live_users)
    opts.live_users->set(users);
  if (opts.live_exporters)
    opts.live_exporters->set(exporters);
  for (auto& key : idle)
    passivate(self, key);
  self->delayed_send(self, sweep_interval(opts), idle_atom::value);
}

router_actor::behavior_type router(router_self self, user_context ctx,
                                   export_context ectx, router_options opts) {
  self->state.ctx = std::move(ctx);
  ectx.router = caf::actor_cast<caf::actor>(self);
  self->state.ectx = std::make_shared<const export_context>(std::move(ectx));
  self->state.opts = opts;
  self->set_exit_handler([self](caf::exit_msg& msg) { on_exit(self, msg); });
  self->delayed_send(self, sweep_interval(opts), idle_atom::value);
  return {
    [self](call_atom, api_call& call) -> caf::result<api_reply> {
      auto key = key_of(call);
      if (is_exporter(key) && self->state.ectx->writers.empty()) {
        auto r = http::error_response(
          make_error(ec::unavailable, "exports are not enabled on this node"));
        return api_reply{static_cast<uint16_t>(r.status), r.body};
      }
      auto it = self->state.users.find(key);
      auto& e = it != self->state.users.end() ? it->second
                                              : spawn_entry(self, key);
      e.last_call = std::chrono::steady_clock::now();
      if (e.closing) {
        auto rp = self->make_response_promise<api_reply>();
        e.queue.push_back({std::move(call), rp});
        return rp;
      }
      return self->delegate(e.handle, call_atom::value, std::move(call));
    },
    [self](status_atom) {
      uint64_t n = 0;
      for (auto& kv : self->state.users)
        n += is_exporter(kv.first) ? 0 : 1;
      return n;
    },
    [self](idle_atom) { sweep(self); },
  };
}

} // namespace

router_actor spawn_router(caf::actor_system& sys, user_context ctx,
                          export_context ectx, router_options opts) {
  return sys.spawn(router, std::move(ctx), std::move(ectx), opts);
}

} // namespace engram
