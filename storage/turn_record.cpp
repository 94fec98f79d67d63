#include "storage/turn_record.hpp"

#include <limits>
#include <type_traits>

#include <boost/json/array.hpp>

#include "messages/errors.hpp"
#include "storage/json_codec.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

using boost::json::object;
using boost::json::value;

// Reads the fields of a stored record. The first bad field wins and later
// reads are skipped, so the error names the field that broke. Never throws
// (Boost.JSON's as_*() would on a wrong kind). task_record.cpp and
// note_record.cpp carry the same reader, each with the reads it needs.
class field_reader {
public:
  field_reader(const object& o, std::string_view record)
    : o_(o), record_(record) {}

  void str(std::string_view key, std::string& out) {
    auto* v = find(key);
    if (!v)
      return;
    if (!v->is_string())
      return fail(key, "must be a string");
    out.assign(v->get_string().data(), v->get_string().size());
  }

  template <class T>
  void integer(std::string_view key, T& out) {
    auto* v = find(key);
    if (!v)
      return;
    if (auto x = as_integer<T>(*v))
      out = *x;
    else
      fail(key, "must be an integer in range");
  }

  void strings(std::string_view key, std::vector<std::string>& out) {
    auto* v = find(key);
    if (!v)
      return;
    if (!v->is_array())
      return fail(key, "must be an array of strings");
    for (auto& item : v->get_array()) {
      if (!item.is_string())
        return fail(key, "must be an array of strings");
      out.emplace_back(item.get_string().data(), item.get_string().size());
    }
  }

  // A string that `from` maps to an enum value.
  template <class Enum, class From>
  void name(std::string_view key, From from, Enum& out) {
    std::string s;
    str(key, s);
    if (err_)
      return;
    if (std::optional<Enum> x = from(s))
      out = *x;
    else
      fail(key, "has unknown value '" + s + "'");
  }

  caf::error error() && { return std::move(err_); }

private:
  // Boost.JSON holds integers as int64 or uint64; doubles are refused.
  template <class T>
  static std::optional<T> as_integer(const value& v) {
    using limits = std::numeric_limits<T>;
    if (v.is_int64()) {
      auto x = v.get_int64();
      if constexpr (std::is_signed_v<T>) {
        if (x >= int64_t{limits::min()} && x <= int64_t{limits::max()})
          return static_cast<T>(x);
      } else if (x >= 0 && static_cast<uint64_t>(x) <= limits::max()) {
        return static_cast<T>(x);
      }
    } else if (v.is_uint64()) {
      if (v.get_uint64() <= static_cast<uint64_t>(limits::max()))
        return static_cast<T>(v.get_uint64());
    }
    return std::nullopt;
  }

  const value* find(std::string_view key) {
    if (err_)
      return nullptr;
    auto* v = o_.if_contains(key);
    if (!v)
      fail(key, "is missing");
    return v;
  }

  void fail(std::string_view key, const std::string& what) {
    err_ = make_error(ec::storage_failure,
                      "damaged " + std::string{record_} + ": "
                        + std::string{key} + " " + what,
                      std::string{key});
  }

  const object& o_;
  std::string_view record_;
  caf::error err_;
};

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
