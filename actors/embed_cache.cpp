#include "actors/embed_cache.hpp"

#include <caf/all.hpp>

#include "runtime/cache/cache_keys.hpp"
#include "storage/documents.hpp"

namespace engram {

namespace {

struct front_state {
  embedder_actor inner;
  std::shared_ptr<const cache_pool> pool;
  std::string identity;
  static inline const char* name = "engram.embed_cache";
};

using front_self = embedder_actor::stateful_pointer<front_state>;

// One request in progress: vectors found so far, what is still asked.
struct join {
  string_list texts;
  std::vector<std::string> keys;
  vector_list out;
  std::vector<bool> have;
  std::size_t waiting = 0;
  caf::typed_response_promise<vector_list> rp;
};

template <class Atom>
void embed_misses(front_self self, std::shared_ptr<join> j) {
  auto& st = self->state;
  string_list missing;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < j->texts.size(); ++i)
    if (!j->have[i]) {
      missing.push_back(j->texts[i]);
      where.push_back(i);
    }
  if (missing.empty()) {
    j->rp.deliver(std::move(j->out));
    return;
  }
  self->request(st.inner, caf::infinite, Atom::value, std::move(missing))
    .then(
      [self, j, where](vector_list& vecs) {
        if (vecs.size() != where.size()) {
          j->rp.deliver(vecs); // let the caller see the mismatch
          return;
        }
        auto& pool = *self->state.pool;
        for (std::size_t n = 0; n < where.size(); ++n) {
          auto i = where[n];
          self->send(pool.shard_of(j->keys[i]), cput_atom::value, j->keys[i],
                     storage::encode_vector(vecs[n]), pool.opts.ttl_ms);
          j->out[i] = std::move(vecs[n]);
        }
        j->rp.deliver(std::move(j->out));
      },
      [j](caf::error& err) { j->rp.deliver(err); });
}

template <class Atom>
caf::result<vector_list> lookup(front_self self, string_list& texts) {
  auto& st = self->state;
  auto j = std::make_shared<join>();
  j->rp = self->make_response_promise<vector_list>();
  auto rp = j->rp;
  j->out.resize(texts.size());
  j->have.assign(texts.size(), false);
  j->waiting = texts.size();
  for (auto& t : texts)
    j->keys.push_back(cache::make_key({st.identity, cache::digest(t)}));
  j->texts = std::move(texts);
  if (j->waiting == 0) {
    rp.deliver(vector_list{});
    return rp;
  }
  for (std::size_t i = 0; i < j->keys.size(); ++i) {
    auto on_done = [self, j] {
      if (--j->waiting == 0)
        embed_misses<Atom>(self, j);
    };
    self->request(st.pool->shard_of(j->keys[i]), caf::infinite,
                  cget_atom::value, j->keys[i])
      .then(
        [j, i, on_done](cache_lookup& found) {
          if (found.hit)
            if (auto v = storage::decode_vector(found.value)) {
              j->out[i] = std::move(*v);
              j->have[i] = true;
            }
          on_done();
        },
        [on_done](caf::error&) { on_done(); });
  }
  return rp;
}

embedder_actor::behavior_type front(front_self self, embedder_actor inner,
                                    std::shared_ptr<const cache_pool> pool,
                                    std::string identity) {
  self->state.inner = std::move(inner);
  self->state.pool = std::move(pool);
  self->state.identity = std::move(identity);
  return {
    [self](embed_atom, string_list& texts) {
      return lookup<embed_atom>(self, texts);
    },
    [self](query_atom, string_list& texts) {
      return lookup<query_atom>(self, texts);
    },
    [](flush_atom, uint64_t) {},
  };
}

} // namespace

embedder_actor spawn_embed_cache(caf::actor_system& sys, embedder_actor inner,
                                 std::shared_ptr<const cache_pool> pool,
                                 std::string identity) {
  return sys.spawn(front, std::move(inner), std::move(pool),
                   std::move(identity));
}

} // namespace engram
