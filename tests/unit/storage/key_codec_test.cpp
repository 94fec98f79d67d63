// Tests storage/key_codec.cpp: byte order of encoded keys equals the logical
// order of their parts, and keys read back as the parts they were built from.

#include "storage/key_codec.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

using namespace engram::storage;

namespace {

using u64_limits = std::numeric_limits<uint64_t>;
using i64_limits = std::numeric_limits<int64_t>;

// memcmp order, the order RocksDB's default comparator uses.
bool bytewise_less(std::string_view a, std::string_view b) {
  return std::lexicographical_compare(
    a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
    });
}

// Short strings over an alphabet rich in the bytes the encoding treats
// specially, so that many pairs are prefixes of each other.
std::string random_string(std::mt19937_64& rng) {
  static constexpr char alphabet[] = {'\x00', '\x01', '\x02', 'a',
                                      '\xFE', '\xFF'};
  std::uniform_int_distribution<int> len{0, 6};
  std::uniform_int_distribution<std::size_t> pick{0, sizeof(alphabet) - 1};
  std::string out;
  for (int n = len(rng); n > 0; --n)
    out.push_back(alphabet[pick(rng)]);
  return out;
}

uint64_t random_u64(std::mt19937_64& rng) {
  static const std::vector<uint64_t> edges{
    0, 1, 0xFF, 0x100, 0xFFFFFFFF, 0x100000000, u64_limits::max() / 2,
    u64_limits::max() / 2 + 1, u64_limits::max() - 1, u64_limits::max()};
  if (rng() % 2 == 0)
    return edges[rng() % edges.size()];
  return rng() >> (rng() % 64); // spread over all magnitudes
}

int64_t random_i64(std::mt19937_64& rng) {
  static const std::vector<int64_t> edges{
    i64_limits::min(), i64_limits::min() + 1, -256, -1, 0, 1, 255,
    i64_limits::max() - 1, i64_limits::max()};
  if (rng() % 2 == 0)
    return edges[rng() % edges.size()];
  auto v = static_cast<int64_t>(rng() >> (rng() % 64));
  return rng() % 2 == 0 ? v : -v;
}

// Checks that encode(a) < encode(b) exactly when a < b, for every pair.
template <class T, class Encode, class Less>
void check_order(const std::vector<T>& values, Encode encode, Less less) {
  std::vector<std::string> keys;
  for (const auto& v : values)
    keys.push_back(encode(v));
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < values.size(); ++i)
    for (std::size_t j = 0; j < values.size(); ++j)
      if (bytewise_less(keys[i], keys[j]) != less(values[i], values[j])
          && mismatches++ == 0)
        UNSCOPED_INFO("first out of order: values " << i << " and " << j);
  CHECK(mismatches == 0);
}

template <class T, class Gen>
std::vector<T> sample(Gen gen, std::size_t n) {
  std::mt19937_64 rng{20240601};
  std::vector<T> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(gen(rng));
  return out;
}

} // namespace

TEST_CASE("encoded u64 keys sort like the numbers") {
  auto values = sample<uint64_t>(random_u64, 300);
  check_order(
    values, [](uint64_t v) { return key_builder{}.u64(v).bytes(); },
    std::less<uint64_t>{});
}

TEST_CASE("encoded i64 keys sort like the numbers, negatives first") {
  auto values = sample<int64_t>(random_i64, 300);
  check_order(
    values, [](int64_t v) { return key_builder{}.i64(v).bytes(); },
    std::less<int64_t>{});
}

TEST_CASE("encoded strings sort byte-wise, even with NUL and 0xFF bytes") {
  auto values = sample<std::string>(random_string, 300);
  values.push_back("");
  values.push_back(std::string(3, '\0'));
  values.push_back(std::string(3, '\xFF'));
  check_order(
    values, [](const std::string& s) { return key_builder{}.str(s).bytes(); },
    bytewise_less);
}

TEST_CASE("composite keys sort like tuples of their parts") {
  using parts = std::tuple<std::string, uint64_t, int64_t>;
  auto gen = [](std::mt19937_64& rng) {
    // Few distinct numbers, so ties in the first parts are common.
    return parts{random_string(rng), random_u64(rng) % 3, random_i64(rng)};
  };
  auto values = sample<parts>(gen, 300);
  auto encode = [](const parts& p) {
    return key_builder{}
      .str(std::get<0>(p))
      .u64(std::get<1>(p))
      .i64(std::get<2>(p))
      .bytes();
  };
  auto less = [](const parts& a, const parts& b) {
    if (std::get<0>(a) != std::get<0>(b))
      return bytewise_less(std::get<0>(a), std::get<0>(b));
    return std::tie(std::get<1>(a), std::get<2>(a))
           < std::tie(std::get<1>(b), std::get<2>(b));
  };
  check_order(values, encode, less);
}

TEST_CASE("a key reads back as the parts it was built from") {
  std::mt19937_64 rng{7};
  for (int i = 0; i < 1000; ++i) {
    auto s = random_string(rng);
    auto u = random_u64(rng);
    auto n = random_i64(rng);
    auto key = key_builder{}.str(s).u64(u).i64(n).str(s).bytes();
    key_reader r{key};
    CHECK(r.str() == s);
    CHECK(r.u64() == u);
    CHECK(r.i64() == n);
    CHECK(r.str() == s);
    CHECK(r.done());
  }
}

TEST_CASE("key_reader rejects every truncation of a valid key") {
  auto key = key_builder{}.str(std::string{"a\0\xFF", 3}).u64(42).bytes();
  for (std::size_t len = 0; len < key.size(); ++len) {
    key_reader r{std::string_view{key}.substr(0, len)};
    auto s = r.str();
    bool failed = !s || !r.u64();
    INFO("length " << len);
    CHECK(failed);
  }
}

TEST_CASE("key_reader rejects malformed parts") {
  SECTION("a string without terminator") {
    CHECK_FALSE(key_reader{"abc"}.str());
  }
  SECTION("a NUL followed by neither escape nor terminator") {
    CHECK_FALSE(key_reader{std::string_view{"a\0\x02\0\x01", 5}}.str());
  }
  SECTION("a lone trailing NUL") {
    CHECK_FALSE(key_reader{std::string_view{"a\0", 2}}.str());
  }
  SECTION("fewer than eight bytes for a number") {
    CHECK_FALSE(key_reader{"1234567"}.u64());
    CHECK_FALSE(key_reader{"1234567"}.i64());
  }
}

TEST_CASE("a user's prefix does not match another user's keys") {
  auto bob = user_prefix("bob");
  auto bobby_key = key_builder{}.str("bobby").u64(1).bytes();
  auto bob_nul_key = key_builder{}.str(std::string{"bob\0", 4}).bytes();
  CHECK(bob == key_builder{}.str("bob").bytes());
  CHECK(bobby_key.compare(0, bob.size(), bob) != 0);
  CHECK(bob_nul_key.compare(0, bob.size(), bob) != 0);
}

TEST_CASE("prefix_successor bounds exactly the keys with the prefix") {
  SECTION("known values") {
    CHECK(prefix_successor("abc") == "abd");
    CHECK(prefix_successor("ab\xFF") == "ac");
    CHECK(prefix_successor(std::string{"a\0", 2}) == std::string{"a\x01"});
    CHECK(prefix_successor("a\xFE\xFF\xFF") == "a\xFF");
    CHECK(prefix_successor("\xFF\xFF\xFF").empty());
    CHECK(prefix_successor("").empty());
  }
  SECTION("random prefixes and keys") {
    std::mt19937_64 rng{99};
    for (int i = 0; i < 20000; ++i) {
      auto prefix = random_string(rng);
      auto key = random_string(rng);
      auto succ = prefix_successor(prefix);
      bool has_prefix = key.compare(0, prefix.size(), prefix) == 0;
      bool below = succ.empty() || bytewise_less(key, succ);
      bool in_range = !bytewise_less(key, prefix) && below;
      INFO("prefix size " << prefix.size() << ", key size " << key.size());
      REQUIRE(has_prefix == in_range);
    }
  }
}
