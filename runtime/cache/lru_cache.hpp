#pragma once
// A bounded key/value cache with per-entry time to live and LRU eviction:
// the state of one cache shard actor (actors/cache.hpp). Pure and
// single-threaded (the owning actor serialises calls); time is passed in.
//
// Bounds: at most max_entries entries and max_bytes bytes, where an entry
// costs key size + value size + entry_overhead. A put that would exceed a
// bound evicts least recently used entries first (a get or a put makes an
// entry the most recent); a single entry larger than max_bytes is not
// stored at all.
//
// Expiry: an entry whose TTL has passed is never returned (checked on get:
// lazy) and is removed by expire(now, limit), which the actor calls from a
// timer (periodic), oldest deadline first.
//
// Cost: get/put/erase O(log n) (the expiry index), invalidate_prefix O(n)
// per call (a scan: meant for operators and rare bulk invalidation, not for
// the request path — generations keep per-user keys fresh instead).

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace engram::cache {

struct cache_limits {
  std::size_t max_entries = 10000;
  std::size_t max_bytes = 64u << 20;
};

/// Bytes an entry costs beyond its key and value (list and map nodes,
/// bookkeeping), so many tiny entries still respect max_bytes.
inline constexpr std::size_t entry_overhead = 96;

struct cache_counters {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t puts = 0;
  uint64_t evictions = 0;   // removed to respect a bound
  uint64_t expirations = 0; // removed (or refused on get) after their TTL
  uint64_t invalidations = 0; // removed by erase or invalidate_prefix
  uint64_t rejected = 0;    // puts larger than max_bytes

  cache_counters& operator+=(const cache_counters& o);
};

class lru_cache {
public:
  explicit lru_cache(cache_limits limits = {});

  /// The value when present and not expired at `now_ms` (counts a hit and
  /// makes it the most recent), else nullopt (counts a miss; an expired
  /// entry is removed).
  std::optional<std::string> get(std::string_view key, int64_t now_ms);

  /// Stores `value` until now_ms + ttl_ms (ttl_ms <= 0: it expires at once
  /// and is not stored), replacing any entry of that key.
  void put(std::string key, std::string value, int64_t ttl_ms, int64_t now_ms);

  /// Removes `key`; true when it was there.
  bool erase(std::string_view key);

  /// Removes every key starting with `prefix` (all of them for ""); returns
  /// how many.
  std::size_t invalidate_prefix(std::string_view prefix);

  /// Removes up to `limit` entries whose deadline is <= now_ms; returns how
  /// many.
  std::size_t expire(int64_t now_ms, std::size_t limit);

  /// The earliest deadline of any entry, or nullopt when empty.
  std::optional<int64_t> next_deadline() const;

  std::size_t size() const { return index_.size(); }
  std::size_t bytes() const { return bytes_; }
  const cache_counters& counters() const { return counters_; }
  const cache_limits& limits() const { return limits_; }

private:
  struct entry {
    std::string key;
    std::string value;
    int64_t deadline = 0;
    std::multimap<int64_t, std::string_view>::iterator by_deadline;
  };
  using lru_list = std::list<entry>; // front = most recent

  void remove(lru_list::iterator it);
  void make_room(std::size_t incoming);
  static std::size_t cost(const entry& e) {
    return e.key.size() + e.value.size() + entry_overhead;
  }

  cache_limits limits_;
  lru_list lru_;
  std::unordered_map<std::string_view, lru_list::iterator> index_;
  std::multimap<int64_t, std::string_view> deadlines_;
  std::size_t bytes_ = 0;
  cache_counters counters_;
};

} // namespace engram::cache
