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
  // free slots are stale) before the switch, `graph` after it.
  std::vector<float> flat;
  std::unique_ptr<detail::hnsw_graph> graph;

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
};

} // namespace engram::storage
