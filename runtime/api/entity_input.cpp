#include "runtime/api/entity_input.hpp"

#include "messages/errors.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/http/router.hpp"

namespace engram::api {

namespace {

// Reads every entity field that is present; `require_core` makes type and
// title mandatory.
caf::expected<entity_fields> read_fields(const boost::json::object& obj,
                                         bool require_core) {
  entity_fields f;
  auto type = read_string(obj, "type", {1, max_type_chars}, require_core);
  if (!type)
    return type.error();
  if (*type && !http::is_valid_id(**type))
    return make_error(ec::invalid_argument,
                      "type: must match [A-Za-z0-9_.:-]{1,64}", "type");
  auto title = read_string(obj, "title", {1, max_title_chars}, require_core);
  if (!title)
    return title.error();
  auto content = read_string(obj, "content", {0, max_content_chars}, false);
  if (!content)
    return content.error();
  auto tags = read_string_array(obj, "tags", max_tags, {1, max_tag_chars});
  if (!tags)
    return tags.error();
  auto version = read_uint(obj, "version", 1, UINT64_MAX);
  if (!version)
    return version.error();
  f.type = std::move(*type);
  f.title = std::move(*title);
  f.content = std::move(*content);
  f.tags = std::move(*tags);
  f.expected_version = *version;
  return f;
}

caf::expected<std::optional<std::string>>
read_id(const boost::json::object& obj) {
  auto id = read_string(obj, "id", {1, 128}, false);
  if (id && *id && !http::is_valid_id(**id))
    return make_error(ec::invalid_argument,
                      "id: must match [A-Za-z0-9_.:-]{1,128}", "id");
  return id;
}

} // namespace

caf::expected<entity_fields> parse_entity_create(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"id", "type", "title", "content", "tags"}))
    return err;
  auto id = read_id(*obj);
  if (!id)
    return id.error();
  auto f = read_fields(*obj, true);
  if (f)
    f->id = std::move(*id);
  return f;
}

caf::expected<entity_fields> parse_entity_replace(std::string_view body,
                                                  std::string_view path_id) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(
        *obj, {"id", "type", "title", "content", "tags", "version"}))
    return err;
  auto id = read_id(*obj);
  if (!id)
    return id.error();
  if (*id && **id != path_id)
    return make_error(ec::invalid_argument,
                      "id: does not match the id in the path", "id");
  auto f = read_fields(*obj, true);
  if (f)
    f->id = std::string(path_id);
  return f;
}

caf::expected<entity_fields> parse_entity_patch(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(
        *obj, {"type", "title", "content", "tags", "version"}))
    return err;
  auto f = read_fields(*obj, false);
  if (f && !f->type && !f->title && !f->content && !f->tags)
    return make_error(ec::invalid_argument,
                      "body: nothing to change; give type, title, content "
                      "or tags",
                      "body");
  return f;
}

} // namespace engram::api
