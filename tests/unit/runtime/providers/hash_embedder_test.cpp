// Tests runtime/providers/hash_embedder.cpp: the offline `hash` embedder.

#include "runtime/providers/hash_embedder.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"

using namespace engram::providers;
using engram::code_of;
using engram::ec;
using engram::field_of;

namespace {

std::unique_ptr<hash_embedder> make_embedder(std::size_t dim = 384) {
  auto e = hash_embedder::make({dim});
  REQUIRE(e);
  return std::move(*e);
}

double dot(const vector& a, const vector& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    s += double(a[i]) * double(b[i]);
  return s;
}

double norm(const vector& a) {
  return std::sqrt(dot(a, a));
}

bool is_zero(const vector& a) {
  for (float x : a)
    if (x != 0.0f)
      return false;
  return true;
}

bool bit_identical(const vector& a, const vector& b) {
  return a.size() == b.size()
         && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

TEST_CASE("the hash embedder is named hash and reports its dim") {
  auto e = make_embedder(128);
  CHECK(e->name() == "hash");
  CHECK(e->dim() == 128);
}

TEST_CASE("dim 0 or above 65536 is an invalid_config error naming dim") {
  for (std::size_t dim : {std::size_t{0}, std::size_t{65537}}) {
    auto e = hash_embedder::make({dim});
    REQUIRE_FALSE(e);
    CHECK(code_of(e.error()) == ec::invalid_config);
    CHECK(field_of(e.error()) == "dim");
  }
}

TEST_CASE("the same text gives bit-identical vectors across calls and "
          "instances") {
  std::string text = "Elena crossed the Valdris bridge at dawn, sword drawn.";
  auto a = make_embedder();
  auto b = make_embedder();
  auto first = a->embed_one(text);
  CHECK(bit_identical(first, a->embed_one(text)));
  CHECK(bit_identical(first, b->embed_one(text)));
  auto batch = a->embed({"other text", text, text});
  REQUIRE(batch);
  REQUIRE(batch->size() == 3);
  CHECK(bit_identical(first, (*batch)[1]));
  CHECK(bit_identical(first, (*batch)[2]));
}

TEST_CASE("feature hashes are pinned: changing them would invalidate every "
          "stored vector") {
  CHECK(feature_hash('U', "dragon") == 0xbb20a56b3ea2d700ull);
  CHECK(feature_hash('C', "<dr") == 0x487bf20e9838043bull);
  CHECK(feature_hash('B', std::string_view{"a\x1f"
                                           "b",
                                           3})
        == 0x1ecc496ff2e6c7dfull);
}

TEST_CASE("every vector has exactly the configured dim") {
  for (std::size_t dim : {1, 7, 384, 1000}) {
    auto e = make_embedder(dim);
    auto out = e->embed({"", "one", "a longer text with several words"});
    REQUIRE(out);
    for (const auto& v : *out)
      CHECK(v.size() == dim);
  }
}

TEST_CASE("a text with at least one word gives a unit vector") {
  auto e = make_embedder();
  for (const char* text :
       {"a", "x", "hello", "The quick brown fox jumps over the lazy dog", "42",
        "Привет, мир", "東京タワー", "repeat repeat repeat repeat"}) {
    INFO(text);
    CHECK(norm(e->embed_one(text)) == Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("a text without words gives the zero vector") {
  auto e = make_embedder();
  for (const char* text : {"", " ", "\t\n  ", "...!?", "-- // ()"}) {
    INFO('"' << text << '"');
    auto v = e->embed_one(text);
    CHECK(v.size() == 384);
    CHECK(is_zero(v));
  }
}

TEST_CASE("ASCII case and punctuation do not change the vector") {
  auto e = make_embedder();
  CHECK(
    bit_identical(e->embed_one("Hello, World!"), e->embed_one("hello world")));
  CHECK(bit_identical(e->embed_one("  DRAGON\tfire  "),
                      e->embed_one("dragon fire")));
}

TEST_CASE("word order changes only the bigrams") {
  auto e = make_embedder();
  auto a = e->embed_one("dog bites man");
  auto b = e->embed_one("man bites dog");
  double sim = dot(a, b);
  CHECK(sim < 0.999);
  CHECK(sim > 0.7);
}

TEST_CASE("similar texts are closer than unrelated ones") {
  struct row {
    const char* anchor;
    const char* similar;
    const char* unrelated;
  };
  const row table[] = {
    {"The dragon attacked the northern village at dawn",
     "At dawn the dragon attacked a village in the north",
     "Quarterly revenue grew by twelve percent"},
    {"Elena is a skilled swordswoman from Valdris",
     "Elena, the swordswoman of Valdris", "The recipe needs two cups of flour"},
    {"I love running in the park", "She loves to run in parks",
     "Tax forms are due in April"},
    {"The captain's ship sank near the harbour",
     "A ship sank close to the harbour; the captain survived",
     "Mix the eggs with sugar and butter"},
    {"kubernetes pod restarts", "Kubernetes pods keep restarting",
     "the cat sat on the mat"},
  };
  auto e = make_embedder();
  for (const auto& r : table) {
    INFO(r.anchor);
    auto anchor = e->embed_one(r.anchor);
    double near = dot(anchor, e->embed_one(r.similar));
    double far = dot(anchor, e->embed_one(r.unrelated));
    CHECK(near > far + 0.05);
  }
}

TEST_CASE("shared word stems make texts similar through char n-grams") {
  auto e = make_embedder();
  auto running = e->embed_one("running");
  double unrelated = dot(running, e->embed_one("walked"));
  CHECK(std::abs(unrelated) < 0.1);
  CHECK(dot(running, e->embed_one("runner")) > unrelated + 0.15);
  CHECK(dot(running, e->embed_one("run")) > unrelated + 0.15);
}

TEST_CASE("non-ASCII words are features of their own") {
  auto e = make_embedder();
  auto a = e->embed_one("Привет мир");
  CHECK_FALSE(is_zero(a));
  CHECK(dot(a, e->embed_one("Привет мир")) == Approx(1.0).epsilon(1e-6));
  CHECK(dot(a, e->embed_one("до свидания")) < 0.5);
}
