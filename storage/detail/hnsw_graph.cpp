#include "storage/detail/hnsw_graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <string>

// hnswlib 0.6.2 is not warning-clean; keep its warnings out of our build.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wtype-limits"
#include <hnswlib/hnswlib.h>
#pragma GCC diagnostic pop

#include "messages/errors.hpp"

namespace engram::storage::detail {

namespace {

using graph_type = hnswlib::HierarchicalNSW<float>;
using hnswlib::tableint;

// hnswlib seeds its level generator with this by default; fixed so that a
// graph built from the same inserts is the same graph.
constexpr std::size_t level_seed = 100;

// Bounds for values read from a file, far above anything hnswlib builds (a
// node's level is about ln(n) / ln(M): 5 for a million nodes at M = 16).
constexpr std::size_t max_m = 256;
constexpr std::size_t max_ef_construction = 1 << 20;
constexpr uint32_t max_level = 64;
constexpr uint64_t max_slots = std::numeric_limits<tableint>::max() - 1;

// Byte 2 of a node's layer-0 list header holds hnswlib's delete mark.
constexpr unsigned char delete_mark = graph_type::DELETE_MARK;

caf::error hnsw_failure(const std::string& what, const std::exception& e) {
  return make_error(ec::internal, "hnswlib: " + what + ": " + e.what());
}

caf::error bad_file(const snapshot_reader& in, const std::string& what) {
  return make_error(ec::storage_failure,
                    in.path() + ": corrupt HNSW graph: " + what);
}

// The fixed part of a graph section: written by write(), checked by read().
struct graph_header {
  uint32_t m = 0;
  uint32_t max_m = 0;
  uint32_t max_m0 = 0;
  uint32_t ef_construction = 0;
  uint64_t size_data_per_element = 0;
  uint64_t size_links_per_element = 0;
  uint64_t label_offset = 0;
  uint64_t offset_data = 0;
  int32_t max_level = -1;
  uint32_t entry_point = 0;
  uint64_t slots = 0;
};

graph_header header_of(const graph_type& g) {
  graph_header h;
  h.m = static_cast<uint32_t>(g.M_);
  h.max_m = static_cast<uint32_t>(g.maxM_);
  h.max_m0 = static_cast<uint32_t>(g.maxM0_);
  h.ef_construction = static_cast<uint32_t>(g.ef_construction_);
  h.size_data_per_element = g.size_data_per_element_;
  h.size_links_per_element = g.size_links_per_element_;
  h.label_offset = g.label_offset_;
  h.offset_data = g.offsetData_;
  h.max_level = g.maxlevel_;
  h.entry_point = g.enterpoint_node_;
  h.slots = g.cur_element_count;
  return h;
}

bool read_header(snapshot_reader& in, graph_header& h) {
  return in.get(h.m) && in.get(h.max_m) && in.get(h.max_m0)
         && in.get(h.ef_construction) && in.get(h.size_data_per_element)
         && in.get(h.size_links_per_element) && in.get(h.label_offset)
         && in.get(h.offset_data) && in.get(h.max_level)
         && in.get(h.entry_point) && in.get(h.slots);
}

void write_header(snapshot_writer& out, const graph_header& h) {
  out.put(h.m);
  out.put(h.max_m);
  out.put(h.max_m0);
  out.put(h.ef_construction);
  out.put(h.size_data_per_element);
  out.put(h.size_links_per_element);
  out.put(h.label_offset);
  out.put(h.offset_data);
  out.put(h.max_level);
  out.put(h.entry_point);
  out.put(h.slots);
}

// True when the layout of a freshly built graph matches the file's, i.e.
// the raw node bytes in the file mean what this build expects.
bool same_layout(const graph_header& file, const graph_header& built) {
  return file.max_m == built.max_m && file.max_m0 == built.max_m0
         && file.size_data_per_element == built.size_data_per_element
         && file.size_links_per_element == built.size_links_per_element
         && file.label_offset == built.label_offset
         && file.offset_data == built.offset_data;
}

// Checks one adjacency list: at most `cap` links, each to another node that
// exists and has `level`. Returns an empty string when fine.
std::string check_list(const graph_type& g, tableint node, int level,
                       std::size_t cap) {
  auto* list = g.get_linklist_at_level(node, level);
  std::size_t count = g.getListCount(list);
  if (count > cap)
    return "node " + std::to_string(node) + " has " + std::to_string(count)
           + " links on layer " + std::to_string(level);
  const auto* links = reinterpret_cast<const tableint*>(list + 1);
  for (std::size_t j = 0; j < count; ++j) {
    tableint to = links[j];
    if (to >= g.cur_element_count || to == node
        || g.element_levels_[to] < level)
      return "node " + std::to_string(node) + " links to invalid node "
             + std::to_string(to) + " on layer " + std::to_string(level);
  }
  return {};
}

// Every check that keeps hnswlib's unchecked pointer walks in bounds.
std::string check_graph(const graph_type& g, const graph_header& h,
                        std::size_t dim) {
  std::size_t n = g.cur_element_count;
  if (n == 0)
    return (h.max_level == -1 && h.entry_point == tableint(-1))
             ? std::string{}
             : "empty graph with an entry point";
  if (h.entry_point >= n || h.max_level < 0
      || g.element_levels_[h.entry_point] != h.max_level)
    return "bad entry point";
  for (tableint i = 0; i < n; ++i) {
    if (g.getExternalLabel(i) != i)
      return "node " + std::to_string(i) + " has a foreign label";
    auto mark = reinterpret_cast<const unsigned char*>(g.get_linklist0(i))[2];
    if ((mark & ~delete_mark) != 0)
      return "node " + std::to_string(i) + " has unknown flags";
    if (g.element_levels_[i] > h.max_level)
      return "node " + std::to_string(i) + " is above the entry point";
    for (int level = 0; level <= g.element_levels_[i]; ++level) {
      auto cap = level == 0 ? g.maxM0_ : g.maxM_;
      if (auto what = check_list(g, i, level, cap); !what.empty())
        return what;
    }
    const float* v = reinterpret_cast<const float*>(g.getDataByInternalId(i));
    if (!std::all_of(v, v + dim, [](float x) { return std::isfinite(x); }))
      return "node " + std::to_string(i) + " has a non-finite vector";
  }
  return {};
}

// hnswlib 0.6.2 prefetches "the link after the last" while walking a list;
// for a full list on a node's top layer that reads up to 3 bytes past the
// block addPoint allocated (it adds 1 byte of slack). Harmless on glibc, but
// a real out-of-bounds read (AddressSanitizer stops on it), so every upper
// layer block gets one zeroed link of slack.
constexpr std::size_t link_slack = sizeof(tableint);

void pad_upper_layers(graph_type& g, tableint id) {
  int level = g.element_levels_[id];
  if (level <= 0)
    return;
  std::size_t bytes = std::size_t(level) * g.size_links_per_element_;
  void* grown = std::realloc(g.linkLists_[id], bytes + link_slack);
  if (grown == nullptr)
    throw std::bad_alloc{};
  g.linkLists_[id] = static_cast<char*>(grown);
  std::memset(g.linkLists_[id] + bytes, 0, link_slack);
}

// Reads each node's upper-layer lists into memory owned by `g` (hnswlib
// frees linkLists_[i] for i < cur_element_count with a level > 0, so the
// count grows with each node read).
caf::error read_upper_layers(snapshot_reader& in, graph_type& g,
                             std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    uint32_t level = 0;
    if (!in.get(level))
      return bad_file(in, "truncated");
    if (level > max_level)
      return bad_file(in, "node level " + std::to_string(level));
    uint64_t bytes = uint64_t{level} * g.size_links_per_element_;
    if (bytes > in.remaining())
      return bad_file(in, "truncated");
    g.linkLists_[i] = nullptr;
    if (level > 0) {
      auto* mem = static_cast<char*>(std::calloc(bytes + link_slack, 1));
      if (mem == nullptr)
        return make_error(ec::internal, "out of memory reading HNSW graph");
      g.linkLists_[i] = mem;
      g.element_levels_[i] = static_cast<int>(level);
      g.cur_element_count = i + 1;
      if (!in.read(mem, bytes))
        return bad_file(in, "truncated");
    } else {
      g.element_levels_[i] = 0;
      g.cur_element_count = i + 1;
    }
  }
  return {};
}

} // namespace

struct hnsw_graph::impl {
  // The space outlives the graph that points into it (members die in
  // reverse order).
  std::unique_ptr<hnswlib::InnerProductSpace> space;
  std::unique_ptr<graph_type> graph;
};

hnsw_graph::hnsw_graph(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
hnsw_graph::~hnsw_graph() = default;

caf::expected<std::unique_ptr<hnsw_graph>>
hnsw_graph::create(const hnsw_params& params, std::size_t capacity) {
  try {
    auto p = std::make_unique<impl>();
    p->space = std::make_unique<hnswlib::InnerProductSpace>(params.dim);
    p->graph = std::make_unique<graph_type>(
      p->space.get(), std::max<std::size_t>(capacity, 16), params.m,
      params.ef_construction, level_seed);
    p->graph->setEf(params.ef_search);
    return std::unique_ptr<hnsw_graph>{new hnsw_graph(std::move(p))};
  } catch (const std::exception& e) {
    return hnsw_failure("create graph", e);
  }
}

caf::expected<std::unique_ptr<hnsw_graph>>
hnsw_graph::read(snapshot_reader& in, const hnsw_params& params) {
  graph_header h;
  if (!read_header(in, h))
    return bad_file(in, "truncated");
  if (h.m < 2 || h.m > max_m || h.ef_construction == 0
      || h.ef_construction > max_ef_construction || h.slots > max_slots
      || h.size_data_per_element == 0)
    return bad_file(in, "implausible parameters");
  // Bound the allocation by the file before making it.
  if (h.slots > in.remaining() / h.size_data_per_element)
    return bad_file(in, "truncated");
  try {
    auto p = std::make_unique<impl>();
    p->space = std::make_unique<hnswlib::InnerProductSpace>(params.dim);
    std::size_t capacity = std::max<std::size_t>(h.slots + h.slots / 4, 16);
    p->graph = std::make_unique<graph_type>(p->space.get(), capacity, h.m,
                                            h.ef_construction, level_seed);
    auto& g = *p->graph;
    if (!same_layout(h, header_of(g)))
      return bad_file(in, "layout differs from this build (dim, M or "
                          "hnswlib version)");
    if (!in.read(g.data_level0_memory_, h.slots * h.size_data_per_element))
      return bad_file(in, "truncated");
    if (auto err = read_upper_layers(in, g, h.slots))
      return err;
    if (auto what = check_graph(g, h, params.dim); !what.empty())
      return bad_file(in, what);
    g.maxlevel_ = h.max_level;
    g.enterpoint_node_ = h.entry_point;
    g.num_deleted_ = 0;
    for (tableint i = 0; i < h.slots; ++i) {
      g.label_lookup_[i] = i;
      if (g.isMarkedDeleted(i))
        ++g.num_deleted_;
    }
    g.setEf(params.ef_search);
    return std::unique_ptr<hnsw_graph>{new hnsw_graph(std::move(p))};
  } catch (const std::exception& e) {
    return make_error(ec::storage_failure,
                      in.path() + ": cannot load HNSW graph: " + e.what());
  }
}

uint32_t hnsw_graph::slots() const {
  return static_cast<uint32_t>(impl_->graph->cur_element_count);
}

const float* hnsw_graph::vector_at(uint32_t slot) const {
  return reinterpret_cast<const float*>(
    impl_->graph->getDataByInternalId(slot));
}

bool hnsw_graph::is_deleted(uint32_t slot) const {
  return impl_->graph->isMarkedDeleted(slot);
}

caf::error hnsw_graph::put(uint32_t slot, const float* v) {
  auto& g = *impl_->graph;
  if (slot > g.cur_element_count)
    return make_error(ec::internal, "hnsw graph: slot " + std::to_string(slot)
                                      + " skips past the end");
  try {
    if (slot < g.cur_element_count) {
      g.addPoint(v, slot); // existing label: undelete + update in place
      return {};
    }
    if (g.cur_element_count == g.max_elements_)
      g.resizeIndex(std::max<std::size_t>(2 * g.max_elements_, 16));
    tableint id = g.addPoint(v, slot, -1);
    pad_upper_layers(g, id);
    if (id != slot)
      return make_error(ec::internal, "hnsw graph: slot " + std::to_string(slot)
                                        + " got internal id "
                                        + std::to_string(id));
    return {};
  } catch (const std::exception& e) {
    return hnsw_failure("insert slot " + std::to_string(slot), e);
  }
}

caf::error hnsw_graph::erase(uint32_t slot) {
  try {
    impl_->graph->markDelete(slot);
    return {};
  } catch (const std::exception& e) {
    return hnsw_failure("delete slot " + std::to_string(slot), e);
  }
}

caf::expected<std::vector<uint32_t>> hnsw_graph::search(const float* query,
                                                        std::size_t k) const {
  try {
    auto found = impl_->graph->searchKnn(query, k);
    std::vector<uint32_t> result;
    result.reserve(found.size());
    for (; !found.empty(); found.pop())
      result.push_back(static_cast<uint32_t>(found.top().second));
    return result;
  } catch (const std::exception& e) {
    return hnsw_failure("search", e);
  }
}

void hnsw_graph::set_ef_search(std::size_t ef) {
  impl_->graph->setEf(ef);
}

std::size_t hnsw_graph::m() const {
  return impl_->graph->M_;
}

void hnsw_graph::write(snapshot_writer& out) const {
  const auto& g = *impl_->graph;
  write_header(out, header_of(g));
  out.write(g.data_level0_memory_,
            g.cur_element_count * g.size_data_per_element_);
  for (std::size_t i = 0; i < g.cur_element_count; ++i) {
    auto level = static_cast<uint32_t>(g.element_levels_[i]);
    out.put(level);
    out.write(g.linkLists_[i], level * g.size_links_per_element_);
  }
}

} // namespace engram::storage::detail
