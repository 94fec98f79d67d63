#include "storage/task_record.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "messages/errors.hpp"
#include "storage/detail/field_reader.hpp"
#include "storage/json_codec.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

using boost::json::object;
using boost::json::value;

// Second key part of the two kinds of record in the tasks column.
constexpr std::string_view task_tag = "t";
constexpr std::string_view marker_tag = "e";

using detail::field_reader;

} // namespace

std::string_view to_string(task_queue q) {
  switch (q) {
    case task_queue::analysis: return "analysis";
    case task_queue::note_update: return "note_update";
    case task_queue::entity_creation: return "entity_creation";
  }
  return "analysis";
}

std::optional<task_queue> task_queue_from(std::string_view s) {
  for (auto q : {task_queue::analysis, task_queue::note_update,
                 task_queue::entity_creation})
    if (to_string(q) == s)
      return q;
  return std::nullopt;
}

std::string_view to_string(task_status s) {
  switch (s) {
    case task_status::pending: return "pending";
    case task_status::in_flight: return "in_flight";
    case task_status::done: return "done";
    case task_status::failed: return "failed";
  }
  return "pending";
}

std::optional<task_status> task_status_from(std::string_view s) {
  for (auto st : {task_status::pending, task_status::in_flight,
                  task_status::done, task_status::failed})
    if (to_string(st) == s)
      return st;
  return std::nullopt;
}

std::string_view to_string(task_event e) {
  switch (e) {
    case task_event::start: return "start";
    case task_event::succeed: return "succeed";
    case task_event::fail_retryable: return "fail_retryable";
    case task_event::fail_final: return "fail_final";
    case task_event::recover: return "recover";
    case task_event::retry: return "retry";
  }
  return "start";
}

caf::expected<task_status> next_status(task_status from, task_event ev) {
  using st = task_status;
  switch (ev) {
    case task_event::start:
      if (from == st::pending)
        return st::in_flight;
      break;
    case task_event::succeed:
      if (from == st::in_flight)
        return st::done;
      break;
    case task_event::fail_retryable:
    case task_event::recover:
      if (from == st::in_flight)
        return st::pending;
      break;
    case task_event::fail_final:
      if (from == st::in_flight)
        return st::failed;
      break;
    case task_event::retry:
      if (from == st::failed)
        return st::pending;
      break;
  }
  return make_error(ec::conflict, "cannot " + std::string{to_string(ev)}
                                    + " a " + std::string{to_string(from)}
                                    + " task");
}

boost::json::object to_json(const task_record& t) {
  boost::json::value last_error = nullptr;
  if (!t.last_error.empty())
    last_error = t.last_error;
  return {{"task_id", t.id},
          {"queue", to_string(t.queue)},
          {"status", to_string(t.status)},
          {"session", t.session},
          {"turn", t.turn},
          {"event_id", t.event_id},
          {"entity_id", t.entity_id},
          {"entity_type", t.entity_type},
          {"summary", t.summary},
          {"name", t.name},
          {"attempts", t.attempts},
          {"last_error", std::move(last_error)},
          {"created_ms", t.created_ms},
          {"updated_ms", t.updated_ms}};
}

caf::expected<task_record> task_from_json(std::string_view text) {
  auto v = decode_json(text);
  if (!v || !v->is_object())
    return make_error(ec::storage_failure,
                      "damaged task record: not a JSON object");
  field_reader r{v->get_object(), "task record"};
  task_record t;
  r.str("task_id", t.id);
  r.name("queue", task_queue_from, t.queue);
  r.name("status", task_status_from, t.status);
  r.str("session", t.session);
  r.integer("turn", t.turn);
  r.str("event_id", t.event_id);
  r.str("entity_id", t.entity_id);
  r.str("entity_type", t.entity_type);
  r.str("summary", t.summary);
  r.str("name", t.name);
  r.integer("attempts", t.attempts);
  r.nullable_str("last_error", t.last_error);
  r.integer("created_ms", t.created_ms);
  r.integer("updated_ms", t.updated_ms);
  if (auto err = std::move(r).error())
    return err;
  return t;
}

std::string analysis_task_id(std::string_view event_id) {
  return std::string{event_id} + ".a";
}

std::string update_task_id(std::string_view event_id, std::size_t i) {
  return std::string{event_id} + ".u" + std::to_string(i);
}

std::string creation_task_id(std::string_view event_id, std::size_t i) {
  return std::string{event_id} + ".c" + std::to_string(i);
}

std::string_view event_of_task(std::string_view task_id) {
  auto dot = task_id.find('.');
  if (dot == std::string_view::npos)
    return {};
  return task_id.substr(0, dot);
}

std::string task_key(std::string_view user, std::string_view session,
                     std::string_view task_id) {
  return key_builder{}.str(user).str(task_tag).str(session).str(task_id)
    .bytes();
}

std::string task_session_prefix(std::string_view user,
                                std::string_view session) {
  return key_builder{}.str(user).str(task_tag).str(session).bytes();
}

std::string task_user_prefix(std::string_view user) {
  return key_builder{}.str(user).str(task_tag).bytes();
}

std::string embed_marker_key(std::string_view user, std::string_view doc_key) {
  return key_builder{}.str(user).str(marker_tag).str(doc_key).bytes();
}

std::string embed_marker_prefix(std::string_view user) {
  return key_builder{}.str(user).str(marker_tag).bytes();
}

std::optional<std::string> doc_key_of_marker(std::string_view user,
                                             std::string_view key) {
  key_reader r{key};
  if (r.str() != user || r.str() != marker_tag)
    return std::nullopt;
  auto doc_key = r.str();
  if (!doc_key || !r.done())
    return std::nullopt;
  return doc_key;
}

std::chrono::milliseconds retry_delay(uint32_t attempts,
                                      std::chrono::milliseconds base,
                                      std::chrono::milliseconds max,
                                      double jitter) {
  using rep = std::chrono::milliseconds::rep;
  rep cap = std::max<rep>(max.count(), 0);
  rep first = std::clamp<rep>(base.count(), 0, cap);
  // base * 2^(attempts-1), saturating at cap. Comparing against cap >> shift
  // instead of shifting first keeps huge attempt counts from overflowing.
  uint32_t shift = attempts <= 1 ? 0 : attempts - 1;
  rep full = cap;
  if (shift < 62 && first <= (cap >> shift))
    full = first << shift;
  // NaN and out-of-range jitter from a broken random source still give a
  // delay within [half, full].
  if (!(jitter >= 0.0))
    jitter = 0.0;
  jitter = std::min(jitter, std::nextafter(1.0, 0.0));
  rep half = full / 2;
  rep spread = full - half;
  auto extra = static_cast<rep>(static_cast<double>(spread) * jitter);
  return std::chrono::milliseconds{half + std::clamp<rep>(extra, 0, spread)};
}

} // namespace engram::storage
