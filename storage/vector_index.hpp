#pragma once
// The vectors of one user's documents, searchable by cosine similarity.
// A document is a string key ("entity:<id>", "composite:<session>:<entity>")
// with one vector and one group tag (an interned session id; 0 = base lore)
// that searches can filter on. The index is derived data: it is rebuilt
// from RocksDB, or loaded from a snapshot that says up to which journal seq
// it is complete. Design and snapshot format: docs/EMBEDDINGS.md.
//
// How it searches:
// - Small indexes (at most `exact_threshold` documents) scan every vector:
//   exact, and at 2,000 x 384 as cheap as anything cleverer (~0.15 ms).
// - Past the threshold, by default (method quantized_scan) the index also
//   keeps an int8 copy of every vector (a quarter of the float size), laid
//   out dimension-major in blocks, and answers a search in two steps: score
//   every document approximately from the codes, reading only the
//   dimensions where the query is nonzero (a short text query of the
//   `hash` embedder touches 50-130 of 384), keep the best
//   `rerank_candidates`, then score those exactly on the float vectors.
//   Inserts stay as cheap as on a small index. At 100k hash-embedded
//   composite documents: p99 ~1.5 ms, recall@10 1.00 (docs/EMBEDDINGS.md,
//   "Measured").
// - With method hnsw the index instead builds an HNSW graph (hnswlib,
//   inner product, M = 16, ef_construction = 200) once, and stays a graph.
//   Removal marks a node deleted; the next new document reuses its slot.
//   Faster for dense model embeddings with clustered neighbourhoods; poor
//   recall on `hash` vectors.
// - Filters resolve to a set of groups first (a predicate is asked once per
//   group the index holds, never per document), so the index knows exactly
//   how many documents a search may return. Filtered searches over groups
//   holding at most `exact_threshold` documents (as a session's own
//   documents usually do) scan those documents exactly. Otherwise the
//   quantized scan skips documents the filter rejects before they can take
//   a candidate place. hnswlib 0.6.2 cannot filter inside the graph walk,
//   so on a graph a broader filtered search asks the graph for
//   k * (all / allowed) * 2 candidates, keeps the allowed ones, grows the
//   request 4x while too few survive, and falls back to the exact scan once
//   the graph search would cost more than it. Results are never silently
//   short: fewer than k hits means fewer than k allowed documents (or, on
//   the graph path, a rare miss of approximate search).
//
// Not thread-safe: one actor owns each index.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace engram::storage {

/// Filter tag of a document (an interned session id; 0 = base lore).
using group_id = uint32_t;

/// How an index holding more than exact_threshold documents searches.
enum class vector_search_method {
  /// int8 scan of the query's nonzero dimensions, then an exact rerank of
  /// the best candidates (the default; see the file comment).
  quantized_scan,
  /// An hnswlib HNSW graph (the vectors move into the graph).
  hnsw,
};

struct vector_index_options {
  // Length of every vector. Default: 384. Fixed for the life of an index; a
  // snapshot of another dim does not load (ec::storage_failure).
  std::size_t dim = 384;
  // Up to this many documents every search is an exact scan. Past it the
  // index switches to `method`: the first document past it builds the int8
  // codes (quantized_scan: ~10 ms per 100k documents) or the HNSW graph
  // (hnsw: about 1 s single-core at the default; the graph then holds the
  // vectors, the flat array is freed, and adds ~15% to their memory, plus
  // ~3 MiB of hnswlib locks). Filtered searches over groups holding at most
  // this many documents stay exact either way. Default: 2,000. A change
  // applies to indexes that have not switched yet (there is no way back).
  std::size_t exact_threshold = 2000;
  // What a large index does (see vector_search_method). Default:
  // quantized_scan, which keeps recall@10 >= 0.95 on `hash` vectors; hnsw
  // is faster at equal recall only on clustered model embeddings. A change
  // applies to indexes that have not switched yet; load() follows the
  // option (a graph snapshot loaded for quantized_scan drops its graph).
  vector_search_method method = vector_search_method::quantized_scan;
  // quantized_scan: documents the approximate scan passes to the exact
  // rerank (at least 4 k are used). Higher raises recall and latency (each
  // candidate costs one exact comparison of vectors scattered in memory,
  // ~1 us at dim 384 and 100k documents). Default: 128.
  std::size_t rerank_candidates = 128;
  // quantized_scan: at most this many query dimensions (those of largest
  // magnitude) are read by the approximate scan; the rerank always uses the
  // whole query. Bounds the scan's cost for dense queries (model
  // embeddings, long texts); short `hash` queries have 25-120 nonzero
  // dimensions. Default: 128.
  std::size_t scan_dims = 128;
  // hnsw: candidates a graph search keeps (hnswlib ef; at least k is used).
  // Higher raises recall and latency. Default: 64. Changeable at any time
  // through vector_index::set_ef_search.
  std::size_t ef_search = 64;
  // hnsw: links per graph node (hnswlib M; twice that on layer 0). Higher
  // raises recall, memory and insert time. Default: 16. Applies to new
  // graphs; a loaded graph keeps its own.
  std::size_t m = 16;
  // hnsw: candidates kept while inserting into the graph (hnswlib
  // ef_construction). Higher builds a better graph, more slowly. Default:
  // 200. Applies to new graphs; a loaded graph keeps its own.
  std::size_t ef_construction = 200;
};

/// Which documents a search may return, by group.
class search_filter {
public:
  /// Every document.
  search_filter() = default;

  /// Documents whose group is one of `groups`.
  static search_filter any_of(std::vector<group_id> groups);

  /// Documents whose group satisfies `pred`. The index calls `pred` once per
  /// distinct group it holds, at the start of each search.
  static search_filter where(std::function<bool(group_id)> pred);

  bool admits_all() const { return kind_ == kind::all; }

  /// Whether a document of `group` passes (for tests and callers; the index
  /// itself resolves a filter once per search).
  bool admits(group_id group) const;

  /// The groups of an any_of() filter, sorted and unique; empty otherwise.
  const std::vector<group_id>& listed_groups() const { return groups_; }

private:
  enum class kind { all, any_of, where };
  kind kind_ = kind::all;
  std::vector<group_id> groups_;
  std::function<bool(group_id)> pred_;
};

/// One search result.
struct search_hit {
  std::string doc_key;
  // Inner product of the query and the document vector: the cosine
  // similarity when both are unit vectors (the embedders' output).
  float score = 0;
};

class vector_index;

/// What load() returns: the index and the journal seq it is complete up to.
struct loaded_vector_index;

class vector_index {
public:
  /// An empty index; ec::invalid_config (field names the option) when dim is
  /// 0 or above 65536, m is outside 2..256, or ef_search, ef_construction,
  /// rerank_candidates or scan_dims is 0.
  static caf::expected<vector_index> make(const vector_index_options& opts);

  vector_index(vector_index&&) noexcept;
  vector_index& operator=(vector_index&&) noexcept;
  ~vector_index();

  /// Inserts `doc_key` or replaces its vector and group. ec::invalid_argument
  /// when the key is empty or longer than 65,536 bytes (field "doc_key"), or
  /// the vector's length is not dim() or it holds NaN or infinity (field
  /// "vector"); the index is then unchanged. The first insert past
  /// exact_threshold builds the graph first. ec::internal if hnswlib fails
  /// (on an insert the index is unchanged).
  [[nodiscard]] caf::error upsert(std::string_view doc_key, group_id group,
                                  const std::vector<float>& vec);

  /// Removes `doc_key`; it is never returned again. ec::not_found when the
  /// index does not hold it (nothing changes), ec::internal if hnswlib
  /// fails.
  [[nodiscard]] caf::error remove(std::string_view doc_key);

  bool contains(std::string_view doc_key) const;

  /// Up to `k` admitted documents, best (highest score) first; equal scores
  /// in key order. ec::invalid_argument (field "query") when the query's
  /// length is not dim() or it holds NaN or infinity; ec::internal if
  /// hnswlib fails.
  caf::expected<std::vector<search_hit>>
  search(const std::vector<float>& query, std::size_t k,
         const search_filter& filter = {}) const;

  /// Number of documents.
  std::size_t size() const;

  std::size_t dim() const;

  /// True once the index has switched to the HNSW graph (method hnsw).
  bool uses_graph() const;

  /// True once the index has switched to the quantized scan (method
  /// quantized_scan).
  bool uses_quantized_scan() const;

  /// Sets ef for later graph searches (see vector_index_options); no effect
  /// on the quantized scan.
  void set_ef_search(std::size_t ef);

  /// Writes the index to `path` atomically (temp file, fsync, rename, fsync
  /// of the directory), recording `covered_seq`: the journal seq up to which
  /// the caller has applied every change. A graph is saved as is, so loading
  /// does not rebuild it. ec::storage_failure (path and OS reason) on I/O
  /// failure; `path` then still holds the previous snapshot, if any.
  [[nodiscard]] caf::error save(const std::string& path,
                                uint64_t covered_seq) const;

  /// Reads a snapshot written by save(). ec::not_found when `path` does not
  /// exist; ec::storage_failure when it is truncated, corrupt (checksum,
  /// structure), of another format version or written with another dim
  /// than `opts.dim`. Never trusts the file before checking it. A flat
  /// snapshot holding more than exact_threshold documents switches here
  /// (builds its codes or its graph, as `opts.method` says); a graph
  /// snapshot loaded with method quantized_scan moves its vectors out of
  /// the graph and builds codes instead.
  static caf::expected<loaded_vector_index>
  load(const std::string& path, const vector_index_options& opts);

  /// Opaque outside storage/ (storage/detail/vector_index_impl.hpp); named
  /// here so that storage's own helpers can take it.
  struct impl;

private:
  explicit vector_index(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

struct loaded_vector_index {
  vector_index index;
  uint64_t covered_seq = 0;
};

} // namespace engram::storage
