#include "runtime/api/export_input.hpp"

#include <boost/json/serialize.hpp>

#include "messages/errors.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/providers/text_util.hpp"

namespace engram::api {

namespace {

caf::error bad(std::string_view field, const std::string& what) {
  return make_error(ec::invalid_argument, std::string{field} + ": " + what,
                    std::string{field});
}

caf::expected<std::optional<bool>> read_bool(const boost::json::object& o,
                                             std::string_view key) {
  auto v = o.if_contains(key);
  if (!v)
    return std::optional<bool>{};
  if (!v->is_bool())
    return bad(key, "must be true or false");
  return std::optional<bool>{v->as_bool()};
}

caf::expected<trigger_fields> parse_trigger(std::string_view body,
                                            bool internal) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  auto unknown = internal
                   ? reject_unknown(*obj, {"trigger", "concept_count",
                                           "change_type", "force",
                                           "high_impact", "session_turns",
                                           "label"})
                   : reject_unknown(*obj, {"trigger", "concept_count",
                                           "change_type", "force",
                                           "high_impact", "session_turns"});
  if (unknown)
    return unknown;
  trigger_fields t;
  auto name = read_string(*obj, "trigger", {1, 64}, true);
  if (!name)
    return name.error();
  auto kind = exports::parse_trigger(**name);
  if (!kind || (*kind == exports::trigger_kind::nightly && !internal))
    return bad("trigger", "must be one of intent_closed, document_upload, "
                          "concept_change, session_end, manual, got \""
                            + **name + "\"");
  t.kind = *kind;
  auto force = read_bool(*obj, "force");
  if (!force)
    return force.error();
  t.force = force->value_or(false);
  bool concept = t.kind == exports::trigger_kind::concept_change;
  bool session = t.kind == exports::trigger_kind::session_end;
  auto count = read_uint(*obj, "concept_count", 0, 1000000);
  if (!count)
    return count.error();
  if (*count && !concept)
    return bad("concept_count", "only with trigger concept_change");
  if (concept && !*count && !t.force)
    return bad("concept_count", "required with trigger concept_change "
                                "(unless force)");
  t.concept_count = static_cast<uint32_t>(count->value_or(0));
  auto change = read_string(*obj, "change_type", {1, 64}, false);
  if (!change)
    return change.error();
  if (*change && !concept)
    return bad("change_type", "only with trigger concept_change");
  t.change_type = change->value_or("");
  auto high = read_bool(*obj, "high_impact");
  if (!high)
    return high.error();
  if (*high && !session)
    return bad("high_impact", "only with trigger session_end");
  t.high_impact = high->value_or(false);
  auto turns = read_uint(*obj, "session_turns", 0, 100000000);
  if (!turns)
    return turns.error();
  if (*turns && !session)
    return bad("session_turns", "only with trigger session_end");
  t.session_turns = static_cast<uint32_t>(turns->value_or(0));
  if (internal) {
    auto label = read_string(*obj, "label", {0, 256}, false);
    if (!label)
      return label.error();
    t.label = label->value_or("");
  }
  if (t.label.empty())
    t.label = trigger_label(t);
  return t;
}

} // namespace

caf::expected<trigger_fields> parse_trigger_request(std::string_view body) {
  return parse_trigger(body, false);
}

caf::expected<trigger_fields> parse_trigger_event(std::string_view body) {
  return parse_trigger(body, true);
}

std::string trigger_label(const trigger_fields& t) {
  std::string s = exports::to_string(t.kind);
  if (!t.change_type.empty())
    s += ":" + t.change_type;
  else if (t.kind == exports::trigger_kind::concept_change)
    s += ":" + std::to_string(t.concept_count);
  return s;
}

std::string trigger_event_body(const trigger_fields& t) {
  boost::json::object o{{"trigger", exports::to_string(t.kind)}};
  if (t.force)
    o["force"] = true;
  if (t.concept_count)
    o["concept_count"] = t.concept_count;
  if (!t.change_type.empty())
    o["change_type"] = t.change_type;
  if (t.high_impact)
    o["high_impact"] = true;
  if (t.session_turns)
    o["session_turns"] = t.session_turns;
  if (!t.label.empty())
    o["label"] = t.label;
  return boost::json::serialize(o);
}

caf::expected<manual_fields> parse_manual_export(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"reason", "force"}))
    return err;
  manual_fields m;
  auto reason = read_string(*obj, "reason", {1, max_reason_chars}, true);
  if (!reason)
    return reason.error();
  m.reason = std::move(**reason);
  auto force = read_bool(*obj, "force");
  if (!force)
    return force.error();
  m.force = force->value_or(false);
  return m;
}

caf::expected<document_fields> parse_document(std::string_view body,
                                              std::size_t max_text_bytes) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"name", "type", "text"}))
    return err;
  document_fields d;
  auto name = read_string(*obj, "name", {1, max_document_name_chars}, true);
  if (!name)
    return name.error();
  d.name = std::move(**name);
  auto type = read_string(*obj, "type", {1, max_document_type_chars}, true);
  if (!type)
    return type.error();
  d.type = std::move(**type);
  auto text = obj->if_contains("text");
  if (!text)
    return bad("text", "is required");
  if (!text->is_string())
    return bad("text", "must be a string");
  if (text->as_string().size() > max_text_bytes)
    return make_error(ec::too_large,
                      "text: at most " + std::to_string(max_text_bytes)
                        + " bytes (exports.max_document_bytes), got "
                        + std::to_string(text->as_string().size()),
                      "text");
  d.text = std::string{text->as_string()};
  if (providers::text::trim(d.text).empty())
    return bad("text", "must not be blank");
  return d;
}

caf::expected<bool> parse_session_end(std::string_view body) {
  if (providers::text::trim(body).empty())
    return false;
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"high_impact"}))
    return err;
  auto high = read_bool(*obj, "high_impact");
  if (!high)
    return high.error();
  return high->value_or(false);
}

} // namespace engram::api
