#include "actors/user.hpp"

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/api/session_input.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/ids.hpp"
#include "storage/active_users.hpp"
#include "storage/documents.hpp"
#include "storage/store.hpp"

namespace engram {

namespace detail {

api_reply error_reply(const caf::error& err) {
  auto r = http::error_response(err);
  return {static_cast<uint16_t>(r.status), std::move(r.body)};
}

api_reply json_reply(uint16_t status, const boost::json::object& obj) {
  return {status, boost::json::serialize(obj)};
}

api_reply deferred() {
  return {0, {}};
}

const std::string* query_param(const api_call& call, const char* name) {
  auto it = call.query.find(name);
  return it == call.query.end() ? nullptr : &it->second;
}

int64_t now_ms() {
  return now_unix_ms();
}

void journal_write(user_self self, storage::mutation_list m, ack_fn on_ack,
                   fail_fn on_fail) {
  auto& st = self->state;
  // Work is being created: make sure a restart wakes this user.
  auto creates_work = std::any_of(m.begin(), m.end(), [](auto& x) {
    return x.col == static_cast<uint8_t>(storage::column::tasks)
           && x.kind == storage::mutation::put;
  });
  mark_export_dirty(self, m);
  if (creates_work) {
    m.push_back(storage::mutation::make_put(
      storage::column::meta, storage::active_user_key(st.user), ""));
    st.active_marker = true;
    ++st.marker_epoch;
  }
  ++st.inflight;
  ++st.cache_gen;
  // No timeout: the journal answers every write (durable, or an error), and
  // a request timeout costs a lock and a clock wake-up per write. Clients
  // are still bounded by the bridge's request timeout.
  self->request(st.ctx.journal, caf::infinite, append_atom::value,
                write_request{std::move(m)})
    .then(
      [self, on_ack](commit_ack& ack) {
        auto& st = self->state;
        --st.inflight;
        ++st.cache_gen;
        st.last_seq = std::max(st.last_seq, ack.seq);
        on_ack(ack.seq);
      },
      [self, on_fail](caf::error& err) {
        --self->state.inflight;
        ++self->state.cache_gen;
        spdlog::error("event=journal_write_failed user={} error=\"{}\"",
                      self->state.user, message_of(err));
        on_fail(err);
      });
}

} // namespace detail

namespace {

using namespace detail;

// Reads that accept min_seq / wait_ms and answer with "stale".
bool is_read(const std::string& op) {
  return op == "entity.get" || op == "entity.list" || op == "entity.composite"
         || op == "turn.get" || op == "notes.list" || op == "note.get"
         || op == "note.history" || op == "tasks.list" || op == "search"
         || op == "intent.list" || op == "intent.get"
         || op == "document.list" || op == "document.get";
}

// Adds "stale" to a successful JSON object reply.
api_reply with_stale(api_reply r, bool stale) {
  if (r.status < 200 || r.status >= 300 || r.body.size() < 2
      || r.body.front() != '{')
    return r;
  auto field = std::string{"\"stale\":"} + (stale ? "true" : "false");
  if (r.body == "{}")
    r.body = "{" + field + "}";
  else
    r.body.insert(1, field + ",");
  return r;
}

api_reply dispatch(user_self self, api_call& call, reply_promise rp) {
  auto& op = call.op;
  if (op.rfind("entity.", 0) == 0 && op != "entity.composite")
    return entity_op(self, call, rp);
  if (op == "entity.composite")
    return get_composite(self, call);
  if (op == "turn.post")
    return post_turn(self, call, rp);
  if (op.rfind("intent.", 0) == 0)
    return intent_op(self, call, rp);
  if (op == "turn.get")
    return get_turn(self, call);
  if (op == "notes.list")
    return list_notes(self, call);
  if (op == "note.get")
    return get_note(self, call);
  if (op == "note.history")
    return note_history(self, call);
  if (op == "note.restore")
    return restore_note(self, call, rp);
  if (op == "tasks.list")
    return list_tasks(self, call);
  if (op == "task.retry")
    return retry_task(self, call, rp);
  if (op == "search")
    return search(self, call, rp);
  if (op.rfind("document.", 0) == 0)
    return document_op(self, call, rp);
  if (op == "session.end")
    return end_session(self, call, rp);
  if (op == "user.export_context")
    return export_context(self);
  if (op == "user.wake")
    return json_reply(200, {{"user", self->state.user}});
  return error_reply(make_error(ec::not_found, "unknown operation " + op));
}

// Runs `call` now; reads get "stale" when they were asked to wait.
void run(user_self self, api_call& call, reply_promise rp,
         std::optional<bool> stale) {
  if (stale)
    call.query["_stale"] = *stale ? "true" : "false";
  auto reply = dispatch(self, call, rp);
  if (reply.status == 0)
    return; // answers rp itself
  if (stale && call.op != "search")
    reply = with_stale(std::move(reply), *stale);
  rp.deliver(std::move(reply));
}

caf::expected<api::read_wait> wait_of(const api_call& call) {
  if (call.op != "search")
    return api::parse_read_wait(call.query);
  auto f = api::parse_search(call.body);
  if (!f)
    return f.error();
  return f->wait;
}

caf::result<api_reply> on_call(user_self self, api_call& call) {
  auto rp = self->make_response_promise<api_reply>();
  if (!is_read(call.op)) {
    run(self, call, rp, std::nullopt);
    return rp;
  }
  auto w = wait_of(call);
  if (!w) {
    rp.deliver(error_reply(w.error()));
    return rp;
  }
  if (!w->min_seq) {
    run(self, call, rp, call.op == "search" ? std::optional<bool>{false}
                                            : std::nullopt);
    return rp;
  }
  if (caught_up(self, *w->min_seq) || w->wait_ms == 0) {
    run(self, call, rp, !caught_up(self, *w->min_seq));
    return rp;
  }
  auto& st = self->state;
  auto id = ++st.next_waiter;
  st.waiters.emplace(id, waiter{*w->min_seq, std::move(call), rp});
  self->delayed_send(self, std::chrono::milliseconds(w->wait_ms),
                     timeout_atom::value, id);
  return rp;
}

caf::error load_marker(user_self self);

caf::error load_all(user_self self) {
  auto& st = self->state;
  auto t0 = std::chrono::steady_clock::now();
  if (auto err = load_marker(self))
    return err;
  if (auto err = load_entities(self))
    return err;
  if (auto err = load_notes(self))
    return err;
  if (auto err = load_intents(self))
    return err;
  if (auto err = load_documents(self))
    return err;
  if (auto err = load_export_dirty(self))
    return err;
  if (auto err = recover_tasks(self))
    return err;
  count_unembedded(self);
  if (auto err = load_index(self))
    return err;
  auto ms = std::chrono::duration<double, std::milli>(
              std::chrono::steady_clock::now() - t0)
              .count();
  if (!st.tasks.empty() || !st.dirty.empty() || ms > 100)
    spdlog::info("event=user_loaded user={} entities={} notes={} "
                 "recovered_tasks={} recovered_embeddings={} vectors={} "
                 "ms={:.1f}",
                 st.user, st.entities.size(), st.notes.size(),
                 st.tasks.size(), st.dirty.size(),
                 st.index ? st.index->size() : 0, ms);
  return caf::none;
}

// Passivation is allowed once no work is left; the user's "active" key is
// erased first (one more journal round), so a restart does not wake it.
bool idle(user_self self) {
  auto& st = self->state;
  bool quiet = st.inflight == 0 && st.tasks.empty() && st.dirty.empty()
               && st.waiters.empty() && !st.embed_busy && st.running == 0;
  if (!quiet)
    return false;
  if (!st.active_marker)
    return true;
  if (!st.clearing_marker) {
    st.clearing_marker = true;
    journal_write(
      self,
      {storage::mutation::make_erase(storage::column::meta,
                                     storage::active_user_key(st.user))},
      [self, epoch = st.marker_epoch](uint64_t) {
        auto& st = self->state;
        st.clearing_marker = false;
        // Unless a later batch put the key again.
        if (st.marker_epoch == epoch)
          st.active_marker = false;
      },
      [self](const caf::error&) { self->state.clearing_marker = false; });
  }
  return false;
}

caf::error load_marker(user_self self) {
  auto& st = self->state;
  auto raw = st.ctx.db->get(storage::column::meta,
                            storage::active_user_key(st.user));
  if (raw) {
    st.active_marker = true;
    return caf::none;
  }
  return code_of(raw.error()) == ec::not_found ? caf::none : raw.error();
}

user_actor::behavior_type user_behavior(user_self self, std::string user,
                                        user_context ctx) {
  self->state.user = std::move(user);
  self->state.ctx = std::move(ctx);
  if (auto err = load_all(self)) {
    // Stay up and answer every call with the reason; the router passivates
    // this actor like any idle one, and the next call tries again.
    spdlog::error("event=user_load_failed user={} error=\"{}\"",
                  self->state.user, message_of(err));
    return {
      [err](call_atom, api_call&) -> caf::result<api_reply> {
        // e.g. a damaged record: storage_failure (500) naming it
        return error_reply(err);
      },
      [self](idle_atom) {
        self->quit();
        return true;
      },
      [](pump_atom) {},
      [](retry_atom, std::string&) {},
      [](timeout_atom, uint64_t) {},
    };
  }
  self->set_exit_handler([self](caf::exit_msg& msg) {
    save_index(self);
    self->quit(msg.reason);
  });
  self->send(self, pump_atom::value);
  return {
    [self](call_atom, api_call& call) { return on_call(self, call); },
    [self](idle_atom) {
      bool ok = idle(self);
      if (ok) {
        save_index(self);
        self->quit();
      }
      return ok;
    },
    [self](pump_atom) {
      pump(self);
      flush_embeddings(self);
      wake_waiters(self);
    },
    [self](retry_atom, std::string& id) {
      resume_task(self, id);
      pump(self);
    },
    [self](timeout_atom, uint64_t id) {
      auto& st = self->state;
      auto it = st.waiters.find(id);
      if (it == st.waiters.end())
        return;
      auto w = std::move(it->second);
      st.waiters.erase(it);
      run(self, w.call, w.rp, !caught_up(self, w.min_seq));
    },
  };
}

} // namespace

namespace detail {

void wake_waiters(user_self self) {
  auto& st = self->state;
  for (auto it = st.waiters.begin(); it != st.waiters.end();) {
    if (!caught_up(self, it->second.min_seq)) {
      ++it;
      continue;
    }
    auto w = std::move(it->second);
    it = st.waiters.erase(it);
    run(self, w.call, w.rp, false);
  }
}

} // namespace detail

user_actor spawn_user(caf::actor_system& sys, std::string user,
                      user_context ctx) {
  return sys.spawn(user_behavior, std::move(user), std::move(ctx));
}

} // namespace engram
