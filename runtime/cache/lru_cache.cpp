#include "runtime/cache/lru_cache.hpp"

namespace engram::cache {

cache_counters& cache_counters::operator+=(const cache_counters& o) {
  hits += o.hits;
  misses += o.misses;
  puts += o.puts;
  evictions += o.evictions;
  expirations += o.expirations;
  invalidations += o.invalidations;
  rejected += o.rejected;
  return *this;
}

lru_cache::lru_cache(cache_limits limits) : limits_(limits) {}

std::optional<std::string> lru_cache::get(std::string_view key, int64_t now_ms) {
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++counters_.misses;
    return std::nullopt;
  }
  auto e = it->second;
  if (e->deadline <= now_ms) {
    ++counters_.misses;
    ++counters_.expirations;
    remove(e);
    return std::nullopt;
  }
  ++counters_.hits;
  lru_.splice(lru_.begin(), lru_, e);
  return e->value;
}

void lru_cache::put(std::string key, std::string value, int64_t ttl_ms,
                    int64_t now_ms) {
  if (auto it = index_.find(key); it != index_.end())
    remove(it->second);
  if (ttl_ms <= 0)
    return;
  entry fresh{std::move(key), std::move(value), now_ms + ttl_ms, {}};
  auto c = cost(fresh);
  if (c > limits_.max_bytes || limits_.max_entries == 0) {
    ++counters_.rejected;
    return;
  }
  make_room(c);
  lru_.push_front(std::move(fresh));
  auto e = lru_.begin();
  std::string_view k{e->key}; // stable: the list node owns the string
  e->by_deadline = deadlines_.emplace(e->deadline, k);
  index_.emplace(k, e);
  bytes_ += c;
  ++counters_.puts;
}

bool lru_cache::erase(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end())
    return false;
  remove(it->second);
  ++counters_.invalidations;
  return true;
}

std::size_t lru_cache::invalidate_prefix(std::string_view prefix) {
  std::size_t n = 0;
  for (auto e = lru_.begin(); e != lru_.end();) {
    auto next = std::next(e);
    if (std::string_view{e->key}.substr(0, prefix.size()) == prefix) {
      remove(e);
      ++n;
    }
    e = next;
  }
  counters_.invalidations += n;
  return n;
}

std::size_t lru_cache::expire(int64_t now_ms, std::size_t limit) {
  std::size_t n = 0;
  while (n < limit && !deadlines_.empty()
         && deadlines_.begin()->first <= now_ms) {
    remove(index_.at(deadlines_.begin()->second));
    ++n;
  }
  counters_.expirations += n;
  return n;
}

std::optional<int64_t> lru_cache::next_deadline() const {
  if (deadlines_.empty())
    return std::nullopt;
  return deadlines_.begin()->first;
}

void lru_cache::remove(lru_list::iterator e) {
  bytes_ -= cost(*e);
  deadlines_.erase(e->by_deadline);
  index_.erase(std::string_view{e->key});
  lru_.erase(e);
}

void lru_cache::make_room(std::size_t incoming) {
  while (!lru_.empty()
         && (index_.size() + 1 > limits_.max_entries
             || bytes_ + incoming > limits_.max_bytes)) {
    remove(std::prev(lru_.end()));
    ++counters_.evictions;
  }
}

} // namespace engram::cache
