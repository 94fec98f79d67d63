// Tests the quantized scan of storage::vector_index (method quantized_scan,
// the default past exact_threshold): the int8 codes of
// storage/detail/quantized_codes.cpp, and the scan + exact rerank in
// storage/vector_index.cpp, on hash-embedded texts (the vectors it exists
// for) and on small random vectors.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <stdlib.h>

#include <catch2/catch.hpp>

#include "runtime/providers/hash_embedder.hpp"
#include "storage/detail/quantized_codes.hpp"
#include "storage/vector_index.hpp"

using namespace engram::storage;
using engram::providers::hash_embedder;

namespace {

using vec = std::vector<float>;

vec random_unit(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> normal{0.0f, 1.0f};
  vec v(dim);
  double n = 0;
  for (float& x : v) {
    x = normal(rng);
    n += double(x) * x;
  }
  for (float& x : v)
    x = static_cast<float>(x / std::sqrt(n));
  return v;
}

double dot(const vec& a, const vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    s += double(a[i]) * b[i];
  return s;
}

std::vector<std::string> keys(const std::vector<search_hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits)
    out.push_back(h.doc_key);
  return out;
}

std::vector<search_hit> search(const vector_index& idx, const vec& q,
                               std::size_t k, const search_filter& f = {}) {
  auto hits = idx.search(q, k, f);
  REQUIRE(hits);
  return std::move(*hits);
}

double recall(const std::vector<search_hit>& found,
              const std::vector<search_hit>& truth) {
  if (truth.empty())
    return 1.0;
  std::set<std::string> want;
  for (const auto& t : truth)
    want.insert(t.doc_key);
  std::size_t n = 0;
  for (const auto& f : found)
    n += want.count(f.doc_key);
  return double(n) / double(truth.size());
}

vector_index make(std::size_t dim, std::size_t threshold,
                  std::size_t rerank = 800,
                  vector_search_method method
                  = vector_search_method::quantized_scan) {
  vector_index_options opts;
  opts.dim = dim;
  opts.exact_threshold = threshold;
  opts.rerank_candidates = rerank;
  opts.method = method;
  auto idx = vector_index::make(opts);
  REQUIRE(idx);
  return std::move(*idx);
}

// Small composite documents ("[Base Lore] ... [Session-Specific Notes] ...")
// of `entities` named entities over `sessions` sessions, and short search
// phrases made of an entity's name and words of its documents.
struct composite_corpus {
  struct doc {
    std::string key;
    group_id session;
    std::string text;
    std::size_t entity;
  };
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> topics;
  std::vector<doc> docs;
  std::mt19937 rng;

  std::string word() {
    static const char* syllables[] = {"ka", "ri", "on", "el", "mar", "th",
                                      "ven", "do", "sa", "lu", "qu", "ex"};
    std::string w;
    for (std::size_t i = 0, n = 2 + rng() % 3; i < n; ++i)
      w += syllables[rng() % std::size(syllables)];
    return w;
  }

  std::string sentence(const std::vector<std::string>& topic) {
    std::string s;
    for (std::size_t i = 0, n = 6 + rng() % 6; i < n; ++i)
      s += (i ? " " : "") + topic[rng() % topic.size()];
    return s + ".";
  }

  composite_corpus(std::size_t entities, group_id sessions,
                   std::size_t per_session, uint32_t seed)
    : rng(seed) {
    for (int t = 0; t < 30; ++t) {
      std::vector<std::string> ws;
      for (int i = 0; i < 30; ++i)
        ws.push_back(word());
      topics.push_back(std::move(ws));
    }
    std::vector<std::string> lore;
    for (std::size_t e = 0; e < entities; ++e) {
      names.push_back(word() + " " + word());
      lore.push_back(names.back() + " " + sentence(topics[e % topics.size()]));
    }
    for (group_id s = 1; s <= sessions; ++s)
      for (std::size_t j = 0; j < per_session; ++j) {
        std::size_t e = rng() % entities;
        std::string notes;
        for (std::size_t i = 0, n = 2 + rng() % 4; i < n; ++i)
          notes += sentence(topics[(e + rng() % 2) % topics.size()]) + " ";
        docs.push_back({"composite:" + std::to_string(s) + ":"
                          + std::to_string(e) + ":" + std::to_string(j),
                        s,
                        "[Base Lore]\n" + lore[e]
                          + "\n\n[Session-Specific Notes]\n" + notes,
                        e});
      }
  }

  // 2-7 words: half the time an entity's name first.
  std::string query() {
    const auto& d = docs[rng() % docs.size()];
    std::vector<std::string> words;
    std::string w;
    for (char c : d.text + " ") {
      if (std::isalpha(static_cast<unsigned char>(c)))
        w += c;
      else if (!w.empty())
        words.push_back(std::move(w)), w.clear();
    }
    std::string q = rng() % 2 ? names[d.entity] : "";
    for (std::size_t i = 0, n = 2 + rng() % 4; i < n; ++i)
      q += (q.empty() ? "" : " ") + words[rng() % words.size()];
    return q;
  }
};

vec embed(const hash_embedder& e, const std::string& text) {
  return e.embed_one(text);
}

} // namespace

// -- quantized_codes ----------------------------------------------------------

TEST_CASE("make_scan_query keeps the nonzero dimensions, or the largest") {
  vec q{0, 0.5f, 0, -0.9f, 0.1f, 0, -0.2f, 0};
  auto all = detail::make_scan_query(q.data(), q.size(), 100);
  CHECK(all.dims == std::vector<uint32_t>{1, 3, 4, 6});
  CHECK(all.weights == std::vector<float>{0.5f, -0.9f, 0.1f, -0.2f});
  auto two = detail::make_scan_query(q.data(), q.size(), 2);
  CHECK(two.dims == std::vector<uint32_t>{1, 3}); // sorted by dimension
  CHECK(two.weights == std::vector<float>{0.5f, -0.9f});
  vec zero(8, 0.0f);
  CHECK(detail::make_scan_query(zero.data(), 8, 4).dims.empty());
}

TEST_CASE("int8 codes approximate inner products within the rounding bound, "
          "across blocks") {
  const std::size_t dim = 40;
  std::mt19937 rng{21};
  detail::quantized_codes codes{dim};
  const std::size_t n = detail::quantized_codes::block_slots + 300;
  std::vector<vec> vs;
  for (std::size_t s = 0; s < n; ++s) {
    vs.push_back(random_unit(rng, dim));
    codes.put(static_cast<uint32_t>(s), vs.back().data());
  }
  CHECK(codes.blocks() == 2);
  for (int round = 0; round < 5; ++round) {
    auto q = random_unit(rng, dim);
    auto sq = detail::make_scan_query(q.data(), dim, dim);
    // Each code of the document is off by at most its scale / 2 (peak /
    // 254), each of the query by the query's (peak / 126).
    double q1 = 0, q_peak = 0;
    for (float x : q) {
      q1 += std::fabs(x);
      q_peak = std::max<double>(q_peak, std::fabs(x));
    }
    CHECK(sq.scale == Approx(q_peak / 63));
    std::vector<float> block(detail::quantized_codes::block_slots);
    for (std::size_t b = 0; b < codes.blocks(); ++b) {
      codes.score_block(b, sq, block.data());
      for (std::size_t i = 0; i < block.size(); ++i) {
        std::size_t s = b * block.size() + i;
        if (s >= n) {
          CHECK(block[i] == 0.0f); // never written: scale 0
          continue;
        }
        double peak = 0, d1 = 0;
        for (float x : vs[s]) {
          peak = std::max<double>(peak, std::fabs(x));
          d1 += std::fabs(x);
        }
        double bound = q1 * peak / 254.0 + d1 * q_peak / 126.0
                       + double(dim) * peak * q_peak / (254.0 * 126.0)
                       + 1e-5;
        CHECK(std::fabs(block[i] - dot(q, vs[s])) <= bound);
        CHECK(codes.score(static_cast<uint32_t>(s), sq)
              == Approx(block[i]).margin(1e-5));
      }
    }
  }
  codes.clear(7);
  auto q = random_unit(rng, dim);
  CHECK(codes.score(7, detail::make_scan_query(q.data(), dim, dim)) == 0.0f);
}

// -- the quantized index ------------------------------------------------------

TEST_CASE("the quantized scan finds the exact top 10 of hash-embedded "
          "composite documents") {
  // 3,000 documents, 2,000 of them past the threshold; only 40 candidates
  // are reranked (rerank_candidates 10 < 4 k), so the approximate scan
  // must rank the true best among its first 40 of 3,000.
  auto embedder = hash_embedder::make();
  REQUIRE(embedder);
  composite_corpus corpus{150, 60, 50, 31};
  auto idx = make(384, 1000, 10);
  auto exact = make(384, 10000);
  for (const auto& d : corpus.docs) {
    auto v = embed(**embedder, d.text);
    REQUIRE_FALSE(idx.upsert(d.key, d.session, v));
    REQUIRE_FALSE(exact.upsert(d.key, d.session, v));
  }
  REQUIRE(idx.uses_quantized_scan());
  REQUIRE_FALSE(exact.uses_quantized_scan());
  double total = 0, filtered = 0;
  const int queries = 100;
  // Sessions 1-30: half the documents, past the threshold, so the filtered
  // search is a filtered quantized scan too.
  auto half = search_filter::where([](group_id g) { return g <= 30; });
  for (int i = 0; i < queries; ++i) {
    auto q = embed(**embedder, corpus.query());
    auto found = search(idx, q, 10);
    auto truth = search(exact, q, 10);
    total += recall(found, truth);
    // Scores are exact inner products (the rerank), best first.
    for (std::size_t j = 0; j < found.size(); ++j) {
      if (j > 0)
        CHECK(found[j - 1].score >= found[j].score);
    }
    if (!found.empty() && !truth.empty())
      CHECK(found[0].score == Approx(truth[0].score).margin(1e-6));
    auto f_found = search(idx, q, 10, half);
    for (const auto& h : f_found) {
      auto session = std::stoul(h.doc_key.substr(10));
      CHECK(session <= 30);
    }
    filtered += recall(f_found, search(exact, q, 10, half));
  }
  CHECK(total / queries >= 0.97);
  CHECK(filtered / queries >= 0.97);
}

TEST_CASE("the quantized scan never returns removed documents and reuses "
          "their slots") {
  std::mt19937 rng{22};
  const std::size_t dim = 24;
  auto idx = make(dim, 100, 20);
  std::map<std::string, vec> live, gone;
  for (std::size_t i = 0; i < 600; ++i) {
    auto v = random_unit(rng, dim);
    REQUIRE_FALSE(idx.upsert("d" + std::to_string(i), 0, v));
    live["d" + std::to_string(i)] = v;
  }
  REQUIRE(idx.uses_quantized_scan());
  for (std::size_t i = 0; i < 600; i += 3) {
    auto key = "d" + std::to_string(i);
    REQUIRE_FALSE(idx.remove(key));
    gone[key] = live[key];
    live.erase(key);
  }
  auto check = [&] {
    CHECK(idx.size() == live.size());
    // A removed document's own vector is its best query: it must not come
    // back, and the best live document must.
    for (const auto& [key, v] : gone) {
      auto found = keys(search(idx, v, 5));
      CHECK(std::find(found.begin(), found.end(), key) == found.end());
      CHECK_FALSE(idx.contains(key));
    }
    for (const auto& [key, v] : live) {
      auto found = search(idx, v, 1);
      REQUIRE(found.size() == 1);
      CHECK(found[0].doc_key == key);
    }
  };
  check();
  for (std::size_t i = 600; i < 700; ++i) { // take the freed slots back
    auto v = random_unit(rng, dim);
    REQUIRE_FALSE(idx.upsert("d" + std::to_string(i), 0, v));
    live["d" + std::to_string(i)] = v;
  }
  check();
  // Replacing a vector replaces its code.
  auto v = random_unit(rng, dim);
  REQUIRE_FALSE(idx.upsert("d1", 0, v));
  live["d1"] = v;
  auto found = search(idx, v, 1);
  REQUIRE(found.size() == 1);
  CHECK(found[0].doc_key == "d1");
  CHECK(found[0].score == Approx(1.0).margin(1e-5));
}

TEST_CASE("the quantized scan reranks exactly and breaks ties like the exact "
          "scan") {
  const std::size_t dim = 16;
  std::mt19937 rng{23};
  auto idx = make(dim, 50, 10);
  auto exact = make(dim, 1000);
  for (std::size_t i = 0; i < 400; ++i) {
    auto v = random_unit(rng, dim);
    auto key = "k" + std::to_string(1000 + i);
    REQUIRE_FALSE(idx.upsert(key, 0, v));
    REQUIRE_FALSE(exact.upsert(key, 0, v));
  }
  REQUIRE(idx.uses_quantized_scan());
  // The zero query scores every document 0: the answer is the first keys.
  vec zero(dim, 0.0f);
  CHECK(keys(search(idx, zero, 5)) == keys(search(exact, zero, 5)));
  // A query of a few dimensions, scanning fewer still (scan_dims): scores
  // stay exact because the rerank uses the whole query.
  vector_index_options opts;
  opts.dim = dim;
  opts.exact_threshold = 50;
  opts.scan_dims = 2;
  auto narrow = vector_index::make(opts);
  REQUIRE(narrow);
  for (std::size_t i = 0; i < 400; ++i)
    REQUIRE_FALSE(narrow->upsert("k" + std::to_string(i), 0,
                                 random_unit(rng, dim)));
  for (int round = 0; round < 20; ++round) {
    auto q = random_unit(rng, dim);
    for (const auto& h : search(*narrow, q, 10))
      CHECK(h.score <= 1.0f + 1e-5f);
    // k past the candidates' share of the index: every document ranked
    // exactly.
    auto all = search(idx, q, 400);
    auto truth = search(exact, q, 400);
    CHECK(keys(all) == keys(truth));
  }
}

TEST_CASE("a graph snapshot loaded for the quantized scan drops its graph") {
  std::string dir = "/tmp/engram-vquant-test-XXXXXX";
  REQUIRE(mkdtemp(dir.data()) != nullptr);
  std::mt19937 rng{24};
  const std::size_t dim = 16;
  auto graph = make(dim, 50, 800, vector_search_method::hnsw);
  auto exact = make(dim, 1000);
  for (std::size_t i = 0; i < 300; ++i) {
    auto v = random_unit(rng, dim);
    auto key = "k" + std::to_string(i);
    REQUIRE_FALSE(graph.upsert(key, group_id(i % 2), v));
    REQUIRE_FALSE(exact.upsert(key, group_id(i % 2), v));
  }
  for (std::size_t i = 0; i < 300; i += 5) {
    REQUIRE_FALSE(graph.remove("k" + std::to_string(i)));
    REQUIRE_FALSE(exact.remove("k" + std::to_string(i)));
  }
  REQUIRE(graph.uses_graph());
  auto path = dir + "/s";
  REQUIRE_FALSE(graph.save(path, 7));
  vector_index_options opts;
  opts.dim = dim;
  opts.exact_threshold = 50;
  opts.rerank_candidates = 10;
  auto loaded = vector_index::load(path, opts);
  REQUIRE(loaded);
  auto& idx = loaded->index;
  CHECK(loaded->covered_seq == 7);
  CHECK_FALSE(idx.uses_graph());
  CHECK(idx.uses_quantized_scan());
  CHECK(idx.size() == exact.size());
  double total = 0;
  for (int round = 0; round < 30; ++round) {
    auto q = random_unit(rng, dim);
    total += recall(search(idx, q, 10), search(exact, q, 10));
    auto f = search_filter::any_of({1});
    for (const auto& h : search(idx, q, 10, f))
      CHECK(std::stoul(h.doc_key.substr(1)) % 2 == 1);
  }
  CHECK(total / 30 >= 0.95);
  // Freed graph slots are reused by new documents, and saved flat.
  REQUIRE_FALSE(idx.upsert("new", 0, random_unit(rng, dim)));
  CHECK_FALSE(idx.contains("k0"));
  CHECK(idx.size() == exact.size() + 1);
  REQUIRE_FALSE(idx.save(path, 8));
  auto again = vector_index::load(path, opts);
  REQUIRE(again);
  CHECK(again->index.uses_quantized_scan());
  CHECK(again->index.size() == idx.size());
  std::filesystem::remove_all(dir);
}
