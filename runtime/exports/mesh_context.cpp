#include "runtime/exports/mesh_context.hpp"

#include <algorithm>
#include <map>

#include <boost/json.hpp>
#include <sodium.h>

#include "runtime/ids.hpp"
#include "runtime/providers/text_util.hpp"

namespace engram::exports {

namespace json = boost::json;

namespace {

// ISO-8601 strings of one format compare like the times they name.
template <class T, class Key>
void newest_first(std::vector<const T*>& v, Key key) {
  std::stable_sort(v.begin(), v.end(), [&](const T* a, const T* b) {
    return key(*a) > key(*b);
  });
}

json::object intent_json(const storage::intent_record& i) {
  return storage::to_json(i);
}

// The newest note of each entity, across sessions.
std::map<std::string, const storage::note_record*>
latest_notes(const std::vector<storage::note_record>& notes) {
  std::map<std::string, const storage::note_record*> out;
  for (auto& n : notes) {
    auto& slot = out[n.entity_id];
    if (!slot || n.updated_at > slot->updated_at)
      slot = &n;
  }
  return out;
}

json::array recent_entities(const context_snapshot& s, const context_limits& lim) {
  std::vector<const storage::entity_record*> ents;
  for (auto& e : s.entities)
    ents.push_back(&e);
  newest_first(ents, [](auto& e) { return e.updated_at; });
  auto notes = latest_notes(s.notes);
  json::array out;
  for (std::size_t i = 0; i < ents.size() && i < lim.recent_entities; ++i) {
    auto& e = *ents[i];
    json::object o{{"id", e.id},
                   {"type", e.type},
                   {"title", e.title},
                   {"content", e.content},
                   {"updated_at", e.updated_at},
                   {"latest_note", nullptr}};
    if (auto it = notes.find(e.id); it != notes.end()) {
      auto& n = *it->second;
      o["latest_note"] = json::object{
        {"session", n.session},
        {"note", std::string{providers::text::first_chars(n.note, lim.note_chars)}},
        {"updated_at", n.updated_at}};
    }
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace

json::object build_context(const context_snapshot& s, const context_limits& lim) {
  json::object counts;
  for (auto& e : s.entities) {
    auto& c = counts[e.type];
    c = (c.is_null() ? 0 : c.as_int64()) + 1;
  }
  std::vector<const storage::intent_record*> open, closed;
  for (auto& i : s.intents)
    (i.closed ? closed : open).push_back(&i);
  std::stable_sort(open.begin(), open.end(), [](auto* a, auto* b) {
    return a->created_at < b->created_at;
  });
  newest_first(closed, [](auto& i) { return i.closed_at; });
  json::array open_json, closed_json;
  for (auto* i : open)
    open_json.push_back(intent_json(*i));
  for (std::size_t k = 0; k < closed.size() && k < lim.closed_intents; ++k)
    closed_json.push_back(intent_json(*closed[k]));
  std::vector<const document_summary*> docs;
  for (auto& d : s.documents)
    docs.push_back(&d);
  newest_first(docs, [](auto& d) { return d.created_at; });
  json::array docs_json;
  for (std::size_t k = 0; k < docs.size() && k < lim.recent_documents; ++k)
    docs_json.push_back(json::object{{"id", docs[k]->id},
                                     {"name", docs[k]->name},
                                     {"type", docs[k]->type},
                                     {"chunks", docs[k]->chunks},
                                     {"created_at", docs[k]->created_at}});
  return {{"entity_counts", std::move(counts)},
          {"recent_entities", recent_entities(s, lim)},
          {"open_intents", std::move(open_json)},
          {"closed_intents", std::move(closed_json)},
          {"recent_documents", std::move(docs_json)}};
}

std::string content_hash(const json::object& context) {
  auto text = json::serialize(context);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string render_export(const export_header& h, const json::object& context,
                          const std::string& hash) {
  json::array triggers;
  for (auto& t : h.triggers)
    triggers.emplace_back(t);
  json::object doc{{"user_id", h.user_id},
                   {"generated_at", iso8601_ms(h.generated_at_ms)},
                   {"version", h.version},
                   {"content_hash", hash},
                   {"triggers", std::move(triggers)},
                   {"context", context}};
  return json::serialize(doc);
}

} // namespace engram::exports
