#pragma once
// The approximate half of storage::vector_index: an hnswlib HNSW graph over
// inner product whose labels are slot numbers. hnswlib names stay behind
// this header; hnsw_graph.cpp is the one translation unit in the program
// that may include hnswlib (its 0.6.2 headers define non-inline functions
// and globals, so a second includer would fail to link).
//
// Invariant: hnswlib's internal id of slot s is s (slots are appended in
// order and reused in place, never renumbered), so slot s's vector is read
// straight from the graph's memory and snapshots need no label table.
//
// Not thread-safe. Every hnswlib exception is caught and returned as a
// caf::error (ec::internal, or ec::storage_failure while reading a file).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "storage/detail/snapshot_file.hpp"

namespace engram::storage::detail {

struct hnsw_params {
  std::size_t dim = 384;
  std::size_t m = 16;                // hnswlib M (2 M links on layer 0)
  std::size_t ef_construction = 200; // candidates kept while inserting
  std::size_t ef_search = 64;        // candidates kept while searching
};

class hnsw_graph {
public:
  /// An empty graph with room for `capacity` slots (it grows on demand).
  static caf::expected<std::unique_ptr<hnsw_graph>>
  create(const hnsw_params& params, std::size_t capacity);

  /// Reads a graph written by write(). Checks the layout against what
  /// this build of hnswlib would produce and every link (in range, on an
  /// existing layer of its target) before the graph is used, so a damaged
  /// file is an ec::storage_failure, never a wild read. `params.m` and
  /// `params.ef_construction` are ignored: a graph keeps its own.
  static caf::expected<std::unique_ptr<hnsw_graph>>
  read(snapshot_reader& in, const hnsw_params& params);

  ~hnsw_graph();

  /// Number of slots, live and deleted; the next new slot is this number.
  uint32_t slots() const;

  /// The stored vector of `slot` (< slots()); valid until the next put().
  const float* vector_at(uint32_t slot) const;

  bool is_deleted(uint32_t slot) const;

  /// Stores `v` (dim floats) as `slot`: slot == slots() appends (doubling
  /// capacity when full); slot < slots() replaces the vector in place and
  /// repairs the links around it, undeleting a deleted slot.
  caf::error put(uint32_t slot, const float* v);

  /// Marks `slot` deleted: search never returns it; its node keeps routing
  /// searches until put() reuses the slot.
  caf::error erase(uint32_t slot);

  /// Up to `k` live slots with the largest inner product with `query`,
  /// searched with max(ef_search, k) candidates; in no particular order.
  caf::expected<std::vector<uint32_t>> search(const float* query,
                                              std::size_t k) const;

  void set_ef_search(std::size_t ef);

  /// Links per node on layers above 0 (hnswlib M).
  std::size_t m() const;

  /// Appends the whole graph (vectors, links, delete marks) to `out`.
  void write(snapshot_writer& out) const;

private:
  struct impl;
  explicit hnsw_graph(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace engram::storage::detail
