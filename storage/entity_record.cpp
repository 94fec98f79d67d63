#include "storage/entity_record.hpp"

#include <boost/json/array.hpp>

#include "messages/errors.hpp"
#include "storage/json_codec.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

std::string get_str(const boost::json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v || !v->is_string())
    throw std::runtime_error("missing string field " + std::string(k));
  return {v->get_string().data(), v->get_string().size()};
}

} // namespace

boost::json::object to_json(const entity_record& e) {
  boost::json::array tags;
  for (auto& t : e.tags)
    tags.emplace_back(t);
  return {{"id", e.id},
          {"type", e.type},
          {"title", e.title},
          {"content", e.content},
          {"tags", std::move(tags)},
          {"is_dynamically_generated", e.is_dynamically_generated},
          {"created_at", e.created_at},
          {"updated_at", e.updated_at},
          {"version", e.version}};
}

caf::expected<entity_record> entity_from_json(std::string_view text) {
  auto v = decode_json(text);
  if (!v || !v->is_object())
    return make_error(ec::storage_failure, "damaged entity record");
  try {
    auto& o = v->as_object();
    entity_record e;
    e.id = get_str(o, "id");
    e.type = get_str(o, "type");
    e.title = get_str(o, "title");
    e.content = get_str(o, "content");
    for (auto& t : o.at("tags").as_array())
      e.tags.emplace_back(t.as_string().data(), t.as_string().size());
    e.is_dynamically_generated = o.at("is_dynamically_generated").as_bool();
    e.created_at = get_str(o, "created_at");
    e.updated_at = get_str(o, "updated_at");
    e.version = o.at("version").to_number<uint64_t>();
    return e;
  } catch (const std::exception& ex) {
    return make_error(ec::storage_failure,
                      std::string("damaged entity record: ") + ex.what());
  }
}

std::string entity_key(std::string_view user, std::string_view id) {
  return key_builder{}.str(user).str(id).bytes();
}

} // namespace engram::storage
