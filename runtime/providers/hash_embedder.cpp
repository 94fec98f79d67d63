#include "runtime/providers/hash_embedder.hpp"

#include <cmath>
#include <cstdint>
#include <utility>

#include "messages/errors.hpp"

// The algorithm, exactly (docs/EMBEDDINGS.md says the same in prose):
//
// 1. Words. A word is a maximal run of bytes that are ASCII letters, ASCII
//    digits or any byte >= 0x80 (so UTF-8 letters of every script stay inside
//    words). Every other byte separates words. ASCII letters are lower-cased;
//    other bytes are kept as they are (no Unicode case folding).
// 2. Features, each a byte string hashed under a family tag:
//      'U' unigram      the word                              weight 1.0
//      'B' bigram       word[i] 0x1F word[i+1], adjacent      weight 0.7
//                       words of the text
//      'C' char n-gram  every run of 3 and of 4 consecutive   weight 0.4
//                       code points of '<' word '>', for
//                       words of at least 3 code points (a
//                       code point is a UTF-8 lead byte with
//                       its continuation bytes; '<' and '>'
//                       never occur inside a word)
//    A word of L >= 3 code points yields 2L - 1 char n-grams, so their
//    weight is low: a six-letter word's eleven weigh 11 * 0.4^2 = 1.8 times
//    its unigram (squared), enough for "running" to meet "run" and "parks"
//    to meet "park". Words of one or two code points ("a", "in", "of") are
//    mostly function words: their n-grams would only add noise.
// 3. Hash. h = FNV-1a 64 (offset 0xcbf29ce484222325, prime 0x100000001b3)
//    over the family byte followed by the feature bytes, then MurmurHash3's
//    64-bit finaliser (fmix64) so that the high bits are well mixed.
//    bucket = ((h >> 32) * dim) >> 32  (the top 32 bits scaled to [0, dim))
//    sign   = +1 when bit 0 of h is 0, else -1.
// 4. Term frequency. Equal hashes are one feature; with tf occurrences in
//    the text, bucket[bucket(h)] += sign(h) * weight * (1 + ln tf).
// 5. The vector is divided by its L2 norm; a text without words (or whose
//    features cancel exactly) gives the zero vector.
//
// Everything is integer arithmetic over bytes except steps 4-5, which use
// IEEE float/double with no platform-dependent functions but std::log and
// std::sqrt (correctly rounded sqrt; log is within 1 ulp on every libm we
// run), so vectors are bit-identical run to run and, to the last bit or
// two, across platforms.

namespace engram::providers {

namespace {

constexpr std::size_t max_dim = 65536;

constexpr float unigram_weight = 1.0f;
constexpr float bigram_weight = 0.7f;
constexpr float char_gram_weight = 0.4f;
// Words shorter than this (in code points) give no char n-grams.
constexpr std::size_t min_gram_word_points = 3;

constexpr char bigram_separator = '\x1f';
constexpr char word_start_marker = '<';
constexpr char word_end_marker = '>';

// FNV-1a 64 fed byte by byte; finish() applies the fmix64 finaliser.
class feature_hasher {
public:
  explicit feature_hasher(char family) { add(family); }

  void add(char c) {
    state_ ^= static_cast<unsigned char>(c);
    state_ *= 0x100000001b3ull;
  }

  void add(std::string_view bytes) {
    for (char c : bytes)
      add(c);
  }

  uint64_t finish() const {
    uint64_t h = state_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
  }

private:
  uint64_t state_ = 0xcbf29ce484222325ull;
};

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c >= 0x80;
}

char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

struct feature {
  uint64_t hash;
  float weight;
};

// Turns one text into a vector. Holds scratch buffers so that a batch reuses
// them: one featurizer per embed() call, never shared between threads.
class featurizer {
public:
  explicit featurizer(std::size_t dim) : dim_(dim) {}

  void run(std::string_view text, vector& out) {
    features_.clear();
    split_words(text);
    for (std::size_t i = 0; i < words_.size(); ++i) {
      std::string_view w = word(i);
      add_unigram(w);
      if (i + 1 < words_.size())
        add_bigram(w, word(i + 1));
      add_char_grams(w);
    }
    accumulate(out);
  }

private:
  std::string_view word(std::size_t i) const {
    return std::string_view{lowered_}.substr(words_[i].first, words_[i].second);
  }

  // Fills lowered_ with the lower-cased words back to back and words_ with
  // their (offset, length) spans.
  void split_words(std::string_view text) {
    lowered_.clear();
    words_.clear();
    std::size_t i = 0;
    while (i < text.size()) {
      if (!is_word_byte(static_cast<unsigned char>(text[i]))) {
        ++i;
        continue;
      }
      std::size_t start = lowered_.size();
      while (i < text.size()
             && is_word_byte(static_cast<unsigned char>(text[i])))
        lowered_.push_back(lower_ascii(text[i++]));
      words_.emplace_back(start, lowered_.size() - start);
    }
  }

  void add(const feature_hasher& h, float weight) {
    features_.push_back({h.finish(), weight});
  }

  void add_unigram(std::string_view w) {
    feature_hasher h{'U'};
    h.add(w);
    add(h, unigram_weight);
  }

  void add_bigram(std::string_view a, std::string_view b) {
    feature_hasher h{'B'};
    h.add(a);
    h.add(bigram_separator);
    h.add(b);
    add(h, bigram_weight);
  }

  void add_char_grams(std::string_view w) {
    padded_.clear();
    padded_.push_back(word_start_marker);
    padded_.append(w);
    padded_.push_back(word_end_marker);
    // starts_[j] is the byte offset of code point j; one sentinel at the end.
    starts_.clear();
    for (std::size_t b = 0; b < padded_.size(); ++b)
      if (!is_continuation_byte(padded_[b]))
        starts_.push_back(b);
    starts_.push_back(padded_.size());
    std::size_t points = starts_.size() - 1; // with both markers
    if (points < min_gram_word_points + 2)
      return;
    for (std::size_t n = 3; n <= 4; ++n)
      for (std::size_t j = 0; j + n <= points; ++j) {
        feature_hasher h{'C'};
        h.add(std::string_view{padded_}.substr(starts_[j],
                                               starts_[j + n] - starts_[j]));
        add(h, char_gram_weight);
      }
  }

  // Steps 4 and 5: merge equal hashes (an open-addressing table, cheaper
  // than sorting), apply sublinear tf, normalise.
  void accumulate(vector& out) {
    out.assign(dim_, 0.0f);
    std::size_t size = 16;
    while (size < 2 * features_.size())
      size *= 2;
    table_.assign(size, merged{});
    std::size_t mask = size - 1;
    for (const auto& f : features_) {
      std::size_t i = static_cast<std::size_t>(f.hash) & mask;
      while (table_[i].count != 0 && table_[i].hash != f.hash)
        i = (i + 1) & mask;
      if (table_[i].count++ == 0) {
        table_[i].hash = f.hash;
        table_[i].weight = f.weight;
      }
    }
    for (const auto& m : table_) {
      if (m.count == 0)
        continue;
      float tf_factor
        = m.count == 1 ? 1.0f
                       : 1.0f + static_cast<float>(std::log(double(m.count)));
      float value = m.weight * tf_factor;
      std::size_t bucket
        = static_cast<std::size_t>(((m.hash >> 32) * dim_) >> 32);
      out[bucket] += (m.hash & 1) ? -value : value;
    }
    double norm2 = 0;
    for (float x : out)
      norm2 += double(x) * double(x);
    if (norm2 == 0)
      return;
    float inv = static_cast<float>(1.0 / std::sqrt(norm2));
    for (float& x : out)
      x *= inv;
  }

  struct merged {
    uint64_t hash = 0;
    float weight = 0;
    uint32_t count = 0;
  };

  std::size_t dim_;
  std::string lowered_;
  std::vector<std::pair<std::size_t, std::size_t>> words_;
  std::string padded_;
  std::vector<std::size_t> starts_;
  std::vector<feature> features_;
  std::vector<merged> table_;
};

} // namespace

uint64_t feature_hash(char family, std::string_view bytes) {
  feature_hasher h{family};
  h.add(bytes);
  return h.finish();
}

caf::expected<std::unique_ptr<hash_embedder>>
hash_embedder::make(const hash_embedder_options& opts) {
  if (opts.dim == 0 || opts.dim > max_dim)
    return make_error(ec::invalid_config,
                      "hash embedder: dim must be 1.." + std::to_string(max_dim)
                        + ", got " + std::to_string(opts.dim),
                      "dim");
  return std::unique_ptr<hash_embedder>{new hash_embedder(opts)};
}

hash_embedder::hash_embedder(const hash_embedder_options& opts)
  : dim_(opts.dim) {}

std::string hash_embedder::name() const {
  return "hash";
}

std::size_t hash_embedder::dim() const {
  return dim_;
}

caf::expected<std::vector<vector>>
hash_embedder::embed(const std::vector<std::string>& texts) {
  std::vector<vector> result(texts.size());
  featurizer f{dim_};
  for (std::size_t i = 0; i < texts.size(); ++i)
    f.run(texts[i], result[i]);
  return result;
}

vector hash_embedder::embed_one(std::string_view text) const {
  vector out;
  featurizer{dim_}.run(text, out);
  return out;
}

} // namespace engram::providers
