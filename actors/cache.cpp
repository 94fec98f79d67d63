#include "actors/cache.hpp"

#include <functional>

#include <caf/all.hpp>

#include "runtime/ids.hpp"
#include "runtime/metrics.hpp"

namespace engram {

namespace {

struct shard_state {
  std::unique_ptr<cache::lru_cache> cache;
  cache_use_metrics m;
  int64_t expire_every_ms = 1000;
  cache::cache_counters published; // what the metrics already have
  std::size_t entries = 0;         // published gauges
  std::size_t bytes = 0;
  static inline const char* name = "engram.cache_shard";
};

using shard_self = cache_actor::stateful_pointer<shard_state>;

// Moves the shard's counter deltas into the shared metrics. Cheap (a few
// relaxed atomics) and done after every message, so stats are current.
void publish(shard_self self) {
  auto& st = self->state;
  auto& c = st.cache->counters();
  auto& p = st.published;
  auto bump = [](metrics::counter* m, uint64_t now, uint64_t& was) {
    if (now != was)
      m->inc(now - was);
    was = now;
  };
  bump(st.m.hits, c.hits, p.hits);
  bump(st.m.misses, c.misses, p.misses);
  bump(st.m.puts, c.puts, p.puts);
  bump(st.m.evictions, c.evictions, p.evictions);
  bump(st.m.expirations, c.expirations, p.expirations);
  bump(st.m.invalidations, c.invalidations, p.invalidations);
  bump(st.m.rejected, c.rejected, p.rejected);
  auto n = st.cache->size(), b = st.cache->bytes();
  if (n != st.entries)
    st.m.entries->add(double(n) - double(st.entries));
  if (b != st.bytes)
    st.m.bytes->add(double(b) - double(st.bytes));
  st.entries = n;
  st.bytes = b;
}

cache_actor::behavior_type shard(shard_self self, cache::cache_limits limits,
                                 cache_use_metrics m, int64_t expire_every_ms) {
  auto& st = self->state;
  st.cache = std::make_unique<cache::lru_cache>(limits);
  st.m = m;
  st.expire_every_ms = expire_every_ms;
  self->delayed_send(self, std::chrono::milliseconds(expire_every_ms),
                     pump_atom::value);
  return {
    [self](cget_atom, const std::string& key) {
      auto v = self->state.cache->get(key, now_unix_ms());
      publish(self);
      return v ? cache_lookup{true, std::move(*v)} : cache_lookup{};
    },
    [self](cput_atom, std::string& key, std::string& value, int64_t ttl_ms) {
      self->state.cache->put(std::move(key), std::move(value), ttl_ms,
                             now_unix_ms());
      publish(self);
    },
    [self](cerase_atom, const std::string& key) {
      auto gone = self->state.cache->erase(key);
      publish(self);
      return gone;
    },
    [self](cinval_atom, const std::string& prefix) {
      auto n = self->state.cache->invalidate_prefix(prefix);
      publish(self);
      return static_cast<uint64_t>(n);
    },
    [self](pump_atom) {
      auto& st = self->state;
      constexpr std::size_t per_tick = 10000;
      auto n = st.cache->expire(now_unix_ms(), per_tick);
      publish(self);
      // More are due: go on after whatever else is in the mailbox.
      if (n == per_tick)
        self->send(self, pump_atom::value);
      else
        self->delayed_send(self, std::chrono::milliseconds(st.expire_every_ms),
                           pump_atom::value);
    },
  };
}

cache_use_metrics metrics_of(metrics::registry& reg, const std::string& use) {
  metrics::labels l{{"use", use}};
  cache_use_metrics m;
  m.hits = &reg.get_counter("engram_cache_hits_total", "Cache hits", l);
  m.misses = &reg.get_counter("engram_cache_misses_total", "Cache misses", l);
  m.puts = &reg.get_counter("engram_cache_puts_total", "Entries stored", l);
  m.evictions = &reg.get_counter("engram_cache_evictions_total",
                                 "Entries evicted to respect a bound", l);
  m.expirations = &reg.get_counter("engram_cache_expirations_total",
                                   "Entries dropped after their TTL", l);
  m.invalidations = &reg.get_counter("engram_cache_invalidations_total",
                                     "Entries erased or invalidated", l);
  m.rejected = &reg.get_counter("engram_cache_rejected_total",
                                "Puts larger than the byte bound", l);
  m.entries = &reg.get_gauge("engram_cache_entries", "Entries held", l);
  m.bytes = &reg.get_gauge("engram_cache_bytes",
                           "Bytes held (keys, values, overhead)", l);
  return m;
}

} // namespace

const cache_actor& cache_pool::shard_of(std::string_view key) const {
  return shards[std::hash<std::string_view>{}(key) % shards.size()];
}

boost::json::object cache_pool::stats() const {
  auto hits = m.hits->value(), misses = m.misses->value();
  auto asked = hits + misses;
  return {{"use", opts.use},
          {"hits", hits},
          {"misses", misses},
          {"hit_rate", asked ? double(hits) / double(asked) : 0.0},
          {"entries", static_cast<uint64_t>(m.entries->value())},
          {"bytes", static_cast<uint64_t>(m.bytes->value())},
          {"puts", m.puts->value()},
          {"evictions", m.evictions->value()},
          {"expirations", m.expirations->value()},
          {"invalidations", m.invalidations->value()},
          {"rejected", m.rejected->value()},
          {"shards", shards.size()},
          {"ttl_ms", opts.ttl_ms},
          {"max_entries", opts.limits.max_entries},
          {"max_bytes", opts.limits.max_bytes}};
}

std::shared_ptr<const cache_pool>
spawn_cache_pool(caf::actor_system& sys, cache_pool_options opts,
                 metrics::registry& reg) {
  auto pool = std::make_shared<cache_pool>();
  opts.shards = std::max<std::size_t>(1, opts.shards);
  pool->opts = opts;
  pool->m = metrics_of(reg, opts.use);
  cache::cache_limits per{
    std::max<std::size_t>(1, opts.limits.max_entries / opts.shards),
    std::max<std::size_t>(1, opts.limits.max_bytes / opts.shards)};
  for (std::size_t i = 0; i < opts.shards; ++i)
    pool->shards.push_back(
      sys.spawn(shard, per, pool->m, std::max<int64_t>(10, opts.expire_every_ms)));
  return pool;
}

void invalidate_prefix(caf::actor_system& sys,
                       std::vector<std::shared_ptr<const cache_pool>> pools,
                       std::string prefix, std::function<void(uint64_t)> done) {
  // The unused int: CAF 0.17 dereferences an empty argument tuple (UBSan
  // reports a null reference) when a function actor takes no arguments.
  sys.spawn([pools = std::move(pools), prefix = std::move(prefix),
             done = std::move(done)](caf::event_based_actor* self, int) {
    struct tally {
      std::size_t waiting = 0;
      uint64_t removed = 0;
    };
    auto t = std::make_shared<tally>();
    for (auto& p : pools)
      t->waiting += p->shards.size();
    if (t->waiting == 0) {
      done(0);
      self->quit();
      return;
    }
    auto one = [self, t, done](uint64_t n) {
      t->removed += n;
      if (--t->waiting == 0) {
        done(t->removed);
        self->quit();
      }
    };
    for (auto& p : pools)
      for (auto& s : p->shards)
        self->request(s, std::chrono::seconds(10), cinval_atom::value, prefix)
          .then([one](uint64_t n) { one(n); },
                [one](caf::error&) { one(0); });
  }, 0);
}

void stop_cache_pool(const cache_pool& pool) {
  for (auto& s : pool.shards)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
}

} // namespace engram
