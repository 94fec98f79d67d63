#include "actors/embedder.hpp"

#include <chrono>
#include <vector>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/metrics.hpp"
#include "runtime/providers/embedder.hpp"

namespace engram {

namespace {

struct waiting_request {
  string_list texts;
  caf::typed_response_promise<vector_list> promise;
};

struct embedder_state {
  std::shared_ptr<providers::embedder> impl;
  embedder_actor_options opts;
  std::vector<waiting_request> waiting;
  std::size_t waiting_texts = 0;
  uint64_t window = 0;       // id of the scheduled flush; stale ticks ignored
  bool window_open = false;
  metrics::counter* texts = nullptr;
  metrics::counter* calls = nullptr;
  metrics::counter* failures = nullptr;
  metrics::histogram* latency = nullptr;
  metrics::histogram* batch = nullptr;
  static inline const char* name = "engram.embedder";
};

using embedder_self = embedder_actor::stateful_pointer<embedder_state>;

// Embeds `reqs` in calls of at most batch_size texts and answers each.
void embed_now(embedder_self self, std::vector<waiting_request> reqs) {
  auto& st = self->state;
  string_list all;
  for (auto& r : reqs)
    all.insert(all.end(), r.texts.begin(), r.texts.end());
  vector_list out;
  out.reserve(all.size());
  caf::error failed;
  for (std::size_t i = 0; i < all.size() && !failed; i += st.opts.batch_size) {
    auto end = std::min(all.size(), i + st.opts.batch_size);
    string_list chunk(all.begin() + i, all.begin() + end);
    auto t0 = std::chrono::steady_clock::now();
    auto vecs = st.impl->embed(chunk);
    st.latency->observe(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - t0)
                          .count());
    st.calls->inc();
    st.batch->observe(static_cast<double>(chunk.size()));
    if (!vecs || vecs->size() != chunk.size()) {
      st.failures->inc();
      failed = vecs ? make_error(ec::internal, "embedder returned "
                                   + std::to_string(vecs->size())
                                   + " vectors for "
                                   + std::to_string(chunk.size()) + " texts")
                    : vecs.error();
      break;
    }
    for (auto& v : *vecs)
      out.push_back(std::move(v));
  }
  st.texts->inc(out.size());
  std::size_t at = 0;
  for (auto& r : reqs) {
    if (failed) {
      r.promise.deliver(failed);
      continue;
    }
    vector_list mine(std::make_move_iterator(out.begin() + at),
                     std::make_move_iterator(out.begin() + at
                                             + r.texts.size()));
    at += r.texts.size();
    r.promise.deliver(std::move(mine));
  }
}

void flush(embedder_self self) {
  auto& st = self->state;
  st.window_open = false;
  st.waiting_texts = 0;
  embed_now(self, std::move(st.waiting));
  st.waiting.clear();
}

embedder_actor::behavior_type embedder_behavior(
  embedder_self self, std::shared_ptr<providers::embedder> impl,
  embedder_actor_options opts, metrics::registry* reg) {
  auto& st = self->state;
  st.impl = std::move(impl);
  st.opts = opts;
  if (st.opts.batch_size == 0)
    st.opts.batch_size = 1;
  metrics::labels l{{"provider", st.impl->name()}};
  st.texts = &reg->get_counter("engram_embed_texts_total",
                               "Texts embedded", l);
  st.calls = &reg->get_counter("engram_embed_calls_total",
                               "Embedding calls (batches)", l);
  st.failures = &reg->get_counter("engram_embed_failures_total",
                                  "Embedding calls that failed", l);
  st.latency = &reg->get_histogram("engram_embed_latency_seconds",
                                   "Latency of one embedding call", l);
  st.batch = &reg->get_histogram("engram_embed_batch_size",
                                 "Texts per embedding call", l,
                                 metrics::size_buckets());
  return {
    [self](embed_atom, string_list& texts) -> caf::result<vector_list> {
      auto& st = self->state;
      auto rp = self->make_response_promise<vector_list>();
      st.waiting_texts += texts.size();
      st.waiting.push_back({std::move(texts), rp});
      if (st.waiting_texts >= st.opts.batch_size) {
        flush(self);
      } else if (!st.window_open) {
        st.window_open = true;
        auto id = ++st.window;
        if (st.opts.max_wait.count() == 0)
          self->send(self, flush_atom::value, id);
        else
          self->delayed_send(self, st.opts.max_wait, flush_atom::value, id);
      }
      return rp;
    },
    [self](query_atom, string_list& texts) -> caf::result<vector_list> {
      auto rp = self->make_response_promise<vector_list>();
      std::vector<waiting_request> one;
      one.push_back({std::move(texts), rp});
      embed_now(self, std::move(one));
      return rp;
    },
    [self](flush_atom, uint64_t id) {
      auto& st = self->state;
      if (st.window_open && id == st.window)
        flush(self);
    },
  };
}

} // namespace

embedder_actor spawn_embedder(caf::actor_system& sys,
                              std::shared_ptr<providers::embedder> impl,
                              embedder_actor_options opts,
                              metrics::registry& metrics) {
  if (impl->blocks())
    return sys.spawn<caf::detached>(embedder_behavior, std::move(impl), opts,
                                    &metrics);
  return sys.spawn(embedder_behavior, std::move(impl), opts, &metrics);
}

} // namespace engram
