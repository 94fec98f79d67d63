// The cache shard's state: TTL, LRU order, both bounds, prefix
// invalidation, expiry and counters.

#include <catch2/catch.hpp>

#include <string>

#include "runtime/cache/cache_keys.hpp"
#include "runtime/cache/lru_cache.hpp"

using namespace engram::cache;

namespace {

std::size_t cost(const std::string& k, const std::string& v) {
  return k.size() + v.size() + entry_overhead;
}

} // namespace

TEST_CASE("entries live until their TTL and are then misses", "[cache]") {
  lru_cache c;
  c.put("a", "1", 100, 1000);
  CHECK(c.get("a", 1099) == std::optional<std::string>{"1"});
  CHECK_FALSE(c.get("a", 1100)); // deadline = put time + ttl, exclusive
  CHECK(c.size() == 0);          // lazily removed
  CHECK(c.counters().hits == 1);
  CHECK(c.counters().misses == 1);
  CHECK(c.counters().expirations == 1);
  c.put("b", "2", 0, 1000); // no TTL: not stored
  c.put("c", "3", -5, 1000);
  CHECK(c.size() == 0);
  CHECK(c.counters().puts == 1);
}

TEST_CASE("the least recently used entry is evicted at the entry bound",
          "[cache]") {
  lru_cache c{{3, 1 << 20}};
  c.put("a", "1", 1000, 0);
  c.put("b", "2", 1000, 0);
  c.put("c", "3", 1000, 0);
  CHECK(c.get("a", 1)); // a is now the most recent: b is the oldest
  c.put("d", "4", 1000, 2);
  CHECK(c.size() == 3);
  CHECK_FALSE(c.get("b", 3));
  CHECK(c.get("a", 3));
  CHECK(c.get("c", 3));
  CHECK(c.get("d", 3));
  CHECK(c.counters().evictions == 1);
}

TEST_CASE("the byte bound counts keys, values and overhead", "[cache]") {
  std::string v(100, 'x');
  auto one = cost("k0", v);
  lru_cache c{{1000, 3 * one}};
  for (int i = 0; i < 3; ++i)
    c.put("k" + std::to_string(i), v, 1000, 0);
  CHECK(c.size() == 3);
  CHECK(c.bytes() == 3 * one);
  c.put("k3", v, 1000, 0); // one must go
  CHECK(c.size() == 3);
  CHECK(c.bytes() == 3 * one);
  CHECK_FALSE(c.get("k0", 1));
  // A bigger value evicts as many as needed.
  c.put("big", std::string(2 * 100 + entry_overhead, 'y'), 1000, 1);
  CHECK(c.bytes() <= 3 * one);
  CHECK(c.get("big", 2));
  CHECK(c.counters().evictions == 3);
  // Larger than the whole bound: refused, nothing evicted.
  auto before = c.size();
  c.put("huge", std::string(4 * one, 'z'), 1000, 2);
  CHECK(c.size() == before);
  CHECK(c.counters().rejected == 1);
}

TEST_CASE("a put replaces the entry and its size", "[cache]") {
  lru_cache c;
  c.put("a", "short", 1000, 0);
  c.put("a", "a much longer value", 1000, 0);
  CHECK(c.size() == 1);
  CHECK(c.bytes() == cost("a", "a much longer value"));
  CHECK(c.get("a", 1) == std::optional<std::string>{"a much longer value"});
  // The new TTL counts, not the old one.
  c.put("a", "v", 10, 500);
  CHECK_FALSE(c.get("a", 510));
}

TEST_CASE("prefix invalidation removes exactly the matching keys", "[cache]") {
  lru_cache c;
  c.put(search_user_prefix("alice") + "1", "x", 1000, 0);
  c.put(search_user_prefix("alice") + "2", "x", 1000, 0);
  c.put(search_user_prefix("alice2") + "1", "x", 1000, 0);
  c.put("bob", "x", 1000, 0);
  CHECK(c.invalidate_prefix(search_user_prefix("alice")) == 2);
  CHECK(c.size() == 2);
  CHECK(c.get(search_user_prefix("alice2") + "1", 1));
  CHECK(c.erase("bob"));
  CHECK_FALSE(c.erase("bob"));
  CHECK(c.counters().invalidations == 3);
  CHECK(c.invalidate_prefix("") == 1);
  CHECK(c.size() == 0);
  CHECK(c.bytes() == 0);
}

TEST_CASE("expire removes due entries oldest deadline first, up to a limit",
          "[cache]") {
  lru_cache c;
  c.put("late", "x", 500, 0);
  c.put("early", "x", 100, 0);
  c.put("mid", "x", 300, 0);
  CHECK(c.next_deadline() == std::optional<int64_t>{100});
  CHECK(c.expire(400, 1) == 1);
  CHECK_FALSE(c.get("early", 0)); // gone (a miss, not an expiration)
  CHECK(c.expire(400, 10) == 1);  // mid
  CHECK(c.size() == 1);
  CHECK(c.next_deadline() == std::optional<int64_t>{500});
  CHECK(c.expire(499, 10) == 0);
  CHECK(c.expire(500, 10) == 1);
  CHECK_FALSE(c.next_deadline());
  CHECK(c.counters().expirations == 3);
}

TEST_CASE("counters add up over a mixed workload", "[cache]") {
  lru_cache c{{50, 1 << 20}};
  uint64_t gets = 0;
  for (int i = 0; i < 200; ++i) {
    c.put("k" + std::to_string(i % 80), "v", 1000, i);
    c.get("k" + std::to_string((i * 7) % 100), i);
    ++gets;
  }
  auto& n = c.counters();
  CHECK(n.hits + n.misses == gets);
  CHECK(n.puts == 200);
  CHECK(c.size() == 50);
  cache_counters sum;
  sum += n;
  sum += n;
  CHECK(sum.puts == 400);
  CHECK(sum.hits == 2 * n.hits);
}

TEST_CASE("cache keys join parts with the unit separator and digest texts",
          "[cache]") {
  CHECK(make_key({"a", "b", ""}) == std::string{"a\x1f" "b\x1f"});
  CHECK(make_key({"", "x"}) == std::string{"\x1fx"});
  CHECK(make_key({"only"}) == "only");
  auto d = digest("hello");
  CHECK(d.size() == 32);
  CHECK(d == digest("hello"));
  CHECK(d != digest("hello "));
  CHECK(d.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(search_key("u", 7, "q", 10, "s")
        == std::string{"u\x1f" "7\x1f" "10\x1f" "s\x1f" "q"});
  CHECK(search_key("u", 7, "q", 10, "").rfind(search_user_prefix("u"), 0) == 0);
}
