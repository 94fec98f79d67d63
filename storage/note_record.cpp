#include "storage/note_record.hpp"

#include <limits>
#include <optional>
#include <type_traits>

#include "messages/errors.hpp"
#include "storage/detail/field_reader.hpp"
#include "storage/json_codec.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

using boost::json::object;
using boost::json::value;

// Second key part of current notes and of their versions.
constexpr std::string_view note_tag = "n";
constexpr std::string_view history_tag = "h";

using detail::field_reader;

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
