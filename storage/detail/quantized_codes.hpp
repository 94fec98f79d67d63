#pragma once
// The quantized half of storage::vector_index: an int8 copy of every vector,
// laid out so that a scan reads only the dimensions where the query is
// nonzero. docs/EMBEDDINGS.md ("Quantized scan, then exact rerank") explains
// why and what it costs.
//
// Code of a vector v: scale = max |v_i| / 127, c_i = round(v_i / scale), so
// v ~ scale * c. The query's scan dimensions are quantized the same way to
// +-63 (so that four products fit 16 bits), and the approximate inner
// product is doc scale * query scale * the integer sum of code products
// (exact integer arithmetic; 32 bits hold 65,536 x 63 x 127).
//
// Layout: slots are grouped in blocks of `block_slots`; within a block the
// codes are stored dimension-major (the block's codes for dimension 0, then
// for dimension 1, ...). Scoring a block for a query with d scan dimensions
// reads d contiguous runs of block_slots bytes, so a short text query (the
// `hash` embedder gives it 50-130 nonzero dimensions of 384) reads a
// quarter of the codes or less.
//
// Not thread-safe (owned by one vector_index).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace engram::storage::detail {

/// A query reduced to the dimensions a scan reads, sorted by dimension, and
/// quantized: q[dims[i]] ~ scale * codes[i], codes within +-63.
struct scan_query {
  std::vector<uint32_t> dims;
  std::vector<float> weights; // q[dims[i]]
  std::vector<int8_t> codes;
  float scale = 0;
};

/// The nonzero components of `q` (dim floats); when there are more than
/// `max_dims`, only the `max_dims` of largest magnitude (ties to the lower
/// dimension). Empty for the zero vector.
scan_query make_scan_query(const float* q, std::size_t dim,
                           std::size_t max_dims);

class quantized_codes {
public:
  /// Slots per block; the scan scores one block at a time.
  static constexpr std::size_t block_slots = 1024;

  explicit quantized_codes(std::size_t dim);

  /// Slots that have room (a multiple of block_slots).
  std::size_t capacity() const { return scales_.size(); }

  /// Blocks allocated: capacity() / block_slots.
  std::size_t blocks() const { return scales_.size() / block_slots; }

  /// Stores the code of `v` (dim finite floats) as `slot`, growing by whole
  /// blocks when `slot` is past capacity().
  void put(uint32_t slot, const float* v);

  /// Makes `slot` score 0 for every query (a freed slot).
  void clear(uint32_t slot);

  /// Approximate inner products of `q` with the slots of block `b`:
  /// out[i] belongs to slot b * block_slots + i (block_slots floats).
  void score_block(std::size_t b, const scan_query& q, float* out) const;

  /// The approximate inner product of `q` with one slot (< capacity()).
  float score(uint32_t slot, const scan_query& q) const;

  /// Bytes held (codes and scales).
  std::size_t memory_bytes() const;

private:
  const int8_t* column(std::size_t b, std::size_t d) const {
    return codes_.data() + (b * dim_ + d) * block_slots;
  }

  std::size_t dim_;
  std::vector<int8_t> codes_; // blocks x dim x block_slots
  std::vector<float> scales_; // one per slot of capacity()
};

} // namespace engram::storage::detail
