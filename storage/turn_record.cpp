#include "storage/turn_record.hpp"

#include <limits>
#include <type_traits>

#include <boost/json/array.hpp>

#include "messages/errors.hpp"
#include "storage/detail/field_reader.hpp"
#include "storage/json_codec.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

using boost::json::object;
using boost::json::value;

using detail::field_reader;

} // namespace

std::string_view to_string(turn_status s) {
  switch (s) {
    case turn_status::pending: return "pending";
    case turn_status::analysed: return "analysed";
    case turn_status::applied: return "applied";
    case turn_status::failed: return "failed";
  }
  return "pending";
}

std::optional<turn_status> turn_status_from(std::string_view s) {
  for (auto st : {turn_status::pending, turn_status::analysed,
                  turn_status::applied, turn_status::failed})
    if (to_string(st) == s)
      return st;
  return std::nullopt;
}

boost::json::object to_json(const turn_record& t) {
  boost::json::array task_ids;
  for (auto& id : t.task_ids)
    task_ids.emplace_back(id);
  return {{"session", t.session},
          {"turn", t.turn},
          {"event_id", t.event_id},
          {"text", t.text},
          {"status", to_string(t.status)},
          {"task_ids", std::move(task_ids)},
          {"open_tasks", t.open_tasks},
          {"created_at", t.created_at},
          {"updated_at", t.updated_at}};
}

caf::expected<turn_record> turn_from_json(std::string_view text) {
  auto v = decode_json(text);
  if (!v || !v->is_object())
    return make_error(ec::storage_failure,
                      "damaged turn record: not a JSON object");
  field_reader r{v->get_object(), "turn record"};
  turn_record t;
  r.str("session", t.session);
  r.integer("turn", t.turn);
  r.str("event_id", t.event_id);
  r.str("text", t.text);
  r.name("status", turn_status_from, t.status);
  r.strings("task_ids", t.task_ids);
  r.integer("open_tasks", t.open_tasks);
  r.str("created_at", t.created_at);
  r.str("updated_at", t.updated_at);
  if (auto err = std::move(r).error())
    return err;
  return t;
}

std::string turn_key(std::string_view user, std::string_view session,
                     int64_t turn) {
  return key_builder{}.str(user).str(session).i64(turn).bytes();
}

std::string turn_session_prefix(std::string_view user,
                                std::string_view session) {
  return key_builder{}.str(user).str(session).bytes();
}

std::string event_owner_key(std::string_view event_id) {
  // Meta is node-wide, so the key starts with what it maps, not a user.
  return key_builder{}.str("event_owner").str(event_id).bytes();
}

} // namespace engram::storage
