#include "runtime/providers/task_json.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/array.hpp>

#include "messages/errors.hpp"
#include "runtime/api/entity_input.hpp"
#include "runtime/providers/text_util.hpp"
#include "storage/json_codec.hpp"

namespace engram::providers {

namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

enum class presence { required, optional };

std::string at_key(const std::string& base, std::string_view key) {
  return base.empty() ? std::string{key} : base + "." + std::string{key};
}

std::string at_index(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

caf::error invalid(const std::string& field, const std::string& rule) {
  auto subject = field.empty() ? std::string{"document"} : field;
  return make_error(ec::invalid_argument, subject + ": " + rule, field);
}

caf::expected<const object*> as_object(const value& v,
                                       const std::string& field) {
  if (!v.is_object())
    return invalid(field, "must be a JSON object");
  return &v.get_object();
}

// Null counts as absent for optional keys: models often write "name": null
// rather than leaving the key out.
caf::error read_string(const object& o, std::string_view key,
                       const std::string& base, presence p, std::string& out) {
  auto field = at_key(base, key);
  auto* v = o.if_contains(key);
  if (!v || (v->is_null() && p == presence::optional)) {
    if (p == presence::required)
      return invalid(field, "required field is missing");
    return caf::none;
  }
  if (!v->is_string())
    return invalid(field, "must be a string");
  out.assign(v->get_string().data(), v->get_string().size());
  return caf::none;
}

caf::expected<const array*> read_array(const object& o, std::string_view key,
                                       const std::string& base) {
  auto field = at_key(base, key);
  auto* v = o.if_contains(key);
  if (!v)
    return invalid(field, "required field is missing");
  if (!v->is_array())
    return invalid(field, "must be an array");
  return &v->get_array();
}

caf::expected<entity_update> read_update(const value& v,
                                         const std::string& at) {
  auto o = as_object(v, at);
  if (!o)
    return o.error();
  entity_update u;
  if (auto err = read_string(**o, "lore_entry_id", at, presence::required,
                             u.lore_entry_id))
    return err;
  if (auto err = read_string(**o, "update_summary", at, presence::required,
                             u.update_summary))
    return err;
  return u;
}

caf::expected<entity_creation> read_creation(const value& v,
                                             const std::string& at) {
  auto o = as_object(v, at);
  if (!o)
    return o.error();
  entity_creation c;
  if (auto err = read_string(**o, "entity_type", at, presence::required,
                             c.entity_type))
    return err;
  if (auto err = read_string(**o, "creation_summary", at, presence::required,
                             c.creation_summary))
    return err;
  if (auto err = read_string(**o, "name", at, presence::optional, c.name))
    return err;
  return c;
}

// Reads every element of the array at `key` with `read_one`.
template <class T, class Reader>
caf::error read_each(const object& o, std::string_view key, Reader read_one,
                     std::vector<T>& out) {
  auto arr = read_array(o, key, {});
  if (!arr)
    return arr.error();
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    auto item = read_one((**arr)[i], at_index(std::string{key}, i));
    if (!item)
      return item.error();
    out.push_back(std::move(*item));
  }
  return caf::none;
}

caf::error read_tags(const object& o, std::vector<std::string>& out) {
  auto arr = read_array(o, "tags", {});
  if (!arr)
    return arr.error();
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    auto& v = (**arr)[i];
    if (!v.is_string())
      return invalid(at_index("tags", i), "must be a string");
    out.emplace_back(v.get_string().data(), v.get_string().size());
  }
  return caf::none;
}

// Length in characters within [min, max], and not blank when min > 0.
caf::error check_text(std::string_view s, const std::string& field,
                      std::size_t min, std::size_t max) {
  auto n = text::length(s);
  if (n < min || n > max)
    return invalid(field, "must be " + std::to_string(min) + ".."
                            + std::to_string(max) + " characters, got "
                            + std::to_string(n));
  if (min > 0 && text::trim(s).empty())
    return invalid(field, "must not be blank");
  return caf::none;
}

// Ids come from a model and may be anything; quote only a bounded prefix.
std::string quoted(std::string_view id) {
  auto shown = text::first_chars(id, 128);
  return "'" + std::string{shown} + (shown.size() < id.size() ? "...'" : "'");
}

caf::error check_update(const entity_update& u, std::size_t i,
                        const std::unordered_set<std::string_view>& known,
                        std::unordered_map<std::string_view, std::size_t>& seen) {
  auto at = at_index("updates", i);
  auto id_field = at + ".lore_entry_id";
  if (known.count(u.lore_entry_id) == 0)
    return invalid(id_field, "unknown entity " + quoted(u.lore_entry_id));
  auto [first, inserted] = seen.emplace(u.lore_entry_id, i);
  if (!inserted)
    return invalid(id_field, "duplicate of " + at_index("updates", first->second)
                               + " (entity " + quoted(u.lore_entry_id) + ")");
  return check_text(u.update_summary, at + ".update_summary", 1,
                    max_summary_chars);
}

caf::error check_creation(const entity_creation& c, std::size_t i) {
  auto at = at_index("creations", i);
  if (!is_valid_entity_type(c.entity_type))
    return invalid(at + ".entity_type", "must match [A-Za-z0-9_.:-]{1,64}");
  if (auto err = check_text(c.creation_summary, at + ".creation_summary", 1,
                            max_summary_chars))
    return err;
  return check_text(c.name, at + ".name", 0, api::max_title_chars);
}

} // namespace

bool is_valid_entity_type(std::string_view type) {
  auto ok = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == ':'
           || c == '-';
  };
  return !type.empty() && type.size() <= max_entity_type_chars
         && std::all_of(type.begin(), type.end(), ok);
}

object to_json(const analysis_result& r) {
  array updates;
  for (auto& u : r.updates)
    updates.push_back(object{{"lore_entry_id", u.lore_entry_id},
                             {"update_summary", u.update_summary}});
  array creations;
  for (auto& c : r.creations) {
    object o{{"entity_type", c.entity_type},
             {"creation_summary", c.creation_summary}};
    if (!c.name.empty())
      o["name"] = c.name;
    creations.push_back(std::move(o));
  }
  return {{"updates", std::move(updates)}, {"creations", std::move(creations)}};
}

object to_json(const creation_result& r) {
  array tags;
  for (auto& t : r.tags)
    tags.emplace_back(t);
  return {{"title", r.title}, {"content", r.content}, {"tags", std::move(tags)}};
}

caf::expected<analysis_result> analysis_from_json(const value& v) {
  auto o = as_object(v, {});
  if (!o)
    return o.error();
  analysis_result r;
  if (auto err = read_each(**o, "updates", read_update, r.updates))
    return err;
  if (auto err = read_each(**o, "creations", read_creation, r.creations))
    return err;
  return r;
}

caf::expected<analysis_result> analysis_from_json(std::string_view text) {
  auto v = storage::decode_json(text);
  if (!v)
    return v.error();
  return analysis_from_json(*v);
}

caf::expected<creation_result> creation_from_json(const value& v) {
  auto o = as_object(v, {});
  if (!o)
    return o.error();
  creation_result r;
  if (auto err = read_string(**o, "title", {}, presence::required, r.title))
    return err;
  if (auto err = read_string(**o, "content", {}, presence::required,
                             r.content))
    return err;
  if (auto err = read_tags(**o, r.tags))
    return err;
  return r;
}

caf::expected<creation_result> creation_from_json(std::string_view text) {
  auto v = storage::decode_json(text);
  if (!v)
    return v.error();
  return creation_from_json(*v);
}

caf::error validate(const analysis_result& r,
                    const std::vector<known_entity>& known) {
  std::unordered_set<std::string_view> ids;
  for (auto& k : known)
    ids.insert(k.id);
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < r.updates.size(); ++i)
    if (auto err = check_update(r.updates[i], i, ids, seen))
      return err;
  for (std::size_t i = 0; i < r.creations.size(); ++i)
    if (auto err = check_creation(r.creations[i], i))
      return err;
  return caf::none;
}

caf::error validate(const creation_result& r) {
  if (auto err = check_text(r.title, "title", 1, api::max_title_chars))
    return err;
  if (auto err = check_text(r.content, "content", 0, api::max_content_chars))
    return err;
  if (r.tags.size() > api::max_tags)
    return invalid("tags", "at most " + std::to_string(api::max_tags)
                             + " items, got " + std::to_string(r.tags.size()));
  for (std::size_t i = 0; i < r.tags.size(); ++i)
    if (auto err = check_text(r.tags[i], at_index("tags", i), 1,
                              api::max_tag_chars))
      return err;
  return caf::none;
}

} // namespace engram::providers
