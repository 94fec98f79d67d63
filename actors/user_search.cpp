// Embedding and search for one user: durable embedding markers (coalesced
// per document), batches sent to the shared embedding actor, vectors stored
// in RocksDB and upserted in the user's index after the ack, the index
// loaded from its snapshot (or rebuilt from RocksDB when the snapshot is
// missing or stale) and saved off-thread when the actor stops, and the
// search API.

#include <cstdio>
#include <filesystem>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/cache.hpp"
#include "actors/detail/user_state.hpp"
#include "runtime/cache/cache_keys.hpp"
#include "messages/errors.hpp"
#include "runtime/api/session_input.hpp"
#include "runtime/queue_stats.hpp"
#include "storage/documents.hpp"
#include "storage/store.hpp"

namespace engram::detail {

namespace {

// Most documents sent to the embedder in one request of this user.
constexpr std::size_t embed_batch = 256;

storage::group_id group_of(const storage::doc_ref& ref) {
  return ref.session.empty() ? 0 : storage::session_group(ref.session);
}

// Whether the document still exists (its entity, and its note).
bool doc_alive(user_self self, const storage::doc_ref& ref) {
  auto& st = self->state;
  if (ref.is_memory())
    return memory_alive(self, ref);
  if (!st.entities.count(ref.entity_id))
    return false;
  return ref.session.empty() || st.notes.count({ref.session, ref.entity_id});
}

std::string snapshot_path(user_self self) {
  auto& st = self->state;
  if (st.ctx.index_dir.empty())
    return {};
  std::string hex;
  char buf[3];
  for (unsigned char c : st.user) {
    std::snprintf(buf, sizeof(buf), "%02x", c);
    hex += buf;
  }
  return st.ctx.index_dir + "/" + hex + ".idx";
}

storage::mutation put_generation(user_self self) {
  auto& st = self->state;
  return storage::mutation::make_put(storage::column::meta,
                                     storage::vector_generation_key(st.user),
                                     storage::encode_u64(++st.vector_gen));
}

struct embed_item {
  std::string doc;
  uint64_t generation = 0;
  bool alive = true;
};

void embedding_failed(user_self self, const std::vector<embed_item>& items,
                      const caf::error& err) {
  auto& st = self->state;
  spdlog::warn("event=embedding_failed user={} docs={} error=\"{}\"", st.user,
               items.size(), message_of(err));
  for (auto& it : items) {
    st.ctx.stats->stopped(queue_kind::embedding);
    if (auto d = st.dirty.find(it.doc); d != st.dirty.end())
      st.ctx.stats->pending_added(queue_kind::embedding, d->second.since_ms);
  }
  st.ctx.stats->retried(queue_kind::embedding);
  st.embed_busy = false;
  // The markers are durable; try again after a pause.
  self->delayed_send(self, std::chrono::milliseconds(st.ctx.pipeline.retry_base_ms),
                     pump_atom::value);
}

// After the ack: index, markers, watermark.
void vectors_stored(user_self self, const std::vector<embed_item>& items,
                    const vector_list& vecs) {
  auto& st = self->state;
  auto now = now_ms();
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& it = items[i];
    auto ref = storage::parse_doc_key(it.doc);
    if (it.alive && ref) {
      if (auto err = st.index->upsert(it.doc, group_of(*ref), vecs[i]))
        spdlog::error("event=index_upsert_failed user={} doc={} error=\"{}\"",
                      st.user, it.doc, message_of(err));
    } else if (st.index->contains(it.doc)) {
      (void) st.index->remove(it.doc);
    }
    st.ctx.stats->stopped(queue_kind::embedding);
    auto d = st.dirty.find(it.doc);
    if (d == st.dirty.end())
      continue;
    if (d->second.generation == it.generation) {
      st.ctx.stats->done(queue_kind::embedding,
                         double(now - d->second.since_ms));
      drop_outstanding(self, d->second.origin);
      st.dirty.erase(d);
      if (ref && ref->is_memory())
        memory_embedded(self, *ref);
    } else {
      st.ctx.stats->pending_added(queue_kind::embedding, d->second.since_ms);
    }
  }
  st.embed_busy = false;
  wake_waiters(self);
  flush_embeddings(self);
}

void on_vectors(user_self self, std::vector<embed_item> items,
                vector_list vecs) {
  auto& st = self->state;
  if (vecs.size() != items.size())
    return embedding_failed(self, items,
                            make_error(ec::internal, "vector count mismatch"));
  storage::mutation_list m;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& it = items[i];
    auto ref = storage::parse_doc_key(it.doc);
    it.alive = it.alive && ref && doc_alive(self, *ref)
               && vecs[i].size() == st.index->dim();
    auto vkey = storage::vector_key(st.user, it.doc);
    if (it.alive)
      m.push_back(storage::mutation::make_put(
        storage::column::vectors, vkey, storage::encode_vector(vecs[i])));
    else
      m.push_back(storage::mutation::make_erase(storage::column::vectors, vkey));
    auto d = st.dirty.find(it.doc);
    if (d != st.dirty.end() && d->second.generation == it.generation)
      m.push_back(storage::mutation::make_erase(
        storage::column::tasks, storage::embed_marker_key(st.user, it.doc)));
  }
  m.push_back(put_generation(self));
  journal_write(
    self, std::move(m),
    [self, items, vecs = std::move(vecs)](uint64_t) {
      vectors_stored(self, items, vecs);
    },
    [self, items](const caf::error& err) {
      embedding_failed(self, items, err);
    });
}

void snapshot_writer(caf::blocking_actor*,
                     std::shared_ptr<storage::vector_index> idx,
                     std::string path, uint64_t generation) {
  auto t0 = std::chrono::steady_clock::now();
  if (auto err = idx->save(path, generation)) {
    spdlog::error("event=index_snapshot_failed path={} error=\"{}\"", path,
                  message_of(err));
    return;
  }
  spdlog::debug("event=index_snapshot path={} docs={} generation={} ms={:.1f}",
                path, idx->size(), generation,
                std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - t0)
                  .count());
}

caf::error rebuild_index(user_self self) {
  auto& st = self->state;
  auto idx = storage::vector_index::make(st.ctx.index);
  if (!idx)
    return idx.error();
  st.index = std::move(*idx);
  std::size_t n = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto err = st.ctx.db->scan(
    storage::column::vectors, storage::vector_user_prefix(st.user), {},
    [&](std::string_view key, std::string_view value) {
      auto doc = storage::doc_key_of_vector(st.user, key);
      auto ref = doc ? storage::parse_doc_key(*doc) : std::nullopt;
      auto vec = storage::decode_vector(value, st.index->dim());
      if (!ref || !vec) {
        // Another dimension (embedder changed) or damage: embed again.
        if (ref)
          mark_dirty(self, *doc, 0);
        return true;
      }
      if (auto e = st.index->upsert(*doc, group_of(*ref), *vec))
        spdlog::error("event=index_upsert_failed user={} doc={} error=\"{}\"",
                      st.user, *doc, message_of(e));
      if (++n % 10000 == 0)
        spdlog::info("event=index_rebuild_progress user={} docs={}", st.user,
                     n);
      return true;
    });
  spdlog::info("event=index_rebuilt user={} docs={} ms={:.1f}", st.user, n,
               std::chrono::duration<double, std::milli>(
                 std::chrono::steady_clock::now() - t0)
                 .count());
  return err;
}

// {"hits": <hits>, "stale": ..., "cached": ...} around a serialised hits array.
api_reply search_reply(const std::string& hits, bool stale, bool cached) {
  std::string body = "{\"hits\":";
  body += hits;
  body += stale ? ",\"stale\":true" : ",\"stale\":false";
  body += cached ? ",\"cached\":true}" : ",\"cached\":false}";
  return {200, std::move(body)};
}

void answer_search(user_self self, const api::search_fields& f, bool stale,
                   const std::vector<float>& q, reply_promise rp,
                   const std::string& cache_key) {
  auto& st = self->state;
  boost::json::array hits;
  std::size_t excluded = 0;
  std::vector<storage::group_id> groups{0};
  if (f.session) {
    groups.push_back(storage::session_group(*f.session));
    for (auto it = st.notes.lower_bound({*f.session, ""});
         it != st.notes.end() && it->first.first == *f.session; ++it)
      ++excluded;
  }
  auto found = st.index->search(q, f.k + excluded,
                                storage::search_filter::any_of(groups));
  if (!found) {
    rp.deliver(error_reply(found.error()));
    return;
  }
  for (auto& h : *found) {
    if (hits.size() >= f.k)
      break;
    auto ref = storage::parse_doc_key(h.doc_key);
    if (!ref)
      continue;
    if (ref->is_memory()) {
      if (auto hit = memory_hit(self, *ref, h.score))
        hits.emplace_back(std::move(*hit));
      continue;
    }
    if (!ref->session.empty() && (!f.session || ref->session != *f.session))
      continue; // another session sharing the group hash
    if (ref->session.empty() && f.session
        && st.notes.count({*f.session, ref->entity_id}))
      continue; // the composite stands for this entity here
    auto e = st.entities.find(ref->entity_id);
    if (e == st.entities.end())
      continue;
    boost::json::value session = nullptr;
    if (!ref->session.empty())
      session = ref->session;
    hits.emplace_back(boost::json::object{
      {"kind", "entity"},
      {"entity_id", ref->entity_id},
      {"title", e->second.title},
      {"type", e->second.type},
      {"score", h.score},
      {"session", session},
      {"composite", composite_of(self, ref->session, ref->entity_id)}});
  }
  auto text = boost::json::serialize(hits);
  if (!cache_key.empty()) {
    auto& pool = *st.ctx.search_cache;
    self->send(pool.shard_of(cache_key), cput_atom::value, cache_key, text,
               pool.opts.ttl_ms);
  }
  rp.deliver(search_reply(text, stale, false));
}

void compute_search(user_self self, api::search_fields f, bool stale,
                    reply_promise rp, std::string cache_key) {
  auto& st = self->state;
  self->request(st.ctx.embedder, call_timeout(self), query_atom::value,
                string_list{f.query})
    .then(
      [self, f, stale, rp, cache_key](vector_list& v) mutable {
        if (v.size() != 1 || !self->state.index)
          rp.deliver(error_reply(
            make_error(ec::internal, "the embedder returned no vector")));
        else
          answer_search(self, f, stale, v.front(), rp, cache_key);
      },
      [rp](caf::error& err) mutable { rp.deliver(error_reply(err)); });
}

} // namespace

storage::mutation put_marker(user_self self, const std::string& doc_key) {
  return storage::mutation::make_put(
    storage::column::tasks, storage::embed_marker_key(self->state.user, doc_key),
    "{}");
}

void mark_dirty(user_self self, const std::string& doc_key, uint64_t origin) {
  auto& st = self->state;
  auto it = st.dirty.find(doc_key);
  if (it == st.dirty.end()) {
    auto now = now_ms();
    st.dirty.emplace(doc_key, dirty_doc{origin, now, ++st.next_generation});
    add_outstanding(self, origin);
    st.ctx.stats->pending_added(queue_kind::embedding, now);
    return;
  }
  if (origin < it->second.origin) {
    drop_outstanding(self, it->second.origin);
    add_outstanding(self, origin);
    it->second.origin = origin;
  }
  it->second.generation = ++st.next_generation;
}

void drop_doc_in(user_self self, const std::string& doc_key,
                 storage::mutation_list& m) {
  auto& st = self->state;
  m.push_back(storage::mutation::make_erase(
    storage::column::tasks, storage::embed_marker_key(st.user, doc_key)));
  m.push_back(storage::mutation::make_erase(
    storage::column::vectors, storage::vector_key(st.user, doc_key)));
  m.push_back(put_generation(self));
}

void after_drop_docs(user_self self, const std::vector<std::string>& docs) {
  auto& st = self->state;
  for (auto& doc : docs) {
    if (st.index && st.index->contains(doc))
      (void) st.index->remove(doc);
    auto d = st.dirty.find(doc);
    if (d == st.dirty.end())
      continue;
    // Still counted as pending unless an embedding call holds it now.
    st.ctx.stats->pending_removed(queue_kind::embedding, d->second.since_ms);
    st.ctx.stats->done(queue_kind::embedding,
                       double(now_ms() - d->second.since_ms));
    drop_outstanding(self, d->second.origin);
    st.dirty.erase(d);
  }
}

void flush_embeddings(user_self self) {
  auto& st = self->state;
  if (st.embed_busy || st.dirty.empty() || !st.index)
    return;
  std::vector<embed_item> items;
  string_list texts;
  for (auto& [doc, d] : st.dirty) {
    if (items.size() >= embed_batch)
      break;
    embed_item it{doc, d.generation, true};
    auto ref = storage::parse_doc_key(doc);
    it.alive = ref && doc_alive(self, *ref);
    if (!it.alive)
      texts.emplace_back();
    else if (ref->is_memory())
      texts.push_back(memory_text(self, *ref));
    else
      texts.push_back(composite_of(self, ref->session, ref->entity_id));
    st.ctx.stats->pending_removed(queue_kind::embedding, d.since_ms);
    st.ctx.stats->started(queue_kind::embedding);
    items.push_back(std::move(it));
  }
  st.embed_busy = true;
  self->request(st.ctx.embedder, call_timeout(self), embed_atom::value,
                std::move(texts))
    .then(
      [self, items](vector_list& vecs) mutable {
        on_vectors(self, std::move(items), std::move(vecs));
      },
      [self, items](caf::error& err) { embedding_failed(self, items, err); });
}

caf::error load_index(user_self self) {
  auto& st = self->state;
  auto raw = st.ctx.db->get(storage::column::meta,
                            storage::vector_generation_key(st.user));
  if (raw) {
    auto gen = storage::decode_u64(*raw);
    if (!gen)
      return gen.error();
    st.vector_gen = *gen;
  } else if (code_of(raw.error()) != ec::not_found) {
    return raw.error();
  }
  auto path = snapshot_path(self);
  if (!path.empty() && std::filesystem::exists(path)) {
    auto loaded = storage::vector_index::load(path, st.ctx.index);
    if (loaded && loaded->covered_seq == st.vector_gen) {
      st.index = std::move(loaded->index);
      st.saved_vector_gen = st.vector_gen;
      return caf::none;
    }
    spdlog::info("event=index_snapshot_unusable user={} reason=\"{}\"",
                 st.user,
                 loaded ? "stale (covers generation "
                            + std::to_string(loaded->covered_seq) + " of "
                            + std::to_string(st.vector_gen) + ")"
                        : message_of(loaded.error()));
  }
  if (st.vector_gen == 0) {
    auto idx = storage::vector_index::make(st.ctx.index);
    if (!idx)
      return idx.error();
    st.index = std::move(*idx);
    return caf::none;
  }
  return rebuild_index(self);
}

void save_index(user_self self) {
  auto& st = self->state;
  auto path = snapshot_path(self);
  if (!st.index || path.empty() || st.vector_gen == st.saved_vector_gen)
    return;
  std::error_code ec;
  std::filesystem::create_directories(st.ctx.index_dir, ec);
  auto idx = std::make_shared<storage::vector_index>(std::move(*st.index));
  st.index.reset();
  st.saved_vector_gen = st.vector_gen;
  self->system().spawn<caf::detached>(snapshot_writer, std::move(idx),
                                      std::move(path), st.vector_gen);
}

api_reply search(user_self self, const api_call& call, reply_promise rp) {
  auto& st = self->state;
  auto f = api::parse_search(call.body);
  if (!f)
    return error_reply(f.error());
  bool stale = false;
  if (auto s = query_param(call, "_stale"))
    stale = *s == "true";
  if (!st.index || st.index->size() == 0)
    return search_reply("[]", stale, false);
  if (!st.ctx.search_cache) {
    compute_search(self, std::move(*f), stale, rp, {});
    return deferred();
  }
  // The key carries the write generation: no answer computed before a
  // write can be found after it.
  auto key = cache::search_key(st.user, st.cache_gen, f->query,
                               static_cast<uint32_t>(f->k),
                               f->session ? *f->session : std::string{});
  self->request(st.ctx.search_cache->shard_of(key), caf::infinite,
                cget_atom::value, key)
    .then(
      [self, f = *f, stale, rp, key](cache_lookup& found) mutable {
        if (found.hit)
          rp.deliver(search_reply(found.value, stale, true));
        else
          compute_search(self, std::move(f), stale, rp, std::move(key));
      },
      [self, f = *f, stale, rp](caf::error&) mutable {
        compute_search(self, std::move(f), stale, rp, {});
      });
  return deferred();
}

} // namespace engram::detail
