#include "storage/note_record.hpp"

#include <limits>
#include <optional>
#include <type_traits>

#include "messages/errors.hpp"
#include "storage/json_codec.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

using boost::json::object;
using boost::json::value;

// Second key part of current notes and of their versions.
constexpr std::string_view note_tag = "n";
constexpr std::string_view history_tag = "h";

// Reads the fields of a stored record. The first bad field wins and later
// reads are skipped, so the error names the field that broke. Never throws
// (Boost.JSON's as_*() would on a wrong kind). turn_record.cpp and
// task_record.cpp carry the same reader, each with the reads it needs.
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

boost::json::object to_json(const note_record& n) {
  return {{"entity_id", n.entity_id},
          {"session", n.session},
          {"note", n.note},
          {"version", n.version},
          {"last_updated_turn", n.last_updated_turn},
          {"updated_at", n.updated_at},
          {"origin", n.origin}};
}

caf::expected<note_record> note_from_json(std::string_view text) {
  auto v = decode_json(text);
  if (!v || !v->is_object())
    return make_error(ec::storage_failure,
                      "damaged note record: not a JSON object");
  field_reader r{v->get_object(), "note record"};
  note_record n;
  r.str("entity_id", n.entity_id);
  r.str("session", n.session);
  r.str("note", n.note);
  r.integer("version", n.version);
  r.integer("last_updated_turn", n.last_updated_turn);
  r.str("updated_at", n.updated_at);
  r.str("origin", n.origin);
  if (auto err = std::move(r).error())
    return err;
  // Version 0 would be indistinguishable from "not a history key".
  if (n.version == 0)
    return make_error(ec::storage_failure,
                      "damaged note record: version must be at least 1",
                      "version");
  if (n.origin != "rewrite" && n.origin != "restore")
    return make_error(ec::storage_failure,
                      "damaged note record: origin has unknown value '"
                        + n.origin + "'",
                      "origin");
  return n;
}

std::string note_key(std::string_view user, std::string_view session,
                     std::string_view entity_id) {
  return key_builder{}.str(user).str(note_tag).str(session).str(entity_id)
    .bytes();
}

std::string note_session_prefix(std::string_view user,
                                std::string_view session) {
  return key_builder{}.str(user).str(note_tag).str(session).bytes();
}

std::string note_user_prefix(std::string_view user) {
  return key_builder{}.str(user).str(note_tag).bytes();
}

std::string note_version_key(std::string_view user, std::string_view session,
                             std::string_view entity_id, uint64_t version) {
  // ~version: larger versions encode smaller, so a forward scan of the
  // history prefix meets the newest version first.
  return key_builder{}
    .str(user)
    .str(history_tag)
    .str(session)
    .str(entity_id)
    .u64(~version)
    .bytes();
}

std::string note_history_prefix(std::string_view user,
                                std::string_view session,
                                std::string_view entity_id) {
  return key_builder{}.str(user).str(history_tag).str(session).str(entity_id)
    .bytes();
}

uint64_t version_of_history_key(std::string_view key) {
  key_reader r{key};
  if (!r.str() || r.str() != history_tag || !r.str() || !r.str())
    return 0;
  auto inverted = r.u64();
  if (!inverted || !r.done())
    return 0;
  return ~*inverted;
}

} // namespace engram::storage
