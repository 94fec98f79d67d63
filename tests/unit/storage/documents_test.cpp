// Tests storage/documents.cpp: doc keys build and parse back (and nothing
// else parses), the embedded text is exactly the documented shape, session
// groups are stable FNV-1a hashes that are never 0, and vectors and u64
// values have their fixed byte layout.

#include "storage/documents.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "storage/key_codec.hpp"
#include "storage/turn_record.hpp"

using namespace engram::storage;
using engram::code_of;
using engram::ec;

namespace {

template <class T>
ec result_code(const caf::expected<T>& x) {
  return x ? ec::none : code_of(x.error());
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

} // namespace

TEST_CASE("doc keys have the documented shape", "[storage]") {
  CHECK(base_doc_key("e7") == "e/e7");
  CHECK(composite_doc_key("s1", "e7") == "c/s1/e7");
}

TEST_CASE("doc keys parse back into their parts", "[storage]") {
  auto base = parse_doc_key(base_doc_key("e7"));
  REQUIRE(base);
  CHECK(base->session.empty());
  CHECK(base->entity_id == "e7");
  auto composite = parse_doc_key(composite_doc_key("s.1:x", "e_7-b"));
  REQUIRE(composite);
  CHECK(composite->session == "s.1:x");
  CHECK(composite->entity_id == "e_7-b");
}

TEST_CASE("strings that are not doc keys do not parse", "[storage]") {
  for (auto key : {"", "e", "c", "e/", "c/", "x/..", "x/e7", "E/e7", "/e7",
                   "ee7", "e/a/b", "c/onlyone", "c//e7", "c/s1/", "c/s1//",
                   "c/s1/e7/x", "c///"}) {
    INFO("'" << key << "'");
    CHECK_FALSE(parse_doc_key(key));
  }
}

TEST_CASE("composite_text is exactly the documented text", "[storage]") {
  CHECK(composite_text("A smith.", "") == "[Base Lore]\nA smith.");
  CHECK(composite_text("A smith.", "Owes us.")
        == "[Base Lore]\nA smith.\n\n[Session-Specific Notes]\nOwes us.");
  CHECK(composite_text("", "") == "[Base Lore]\n");
  CHECK(composite_text("", "n") == "[Base Lore]\n\n\n[Session-Specific Notes]\nn");
}

TEST_CASE("session_group is FNV-1a, never 0", "[storage]") {
  // Published FNV-1a 32-bit test vectors.
  CHECK(session_group("") == 0x811c9dc5u);
  CHECK(session_group("a") == 0xe40c292cu);
  CHECK(session_group("foobar") == 0xbf9cf968u);
  // FNV-1a("7met1an") is 0, which is base lore's group: moved to 1.
  CHECK(session_group("7met1an") == 1u);
  std::set<uint32_t> seen;
  for (int i = 0; i < 10000; ++i) {
    auto s = "session-" + std::to_string(i);
    auto g = session_group(s);
    CHECK(g != 0);
    CHECK(session_group(s) == g);
    seen.insert(g);
  }
  // A 32-bit hash of 10000 names: collisions are possible but rare.
  CHECK(seen.size() > 9990);
}

TEST_CASE("vector keys are user then doc key, and read back", "[storage]") {
  auto key = vector_key("u1", "c/s1/e7");
  CHECK(key == key_builder{}.str("u1").str("c/s1/e7").bytes());
  CHECK(vector_user_prefix("u1") == user_prefix("u1"));
  CHECK(starts_with(key, vector_user_prefix("u1")));
  CHECK_FALSE(starts_with(vector_key("u10", "e/e7"), vector_user_prefix("u1")));
  CHECK(doc_key_of_vector("u1", key) == std::string{"c/s1/e7"});
  CHECK_FALSE(doc_key_of_vector("u2", key));
  CHECK_FALSE(doc_key_of_vector("u", vector_key("u1", "e/e7")));
  CHECK_FALSE(doc_key_of_vector("u1", key + "x"));
  CHECK_FALSE(doc_key_of_vector("u1", key.substr(0, key.size() - 1)));
  CHECK_FALSE(doc_key_of_vector("u1", vector_user_prefix("u1")));
  CHECK_FALSE(doc_key_of_vector("u1", ""));
}

TEST_CASE("vectors are stored as little-endian binary32", "[storage]") {
  CHECK(encode_vector({}).empty());
  CHECK(encode_vector({1.0f}) == std::string{"\x00\x00\x80\x3F", 4});
  CHECK(encode_vector({-2.5f, 0.0f})
        == std::string{"\x00\x00\x20\xC0\x00\x00\x00\x00", 8});
}

TEST_CASE("a vector survives encode then decode bit for bit", "[storage]") {
  std::vector<float> v{0.0f,
                       -0.0f,
                       1.0f,
                       -1.5e-7f,
                       3.14159265f,
                       std::numeric_limits<float>::max(),
                       std::numeric_limits<float>::denorm_min(),
                       std::numeric_limits<float>::infinity(),
                       std::numeric_limits<float>::quiet_NaN()};
  auto bytes = encode_vector(v);
  CHECK(bytes.size() == v.size() * 4);
  for (std::size_t dim : {std::size_t{0}, v.size()}) {
    auto back = decode_vector(bytes, dim);
    REQUIRE(back);
    REQUIRE(back->size() == v.size());
    for (std::size_t i = 0; i < v.size(); ++i)
      CHECK(bits_of((*back)[i]) == bits_of(v[i]));
  }
  auto empty = decode_vector("");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("a vector of the wrong size is a storage failure", "[storage]") {
  auto bytes = encode_vector({1.0f, 2.0f, 3.0f});
  for (std::size_t n : {1, 3, 5, 11, 13})
    CHECK(result_code(decode_vector(std::string(n, '\0')))
          == ec::storage_failure);
  CHECK(result_code(decode_vector(bytes, 2)) == ec::storage_failure);
  CHECK(result_code(decode_vector(bytes, 4)) == ec::storage_failure);
  CHECK(result_code(decode_vector("", 1)) == ec::storage_failure);
  CHECK(result_code(decode_vector(bytes, 3)) == ec::none);
}

TEST_CASE("u64 values are 8 bytes big-endian", "[storage]") {
  CHECK(encode_u64(0x0102030405060708ull) == "\x01\x02\x03\x04\x05\x06\x07\x08");
  CHECK(encode_u64(0) == std::string(8, '\0'));
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256},
                     uint64_t{1} << 63, std::numeric_limits<uint64_t>::max()}) {
    auto back = decode_u64(encode_u64(v));
    REQUIRE(back);
    CHECK(*back == v);
  }
  for (std::size_t n : {0, 1, 7, 9, 16})
    CHECK(result_code(decode_u64(std::string(n, '\x01')))
          == ec::storage_failure);
}

TEST_CASE("vector generation keys are per user and apart from other meta "
          "keys",
          "[storage]") {
  CHECK(vector_generation_key("u1") == vector_generation_key("u1"));
  CHECK(vector_generation_key("u1") != vector_generation_key("u2"));
  CHECK_FALSE(starts_with(vector_generation_key("u10"),
                          vector_generation_key("u1")));
  // Same id as an event: the two meta keys must still differ.
  CHECK(vector_generation_key("x") != event_owner_key("x"));
  CHECK(vector_generation_key("journal_seq") != "journal_seq");
}
