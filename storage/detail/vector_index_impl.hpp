#pragma once
// Internals of storage::vector_index, shared by vector_index.cpp (the
// verbs and search) and vector_snapshot.cpp (save and load). Nothing
// outside storage/ includes this.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/detail/hnsw_graph.hpp"
#include "storage/detail/quantized_codes.hpp"
#include "storage/vector_index.hpp"

namespace engram::storage {

struct vector_index::impl {
  /// One position for a vector. Slot numbers are stable while the document
  /// lives; a freed slot is reused by the next new document.
  struct slot {
    std::string key; // empty when free
    group_id group = 0;
    uint32_t member_pos = 0; // position in members[group]
    bool live = false;
  };

  vector_index_options opts;
  std::vector<slot> slots;
  std::unordered_map<std::string, uint32_t> slot_of;           // live keys
  std::unordered_map<group_id, std::vector<uint32_t>> members; // live slots
  std::vector<uint32_t> free_slots;
  std::size_t live = 0;

  // Exactly one holds the vectors: `flat` (slots.size() * dim floats, rows of
  // free slots are stale) unless the index switched to HNSW, `graph` after
  // that switch.
  std::vector<float> flat;
  std::unique_ptr<detail::hnsw_graph> graph;
  // With method quantized_scan, past exact_threshold: an int8 copy of the
  // flat vectors (freed slots cleared), scanned before an exact rerank.
  std::unique_ptr<detail::quantized_codes> codes;

  const float* vector_at(uint32_t s) const {
    return graph ? graph->vector_at(s)
                 : flat.data() + std::size_t{s} * opts.dim;
  }

  detail::hnsw_params graph_params() const {
    return {opts.dim, opts.m, opts.ef_construction, opts.ef_search};
  }

  /// Records `key` as live in `s` (which is slots.size() or a free slot).
  void link(uint32_t s, std::string key, group_id group);

  /// Frees `s` (live) for reuse.
  void unlink(uint32_t s);

  /// Moves live slot `s` to `group`.
  void regroup(uint32_t s, group_id group);

  /// Builds the graph from the live vectors, renumbering slots densely.
  /// On failure nothing changes.
  caf::error switch_to_graph();

  /// Builds `codes` from the live flat vectors (slots keep their numbers).
  void build_codes();

  /// Moves the live vectors out of the graph into `flat` and drops the
  /// graph (a graph snapshot loaded with method quantized_scan).
  void graph_to_flat();

  /// Switches past exact_threshold the way opts.method says, if not yet.
  caf::error switch_if_large();
};

} // namespace engram::storage
