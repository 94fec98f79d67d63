#include "runtime/providers/openai_wire.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <boost/json.hpp>

#include "messages/errors.hpp"
#include "runtime/providers/task_json.hpp"
#include "runtime/providers/text_util.hpp"
#include "storage/json_codec.hpp"

namespace engram::providers::wire {

namespace json = boost::json;

std::optional<json_mode> parse_json_mode(std::string_view text) {
  if (text == "json_schema")
    return json_mode::schema;
  if (text == "json_object")
    return json_mode::object;
  if (text == "off")
    return json_mode::off;
  return std::nullopt;
}

const char* to_string(json_mode m) {
  switch (m) {
    case json_mode::schema:
      return "json_schema";
    case json_mode::object:
      return "json_object";
    default:
      return "off";
  }
}

json_mode weaker(json_mode m) {
  return m == json_mode::schema ? json_mode::object : json_mode::off;
}

// --- the user documents -----------------------------------------------------

std::string analysis_input_json(
  const std::vector<const analysis_input*>& items) {
  json::array known;
  // One user per batch; the newest item's view of its entities is the
  // most complete (each item is still validated against its own).
  if (!items.empty())
    for (auto& k : items.back()->known) {
      json::array aliases;
      for (auto& a : k.aliases)
        aliases.emplace_back(a);
      known.push_back(json::object{{"id", k.id},
                                   {"type", k.type},
                                   {"title", k.title},
                                   {"aliases", std::move(aliases)}});
    }
  json::array list;
  for (std::size_t i = 0; i < items.size(); ++i)
    list.push_back(json::object{{"item", i},
                                {"session", items[i]->session},
                                {"turn", items[i]->turn},
                                {"text", items[i]->text}});
  return json::serialize(json::object{{"task", "analysis"},
                                      {"known_entities", std::move(known)},
                                      {"items", std::move(list)}});
}

std::string rewrite_input_json(const std::vector<rewrite_item>& items) {
  json::array list;
  std::size_t max_chars = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& b = *items[i].base;
    max_chars = std::max(max_chars, b.max_note_chars);
    json::array updates;
    for (auto& u : *items[i].updates)
      updates.emplace_back(u);
    list.push_back(json::object{
      {"item", i},
      {"entity", json::object{{"id", b.entity_id},
                              {"title", b.entity_title},
                              {"type", b.entity_type},
                              {"base_lore", b.base_content}}},
      {"previous_note", b.previous_note},
      {"updates", std::move(updates)}});
  }
  return json::serialize(json::object{{"task", "rewrite"},
                                      {"max_note_chars", max_chars},
                                      {"items", std::move(list)}});
}

std::string creation_input_json(
  const std::vector<const creation_input*>& items) {
  json::array list;
  for (std::size_t i = 0; i < items.size(); ++i)
    list.push_back(json::object{{"item", i},
                                {"entity_type", items[i]->entity_type},
                                {"name", items[i]->name},
                                {"creation_summary",
                                 items[i]->creation_summary}});
  return json::serialize(
    json::object{{"task", "creation"}, {"items", std::move(list)}});
}

// --- response schemas (strict: every property required, nothing extra) ----

namespace {

json::object strict_object(json::object props) {
  json::array required;
  for (auto& p : props)
    required.emplace_back(p.key());
  return {{"type", "object"},
          {"properties", std::move(props)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

json::object string_schema() { return {{"type", "string"}}; }

json::object array_of(json::object item) {
  return {{"type", "array"}, {"items", std::move(item)}};
}

json::object item_schema(llm_task task, const std::vector<std::string>& ids) {
  json::object props{{"item", json::object{{"type", "integer"}}}};
  if (task == llm_task::analysis) {
    json::object id = string_schema();
    if (!ids.empty() && ids.size() <= 500) {
      json::array e;
      for (auto& x : ids)
        e.emplace_back(x);
      id["enum"] = std::move(e);
    }
    props["updates"] = array_of(strict_object(
      {{"lore_entry_id", std::move(id)}, {"update_summary", string_schema()}}));
    props["creations"] = array_of(strict_object(
      {{"entity_type", string_schema()},
       {"name", string_schema()},
       {"creation_summary", string_schema()}}));
  } else if (task == llm_task::rewrite) {
    props["note"] = string_schema();
  } else {
    props["title"] = string_schema();
    props["content"] = string_schema();
    props["tags"] = array_of(string_schema());
  }
  return strict_object(std::move(props));
}

json::object response_format(const chat_params& p, llm_task task) {
  if (p.mode == json_mode::object)
    return {{"type", "json_object"}};
  auto schema = strict_object({{"results", array_of(item_schema(task, p.entity_ids))}});
  return {{"type", "json_schema"},
          {"json_schema",
           json::object{{"name", std::string{"engram_"} + to_string(task)},
                        {"strict", true},
                        {"schema", std::move(schema)}}}};
}

} // namespace

std::string json_quoted(std::string_view s) {
  return json::serialize(json::string_view{s.data(), s.size()});
}

std::string response_format_json(const chat_params& p, llm_task task) {
  if (p.mode == json_mode::off)
    return {};
  return json::serialize(response_format(p, task));
}

std::string chat_request_from(const chat_params& p,
                              std::string_view system_json,
                              std::string_view format_json,
                              const std::string& user_document) {
  std::string out;
  out.reserve(system_json.size() + format_json.size()
              + user_document.size() * 11 / 10 + 256);
  out += "{\"model\":";
  out += json_quoted(p.model);
  out += ",\"temperature\":";
  out += json::serialize(json::value(p.temperature));
  out += ",\"max_tokens\":";
  out += std::to_string(p.max_tokens);
  out += ",\"stream\":false,\"messages\":[{\"role\":\"system\",\"content\":";
  out += system_json;
  out += "},{\"role\":\"user\",\"content\":";
  out += json_quoted(user_document);
  out += "}]";
  if (!format_json.empty()) {
    out += ",\"response_format\":";
    out += format_json;
  }
  out += "}";
  return out;
}

std::string chat_request(const chat_params& p, llm_task task,
                         const std::string& system_prompt,
                         const std::string& user_document) {
  return chat_request_from(p, json_quoted(system_prompt),
                           response_format_json(p, task), user_document);
}

// --- chat answers -------------------------------------------------------------

namespace {

caf::error bad(std::string msg, std::string field = {}) {
  return make_error(ec::invalid_argument, std::move(msg), std::move(field));
}

uint64_t usage_of(const json::object& o, const char* key) {
  auto u = o.if_contains("usage");
  if (!u || !u->is_object())
    return 0;
  auto v = u->get_object().if_contains(key);
  if (!v || !v->is_number())
    return 0;
  std::error_code ec;
  auto n = v->to_number<uint64_t>(ec);
  return ec ? 0 : n;
}

} // namespace

caf::expected<chat_answer> parse_chat_response(std::string_view body) {
  auto doc = storage::decode_json(body);
  if (!doc)
    return doc.error();
  if (!doc->is_object())
    return bad("the chat completion is not a JSON object");
  auto& o = doc->get_object();
  auto choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()
      || !choices->get_array()[0].is_object())
    return bad("the chat completion has no choices", "choices");
  auto& first = choices->get_array()[0].get_object();
  auto msg = first.if_contains("message");
  if (!msg || !msg->is_object())
    return bad("choices[0] has no message", "choices[0].message");
  auto content = msg->get_object().if_contains("content");
  if (!content || !content->is_string())
    return bad("choices[0].message.content is not a string",
               "choices[0].message.content");
  chat_answer a;
  a.content = std::string{content->get_string()};
  if (auto fr = first.if_contains("finish_reason"); fr && fr->is_string())
    a.finish_reason = std::string{fr->get_string()};
  a.prompt_tokens = usage_of(o, "prompt_tokens");
  a.completion_tokens = usage_of(o, "completion_tokens");
  return a;
}

namespace {

// The result objects by item number; bare results count as item 0 when a
// single item was asked for.
std::vector<const json::object*> match_items(const json::value& doc,
                                             std::size_t n,
                                             std::vector<std::string>& why) {
  std::vector<const json::object*> out(n, nullptr);
  why.assign(n, "the answer has no result for this item");
  const json::array* list = nullptr;
  if (doc.is_array())
    list = &doc.get_array();
  else if (doc.is_object()) {
    if (auto r = doc.get_object().if_contains("results"); r && r->is_array())
      list = &r->get_array();
    else if (n == 1) {
      out[0] = &doc.get_object();
      return out;
    }
  }
  if (!list)
    return out;
  for (std::size_t pos = 0; pos < list->size(); ++pos) {
    auto& el = (*list)[pos];
    if (!el.is_object())
      continue;
    auto& obj = el.get_object();
    std::size_t idx = pos;
    if (auto it = obj.if_contains("item")) {
      std::error_code ec;
      auto v = it->is_number() ? it->to_number<int64_t>(ec) : -1;
      if (ec || v < 0)
        continue;
      idx = static_cast<std::size_t>(v);
    } else if (list->size() != n) {
      continue; // unnumbered and the count differs: cannot be matched
    }
    if (idx >= n)
      continue;
    if (out[idx]) {
      why[idx] = "the answer has two results for this item";
      out[idx] = nullptr;
      continue;
    }
    if (why[idx] == "the answer has two results for this item")
      continue;
    out[idx] = &obj;
  }
  return out;
}

template <class T, class F>
std::vector<caf::expected<T>> per_item(const json::value& doc, std::size_t n,
                                       F read) {
  std::vector<std::string> why;
  auto objs = match_items(doc, n, why);
  std::vector<caf::expected<T>> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!objs[i])
      out.emplace_back(bad(why[i], "results[" + std::to_string(i) + "]"));
    else
      out.emplace_back(read(*objs[i]));
  }
  return out;
}

} // namespace

std::vector<caf::expected<analysis_result>>
analysis_results(const json::value& doc, std::size_t n) {
  return per_item<analysis_result>(doc, n, [](const json::object& o) {
    // Models often leave out an empty list, but an object with neither
    // list is not an analysis at all.
    if (!o.contains("updates") && !o.contains("creations"))
      return caf::expected<analysis_result>{
        bad("the result has neither \"updates\" nor \"creations\"")};
    json::object copy = o;
    if (!copy.contains("updates"))
      copy["updates"] = json::array{};
    if (!copy.contains("creations"))
      copy["creations"] = json::array{};
    return analysis_from_json(json::value(std::move(copy)));
  });
}

std::vector<caf::expected<std::string>>
rewrite_results(const json::value& doc, std::size_t n, std::size_t max_chars) {
  return per_item<std::string>(
    doc, n, [max_chars](const json::object& o) -> caf::expected<std::string> {
      auto note = o.if_contains("note");
      if (!note || !note->is_string())
        return bad("the result has no \"note\" string", "note");
      auto text = std::string{text::trim(note->get_string())};
      if (text.empty())
        return bad("the rewritten note is empty", "note");
      if (text::length(text) > max_chars)
        return bad("the rewritten note has " + std::to_string(text::length(text))
                     + " characters, the limit is " + std::to_string(max_chars),
                   "note");
      return text;
    });
}

std::vector<caf::expected<creation_result>>
creation_results(const json::value& doc, std::size_t n) {
  return per_item<creation_result>(doc, n, [](const json::object& o) {
    json::object copy = o;
    copy.erase("item");
    if (!copy.contains("tags"))
      copy["tags"] = json::array{};
    return creation_from_json(json::value(std::move(copy)));
  });
}

bool blames_response_format(std::string_view body) {
  return body.find("response_format") != std::string_view::npos
         || body.find("json_schema") != std::string_view::npos
         || body.find("json_object") != std::string_view::npos;
}

std::string error_summary(std::string_view body) {
  std::string msg{body};
  if (auto doc = storage::decode_json(body); doc && doc->is_object())
    if (auto e = doc->get_object().if_contains("error")) {
      if (e->is_string())
        msg = std::string{e->get_string()};
      else if (e->is_object())
        if (auto m = e->get_object().if_contains("message"); m && m->is_string())
          msg = std::string{m->get_string()};
    }
  if (msg.size() > 200) {
    // At most 200 bytes (as documented), cut on a code point boundary.
    std::size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(msg[cut]) & 0xC0) == 0x80)
      --cut;
    msg = msg.substr(0, cut) + "...";
  }
  return msg;
}

// --- embeddings ---------------------------------------------------------------

std::string embeddings_request(const std::string& model,
                               const std::vector<std::string>& texts,
                               std::optional<std::size_t> dimensions) {
  json::array input;
  for (auto& t : texts)
    input.emplace_back(t);
  json::object body{{"model", model},
                    {"input", std::move(input)},
                    {"encoding_format", "float"}};
  if (dimensions)
    body["dimensions"] = *dimensions;
  return json::serialize(body);
}

namespace {

caf::expected<std::vector<float>> read_vector(const json::value& v,
                                              std::size_t dim,
                                              const std::string& where) {
  if (!v.is_array())
    return bad("the embedding is not an array of numbers", where);
  auto& a = v.get_array();
  if (a.size() != dim)
    return bad("the embedding model returned " + std::to_string(a.size())
                 + " dimensions but the index uses " + std::to_string(dim)
                 + " (embedder.dim)",
               where);
  std::vector<double> raw;
  raw.reserve(dim);
  double scale = 0;
  for (auto& x : a) {
    if (!x.is_number())
      return bad("the embedding holds a non-number", where);
    auto f = x.to_number<double>();
    if (!std::isfinite(f))
      return bad("the embedding holds a non-finite number", where);
    scale = std::max(scale, std::fabs(f));
    raw.push_back(f);
  }
  // Normalise in double after dividing by the largest magnitude: squaring
  // 1e200 overflows and 1e-200 underflows, and a float cannot hold 4e38;
  // either would turn the vector into inf/NaN/zeros.
  double norm = 0;
  if (scale > 0)
    for (auto& f : raw) {
      f /= scale;
      norm += f * f;
    }
  auto inv = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
  std::vector<float> out;
  out.reserve(dim);
  for (auto f : raw)
    out.push_back(static_cast<float>(f * inv));
  return out;
}

} // namespace

caf::expected<std::vector<std::vector<float>>>
parse_embeddings_response(std::string_view body, std::size_t n,
                          std::size_t dim) {
  auto doc = storage::decode_json(body);
  if (!doc)
    return doc.error();
  auto data = doc->is_object() ? doc->get_object().if_contains("data") : nullptr;
  if (!data || !data->is_array())
    return bad("the embeddings answer has no \"data\" array", "data");
  auto& list = data->get_array();
  if (list.size() != n)
    return bad("the embeddings answer has " + std::to_string(list.size())
                 + " vectors for " + std::to_string(n) + " texts",
               "data");
  std::vector<std::vector<float>> out(n);
  std::vector<bool> seen(n, false);
  for (std::size_t pos = 0; pos < n; ++pos) {
    auto where = "data[" + std::to_string(pos) + "]";
    if (!list[pos].is_object())
      return bad("not an object", where);
    auto& o = list[pos].get_object();
    std::size_t idx = pos;
    if (auto i = o.if_contains("index")) {
      std::error_code ec;
      auto v = i->is_number() ? i->to_number<int64_t>(ec) : -1;
      if (ec || v < 0 || static_cast<std::size_t>(v) >= n)
        return bad("bad index", where + ".index");
      idx = static_cast<std::size_t>(v);
    }
    if (seen[idx])
      return bad("two vectors for index " + std::to_string(idx), where);
    seen[idx] = true;
    auto emb = o.if_contains("embedding");
    if (!emb)
      return bad("no embedding", where + ".embedding");
    auto v = read_vector(*emb, dim, where + ".embedding");
    if (!v)
      return v.error();
    out[idx] = std::move(*v);
  }
  return out;
}

} // namespace engram::providers::wire
