#include "runtime/api/intent_input.hpp"

#include "messages/errors.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/http/router.hpp"
#include "runtime/providers/text_util.hpp"

namespace engram::api {

namespace {

// Blank text says nothing; reject it like an empty string.
caf::error not_blank(const std::string& s, const char* field) {
  if (providers::text::trim(s).empty())
    return make_error(ec::invalid_argument,
                      std::string{field} + ": must not be blank", field);
  return caf::none;
}

} // namespace

caf::expected<intent_create_fields> parse_intent_create(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"id", "description"}))
    return err;
  intent_create_fields f;
  auto id = read_string(*obj, "id", {1, 128}, false);
  if (!id)
    return id.error();
  if (*id && !http::is_valid_id(**id))
    return make_error(ec::invalid_argument,
                      "id: must match [A-Za-z0-9_.:-]{1,128}", "id");
  f.id = std::move(*id);
  auto d = read_string(*obj, "description",
                       {1, max_intent_description_chars}, true);
  if (!d)
    return d.error();
  f.description = std::move(**d);
  if (auto err = not_blank(f.description, "description"))
    return err;
  return f;
}

caf::expected<std::string> parse_intent_close(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"resolution"}))
    return err;
  auto r = read_string(*obj, "resolution", {1, max_intent_resolution_chars},
                       true);
  if (!r)
    return r.error();
  if (auto err = not_blank(**r, "resolution"))
    return err;
  return std::move(**r);
}

caf::expected<std::optional<bool>> parse_intent_status(const std::string* q) {
  if (!q)
    return std::optional<bool>{};
  if (*q == "open")
    return std::optional<bool>{false};
  if (*q == "closed")
    return std::optional<bool>{true};
  return make_error(ec::invalid_argument,
                    "status: must be open or closed, got '" + *q + "'",
                    "status");
}

} // namespace engram::api
