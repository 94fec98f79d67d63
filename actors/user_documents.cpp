// Uploaded documents ("memories") inside the user actor: upload (split into
// chunks, stored and marked for embedding in one batch), list, get, delete;
// the chunk side of embedding and search. When a document's last chunk has
// its vector, the document is searchable and the document_upload export
// trigger fires.

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/user_state.hpp"
#include "messages/errors.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/exports/chunker.hpp"
#include "runtime/ids.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

caf::error no_document(const std::string& id) {
  return make_error(ec::not_found, "document " + id + " not found", "id");
}

boost::json::object document_json(user_self self,
                                  const storage::document_record& d) {
  auto obj = to_json(d);
  auto it = self->state.doc_unembedded.find(d.id);
  auto waiting = it == self->state.doc_unembedded.end() ? 0u : it->second;
  obj["status"] = waiting ? "embedding" : "ready";
  obj["chunks_waiting"] = waiting;
  return obj;
}

api_reply post_document(user_self self, const api_call& call,
                        reply_promise rp) {
  auto& st = self->state;
  auto f = api::parse_document(call.body, st.ctx.max_document_bytes);
  if (!f)
    return error_reply(f.error());
  exports::chunk_options opts{st.ctx.chunk_chars, st.ctx.chunk_overlap};
  auto chunks = exports::split_document(f->text, opts);
  storage::document_record d;
  d.id = make_time_id();
  d.name = std::move(f->name);
  d.type = std::move(f->type);
  d.chunks = static_cast<uint32_t>(chunks.size());
  d.bytes = f->text.size();
  d.created_at = iso8601_ms(now_ms());
  // Record, chunks and embedding markers in one atomic batch.
  storage::mutation_list m;
  m.push_back(storage::mutation::make_put(
    storage::column::memories, storage::document_key(st.user, d.id),
    boost::json::serialize(to_json(d))));
  std::vector<std::string> docs;
  for (auto& c : chunks) {
    auto i = static_cast<uint32_t>(c.index);
    m.push_back(storage::mutation::make_put(
      storage::column::memories, storage::chunk_key(st.user, d.id, i),
      storage::to_json(storage::chunk_record{std::move(c.text), c.begin, c.end})));
    docs.push_back(storage::memory_doc_key(d.id, i));
    m.push_back(put_marker(self, docs.back()));
  }
  st.documents[d.id] = d;
  journal_write(
    self, std::move(m),
    [self, d, docs, rp](uint64_t seq) mutable {
      auto& st = self->state;
      st.doc_unembedded[d.id] = d.chunks;
      for (auto& doc : docs)
        mark_dirty(self, doc, seq);
      flush_embeddings(self);
      auto obj = document_json(self, d);
      obj["seq"] = seq;
      rp.deliver(json_reply(202, obj));
    },
    [self, id = d.id, rp](const caf::error& err) mutable {
      self->state.documents.erase(id);
      rp.deliver(error_reply(err));
    });
  return deferred();
}

api_reply list_documents(user_self self, const api_call& call) {
  auto limit = api::query_uint(query_param(call, "limit"), "limit", 1, 1000,
                               100);
  if (!limit)
    return error_reply(limit.error());
  auto after = query_param(call, "after");
  auto& all = self->state.documents;
  auto it = after ? all.upper_bound(*after) : all.begin();
  boost::json::array items;
  for (; it != all.end() && items.size() < *limit; ++it)
    items.emplace_back(document_json(self, it->second));
  boost::json::value next = nullptr;
  if (it != all.end() && !items.empty())
    next = std::prev(it)->first;
  return json_reply(200, {{"documents", std::move(items)}, {"next", next}});
}

api_reply get_document(user_self self, const api_call& call) {
  auto& id = call.params.at("id");
  auto it = self->state.documents.find(id);
  if (it == self->state.documents.end())
    return error_reply(no_document(id));
  return json_reply(200, document_json(self, it->second));
}

api_reply delete_document(user_self self, const api_call& call,
                          reply_promise rp) {
  auto& st = self->state;
  auto& id = call.params.at("id");
  auto it = st.documents.find(id);
  if (it == st.documents.end())
    return error_reply(no_document(id));
  auto d = it->second;
  storage::mutation_list m;
  m.push_back(storage::mutation::make_erase(
    storage::column::memories, storage::document_key(st.user, id)));
  std::vector<std::string> docs;
  for (uint32_t i = 0; i < d.chunks; ++i) {
    m.push_back(storage::mutation::make_erase(
      storage::column::memories, storage::chunk_key(st.user, id, i)));
    docs.push_back(storage::memory_doc_key(id, i));
    drop_doc_in(self, docs.back(), m);
  }
  st.documents.erase(it);
  st.doc_unembedded.erase(id);
  journal_write(
    self, std::move(m),
    [self, id, docs, rp](uint64_t seq) mutable {
      after_drop_docs(self, docs);
      rp.deliver(json_reply(200, {{"id", id}, {"deleted", true}, {"seq", seq}}));
    },
    [self, d, rp](const caf::error& err) mutable {
      self->state.documents[d.id] = d;
      rp.deliver(error_reply(err));
    });
  return deferred();
}

} // namespace

api_reply document_op(user_self self, api_call& call, reply_promise rp) {
  auto& op = call.op;
  if (op == "document.post")
    return post_document(self, call, rp);
  if (op == "document.list")
    return list_documents(self, call);
  if (op == "document.get")
    return get_document(self, call);
  if (op == "document.delete")
    return delete_document(self, call, rp);
  return error_reply(make_error(ec::not_found, "unknown operation " + op));
}

caf::error load_documents(user_self self) {
  auto& st = self->state;
  caf::error bad;
  auto err = st.ctx.db->scan(
    storage::column::memories, storage::document_prefix(st.user), {},
    [&](std::string_view, std::string_view value) {
      auto d = storage::document_from_json(value);
      if (!d) {
        bad = d.error();
        return false;
      }
      st.documents[d->id] = std::move(*d);
      return true;
    });
  return err ? err : bad;
}

void count_unembedded(user_self self) {
  auto& st = self->state;
  for (auto& [doc, _] : st.dirty)
    if (auto ref = storage::parse_doc_key(doc); ref && ref->is_memory()
                                                && st.documents.count(ref->memory_id))
      ++st.doc_unembedded[ref->memory_id];
}

void memory_embedded(user_self self, const storage::doc_ref& ref) {
  auto& st = self->state;
  auto it = st.doc_unembedded.find(ref.memory_id);
  if (it == st.doc_unembedded.end())
    return;
  if (it->second > 1) {
    --it->second;
    return;
  }
  st.doc_unembedded.erase(it);
  auto d = st.documents.find(ref.memory_id);
  if (d == st.documents.end())
    return;
  spdlog::info("event=document_ready user={} document={} chunks={}", st.user,
               d->first, d->second.chunks);
  api::trigger_fields f;
  f.kind = exports::trigger_kind::document_upload;
  f.label = "document_upload:" + d->first;
  send_export_trigger(self, f);
}

bool memory_alive(user_self self, const storage::doc_ref& ref) {
  auto it = self->state.documents.find(ref.memory_id);
  return it != self->state.documents.end() && ref.chunk < it->second.chunks;
}

std::string memory_text(user_self self, const storage::doc_ref& ref) {
  auto& st = self->state;
  auto raw = st.ctx.db->get(storage::column::memories,
                            storage::chunk_key(st.user, ref.memory_id, ref.chunk));
  if (!raw)
    return {};
  auto c = storage::chunk_from_json(*raw);
  return c ? std::move(c->text) : std::string{};
}

std::optional<boost::json::object>
memory_hit(user_self self, const storage::doc_ref& ref, float score) {
  auto it = self->state.documents.find(ref.memory_id);
  if (it == self->state.documents.end())
    return std::nullopt;
  auto text = memory_text(self, ref);
  if (text.empty())
    return std::nullopt;
  return boost::json::object{{"kind", "memory"},
                             {"document_id", ref.memory_id},
                             {"document_name", it->second.name},
                             {"document_type", it->second.type},
                             {"chunk", ref.chunk},
                             {"score", score},
                             {"text", std::move(text)}};
}

} // namespace engram::detail
