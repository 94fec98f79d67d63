// engram-bench-search: one user's vector index at scale. Builds an index of
// N clustered unit vectors (or of hash-embedded synthetic texts with
// --texts, or of hash-embedded composite documents searched with short
// phrases with --composites), then runs Q queries against the index (its
// default search: quantized scan + exact rerank; --method hnsw for the
// graph) and against an exact scan of the same documents in the same run:
// p50/p99 latency, recall@k, insert rate, snapshot save/load time, and
// filtered searches. Also reports the hash embedder's texts/s.

#include <algorithm>
#include <cctype>
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
  std::string method = "quantized";
  std::size_t rerank = storage::vector_index_options{}.rerank_candidates;
  std::size_t scan_dims = storage::vector_index_options{}.scan_dims;
  bool texts = false;
  bool composites = false;
  std::size_t entities = 1000;
  std::size_t per_session = 100;
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

// Composite documents as engram builds them: "[Base Lore]\n<entity lore>
// \n\n[Session-Specific Notes]\n<notes>", one per (session, entity), and
// short search phrases. Entities have two-word names and a topic; their lore
// is 1-3 sentences naming them. A session has a theme and covers
// `per_session` random entities; each covered entity's notes are 2-8
// sentences from the entity's topic, the session's theme and common words,
// sometimes naming the entity or another one. Group of a document = its
// session.
class composite_source {
public:
  struct doc {
    std::string key;
    group_id session = 0;
    std::string text;
  };

  composite_source(std::size_t entities, uint32_t seed) : words_(200, seed) {
    std::mt19937 rng{seed + 1};
    for (std::size_t e = 0; e < entities; ++e) {
      entity x;
      x.name = words_.name(rng) + " " + words_.name(rng);
      x.topic = rng() % 200;
      std::size_t sentences = 1 + rng() % 3;
      for (std::size_t i = 0; i < sentences; ++i) {
        if (i > 0)
          x.lore += " ";
        x.lore += sentence(rng, x.topic, x.topic, i == 0 ? x.name : "");
      }
      entities_.push_back(std::move(x));
    }
  }

  // Sessions 1, 2, ... each covering `per_session` entities, until `n`.
  std::vector<doc> documents(std::size_t n, std::size_t per_session,
                             uint32_t seed) {
    std::mt19937 rng{seed + 2};
    std::vector<doc> docs;
    std::vector<std::size_t> order(entities_.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    for (group_id session = 1; docs.size() < n; ++session) {
      std::size_t theme = rng() % 200;
      std::shuffle(order.begin(), order.end(), rng);
      for (std::size_t j = 0; j < per_session && docs.size() < n; ++j) {
        const auto& e = entities_[order[j]];
        std::string notes;
        std::size_t sentences = 2 + rng() % 7;
        for (std::size_t i = 0; i < sentences; ++i) {
          std::string subject;
          if (rng() % 4 == 0)
            subject = rng() % 3 == 0
                        ? entities_[rng() % entities_.size()].name
                        : e.name.substr(0, e.name.find(' '));
          if (i > 0)
            notes += " ";
          notes += sentence(rng, e.topic, theme, subject);
        }
        docs.push_back({"composite:" + std::to_string(session) + ":"
                          + std::to_string(order[j]),
                        session,
                        "[Base Lore]\n" + e.lore
                          + "\n\n[Session-Specific Notes]\n" + notes});
      }
    }
    return docs;
  }

  // A search phrase of 2-10 words about `d`: an entity name (full or first)
  // with a few of the document's words, or just words of it.
  std::string query(std::mt19937& rng, const doc& d) const {
    std::vector<std::string> words;
    std::string w;
    for (char c : d.text) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        w += c;
      } else if (!w.empty()) {
        if (w != "Base" && w != "Lore" && w != "Session" && w != "Specific"
            && w != "Notes")
          words.push_back(w);
        w.clear();
      }
    }
    if (!w.empty())
      words.push_back(w);
    auto entity = std::stoul(d.key.substr(d.key.rfind(':') + 1));
    const auto& name = entities_[entity].name;
    std::string q;
    auto add = [&q](const std::string& x) {
      q += q.empty() ? x : " " + x;
    };
    std::size_t kind = rng() % 10;
    std::size_t extra = 0;
    if (kind < 4) { // full name + 1-4 words
      add(name);
      extra = 1 + rng() % 4;
    } else if (kind < 6) { // first name + 1-3 words
      add(name.substr(0, name.find(' ')));
      extra = 1 + rng() % 3;
    } else if (kind < 9) { // 2-6 words of the document
      extra = 2 + rng() % 5;
    } else { // a longer phrase: name + 6-8 words
      add(name);
      extra = 6 + rng() % 3;
    }
    // A run of the document's words (as a user remembers a phrase) or
    // scattered ones.
    if (rng() % 2 == 0 && words.size() > extra) {
      std::size_t at = rng() % (words.size() - extra);
      for (std::size_t i = 0; i < extra; ++i)
        add(words[at + i]);
    } else {
      for (std::size_t i = 0; i < extra; ++i)
        add(words[rng() % words.size()]);
    }
    return q;
  }

private:
  struct entity {
    std::string name;
    std::size_t topic = 0;
    std::string lore;
  };

  // Vocabularies: 5,000 Zipf-distributed common words, 200 topics of 40.
  class vocabulary {
  public:
    vocabulary(std::size_t topics, uint32_t seed) : rng_(seed) {
      for (std::size_t i = 0; i < 5000; ++i)
        common_.push_back(word(rng_));
      for (std::size_t t = 0; t < topics; ++t) {
        std::vector<std::string> ws;
        for (int i = 0; i < 40; ++i)
          ws.push_back(word(rng_));
        topics_.push_back(std::move(ws));
      }
      double total = 0;
      for (std::size_t r = 1; r <= common_.size(); ++r)
        zipf_cdf_.push_back(total += 1.0 / double(r));
      for (double& x : zipf_cdf_)
        x /= total;
    }

    std::string word(std::mt19937& rng) const {
      static const char* syllables[]
        = {"ka", "ri", "on", "el", "mar", "th", "ven", "do",  "sa",
           "lu", "qu", "ex", "ar", "ni",  "os", "te",  "bel", "gr"};
      std::string w;
      std::size_t n = 1 + rng() % 4;
      for (std::size_t i = 0; i < n; ++i)
        w += syllables[rng() % std::size(syllables)];
      return w;
    }

    std::string name(std::mt19937& rng) const {
      std::string w = word(rng) + word(rng);
      w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
      return w;
    }

    const std::string& topic_word(std::mt19937& rng, std::size_t t) const {
      return topics_[t][rng() % topics_[t].size()];
    }

    const std::string& common_word(std::mt19937& rng) const {
      double u = std::uniform_real_distribution<double>{0, 1}(rng);
      auto it = std::lower_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u);
      return common_[std::min<std::size_t>(it - zipf_cdf_.begin(),
                                           common_.size() - 1)];
    }

  private:
    std::mt19937 rng_;
    std::vector<std::string> common_;
    std::vector<std::vector<std::string>> topics_;
    std::vector<double> zipf_cdf_;
  };

  // 6-14 words: 40% from `topic`, 25% from `theme`, the rest common; starts
  // with `subject` when given.
  std::string sentence(std::mt19937& rng, std::size_t topic,
                       std::size_t theme, const std::string& subject) const {
    std::string text = subject;
    std::size_t n = 6 + rng() % 9;
    for (std::size_t i = 0; i < n; ++i) {
      auto r = rng() % 20;
      const std::string& w = r < 8    ? words_.topic_word(rng, topic)
                             : r < 13 ? words_.topic_word(rng, theme)
                                      : words_.common_word(rng);
      if (!text.empty())
        text += (rng() % 10 == 0) ? ", " : " ";
      text += w;
    }
    return text + ".";
  }

  vocabulary words_;
  std::vector<entity> entities_;
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
  opts.method = s.method == "hnsw" ? storage::vector_search_method::hnsw
                                   : storage::vector_search_method::quantized_scan;
  opts.rerank_candidates = s.rerank;
  opts.scan_dims = s.scan_dims;
  auto idx = vector_index::make(opts);
  if (!idx)
    die("vector index", idx.error());
  return std::move(*idx);
}

// Upserts every vector under keys[i] and groups[i]; returns inserts per
// second.
double fill(vector_index& idx, const std::vector<vec>& vectors,
            const std::vector<std::string>& keys,
            const std::vector<group_id>& groups) {
  auto t0 = clock_type::now();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    if (auto err = idx.upsert(keys[i], groups[i], vectors[i]))
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
  run_stats approx; // the index under test
  run_stats exact;  // the exact index
};

void print_rule() {
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(28, '-').c_str(),
              std::string(11, '-').c_str(), std::string(11, '-').c_str(),
              std::string(11, '-').c_str(), std::string(10, '-').c_str(),
              std::string(12, '-').c_str(), std::string(12, '-').c_str());
}

void print_row(const char* name, const char* index, const run_stats& s,
               const std::string& recall, const std::string& tie_recall) {
  std::printf("| %-26s | %-9s | %9.1f | %9.1f | %8s | %10s | %10.1f |\n", name,
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
  CLI::App app{"engram-bench-search: vector index latency and recall, the "
               "index's search against an exact scan in the same run"};
  app.add_option("--docs", s.docs, "documents in the index")
    ->capture_default_str();
  app.add_option("--queries", s.queries, "queries per scenario")
    ->capture_default_str();
  app
    .add_option("--dim", s.dim,
                "vector dimension (ignored with --texts and --composites: "
                "the embedder's 384)")
    ->capture_default_str();
  app
    .add_option("--clusters", s.clusters,
                "cluster centres (topics with --texts)")
    ->capture_default_str();
  app.add_option("--spread", s.spread, "noise norm around a centre")
    ->capture_default_str();
  app.add_option("-k", s.k, "results per query")->capture_default_str();
  app.add_option("--method", s.method, "search past the threshold")
    ->check(CLI::IsMember({"quantized", "hnsw"}))
    ->capture_default_str();
  app.add_option("--rerank", s.rerank, "quantized: rerank_candidates")
    ->capture_default_str();
  app.add_option("--scan-dims", s.scan_dims, "quantized: scan_dims")
    ->capture_default_str();
  app.add_option("--ef", s.ef, "hnsw: ef_search of the graph")
    ->capture_default_str();
  app
    .add_option("--threshold", s.threshold,
                "exact_threshold of the index under test")
    ->capture_default_str();
  app.add_flag("--texts", s.texts, "index hash-embedded synthetic texts");
  app.add_flag("--composites", s.composites,
               "index hash-embedded composite documents of one user, "
               "searched with short phrases");
  app.add_option("--entities", s.entities, "composites: entities")
    ->capture_default_str();
  app.add_option("--per-session", s.per_session,
                 "composites: documents per session")
    ->capture_default_str();
  app
    .add_option("--embed-texts", s.embed_texts,
                "texts for the embedder throughput run (without --texts)")
    ->capture_default_str();
  app.add_option("--seed", s.seed, "random seed")->capture_default_str();
  app.add_option("--dir", s.dir, "scratch directory for the snapshot (wiped)")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (s.texts || s.composites)
    s.dim = 384;

  // 1. Data, and the embedder's throughput.
  std::vector<vec> docs, queries;
  std::vector<std::string> keys;
  std::vector<group_id> groups;
  group_id sessions = 0;
  std::vector<std::string> sample_queries;
  double texts_per_second = 0;
  std::size_t embedded = 0;
  if (s.composites) {
    std::fprintf(stderr, "embedding %zu composite documents + %zu queries...\n",
                 s.docs, s.queries);
    composite_source src{s.entities, s.seed};
    auto made = src.documents(s.docs, s.per_session, s.seed);
    std::vector<std::string> texts;
    for (auto& d : made) {
      keys.push_back(d.key);
      groups.push_back(d.session);
      sessions = std::max(sessions, d.session);
      texts.push_back(d.text);
    }
    auto r = embed_all(texts);
    docs = std::move(r.vectors);
    texts_per_second = r.texts_per_second;
    embedded = texts.size();
    std::mt19937 rng{s.seed + 3};
    texts.clear();
    for (std::size_t i = 0; i < s.queries; ++i)
      texts.push_back(src.query(rng, made[rng() % made.size()]));
    for (std::size_t i = 0; i < std::min<std::size_t>(5, texts.size()); ++i)
      sample_queries.push_back(texts[i]);
    if (!made.empty())
      sample_queries.push_back("document: " + made[0].text);
    queries = embed_all(texts).vectors;
  } else if (s.texts) {
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
  if (keys.empty())
    for (std::size_t i = 0; i < docs.size(); ++i) {
      keys.push_back(key_of(i));
      groups.push_back(group_of(i));
    }

  // 2. The two indexes over the same documents.
  std::fprintf(stderr, "building the index under test...\n");
  auto index = make_index(s, s.threshold);
  double index_inserts = fill(index, docs, keys, groups);
  std::fprintf(stderr, "building the exact index...\n");
  auto exact = make_index(s, s.docs + 1);
  double exact_inserts = fill(exact, docs, keys, groups);
  const char* method = index.uses_graph()            ? "hnsw"
                       : index.uses_quantized_scan() ? "quantized"
                                                     : "exact";

  // 3. Snapshot of the index: save, load, size.
  std::filesystem::remove_all(s.dir);
  std::filesystem::create_directories(s.dir);
  auto path = s.dir + "/user.vidx";
  auto t0 = clock_type::now();
  if (auto err = index.save(path, 1))
    die("save", err);
  double save_s = seconds_since(t0);
  storage::vector_index_options opts;
  opts.dim = s.dim;
  opts.exact_threshold = s.threshold;
  opts.ef_search = s.ef;
  opts.method = index.uses_graph() ? storage::vector_search_method::hnsw
                                   : storage::vector_search_method::quantized_scan;
  opts.rerank_candidates = s.rerank;
  opts.scan_dims = s.scan_dims;
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
  if (s.composites) {
    std::vector<group_id> tenth;
    for (group_id g = 1; g <= std::max<group_id>(1, sessions / 10); ++g)
      tenth.push_back(g);
    scenarios.push_back({"one session", search_filter::any_of({1}), {}, {}});
    scenarios.push_back(
      {"10% of the sessions", search_filter::any_of(tenth), {}, {}});
    scenarios.push_back(
      {"all sessions but one",
       search_filter::where([](group_id g) { return g != 1; }),
       {},
       {}});
  } else {
    scenarios.push_back(
      {"group holding 1%", search_filter::any_of({1}), {}, {}});
    scenarios.push_back(
      {"group holding 10%", search_filter::any_of({2}), {}, {}});
    scenarios.push_back(
      {"groups holding 99%",
       search_filter::where([](group_id g) { return g != 1; }),
       {},
       {}});
  }
  // Each index answers all queries in a row (as a user's index would), so
  // one index's scan does not evict the other's memory between queries.
  for (auto& sc : scenarios) {
    std::vector<hits> truths;
    for (const auto& q : queries)
      truths.push_back(timed_search(exact, q, s.k, sc.filter, sc.exact));
    for (std::size_t i = 0; i < queries.size(); ++i) {
      auto found = timed_search(index, queries[i], s.k, sc.filter, sc.approx);
      sc.approx.recall_sum += recall(found, truths[i]);
      sc.approx.tie_recall_sum += tie_recall(found, truths[i]);
    }
  }

  // 5. Report.
  const char* data = s.composites ? "hash-embedded composite documents"
                     : s.texts    ? "hash-embedded synthetic texts"
                                  : "clustered random";
  std::printf("\nengram-bench-search: %zu docs x %zu dim (%s), %zu queries, "
              "k=%zu, exact_threshold=%zu, index search: %s",
              s.docs, s.dim, data, s.queries, s.k, s.threshold, method);
  if (index.uses_graph())
    std::printf(" (ef_search=%zu, M=16, ef_construction=200)\n", s.ef);
  else
    std::printf(" (rerank_candidates=%zu, scan_dims=%zu)\n", s.rerank,
                s.scan_dims);
  std::printf("recall@k: share of the exact top k found; tie recall: share of "
              "hits scoring at least the exact k-th score\n");
  for (const auto& q : sample_queries)
    std::printf("sample %s%s\n", q.rfind("document: ", 0) == 0 ? "" : "query: ",
                q.c_str());
  std::printf("\n| %-26s | %-9s | %9s | %9s | %8s | %10s | %10s |\n", "search",
              "index", "p50 us", "p99 us", "recall@k", "tie recall",
              "hits/query");
  print_rule();
  for (const auto& sc : scenarios) {
    double n = double(queries.size());
    print_row(sc.name, method, sc.approx, fixed4(sc.approx.recall_sum / n),
              fixed4(sc.approx.tie_recall_sum / n));
    print_row(sc.name, "exact", sc.exact, "1 (ref)", "1 (ref)");
    std::printf("| %-26s | %-9s | %9.1f | %9.1f | %8s | %10s | %10s |\n", "",
                "exact/idx", sc.exact.percentile(0.50)
                               / std::max(1e-9, sc.approx.percentile(0.50)),
                sc.exact.percentile(0.99)
                  / std::max(1e-9, sc.approx.percentile(0.99)),
                "", "", "");
  }
  std::printf("\n| %-40s | %14s |\n", "measure", "value");
  std::printf("|%s|%s|\n", std::string(42, '-').c_str(),
              std::string(16, '-').c_str());
  std::printf("| %-40s | %14.0f |\n", "index inserts/s (incl. switch)",
              index_inserts);
  std::printf("| %-40s | %14.0f |\n", "exact index inserts/s", exact_inserts);
  std::printf("| %-40s | %14.2f |\n", "snapshot save s", save_s);
  std::printf("| %-40s | %14.2f |\n", "snapshot load s (checked, switched)",
              load_s);
  std::printf("| %-40s | %14.1f |\n", "snapshot MiB",
              double(snapshot_bytes) / (1 << 20));
  std::printf(
    "| %-40s | %14.0f |\n",
    ("hash embedder texts/s (" + std::to_string(embedded) + " texts)").c_str(),
    texts_per_second);
  return 0;
}
