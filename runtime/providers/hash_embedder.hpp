#pragma once
// The offline `hash` embedder: signed feature hashing of words, word pairs
// and character n-grams into a fixed number of buckets. No model, no
// network, no state: the same text gives the same vector on every platform
// and in every run, so vectors stored by one node stay comparable with
// queries embedded by another. docs/EMBEDDINGS.md describes the algorithm
// (and why it is good enough for lexical recall, and no more).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/providers/embedder.hpp"

namespace engram::providers {

struct hash_embedder_options {
  // Length of every vector (number of hash buckets). More buckets mean fewer
  // features sharing a bucket (better separation of unrelated texts) at a
  // linear cost in index memory and scan time. Must be 1..65536.
  // Default: 384 (the size of common small sentence models, so indexes are
  // sized alike whichever embedder fills them). Restart required, and every
  // stored vector must be re-embedded after a change.
  std::size_t dim = 384;
};

/// Feature-hashing embedder (see the file comment). Stateless after
/// construction: embed() may be called from several threads at once.
class hash_embedder final : public embedder {
public:
  /// An embedder with `opts`; ec::invalid_config (field "dim") when
  /// `opts.dim` is 0 or larger than 65536.
  static caf::expected<std::unique_ptr<hash_embedder>>
  make(const hash_embedder_options& opts = {});

  /// "hash".
  std::string name() const override;

  /// false: pure computation, safe on a scheduler thread.
  bool blocks() const override { return false; }

  std::size_t dim() const override;

  /// One unit vector per text, in order; the zero vector for a text without
  /// any word (empty, blanks, punctuation only). Never fails.
  caf::expected<std::vector<vector>>
  embed(const std::vector<std::string>& texts) override;

  /// The vector of one text (what embed() returns for it).
  vector embed_one(std::string_view text) const;

private:
  explicit hash_embedder(const hash_embedder_options& opts);

  std::size_t dim_;
};

/// The 64-bit feature hash the embedder uses (FNV-1a over `family` followed
/// by `bytes`, then a 64-bit finalising mix). Exposed so tests can pin its
/// values: changing it silently would invalidate every stored vector.
uint64_t feature_hash(char family, std::string_view bytes);

} // namespace engram::providers
