// Tests storage/vector_index.cpp and its snapshot (storage/detail/
// vector_snapshot.cpp, hnsw_graph.cpp, snapshot_file.cpp), with both
// methods past exact_threshold (the quantized scan of quantized_codes.cpp
// has its own tests in vector_quantized_test.cpp). Sizes are small (dim
// 16-32) so the suite stays fast under sanitizers; engram-bench-search
// measures 100k x 384.

#include "storage/vector_index.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <sodium.h>

#include "messages/errors.hpp"
#include "storage/detail/hnsw_graph.hpp"

using namespace engram::storage;
using engram::code_of;
using engram::ec;
using engram::field_of;

namespace {

using vec = std::vector<float>;

// The code of a failed result, ec::none for a value. (Calling error() on an
// expected that holds a value is undefined behaviour in CAF 0.17.)
template <class T>
ec result_code(const caf::expected<T>& x) {
  return x ? ec::none : code_of(x.error());
}

// A directory under /tmp, removed with everything in it at scope exit.
class temp_dir {
public:
  temp_dir() {
    std::string tmpl = "/tmp/engram-vindex-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ignored; // best effort: a leftover dir fails no test
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

void normalize(vec& v) {
  double n = 0;
  for (float x : v)
    n += double(x) * x;
  n = std::sqrt(n);
  for (float& x : v)
    x = static_cast<float>(x / n);
}

// Random unit vectors around `clusters` random centres (real embeddings
// are clustered; uniform random ones make HNSW look worse than it is).
class vector_source {
public:
  vector_source(std::size_t dim, std::size_t clusters, uint32_t seed)
    : dim_(dim), rng_(seed) {
    for (std::size_t c = 0; c < clusters; ++c)
      centres_.push_back(uniform());
  }

  vec uniform() {
    vec v(dim_);
    for (float& x : v)
      x = normal_(rng_);
    normalize(v);
    return v;
  }

  vec clustered() {
    const vec& c = centres_[rng_() % centres_.size()];
    vec v(dim_);
    for (std::size_t i = 0; i < dim_; ++i)
      v[i] = c[i] + 0.35f * normal_(rng_);
    normalize(v);
    return v;
  }

private:
  std::size_t dim_;
  std::mt19937 rng_;
  std::normal_distribution<float> normal_{0.0f, 1.0f};
  std::vector<vec> centres_;
};

std::string key_of(std::size_t i) {
  return "entity:" + std::to_string(i);
}

constexpr auto quantized = vector_search_method::quantized_scan;
constexpr auto hnsw = vector_search_method::hnsw;

vector_index make_index(std::size_t dim, std::size_t threshold = 2000,
                        vector_search_method method = quantized) {
  vector_index_options opts;
  opts.dim = dim;
  opts.exact_threshold = threshold;
  opts.method = method;
  auto idx = vector_index::make(opts);
  REQUIRE(idx);
  return std::move(*idx);
}

// Whether `idx` has switched the way `method` says (and not the other way).
bool switched(const vector_index& idx, vector_search_method method) {
  return method == hnsw ? idx.uses_graph() && !idx.uses_quantized_scan()
                        : idx.uses_quantized_scan() && !idx.uses_graph();
}

const char* name_of(vector_search_method method) {
  return method == hnsw ? "hnsw" : "quantized_scan";
}

// Brute-force reference: every document, its group and vector.
struct reference {
  std::map<std::string, std::pair<group_id, vec>> docs;

  void put(vector_index& idx, const std::string& key, group_id g,
           const vec& v) {
    REQUIRE_FALSE(idx.upsert(key, g, v));
    docs[key] = {g, v};
  }

  void erase(vector_index& idx, const std::string& key) {
    REQUIRE_FALSE(idx.remove(key));
    docs.erase(key);
  }

  // The k best keys for `q` among admitted groups, best first.
  std::vector<std::pair<std::string, double>> best(const vec& q, std::size_t k,
                                                   const search_filter& f
                                                   = search_filter{}) const {
    std::vector<std::pair<std::string, double>> all;
    for (const auto& [key, doc] : docs) {
      if (!f.admits(doc.first))
        continue;
      double s = 0;
      for (std::size_t i = 0; i < q.size(); ++i)
        s += double(q[i]) * doc.second[i];
      all.emplace_back(key, s);
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (all.size() > k)
      all.resize(k);
    return all;
  }
};

std::vector<search_hit> search(const vector_index& idx, const vec& q,
                               std::size_t k,
                               const search_filter& f = search_filter{}) {
  auto hits = idx.search(q, k, f);
  REQUIRE(hits);
  return std::move(*hits);
}

std::vector<std::string> keys(const std::vector<search_hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits)
    out.push_back(h.doc_key);
  return out;
}

// |found ∩ truth| / |truth|.
double recall(const std::vector<search_hit>& found,
              const std::vector<std::pair<std::string, double>>& truth) {
  if (truth.empty())
    return 1.0;
  std::set<std::string> want;
  for (const auto& t : truth)
    want.insert(t.first);
  std::size_t hit = 0;
  for (const auto& f : found)
    hit += want.count(f.doc_key);
  return double(hit) / double(truth.size());
}

void require_exact(const std::vector<search_hit>& found,
                   const std::vector<std::pair<std::string, double>>& truth) {
  REQUIRE(found.size() == truth.size());
  for (std::size_t i = 0; i < truth.size(); ++i) {
    CHECK(found[i].doc_key == truth[i].first);
    CHECK(found[i].score == Approx(truth[i].second).margin(1e-5));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Replaces the BLAKE2b trailer so that a deliberately damaged body reaches
// the structure checks instead of failing the checksum.
std::string with_fixed_checksum(std::string bytes) {
  REQUIRE(sodium_init() >= 0);
  REQUIRE(bytes.size() >= 32);
  std::size_t body = bytes.size() - 32;
  crypto_generichash(reinterpret_cast<unsigned char*>(bytes.data() + body), 32,
                     reinterpret_cast<const unsigned char*>(bytes.data()), body,
                     nullptr, 0);
  return bytes;
}

// A graph index (threshold 50) of 300 clustered 16-d vectors in groups 0-2.
struct small_graph {
  vector_index idx = make_index(16, 50, hnsw);
  reference ref;
  vector_source src{16, 8, 7};

  small_graph() {
    for (std::size_t i = 0; i < 300; ++i)
      ref.put(idx, key_of(i), static_cast<group_id>(i % 3), src.clustered());
    REQUIRE(idx.uses_graph());
  }
};

} // namespace

// -- options and arguments ----------------------------------------------------

TEST_CASE("make refuses a zero dim and bad graph options with invalid_config") {
  auto with = [](auto change) {
    vector_index_options o;
    change(o);
    return vector_index::make(o);
  };
  auto zero_dim = with([](auto& o) { o.dim = 0; });
  REQUIRE(result_code(zero_dim) == ec::invalid_config);
  CHECK(field_of(zero_dim.error()) == "dim");
  CHECK(result_code(with([](auto& o) { o.m = 1; })) == ec::invalid_config);
  CHECK(result_code(with([](auto& o) { o.ef_search = 0; }))
        == ec::invalid_config);
  CHECK(result_code(with([](auto& o) { o.ef_construction = 0; }))
        == ec::invalid_config);
  auto no_rerank = with([](auto& o) { o.rerank_candidates = 0; });
  REQUIRE(result_code(no_rerank) == ec::invalid_config);
  CHECK(field_of(no_rerank.error()) == "rerank_candidates");
  CHECK(result_code(with([](auto& o) { o.scan_dims = 0; }))
        == ec::invalid_config);
}

TEST_CASE("a vector or query of the wrong dim is invalid_argument and changes "
          "nothing") {
  auto idx = make_index(8);
  auto err = idx.upsert("entity:1", 0, vec(7, 0.1f));
  REQUIRE(code_of(err) == ec::invalid_argument);
  CHECK(field_of(err) == "vector");
  CHECK(idx.size() == 0);
  auto hits = idx.search(vec(9, 0.1f), 5);
  REQUIRE(result_code(hits) == ec::invalid_argument);
  CHECK(field_of(hits.error()) == "query");
}

TEST_CASE("an empty key or a non-finite vector is refused") {
  auto idx = make_index(4);
  CHECK(code_of(idx.upsert("", 0, {1, 0, 0, 0})) == ec::invalid_argument);
  CHECK(code_of(idx.upsert("k", 0, {NAN, 0, 0, 0})) == ec::invalid_argument);
  CHECK(code_of(idx.upsert("k", 0, {INFINITY, 0, 0, 0}))
        == ec::invalid_argument);
  CHECK(result_code(idx.search({0, NAN, 0, 0}, 1)) == ec::invalid_argument);
  CHECK(idx.size() == 0);
}

// -- exact and graph search ---------------------------------------------------

TEST_CASE("below the threshold, search returns exactly the brute-force "
          "ranking") {
  auto idx = make_index(32);
  reference ref;
  vector_source src{32, 10, 1};
  for (std::size_t i = 0; i < 500; ++i)
    ref.put(idx, key_of(i), 0, src.uniform());
  CHECK_FALSE(idx.uses_graph());
  CHECK_FALSE(idx.uses_quantized_scan());
  CHECK(idx.size() == 500);
  CHECK(idx.dim() == 32);
  for (int q = 0; q < 20; ++q) {
    auto query = src.uniform();
    require_exact(search(idx, query, 10), ref.best(query, 10));
  }
}

TEST_CASE("k larger than the index returns every document, best first") {
  auto idx = make_index(4);
  reference ref;
  ref.put(idx, "a", 0, {1, 0, 0, 0});
  ref.put(idx, "b", 0, {0, 1, 0, 0});
  ref.put(idx, "c", 0, {0.6f, 0.8f, 0, 0});
  vec q{1, 0, 0, 0};
  require_exact(search(idx, q, 50), ref.best(q, 50));
  CHECK(search(idx, q, 0).empty());
}

TEST_CASE("equal scores come out in key order") {
  auto idx = make_index(2);
  for (auto key : {"d", "b", "c", "a"})
    REQUIRE_FALSE(idx.upsert(key, 0, {1, 0}));
  CHECK(keys(search(idx, {1, 0}, 3))
        == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("the first document past exact_threshold switches to the graph") {
  auto idx = make_index(16, 100, hnsw);
  reference ref;
  vector_source src{16, 4, 2};
  for (std::size_t i = 0; i < 100; ++i)
    ref.put(idx, key_of(i), 0, src.clustered());
  CHECK_FALSE(idx.uses_graph());
  ref.put(idx, key_of(100), 0, src.clustered());
  CHECK(idx.uses_graph());
  CHECK(idx.size() == 101);
  // At this size the graph finds the true neighbours.
  for (int q = 0; q < 10; ++q) {
    auto query = src.clustered();
    CHECK(recall(search(idx, query, 10), ref.best(query, 10)) >= 0.9);
  }
}

// The graph's recall on clustered vectors, against an exact index holding
// the same vectors.
double graph_recall_at_10(std::size_t n, std::size_t dim, std::size_t queries) {
  auto graph = make_index(dim, n / 10, hnsw);
  auto exact = make_index(dim, n);
  vector_source src{dim, n / 100, 3};
  for (std::size_t i = 0; i < n; ++i) {
    auto v = src.clustered();
    REQUIRE_FALSE(graph.upsert(key_of(i), 0, v));
    REQUIRE_FALSE(exact.upsert(key_of(i), 0, v));
  }
  REQUIRE(graph.uses_graph());
  REQUIRE_FALSE(exact.uses_graph());
  double total = 0;
  for (std::size_t q = 0; q < queries; ++q) {
    auto query = src.clustered();
    std::vector<std::pair<std::string, double>> truth;
    for (const auto& h : search(exact, query, 10))
      truth.emplace_back(h.doc_key, h.score);
    total += recall(search(graph, query, 10), truth);
  }
  return total / double(queries);
}

TEST_CASE("HNSW recall@10 is at least 0.95 against exact search") {
  CHECK(graph_recall_at_10(1000, 24, 200) >= 0.95);
}

// 20k vectors take about a minute under AddressSanitizer without
// optimisation: hidden from the default run; `engram-unit-tests "[slow]"`.
TEST_CASE("HNSW recall@10 is at least 0.95 against exact search on 20k "
          "vectors",
          "[.][slow]") {
  CHECK(graph_recall_at_10(20000, 24, 200) >= 0.95);
}

// -- upsert and remove --------------------------------------------------------

TEST_CASE("upsert of an existing key replaces its vector and group") {
  for (auto [threshold, method] :
       {std::pair{std::size_t{1000}, quantized}, std::pair{std::size_t{10}, hnsw},
        std::pair{std::size_t{10}, quantized}}) {
    INFO("exact_threshold " << threshold << ", " << name_of(method));
    auto idx = make_index(4, threshold, method);
    vector_source src{4, 2, 4};
    for (std::size_t i = 0; i < 40; ++i)
      REQUIRE_FALSE(idx.upsert(key_of(i), 1, src.uniform()));
    REQUIRE_FALSE(idx.upsert("target", 1, {1, 0, 0, 0}));
    REQUIRE_FALSE(idx.upsert("target", 2, {0, 0, 0, 1}));
    CHECK(idx.size() == 41);
    auto hits = search(idx, {0, 0, 0, 1}, 1, search_filter::any_of({2}));
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].doc_key == "target");
    CHECK(hits[0].score == Approx(1.0));
    CHECK(search(idx, {0, 0, 0, 1}, 50, search_filter::any_of({1})).size()
          == 40);
    // Same vector, new group: only the group changes.
    REQUIRE_FALSE(idx.upsert("target", 3, {0, 0, 0, 1}));
    CHECK(search(idx, {0, 0, 0, 1}, 5, search_filter::any_of({2})).empty());
    CHECK(keys(search(idx, {0, 0, 0, 1}, 5, search_filter::any_of({3})))
          == std::vector<std::string>{"target"});
  }
}

TEST_CASE("remove of an unknown key is not_found and changes nothing") {
  auto idx = make_index(2);
  REQUIRE_FALSE(idx.upsert("a", 0, {1, 0}));
  CHECK(code_of(idx.remove("b")) == ec::not_found);
  CHECK(idx.size() == 1);
  CHECK(idx.contains("a"));
  REQUIRE_FALSE(idx.remove("a"));
  CHECK(code_of(idx.remove("a")) == ec::not_found);
  CHECK_FALSE(idx.contains("a"));
}

TEST_CASE("a removed document is never returned again, before and after the "
          "switch") {
  auto method = GENERATE(hnsw, quantized);
  INFO(name_of(method));
  auto idx = make_index(16, 60, method);
  reference ref;
  vector_source src{16, 4, 5};
  std::map<std::string, vec> removed;
  auto remove_some = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; i += 2) {
      removed[key_of(i)] = ref.docs.at(key_of(i)).second;
      ref.erase(idx, key_of(i));
    }
  };
  auto check_gone = [&] {
    for (const auto& [key, v] : removed) {
      auto found = keys(search(idx, v, 20));
      CHECK(std::find(found.begin(), found.end(), key) == found.end());
      CHECK_FALSE(idx.contains(key));
    }
    CHECK(idx.size() == ref.docs.size());
  };
  for (std::size_t i = 0; i < 50; ++i)
    ref.put(idx, key_of(i), 0, src.clustered());
  remove_some(0, 20); // exact index
  check_gone();
  for (std::size_t i = 50; i < 200; ++i) // reuses the freed slots, switches
    ref.put(idx, key_of(i), 0, src.clustered());
  REQUIRE(switched(idx, method));
  check_gone();
  remove_some(100, 200); // graph: marked deleted; codes: cleared
  check_gone();
  for (std::size_t i = 200; i < 260; ++i) // reuses the freed slots
    ref.put(idx, key_of(i), 0, src.clustered());
  check_gone();
  for (int q = 0; q < 10; ++q) {
    auto query = src.clustered();
    CHECK(recall(search(idx, query, 10), ref.best(query, 10)) >= 0.9);
  }
}

TEST_CASE("an index emptied by removals returns nothing and refills") {
  auto method = GENERATE(hnsw, quantized);
  INFO(name_of(method));
  auto idx = make_index(8, 5, method);
  vector_source src{8, 2, 6};
  for (std::size_t i = 0; i < 20; ++i)
    REQUIRE_FALSE(idx.upsert(key_of(i), 0, src.uniform()));
  REQUIRE(switched(idx, method));
  for (std::size_t i = 0; i < 20; ++i)
    REQUIRE_FALSE(idx.remove(key_of(i)));
  CHECK(idx.size() == 0);
  CHECK(search(idx, src.uniform(), 5).empty());
  REQUIRE_FALSE(idx.upsert("back", 0, src.uniform()));
  CHECK(keys(search(idx, src.uniform(), 5))
        == std::vector<std::string>{"back"});
}

// -- filters ------------------------------------------------------------------

TEST_CASE("a filter returns only the requested groups and finds the true "
          "best within them") {
  // Group 1 holds 1% of the documents, group 2 a third, group 0 the rest.
  // On the graph index (small ef and M so that 1,500 documents exercise
  // both strategies) "group 1" and "group 2" are scanned exactly and "not
  // group 1" goes through the over-fetching graph search. On the quantized
  // index (few rerank candidates, so the approximate scan matters) "not
  // group 1" is a filtered quantized scan.
  enum class kind { flat, graph, codes };
  for (kind k : {kind::flat, kind::graph, kind::codes}) {
    bool graph = k != kind::flat; // approximate for the broad filter
    INFO((k == kind::flat    ? "flat index"
          : k == kind::graph ? "graph index"
                             : "quantized index"));
    vector_index_options opts;
    opts.dim = 16;
    opts.exact_threshold = graph ? 200 : 5000;
    opts.method = k == kind::codes ? quantized : hnsw;
    opts.rerank_candidates = 30;
    opts.ef_search = 16;
    opts.m = 8;
    opts.ef_construction = 64; // filters are under test here, not the graph
    auto made = vector_index::make(opts);
    REQUIRE(made);
    auto& idx = *made;
    reference ref;
    vector_source src{16, 10, 8};
    for (std::size_t i = 0; i < 1500; ++i) {
      group_id g = i % 100 == 0 ? 1 : (i % 3 == 0 ? 2 : 0);
      ref.put(idx, key_of(i), g, src.clustered());
    }
    REQUIRE(idx.uses_graph() == (k == kind::graph));
    REQUIRE(idx.uses_quantized_scan() == (k == kind::codes));
    const search_filter filters[] = {
      search_filter::any_of({1}),
      search_filter::any_of({2, 7}),
      search_filter::where([](group_id g) { return g != 1; }),
    };
    double approx_recall = 0;
    int approx_searches = 0;
    const int queries = 20;
    for (int q = 0; q < queries; ++q) {
      auto query = src.clustered();
      for (const auto& f : filters) {
        auto found = search(idx, query, 10, f);
        for (const auto& hit : found)
          CHECK(f.admits(ref.docs.at(hit.doc_key).first));
        auto truth = ref.best(query, 10, f);
        // Exact: everything on the flat index, "group 1" (15 documents,
        // under the threshold) everywhere, "groups 2, 7" on the graph (its
        // cost estimate prefers the scan).
        bool exact = !graph || (!f.admits(0) && (k == kind::graph
                                                 || f.admits(1)));
        if (exact) {
          require_exact(found, truth);
        } else {
          approx_recall += recall(found, truth);
          ++approx_searches;
        }
      }
    }
    if (graph)
      CHECK(approx_recall / approx_searches >= 0.9);
    CHECK(
      search(idx, src.clustered(), 10, search_filter::any_of({42})).empty());
    CHECK(search(idx, src.clustered(), 10, search_filter::any_of({})).empty());
  }
}

TEST_CASE("a filtered graph search whose allowed documents lie far from the "
          "query still finds the best of them") {
  // The first over-fetching round finds only documents of the wrong group;
  // the search grows, then falls back to scanning the allowed group.
  vector_index_options opts;
  opts.dim = 8;
  opts.exact_threshold = 100;
  opts.method = hnsw;
  opts.ef_search = 16;
  opts.m = 2;
  auto made = vector_index::make(opts);
  REQUIRE(made);
  auto& idx = *made;
  reference ref;
  std::mt19937 rng{14};
  std::normal_distribution<float> noise{0.0f, 0.1f};
  for (std::size_t i = 0; i < 500; ++i) {
    bool near = i % 5 < 2; // 40% near +e1 in group 0, 60% near -e1
    vec v(8);
    for (float& x : v)
      x = noise(rng);
    v[0] += near ? 1.0f : -1.0f;
    normalize(v);
    ref.put(idx, key_of(i), near ? 0 : 1, v);
  }
  REQUIRE(idx.uses_graph());
  vec query{1, 0, 0, 0, 0, 0, 0, 0};
  auto far = search_filter::any_of({1});
  require_exact(search(idx, query, 10, far), ref.best(query, 10, far));
}

TEST_CASE("a predicate filter is asked once per group, not per document") {
  auto idx = make_index(4);
  vector_source src{4, 2, 9};
  for (std::size_t i = 0; i < 100; ++i)
    REQUIRE_FALSE(
      idx.upsert(key_of(i), static_cast<group_id>(i % 5), src.uniform()));
  std::map<group_id, int> asked;
  auto f = search_filter::where([&](group_id g) {
    ++asked[g];
    return g == 3;
  });
  auto hits = search(idx, src.uniform(), 100, f);
  CHECK(hits.size() == 20);
  CHECK(asked.size() == 5);
  for (const auto& [g, n] : asked)
    CHECK(n == 1);
}

// -- snapshots ----------------------------------------------------------------

TEST_CASE("a snapshot round trip gives the same index, flat, graph or "
          "quantized") {
  temp_dir dir;
  for (auto [threshold, method] :
       {std::pair{std::size_t{1000}, quantized}, std::pair{std::size_t{50}, hnsw},
        std::pair{std::size_t{50}, quantized}}) {
    INFO("exact_threshold " << threshold << ", " << name_of(method));
    auto idx = make_index(16, threshold, method);
    reference ref;
    vector_source src{16, 6, 10};
    for (std::size_t i = 0; i < 400; ++i)
      ref.put(idx, key_of(i), static_cast<group_id>(i % 4), src.clustered());
    for (std::size_t i = 0; i < 400; i += 7)
      ref.erase(idx, key_of(i));
    auto path = dir.file("user.vidx");
    REQUIRE_FALSE(idx.save(path, 12345));
    vector_index_options opts;
    opts.dim = 16;
    opts.exact_threshold = threshold;
    opts.method = method;
    auto loaded = vector_index::load(path, opts);
    REQUIRE(loaded);
    auto& copy = loaded->index;
    CHECK(loaded->covered_seq == 12345);
    CHECK(copy.size() == idx.size());
    CHECK(copy.uses_graph() == idx.uses_graph());
    CHECK(copy.uses_quantized_scan() == idx.uses_quantized_scan());
    for (int q = 0; q < 20; ++q) {
      auto query = src.clustered();
      auto f = search_filter::any_of({1, 2});
      auto a = search(idx, query, 10);
      auto b = search(copy, query, 10);
      CHECK(keys(a) == keys(b));
      CHECK(keys(search(idx, query, 10, f))
            == keys(search(copy, query, 10, f)));
    }
    // The loaded index keeps working.
    REQUIRE_FALSE(
      copy.upsert("new", 9, {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    REQUIRE_FALSE(copy.remove(key_of(1)));
    CHECK(copy.size() == idx.size());
    CHECK_FALSE(copy.contains(key_of(1)));
  }
}

TEST_CASE("a flat snapshot larger than the threshold switches at load") {
  auto method = GENERATE(hnsw, quantized);
  INFO(name_of(method));
  temp_dir dir;
  auto idx = make_index(8, 1000);
  vector_source src{8, 3, 11};
  for (std::size_t i = 0; i < 120; ++i)
    REQUIRE_FALSE(idx.upsert(key_of(i), 0, src.clustered()));
  REQUIRE_FALSE(idx.save(dir.file("s"), 1));
  vector_index_options opts;
  opts.dim = 8;
  opts.exact_threshold = 100;
  opts.method = method;
  auto loaded = vector_index::load(dir.file("s"), opts);
  REQUIRE(loaded);
  CHECK(switched(loaded->index, method));
  CHECK(loaded->index.size() == 120);
}

TEST_CASE("save replaces the previous snapshot and leaves no temp file") {
  temp_dir dir;
  auto idx = make_index(2);
  REQUIRE_FALSE(idx.upsert("a", 0, {1, 0}));
  auto path = dir.file("s");
  REQUIRE_FALSE(idx.save(path, 1));
  REQUIRE_FALSE(idx.upsert("b", 0, {0, 1}));
  REQUIRE_FALSE(idx.save(path, 2));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  vector_index_options opts;
  opts.dim = 2;
  auto loaded = vector_index::load(path, opts);
  REQUIRE(loaded);
  CHECK(loaded->covered_seq == 2);
  CHECK(loaded->index.size() == 2);
}

TEST_CASE("a save that cannot write is a storage_failure") {
  auto idx = make_index(2);
  CHECK(code_of(idx.save("/nonexistent-dir/engram/s", 1))
        == ec::storage_failure);
}

TEST_CASE("loading a missing snapshot is not_found") {
  temp_dir dir;
  vector_index_options opts;
  CHECK(result_code(vector_index::load(dir.file("absent"), opts))
        == ec::not_found);
}

TEST_CASE("a snapshot of another dim does not load") {
  temp_dir dir;
  auto idx = make_index(4);
  REQUIRE_FALSE(idx.upsert("a", 0, {1, 0, 0, 0}));
  REQUIRE_FALSE(idx.save(dir.file("s"), 1));
  vector_index_options opts;
  opts.dim = 8;
  auto loaded = vector_index::load(dir.file("s"), opts);
  REQUIRE(result_code(loaded) == ec::storage_failure);
  CHECK_THAT(engram::message_of(loaded.error()), Catch::Contains("dim 4"));
}

TEST_CASE("a truncated snapshot is a storage_failure, at every length") {
  temp_dir dir;
  for (auto [threshold, method] :
       {std::pair{std::size_t{1000}, quantized}, std::pair{std::size_t{20}, hnsw},
        std::pair{std::size_t{20}, quantized}}) {
    auto idx = make_index(4, threshold, method);
    vector_source src{4, 2, 12};
    for (std::size_t i = 0; i < 40; ++i)
      REQUIRE_FALSE(idx.upsert(key_of(i), 0, src.uniform()));
    REQUIRE_FALSE(idx.save(dir.file("full"), 1));
    auto bytes = read_file(dir.file("full"));
    vector_index_options opts;
    opts.dim = 4;
    opts.exact_threshold = threshold;
    opts.method = method;
    for (std::size_t len = 0; len < bytes.size(); len += 1 + len / 16) {
      INFO("length " << len << " of " << bytes.size());
      write_file(dir.file("cut"), bytes.substr(0, len));
      CHECK(result_code(vector_index::load(dir.file("cut"), opts))
            == ec::storage_failure);
    }
  }
}

TEST_CASE("a corrupt or foreign snapshot is a storage_failure") {
  temp_dir dir;
  small_graph g;
  auto path = dir.file("s");
  REQUIRE_FALSE(g.idx.save(path, 1));
  auto bytes = read_file(path);
  vector_index_options opts;
  opts.dim = 16;
  opts.exact_threshold = 50;
  opts.method = hnsw;
  SECTION("a flipped bit anywhere fails the checksum") {
    for (std::size_t pos = 0; pos < bytes.size(); pos += bytes.size() / 61) {
      INFO("byte " << pos);
      auto damaged = bytes;
      damaged[pos] = static_cast<char>(damaged[pos] ^ 0x10);
      write_file(path, damaged);
      CHECK(result_code(vector_index::load(path, opts)) == ec::storage_failure);
    }
  }
  SECTION("a foreign file") {
    write_file(path, std::string(4096, 'x'));
    CHECK(result_code(vector_index::load(path, opts)) == ec::storage_failure);
    write_file(path, "");
    CHECK(result_code(vector_index::load(path, opts)) == ec::storage_failure);
  }
}

TEST_CASE("a damaged graph with a valid checksum is refused or harmless, "
          "never a crash") {
  // The checksum is recomputed after each change, so the structure checks
  // alone must keep hnswlib from following a bad link.
  temp_dir dir;
  small_graph g;
  auto path = dir.file("s");
  REQUIRE_FALSE(g.idx.save(path, 1));
  auto bytes = read_file(path);
  vector_index_options opts;
  opts.dim = 16;
  opts.exact_threshold = 50;
  opts.method = hnsw;
  std::mt19937 rng{13};
  int refused = 0;
  for (int round = 0; round < 100; ++round) {
    auto damaged = bytes;
    std::size_t pos = 56 + rng() % (bytes.size() - 56 - 32);
    damaged[pos] = static_cast<char>(rng() % 2 ? 0xff : rng() % 256);
    write_file(path, with_fixed_checksum(damaged));
    auto loaded = vector_index::load(path, opts);
    if (!loaded) {
      CHECK(code_of(loaded.error()) == ec::storage_failure);
      ++refused;
      continue;
    }
    // A change the checks cannot see (a vector component, a link to
    // another valid node) must still search and update safely.
    auto& idx = loaded->index;
    CHECK(idx.search(g.src.clustered(), 10));
    CHECK_FALSE(idx.upsert("extra", 0, g.src.clustered()));
  }
  CHECK(refused > 0);
}

// -- hnswlib failures ---------------------------------------------------------

TEST_CASE("hnswlib failures come back as internal errors, not exceptions") {
  detail::hnsw_params params;
  params.dim = 4;
  auto graph = detail::hnsw_graph::create(params, 4);
  REQUIRE(graph);
  auto& g = **graph;
  vec v{1, 0, 0, 0};
  REQUIRE_FALSE(g.put(0, v.data()));
  REQUIRE_FALSE(g.erase(0));
  auto twice = g.erase(0); // hnswlib throws: already deleted
  CHECK(code_of(twice) == ec::internal);
  CHECK_THAT(engram::message_of(twice), Catch::Contains("hnswlib"));
  CHECK(code_of(g.erase(7)) == ec::internal); // hnswlib throws: no label
  CHECK(code_of(g.put(5, v.data())) == ec::internal); // a gap in the slots
  // Growing past the initial capacity (16 slots) resizes instead of failing.
  for (uint32_t s = 1; s < 40; ++s)
    REQUIRE_FALSE(g.put(s, v.data()));
  CHECK(g.slots() == 40);
}
