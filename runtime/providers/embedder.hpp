#pragma once
// Turns texts into unit-length float vectors of a fixed dimension. The
// offline `hash` embedder and a model-backed /v1/embeddings client implement
// the same interface. Batches are the unit of work (one model call).

#include <cstddef>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace engram::providers {

using vector = std::vector<float>;

class embedder {
public:
  virtual ~embedder() = default;
  virtual std::string name() const = 0;
  /// Whether embed() may block (network I/O); see llm_provider::blocks().
  virtual bool blocks() const { return true; }
  /// Dimension of every vector this embedder returns.
  virtual std::size_t dim() const = 0;
  /// One vector per text, in order; each L2-normalised (a text with no
  /// features gives the zero vector).
  virtual caf::expected<std::vector<vector>>
  embed(const std::vector<std::string>& texts) = 0;
};

} // namespace engram::providers
