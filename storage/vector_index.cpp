#include "storage/vector_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <queue>
#include <utility>

#include "messages/errors.hpp"
#include "storage/detail/vector_index_impl.hpp"

// save() and load() live in storage/detail/vector_snapshot.cpp.

namespace engram::storage {

namespace {

constexpr std::size_t max_dim = 65536;
constexpr std::size_t max_m = 256;
constexpr std::size_t max_key_bytes = 65536;

// A filtered graph search asks for this many times the candidates that the
// allowed share of documents should need, and grows the request this much
// each time too few of them pass the filter.
constexpr std::size_t overfetch_factor = 2;
constexpr std::size_t overfetch_growth = 4;

// Eight independent sums so that the compiler vectorises the loop without
// -ffast-math (float addition is not associative).
float inner_product(const float* a, const float* b, std::size_t n) {
  float acc[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t j = 0; j < 8; ++j)
      acc[j] += a[i + j] * b[i + j];
  for (; i < n; ++i)
    acc[0] += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5]))
         + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(),
                     [](float x) { return std::isfinite(x); });
}

caf::error check_vector(const std::vector<float>& v, std::size_t dim,
                        const char* field) {
  if (v.size() != dim)
    return make_error(ec::invalid_argument,
                      std::string{field} + " has " + std::to_string(v.size())
                        + " dimensions, the index has " + std::to_string(dim),
                      field);
  if (!all_finite(v))
    return make_error(ec::invalid_argument,
                      std::string{field} + " holds NaN or infinity", field);
  return {};
}

caf::error bad_option(const std::string& what, const char* field) {
  return make_error(ec::invalid_config, "vector index: " + what, field);
}

} // namespace

// -- search_filter ------------------------------------------------------------

search_filter search_filter::any_of(std::vector<group_id> groups) {
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  search_filter f;
  f.kind_ = kind::any_of;
  f.groups_ = std::move(groups);
  return f;
}

search_filter search_filter::where(std::function<bool(group_id)> pred) {
  search_filter f;
  f.kind_ = kind::where;
  f.pred_ = std::move(pred);
  return f;
}

bool search_filter::admits(group_id group) const {
  switch (kind_) {
    case kind::all: return true;
    case kind::any_of:
      return std::binary_search(groups_.begin(), groups_.end(), group);
    case kind::where: return pred_ && pred_(group);
  }
  return false;
}

// -- impl: bookkeeping --------------------------------------------------------

void vector_index::impl::link(uint32_t s, std::string key, group_id group) {
  if (s == slots.size())
    slots.emplace_back();
  auto& list = members[group];
  slots[s] = {key, group, static_cast<uint32_t>(list.size()), true};
  list.push_back(s);
  slot_of.emplace(std::move(key), s);
  ++live;
}

void vector_index::impl::unlink(uint32_t s) {
  auto& entry = slots[s];
  auto group_it = members.find(entry.group);
  auto& list = group_it->second;
  // Swap-remove: the last member takes the freed position.
  uint32_t moved = list.back();
  list[entry.member_pos] = moved;
  slots[moved].member_pos = entry.member_pos;
  list.pop_back();
  if (list.empty())
    members.erase(group_it);
  slot_of.erase(entry.key);
  entry = slot{};
  free_slots.push_back(s);
  --live;
}

void vector_index::impl::regroup(uint32_t s, group_id group) {
  std::string key = slots[s].key;
  unlink(s);
  free_slots.pop_back(); // unlink freed exactly `s`; take it straight back
  link(s, std::move(key), group);
}

caf::error vector_index::impl::switch_to_graph() {
  std::vector<uint32_t> order; // live slots, ascending: new slot i = order[i]
  order.reserve(live);
  for (uint32_t s = 0; s < slots.size(); ++s)
    if (slots[s].live)
      order.push_back(s);
  auto g = detail::hnsw_graph::create(graph_params(), 2 * order.size());
  if (!g)
    return std::move(g.error());
  for (uint32_t i = 0; i < order.size(); ++i)
    if (auto err = (*g)->put(i, vector_at(order[i])))
      return err;
  // The graph is complete: renumber the bookkeeping to match it.
  std::vector<slot> old = std::move(slots);
  slots.clear();
  slot_of.clear();
  members.clear();
  free_slots.clear();
  live = 0;
  for (uint32_t i = 0; i < order.size(); ++i)
    link(i, std::move(old[order[i]].key), old[order[i]].group);
  flat.clear();
  flat.shrink_to_fit();
  graph = std::move(*g);
  return {};
}

void vector_index::impl::build_codes() {
  auto c = std::make_unique<detail::quantized_codes>(opts.dim);
  for (uint32_t s = 0; s < slots.size(); ++s)
    if (slots[s].live)
      c->put(s, vector_at(s));
  codes = std::move(c);
}

void vector_index::impl::graph_to_flat() {
  std::vector<float> vectors(slots.size() * opts.dim, 0.0f);
  for (uint32_t s = 0; s < slots.size(); ++s)
    if (slots[s].live)
      std::copy_n(graph->vector_at(s), opts.dim,
                  vectors.begin() + std::size_t{s} * opts.dim);
  flat = std::move(vectors);
  graph.reset();
}

caf::error vector_index::impl::switch_if_large() {
  if (graph || codes || live <= opts.exact_threshold)
    return {};
  if (opts.method == vector_search_method::hnsw)
    return switch_to_graph();
  build_codes();
  return {};
}

// -- search helpers -----------------------------------------------------------

namespace {

using impl_type = vector_index::impl;

// The k best (slot, score) pairs offered, best = higher score, then smaller
// key (so equal scores come out in a stable, meaningful order).
class top_k {
public:
  top_k(const impl_type& index, std::size_t k) : index_(&index), k_(k) {}

  void offer(uint32_t slot, float score) {
    entry e{score, slot};
    if (heap_.size() < k_) {
      heap_.push_back(e);
      std::push_heap(heap_.begin(), heap_.end(), better_);
    } else if (better_(e, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better_);
      heap_.back() = e;
      std::push_heap(heap_.begin(), heap_.end(), better_);
    }
  }

  std::size_t size() const { return heap_.size(); }

  std::vector<search_hit> take() {
    std::sort(heap_.begin(), heap_.end(), better_);
    std::vector<search_hit> hits;
    hits.reserve(heap_.size());
    for (const auto& e : heap_)
      hits.push_back({index_->slots[e.slot].key, e.score});
    return hits;
  }

private:
  struct entry {
    float score;
    uint32_t slot;
  };

  // With this as the heap's "less", the heap's front is the worst entry.
  struct better {
    const impl_type* index;
    bool operator()(const entry& a, const entry& b) const {
      if (a.score != b.score)
        return a.score > b.score;
      return index->slots[a.slot].key < index->slots[b.slot].key;
    }
  };

  const impl_type* index_;
  std::size_t k_;
  better better_{index_};
  std::vector<entry> heap_;
};

// A filter turned into the index's own groups, once per search.
struct allowed_groups {
  bool all = true;
  std::vector<group_id> groups; // sorted
  std::vector<const std::vector<uint32_t>*> lists;
  std::size_t docs = 0;

  bool admits(group_id g) const {
    return all || std::binary_search(groups.begin(), groups.end(), g);
  }
};

allowed_groups resolve(const impl_type& index, const search_filter& filter) {
  allowed_groups result;
  result.docs = index.live;
  if (filter.admits_all())
    return result;
  result.all = false;
  result.docs = 0;
  auto add = [&](group_id g, const std::vector<uint32_t>& list) {
    result.groups.push_back(g);
    result.lists.push_back(&list);
    result.docs += list.size();
  };
  if (!filter.listed_groups().empty()) {
    for (group_id g : filter.listed_groups())
      if (auto it = index.members.find(g); it != index.members.end())
        add(g, it->second);
  } else {
    for (const auto& [g, list] : index.members)
      if (filter.admits(g))
        add(g, list);
  }
  std::sort(result.groups.begin(), result.groups.end());
  return result;
}

void scan_exact(const impl_type& index, const float* q,
                const allowed_groups& allowed, top_k& best) {
  auto dim = index.opts.dim;
  if (allowed.all) {
    for (uint32_t s = 0; s < index.slots.size(); ++s)
      if (index.slots[s].live)
        best.offer(s, inner_product(q, index.vector_at(s), dim));
    return;
  }
  for (const auto* list : allowed.lists)
    for (uint32_t s : *list)
      best.offer(s, inner_product(q, index.vector_at(s), dim));
}

// A graph search for `k` results, in units of one exact-scan comparison.
// Each expanded candidate compares the query with up to 2 M neighbours, and
// those comparisons jump around memory where a scan streams, so they count
// double. Measured at 100k x 384 (docs/EMBEDDINGS.md): ef 201 costs about
// as much as scanning 10k documents; with this estimate (12.9k) a tie goes
// to the exact scan, whose recall is perfect.
std::size_t graph_cost(const impl_type& index, std::size_t k) {
  return std::max(index.opts.ef_search, k) * 4 * index.graph->m();
}

// Offers the admitted slots of one graph search; the number of slots the
// graph returned, or its error.
caf::expected<std::size_t> offer_from_graph(const impl_type& index,
                                            const float* q, std::size_t k,
                                            const allowed_groups& allowed,
                                            top_k& best) {
  auto found = index.graph->search(q, k);
  if (!found)
    return std::move(found.error());
  for (uint32_t s : *found) {
    const auto& entry = index.slots[s];
    if (entry.live && allowed.admits(entry.group))
      best.offer(s, inner_product(q, index.vector_at(s), index.opts.dim));
  }
  return found->size();
}

// The graph half of search(): see the header for the strategy.
caf::error search_graph(const impl_type& index, const float* q, std::size_t k,
                        const allowed_groups& allowed, top_k& best) {
  if (allowed.all) {
    auto n = offer_from_graph(index, q, k, allowed, best);
    return n ? caf::error{} : std::move(n.error());
  }
  if (allowed.docs <= index.opts.exact_threshold) {
    scan_exact(index, q, allowed, best);
    return {};
  }
  std::size_t want = std::min(k, allowed.docs);
  std::size_t ask = overfetch_factor * k * index.live / allowed.docs + 1;
  for (;; ask *= overfetch_growth) {
    ask = std::min(ask, index.live);
    if (graph_cost(index, ask) >= allowed.docs)
      break;
    top_k round{index, k};
    auto n = offer_from_graph(index, q, ask, allowed, round);
    if (!n)
      return std::move(n.error());
    if (round.size() >= want) {
      best = std::move(round);
      return {};
    }
    if (*n < ask || ask == index.live)
      break; // the graph has nothing more to give: scan
  }
  scan_exact(index, q, allowed, best);
  return {};
}

// The quantized half of search(): see the header for the strategy.
void search_codes(const impl_type& index, const float* q, std::size_t k,
                  const allowed_groups& allowed, top_k& best) {
  const auto& opts = index.opts;
  std::size_t want = std::max(opts.rerank_candidates, 4 * k);
  auto sq = detail::make_scan_query(q, opts.dim, opts.scan_dims);
  // Narrow filters, and searches that would rerank every allowed document
  // anyway, scan exactly. So do filters whose allowed floats are no more
  // bytes than the codes the scan would read (streaming floats is cheaper
  // per byte than the scan's integer work: measured, 10k allowed of 100k
  // scan in 0.64 ms exactly, 0.94 ms quantized, at 52 query dimensions).
  // And so does the zero query: every document scores 0 and the answer is
  // the first keys, which approximate scores cannot find.
  if ((!allowed.all
       && (allowed.docs <= opts.exact_threshold
           || allowed.docs * opts.dim <= index.slots.size() * sq.dims.size()))
      || want >= allowed.docs || sq.dims.empty()) {
    scan_exact(index, q, allowed, best);
    return;
  }
  // The `want` best approximate scores: a min-heap whose front is the worst
  // kept; a document must beat it to enter (most are rejected on that one
  // comparison, before anything looks at their slot).
  using entry = std::pair<float, uint32_t>;
  std::vector<entry> heap;
  heap.reserve(want + 1);
  auto worse = [](const entry& a, const entry& b) { return a > b; };
  float floor = -std::numeric_limits<float>::infinity();
  constexpr std::size_t block = detail::quantized_codes::block_slots;
  std::vector<float> scores(block);
  const auto& codes = *index.codes;
  std::size_t used = index.slots.size();
  for (std::size_t b = 0; b * block < used; ++b) {
    codes.score_block(b, sq, scores.data());
    std::size_t n = std::min(block, used - b * block);
    for (std::size_t i = 0; i < n; ++i) {
      if (!(scores[i] > floor))
        continue;
      auto s = static_cast<uint32_t>(b * block + i);
      const auto& entry = index.slots[s];
      if (!entry.live || !allowed.admits(entry.group))
        continue;
      heap.emplace_back(scores[i], s);
      std::push_heap(heap.begin(), heap.end(), worse);
      if (heap.size() > want) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        heap.pop_back();
      }
      if (heap.size() == want)
        floor = heap.front().first;
    }
  }
  // The candidates' vectors are scattered over the whole flat array: fetch
  // the next one's cache lines while scoring this one.
  auto prefetch = [&](std::size_t i) {
    if (i >= heap.size())
      return;
    const char* v = reinterpret_cast<const char*>(
      index.vector_at(heap[i].second));
    for (std::size_t at = 0; at < opts.dim * sizeof(float); at += 64)
      __builtin_prefetch(v + at);
  };
  prefetch(0);
  prefetch(1);
  for (std::size_t i = 0; i < heap.size(); ++i) {
    prefetch(i + 2);
    uint32_t s = heap[i].second;
    best.offer(s, inner_product(q, index.vector_at(s), opts.dim));
  }
}

} // namespace

// -- vector_index -------------------------------------------------------------

caf::expected<vector_index>
vector_index::make(const vector_index_options& opts) {
  if (opts.dim == 0 || opts.dim > max_dim)
    return bad_option("dim must be 1.." + std::to_string(max_dim), "dim");
  if (opts.m < 2 || opts.m > max_m)
    return bad_option("m must be 2.." + std::to_string(max_m), "m");
  if (opts.ef_search == 0)
    return bad_option("ef_search must be positive", "ef_search");
  if (opts.ef_construction == 0)
    return bad_option("ef_construction must be positive", "ef_construction");
  if (opts.rerank_candidates == 0)
    return bad_option("rerank_candidates must be positive",
                      "rerank_candidates");
  if (opts.scan_dims == 0)
    return bad_option("scan_dims must be positive", "scan_dims");
  auto p = std::make_unique<impl>();
  p->opts = opts;
  return vector_index{std::move(p)};
}

vector_index::vector_index(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
vector_index::vector_index(vector_index&&) noexcept = default;
vector_index& vector_index::operator=(vector_index&&) noexcept = default;
vector_index::~vector_index() = default;

caf::error vector_index::upsert(std::string_view doc_key, group_id group,
                                const std::vector<float>& vec) {
  auto& x = *impl_;
  if (doc_key.empty() || doc_key.size() > max_key_bytes)
    return make_error(ec::invalid_argument,
                      "document key must be 1.." + std::to_string(max_key_bytes)
                        + " bytes",
                      "doc_key");
  if (auto err = check_vector(vec, x.opts.dim, "vector"))
    return err;
  if (auto it = x.slot_of.find(std::string{doc_key}); it != x.slot_of.end()) {
    uint32_t s = it->second;
    if (x.graph) {
      // Re-linking a node is costly; a group change alone needs none.
      bool same
        = std::memcmp(x.vector_at(s), vec.data(), vec.size() * sizeof(float))
          == 0;
      if (!same)
        if (auto err = x.graph->put(s, vec.data()))
          return err;
    } else {
      std::copy(vec.begin(), vec.end(),
                x.flat.begin() + std::size_t{s} * x.opts.dim);
      if (x.codes)
        x.codes->put(s, vec.data());
    }
    if (x.slots[s].group != group)
      x.regroup(s, group);
    return {};
  }
  if (!x.graph && !x.codes && x.live + 1 > x.opts.exact_threshold) {
    if (x.opts.method == vector_search_method::hnsw) {
      if (auto err = x.switch_to_graph())
        return err;
    } else {
      x.build_codes(); // the new document's code is added below
    }
  }
  uint32_t s = x.free_slots.empty() ? static_cast<uint32_t>(x.slots.size())
                                    : x.free_slots.back();
  if (x.graph) {
    if (auto err = x.graph->put(s, vec.data()))
      return err;
  } else {
    if (s == x.slots.size())
      x.flat.resize(x.flat.size() + x.opts.dim);
    std::copy(vec.begin(), vec.end(),
              x.flat.begin() + std::size_t{s} * x.opts.dim);
    if (x.codes)
      x.codes->put(s, vec.data());
  }
  if (!x.free_slots.empty())
    x.free_slots.pop_back();
  x.link(s, std::string{doc_key}, group);
  return {};
}

caf::error vector_index::remove(std::string_view doc_key) {
  auto& x = *impl_;
  auto it = x.slot_of.find(std::string{doc_key});
  if (it == x.slot_of.end())
    return make_error(ec::not_found,
                      "vector index has no document " + std::string{doc_key},
                      "doc_key");
  uint32_t s = it->second;
  if (x.graph)
    if (auto err = x.graph->erase(s))
      return err;
  if (x.codes)
    x.codes->clear(s);
  x.unlink(s);
  return {};
}

bool vector_index::contains(std::string_view doc_key) const {
  return impl_->slot_of.count(std::string{doc_key}) > 0;
}

caf::expected<std::vector<search_hit>>
vector_index::search(const std::vector<float>& query, std::size_t k,
                     const search_filter& filter) const {
  const auto& x = *impl_;
  if (auto err = check_vector(query, x.opts.dim, "query"))
    return err;
  k = std::min(k, x.live); // also keeps k * live below overflow
  if (k == 0)
    return std::vector<search_hit>{};
  auto allowed = resolve(x, filter);
  if (allowed.docs == 0)
    return std::vector<search_hit>{};
  top_k best{x, k};
  if (x.graph) {
    if (auto err = search_graph(x, query.data(), k, allowed, best))
      return err;
  } else if (x.codes) {
    search_codes(x, query.data(), k, allowed, best);
  } else {
    scan_exact(x, query.data(), allowed, best);
  }
  return best.take();
}

std::size_t vector_index::size() const {
  return impl_->live;
}

std::size_t vector_index::dim() const {
  return impl_->opts.dim;
}

bool vector_index::uses_graph() const {
  return impl_->graph != nullptr;
}

bool vector_index::uses_quantized_scan() const {
  return impl_->codes != nullptr;
}

void vector_index::set_ef_search(std::size_t ef) {
  impl_->opts.ef_search = std::max<std::size_t>(ef, 1);
  if (impl_->graph)
    impl_->graph->set_ef_search(impl_->opts.ef_search);
}

} // namespace engram::storage
