// engram-bench-search: one user's vector index at scale. Builds an index of
// N clustered unit vectors (or of hash-embedded synthetic texts with
// --texts), then runs Q queries against the HNSW graph and against an exact
// scan of the same documents in the same run: p50/p99 latency, recall@k,
// insert rate, snapshot save/load time, and filtered searches over groups
// holding 1%, 10% and 99% of the documents. Also reports the hash
// embedder's texts/s.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "messages/errors.hpp"
#include "runtime/providers/hash_embedder.hpp"
#include "storage/vector_index.hpp"

namespace {

using namespace engram;
using storage::group_id;
using storage::search_filter;
using storage::vector_index;
using clock_type = std::chrono::steady_clock;
using vec = std::vector<float>;

struct settings {
  std::size_t docs = 100000;
  std::size_t queries = 1000;
  std::size_t dim = 384;
  std::size_t clusters = 1000;
  double spread = 1.0;
  std::size_t k = 10;
  std::size_t ef = 64;
  std::size_t threshold = 2000;
  bool texts = false;
  std::size_t embed_texts = 20000;
  uint32_t seed = 42;
  std::string dir
    = (std::filesystem::temp_directory_path() / "engram-bench-search-scratch")
        .string();
};

[[noreturn]] void die(const std::string& what, const caf::error& err) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), message_of(err).c_str());
  std::exit(1);
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

void normalize(vec& v) {
  double n = 0;
  for (float x : v)
    n += double(x) * x;
  if (n == 0)
    return;
  float inv = static_cast<float>(1.0 / std::sqrt(n));
  for (float& x : v)
    x *= inv;
}

// Unit vectors around random centres: noise of norm ~`spread` per vector.
class vector_source {
public:
  explicit vector_source(const settings& s) : s_(s), rng_(s.seed) {
    for (std::size_t c = 0; c < s.clusters; ++c) {
      vec v(s.dim);
      for (float& x : v)
        x = normal_(rng_);
      normalize(v);
      centres_.push_back(std::move(v));
    }
  }

  vec next() {
    const vec& c = centres_[rng_() % centres_.size()];
    float sigma = static_cast<float>(s_.spread / std::sqrt(double(s_.dim)));
    vec v(s_.dim);
    for (std::size_t i = 0; i < s_.dim; ++i)
      v[i] = c[i] + sigma * normal_(rng_);
    normalize(v);
    return v;
  }

private:
  const settings& s_;
  std::mt19937 rng_;
  std::normal_distribution<float> normal_{0.0f, 1.0f};
  std::vector<vec> centres_;
};

// Synthetic prose: each text draws half its words from one topic's private
// vocabulary and half from a Zipf-distributed common vocabulary.
class text_source {
public:
  text_source(std::size_t topics, uint32_t seed) : rng_(seed) {
    for (std::size_t i = 0; i < 5000; ++i)
      common_.push_back(word());
    for (std::size_t t = 0; t < topics; ++t) {
      std::vector<std::string> words;
      for (int i = 0; i < 40; ++i)
        words.push_back(word());
      topics_.push_back(std::move(words));
    }
    double total = 0;
    for (std::size_t r = 1; r <= common_.size(); ++r)
      zipf_cdf_.push_back(total += 1.0 / double(r));
    for (double& x : zipf_cdf_)
      x /= total;
  }

  std::string next(std::size_t min_words, std::size_t max_words) {
    const auto& topic = topics_[rng_() % topics_.size()];
    std::size_t n = min_words + rng_() % (max_words - min_words + 1);
    std::string text;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0)
        text += (rng_() % 8 == 0) ? ", " : " ";
      text += rng_() % 2 ? topic[rng_() % topic.size()] : common_word();
    }
    return text + ".";
  }

private:
  std::string word() {
    static const char* syllables[]
      = {"ka", "ri", "on", "el", "mar", "th", "ven", "do",  "sa",
         "lu", "qu", "ex", "ar", "ni",  "os", "te",  "bel", "gr"};
    std::string w;
    std::size_t n = 1 + rng_() % 4;
    for (std::size_t i = 0; i < n; ++i)
      w += syllables[rng_() % std::size(syllables)];
    return w;
  }

  const std::string& common_word() {
    double u = std::uniform_real_distribution<double>{0, 1}(rng_);
    auto it = std::lower_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u);
    return common_[std::min<std::size_t>(it - zipf_cdf_.begin(),
                                         common_.size() - 1)];
  }

  std::mt19937 rng_;
  std::vector<std::string> common_;
  std::vector<std::vector<std::string>> topics_;
  std::vector<double> zipf_cdf_;
};

// Group of document i: 1% in group 1, 10% in group 2, the rest in group 0.
group_id group_of(std::size_t i) {
  if (i % 100 == 0)
    return 1;
  if (i % 10 == 1)
    return 2;
  return 0;
}

std::string key_of(std::size_t i) {
  return "entity:" + std::to_string(i);
}

struct embed_result {
  std::vector<vec> vectors;
  double texts_per_second = 0;
};

embed_result embed_all(const std::vector<std::string>& texts) {
  auto embedder = providers::hash_embedder::make();
  if (!embedder)
    die("hash embedder", embedder.error());
  embed_result r;
  const std::size_t batch = 256;
  auto t0 = clock_type::now();
  for (std::size_t i = 0; i < texts.size(); i += batch) {
    std::vector<std::string> part(
      texts.begin() + i, texts.begin() + std::min(i + batch, texts.size()));
    auto out = (*embedder)->embed(part);
    if (!out)
      die("embed", out.error());
    for (auto& v : *out)
      r.vectors.push_back(std::move(v));
  }
  r.texts_per_second = double(texts.size()) / seconds_since(t0);
  return r;
}

vector_index make_index(const settings& s, std::size_t threshold) {
  storage::vector_index_options opts;
  opts.dim = s.dim;
  opts.exact_threshold = threshold;
  opts.ef_search = s.ef;
  auto idx = vector_index::make(opts);
  if (!idx)
    die("vector index", idx.error());
  return std::move(*idx);
}

// Upserts every vector; returns inserts per second.
double fill(vector_index& idx, const std::vector<vec>& vectors) {
  auto t0 = clock_type::now();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    if (auto err = idx.upsert(key_of(i), group_of(i), vectors[i]))
      die("upsert", err);
    if ((i + 1) % 20000 == 0)
      std::fprintf(stderr, "  %zu / %zu inserted (%.0f s)\n", i + 1,
                   vectors.size(), seconds_since(t0));
  }
  return double(vectors.size()) / seconds_since(t0);
}

struct run_stats {
  std::vector<double> micros;
  double recall_sum = 0;
  double tie_recall_sum = 0;
  std::size_t returned = 0;

  double percentile(double p) const {
    auto v = micros;
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, std::size_t(p * v.size()))];
  }
};

using hits = std::vector<storage::search_hit>;

hits timed_search(const vector_index& idx, const vec& q, std::size_t k,
                  const search_filter& f, run_stats& stats) {
  auto t0 = clock_type::now();
  auto found = idx.search(q, k, f);
  stats.micros.push_back(seconds_since(t0) * 1e6);
  if (!found)
    die("search", found.error());
  stats.returned += found->size();
  return std::move(*found);
}

// Like recall(), but a hit scoring at least the k-th true score (less a
// rounding margin) counts too: near-ties in the truth are not misses.
double tie_recall(const hits& found, const hits& truth) {
  if (truth.empty())
    return 1.0;
  float kth = truth.back().score - 1e-5f;
  std::size_t n = 0;
  for (const auto& h : found)
    n += h.score >= kth;
  return double(std::min(n, truth.size())) / double(truth.size());
}

double recall(const hits& found, const hits& truth) {
  if (truth.empty())
    return 1.0;
  std::set<std::string> want;
  for (const auto& h : truth)
    want.insert(h.doc_key);
  std::size_t n = 0;
  for (const auto& h : found)
    n += want.count(h.doc_key);
  return double(n) / double(truth.size());
}

struct scenario {
  const char* name;
  search_filter filter;
  run_stats approx; // the graph index
  run_stats exact;  // the exact index
};

void print_rule() {
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(28, '-').c_str(),
              std::string(8, '-').c_str(), std::string(11, '-').c_str(),
              std::string(11, '-').c_str(), std::string(10, '-').c_str(),
              std::string(12, '-').c_str(), std::string(12, '-').c_str());
}

void print_row(const char* name, const char* index, const run_stats& s,
               const std::string& recall, const std::string& tie_recall) {
  std::printf("| %-26s | %-6s | %9.1f | %9.1f | %8s | %10s | %10.1f |\n", name,
              index, s.percentile(0.50), s.percentile(0.99), recall.c_str(),
              tie_recall.c_str(), double(s.returned) / double(s.micros.size()));
}

std::string fixed4(double x) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4f", x);
  return text;
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"engram-bench-search: vector index latency and recall, HNSW "
               "against an exact scan in the same run"};
  app.add_option("--docs", s.docs, "documents in the index")
    ->capture_default_str();
  app.add_option("--queries", s.queries, "queries per scenario")
    ->capture_default_str();
  app
    .add_option("--dim", s.dim,
                "vector dimension (ignored with --texts: "
                "the embedder's 384)")
    ->capture_default_str();
  app
    .add_option("--clusters", s.clusters,
                "cluster centres (topics with --texts)")
    ->capture_default_str();
  app.add_option("--spread", s.spread, "noise norm around a centre")
    ->capture_default_str();
  app.add_option("-k", s.k, "results per query")->capture_default_str();
  app.add_option("--ef", s.ef, "ef_search of the graph")->capture_default_str();
  app
    .add_option("--threshold", s.threshold,
                "exact_threshold of the graph index")
    ->capture_default_str();
  app.add_flag("--texts", s.texts, "index hash-embedded synthetic texts");
  app
    .add_option("--embed-texts", s.embed_texts,
                "texts for the embedder throughput run (without --texts)")
    ->capture_default_str();
  app.add_option("--seed", s.seed, "random seed")->capture_default_str();
  app.add_option("--dir", s.dir, "scratch directory for the snapshot (wiped)")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (s.texts)
    s.dim = 384;

  // 1. Data, and the embedder's throughput.
  std::vector<vec> docs, queries;
  double texts_per_second = 0;
  std::size_t embedded = 0;
  if (s.texts) {
    std::fprintf(stderr, "embedding %zu + %zu synthetic texts...\n", s.docs,
                 s.queries);
    text_source src{s.clusters, s.seed};
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < s.docs; ++i)
      texts.push_back(src.next(12, 60));
    auto r = embed_all(texts);
    docs = std::move(r.vectors);
    texts_per_second = r.texts_per_second;
    embedded = texts.size();
    texts.clear();
    for (std::size_t i = 0; i < s.queries; ++i)
      texts.push_back(src.next(4, 12));
    queries = embed_all(texts).vectors;
  } else {
    std::fprintf(stderr, "generating %zu clustered vectors...\n", s.docs);
    vector_source src{s};
    for (std::size_t i = 0; i < s.docs; ++i)
      docs.push_back(src.next());
    for (std::size_t i = 0; i < s.queries; ++i)
      queries.push_back(src.next());
    text_source texts_src{100, s.seed};
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < s.embed_texts; ++i)
      texts.push_back(texts_src.next(12, 60));
    texts_per_second = embed_all(texts).texts_per_second;
    embedded = texts.size();
  }

  // 2. The two indexes over the same documents.
  std::fprintf(stderr, "building the graph index...\n");
  auto graph = make_index(s, s.threshold);
  double graph_inserts = fill(graph, docs);
  std::fprintf(stderr, "building the exact index...\n");
  auto exact = make_index(s, s.docs + 1);
  double exact_inserts = fill(exact, docs);

  // 3. Snapshot of the graph: save, load, size.
  std::filesystem::remove_all(s.dir);
  std::filesystem::create_directories(s.dir);
  auto path = s.dir + "/user.vidx";
  auto t0 = clock_type::now();
  if (auto err = graph.save(path, 1))
    die("save", err);
  double save_s = seconds_since(t0);
  storage::vector_index_options opts;
  opts.dim = s.dim;
  opts.exact_threshold = s.threshold;
  opts.ef_search = s.ef;
  t0 = clock_type::now();
  auto loaded = vector_index::load(path, opts);
  double load_s = seconds_since(t0);
  if (!loaded)
    die("load", loaded.error());
  auto snapshot_bytes = std::filesystem::file_size(path);
  std::filesystem::remove_all(s.dir);

  // 4. Queries.
  std::fprintf(stderr, "running %zu queries per scenario...\n", s.queries);
  std::vector<scenario> scenarios;
  scenarios.push_back({"no filter", {}, {}, {}});
  scenarios.push_back({"group holding 1%", search_filter::any_of({1}), {}, {}});
  scenarios.push_back(
    {"group holding 10%", search_filter::any_of({2}), {}, {}});
  scenarios.push_back({"groups holding 99%",
                       search_filter::where([](group_id g) { return g != 1; }),
                       {},
                       {}});
  // Each index answers all queries in a row (as a user's index would), so
  // one index's scan does not evict the other's memory between queries.
  for (auto& sc : scenarios) {
    std::vector<hits> truths;
    for (const auto& q : queries)
      truths.push_back(timed_search(exact, q, s.k, sc.filter, sc.exact));
    for (std::size_t i = 0; i < queries.size(); ++i) {
      auto found = timed_search(graph, queries[i], s.k, sc.filter, sc.approx);
      sc.approx.recall_sum += recall(found, truths[i]);
      sc.approx.tie_recall_sum += tie_recall(found, truths[i]);
    }
  }

  // 5. Report.
  std::printf("\nengram-bench-search: %zu docs x %zu dim (%s), %zu queries, "
              "k=%zu, ef_search=%zu, M=16, ef_construction=200\n"
              "recall@k: share of the exact top k found; tie recall: share of "
              "hits scoring at least the exact k-th score\n\n",
              s.docs, s.dim,
              s.texts ? "hash-embedded synthetic texts" : "clustered random",
              s.queries, s.k, s.ef);
  std::printf("| %-26s | %-6s | %9s | %9s | %8s | %10s | %10s |\n", "search",
              "index", "p50 us", "p99 us", "recall@k", "tie recall",
              "hits/query");
  print_rule();
  for (const auto& sc : scenarios) {
    double n = double(queries.size());
    print_row(sc.name, "hnsw", sc.approx, fixed4(sc.approx.recall_sum / n),
              fixed4(sc.approx.tie_recall_sum / n));
    print_row(sc.name, "exact", sc.exact, "1 (ref)", "1 (ref)");
  }
  std::printf("\n| %-40s | %14s |\n", "measure", "value");
  std::printf("|%s|%s|\n", std::string(42, '-').c_str(),
              std::string(16, '-').c_str());
  std::printf("| %-40s | %14.0f |\n", "graph index inserts/s (incl. switch)",
              graph_inserts);
  std::printf("| %-40s | %14.0f |\n", "exact index inserts/s", exact_inserts);
  std::printf("| %-40s | %14.2f |\n", "snapshot save s (graph)", save_s);
  std::printf("| %-40s | %14.2f |\n", "snapshot load s (graph, checked)",
              load_s);
  std::printf("| %-40s | %14.1f |\n", "snapshot MiB",
              double(snapshot_bytes) / (1 << 20));
  std::printf(
    "| %-40s | %14.0f |\n",
    ("hash embedder texts/s (" + std::to_string(embedded) + " texts)").c_str(),
    texts_per_second);
  return 0;
}
