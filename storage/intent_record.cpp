#include "storage/intent_record.hpp"

#include "messages/errors.hpp"
#include "storage/detail/field_reader.hpp"
#include "storage/json_codec.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

boost::json::object to_json(const intent_record& i) {
  auto or_null = [](const std::string& s) -> boost::json::value {
    return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
  };
  return {{"id", i.id},
          {"description", i.description},
          {"status", i.closed ? "closed" : "open"},
          {"resolution", i.closed ? or_null(i.resolution) : nullptr},
          {"created_at", i.created_at},
          {"updated_at", i.updated_at},
          {"closed_at", or_null(i.closed_at)}};
}

caf::expected<intent_record> intent_from_json(std::string_view text) {
  auto v = decode_json(text);
  if (!v || !v->is_object())
    return make_error(ec::storage_failure,
                      "damaged intent record: not a JSON object");
  detail::field_reader r{v->get_object(), "intent record"};
  intent_record i;
  std::string status;
  r.str("id", i.id);
  r.str("description", i.description);
  r.str("status", status);
  r.nullable_str("resolution", i.resolution);
  r.str("created_at", i.created_at);
  r.str("updated_at", i.updated_at);
  r.nullable_str("closed_at", i.closed_at);
  if (auto err = std::move(r).error())
    return err;
  if (status != "open" && status != "closed")
    return make_error(ec::storage_failure,
                      "damaged intent record: status has unknown value '"
                        + status + "'",
                      "status");
  i.closed = status == "closed";
  return i;
}

std::string intent_key(std::string_view user, std::string_view id) {
  return key_builder{}.str(user).str(id).bytes();
}

} // namespace engram::storage
