#include <boost/json.hpp>

#include "messages/errors.hpp"
#include "runtime/api/forwarder.hpp"
#include "runtime/api/routes.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/ids.hpp"
#include "runtime/queue_stats.hpp"
#include "storage/json_codec.hpp"
#include "storage/store.hpp"
#include "storage/task_record.hpp"
#include "storage/turn_record.hpp"

namespace engram::api {

namespace {

http::response json_response(unsigned status, const boost::json::object& obj) {
  http::response r;
  r.status = status;
  r.body = boost::json::serialize(obj);
  return r;
}

// The owner of a task id: {user, session} from the event index, so that
// /v1/tasks/{task_id}/retry can go to the right user actor.
caf::expected<std::pair<std::string, std::string>>
task_owner(storage::store& db, const std::string& task_id) {
  auto event = storage::event_of_task(task_id);
  auto not_found = make_error(ec::not_found, "task " + task_id + " not found",
                              "task_id");
  if (event.empty())
    return not_found;
  auto raw = db.get(storage::column::meta, storage::event_owner_key(event));
  if (!raw)
    return code_of(raw.error()) == ec::not_found ? not_found : raw.error();
  auto v = storage::decode_json(*raw);
  if (!v || !v->is_object())
    return make_error(ec::storage_failure, "damaged event index entry");
  auto& o = v->as_object();
  auto user = o.if_contains("user");
  auto session = o.if_contains("session");
  if (!user || !session || !user->is_string() || !session->is_string())
    return make_error(ec::storage_failure, "damaged event index entry");
  return std::make_pair(std::string{user->as_string()},
                        std::string{session->as_string()});
}

} // namespace

void add_session_routes(gateway& gw, session_deps deps) {
  forwarder fwd{std::move(deps.bridges)};
  const std::string user = "/v1/users/{user}";
  const std::string session = user + "/sessions/{session}";
  gw.add_route("POST", session + "/turns", access::user,
               fwd("turn.post", true));
  gw.add_route("GET", session + "/turns/{turn}", access::user,
               fwd("turn.get", false));
  gw.add_route("GET", session + "/notes", access::user,
               fwd("notes.list", false));
  gw.add_route("GET", session + "/notes/{entity_id}", access::user,
               fwd("note.get", false));
  gw.add_route("GET", session + "/notes/{entity_id}/history", access::user,
               fwd("note.history", false));
  gw.add_route("POST", session + "/notes/{entity_id}/restore", access::user,
               fwd("note.restore", true));
  gw.add_route("GET", session + "/tasks", access::user,
               fwd("tasks.list", false));
  gw.add_route("POST", user + "/search", access::user, fwd("search", true));
  auto db = deps.db;
  gw.add_route("POST", "/v1/tasks/{task_id}/retry", access::admin,
               [fwd, db](http::request req, http::path_params params,
                         http::responder done) {
                 auto owner = task_owner(*db, params["task_id"]);
                 if (!owner)
                   return done(http::error_response(owner.error()));
                 api_call call;
                 call.user = owner->first;
                 call.op = "task.retry";
                 call.params = {{"session", owner->second},
                                {"task_id", params["task_id"]}};
                 call.request_id = std::move(req.request_id);
                 fwd.send(std::move(call), std::move(done));
               });
  auto stats = deps.stats;
  gw.add_route("GET", "/v1/queues", access::any_key,
               [stats](http::request, http::path_params, http::responder done) {
                 done(json_response(
                   200, {{"queues", stats->to_json(now_unix_ms())}}));
               });
}

} // namespace engram::api
