#pragma once
// In-process caches for expensive answers (search results, model
// completions, embeddings): one pool per use, each sharded over a few
// event-based actors by key hash, so no single mailbox is a bottleneck.
// A shard owns an lru_cache (runtime/cache/lru_cache.hpp): TTL and LRU
// bounds by entries and bytes, lazy expiry on get and periodic expiry from
// a timer (a delayed message, no sweeping thread).
//
//   (cget_atom, key)              -> cache_lookup
//   (cput_atom, key, value, ttl)  store for ttl ms (fire and forget)
//   (cerase_atom, key)            -> bool
//   (cinval_atom, prefix)         -> uint64_t   entries removed
//   (pump_atom)                   internal: expiry tick
//
// Correctness never depends on the cache: user-scoped keys carry the user's
// generation (bumped by every write), so after a write no entry computed
// before it can be found again; model answers and embeddings are keyed by
// a digest of everything that determines them.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/cache_messages.hpp"
#include "runtime/cache/lru_cache.hpp"

namespace engram {

namespace metrics {
class registry;
class counter;
class gauge;
} // namespace metrics

using cache_actor = caf::typed_actor<
  caf::replies_to<cget_atom, std::string>::with<cache_lookup>,
  caf::reacts_to<cput_atom, std::string, std::string, int64_t>,
  caf::replies_to<cerase_atom, std::string>::with<bool>,
  caf::replies_to<cinval_atom, std::string>::with<uint64_t>,
  caf::reacts_to<pump_atom>>;

struct cache_pool_options {
  std::string use;        // "search", "llm", "embed": metrics label
  std::size_t shards = 2; // actors
  cache::cache_limits limits; // per pool; split evenly over the shards
  int64_t ttl_ms = 60000;     // default TTL of a put
  // How often a shard drops expired entries (at most 10,000 per tick).
  int64_t expire_every_ms = 1000;
};

/// Counters of one use, shared by its shards (atomics: read by /metrics
/// and GET /v1/cache/stats from any thread).
struct cache_use_metrics {
  metrics::counter* hits = nullptr;
  metrics::counter* misses = nullptr;
  metrics::counter* puts = nullptr;
  metrics::counter* evictions = nullptr;
  metrics::counter* expirations = nullptr;
  metrics::counter* invalidations = nullptr;
  metrics::counter* rejected = nullptr;
  metrics::gauge* entries = nullptr;
  metrics::gauge* bytes = nullptr;
};

/// The shards of one use. Immutable after spawn; share it freely.
struct cache_pool {
  cache_pool_options opts;
  std::vector<cache_actor> shards;
  cache_use_metrics m;

  const cache_actor& shard_of(std::string_view key) const;
  /// {use, hits, misses, hit_rate, entries, bytes, evictions, expirations,
  ///  invalidations, puts, rejected, shards, ttl_ms, max_entries, max_bytes}
  boost::json::object stats() const;
};

std::shared_ptr<const cache_pool>
spawn_cache_pool(caf::actor_system& sys, cache_pool_options opts,
                 metrics::registry& reg);

/// Stops the pool's shards.
void stop_cache_pool(const cache_pool& pool);

/// Removes every entry whose key starts with `prefix` from every shard of
/// `pools`, then calls `done` with how many (from a short-lived actor:
/// never blocks the caller).
void invalidate_prefix(caf::actor_system& sys,
                       std::vector<std::shared_ptr<const cache_pool>> pools,
                       std::string prefix, std::function<void(uint64_t)> done);

} // namespace engram
