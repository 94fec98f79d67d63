// vector_index::save and vector_index::load: the snapshot file format of
// docs/EMBEDDINGS.md ("Snapshot format"). Every field is checked before it
// sizes an allocation or indexes anything.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "messages/errors.hpp"
#include "storage/detail/snapshot_file.hpp"
#include "storage/detail/vector_index_impl.hpp"
#include "storage/vector_index.hpp"

namespace engram::storage {

namespace {

using detail::snapshot_reader;
using detail::snapshot_writer;

constexpr char magic[8] = {'E', 'N', 'G', 'R', 'V', 'I', 'D', 'X'};
constexpr uint32_t format_version = 1;
constexpr uint32_t byte_order_mark = 0x01020304;

enum class body_kind : uint32_t { flat = 0, graph = 1 };

struct file_header {
  char magic[8] = {};
  uint32_t version = 0;
  uint32_t byte_order = 0;
  uint32_t dim = 0;
  uint32_t kind = 0;
  uint64_t count = 0; // live documents
  uint64_t slots = 0; // slot table entries, live and free
  uint64_t covered_seq = 0;
  uint64_t reserved = 0;
};

void write_header(snapshot_writer& out, const file_header& h) {
  out.write(h.magic, sizeof(h.magic));
  out.put(h.version);
  out.put(h.byte_order);
  out.put(h.dim);
  out.put(h.kind);
  out.put(h.count);
  out.put(h.slots);
  out.put(h.covered_seq);
  out.put(h.reserved);
}

bool read_header(snapshot_reader& in, file_header& h) {
  return in.read(h.magic, sizeof(h.magic)) && in.get(h.version)
         && in.get(h.byte_order) && in.get(h.dim) && in.get(h.kind)
         && in.get(h.count) && in.get(h.slots) && in.get(h.covered_seq)
         && in.get(h.reserved);
}

void write_slot(snapshot_writer& out, const vector_index::impl::slot& s) {
  uint8_t live = s.live ? 1 : 0;
  out.put(live);
  if (!s.live)
    return;
  auto length = static_cast<uint32_t>(s.key.size());
  out.put(s.group);
  out.put(length);
  out.write(s.key.data(), s.key.size());
}

caf::error corrupt(const snapshot_reader& in, const std::string& what) {
  return make_error(ec::storage_failure,
                    in.path() + ": bad vector index snapshot: " + what);
}

// Why `h` cannot be loaded with `opts`, or empty.
std::string check_header(const file_header& h,
                         const vector_index_options& opts) {
  if (std::memcmp(h.magic, magic, sizeof(magic)) != 0)
    return "not a vector index snapshot";
  if (h.version != format_version)
    return "format version " + std::to_string(h.version) + ", this build reads "
           + std::to_string(format_version);
  if (h.byte_order != byte_order_mark)
    return "written on a machine of another byte order";
  if (h.dim != opts.dim)
    return "dim " + std::to_string(h.dim) + ", the index is configured for "
           + std::to_string(opts.dim);
  if (h.kind > uint32_t(body_kind::graph) || h.reserved != 0)
    return "unknown body kind or flags";
  if (h.slots >= uint64_t{UINT32_MAX} || h.count > h.slots
      || (h.kind == uint32_t(body_kind::flat) && h.count != h.slots))
    return "inconsistent document counts";
  return {};
}

// Reads the slot table into `x` (empty), one entry per slot.
caf::error read_slots(snapshot_reader& in, const file_header& h,
                      vector_index::impl& x) {
  if (h.slots > in.remaining()) // every entry takes at least one byte
    return corrupt(in, "truncated slot table");
  x.slots.reserve(h.slots);
  for (uint32_t s = 0; s < h.slots; ++s) {
    uint8_t live = 0;
    if (!in.get(live) || live > 1)
      return corrupt(in, "bad slot " + std::to_string(s));
    if (live == 0) {
      x.slots.emplace_back();
      x.free_slots.push_back(s);
      continue;
    }
    group_id group = 0;
    uint32_t length = 0;
    if (!in.get(group) || !in.get(length) || length == 0
        || length > in.remaining())
      return corrupt(in, "bad slot " + std::to_string(s));
    std::string key(length, '\0');
    if (!in.read(key.data(), length))
      return corrupt(in, "truncated slot table");
    if (x.slot_of.count(key) > 0)
      return corrupt(in, "duplicate document key");
    x.link(s, std::move(key), group);
  }
  if (x.live != h.count)
    return corrupt(in, "slot table disagrees with the document count");
  return {};
}

caf::error read_flat(snapshot_reader& in, const file_header& h,
                     vector_index::impl& x) {
  if (h.count > in.remaining() / (uint64_t{h.dim} * sizeof(float)))
    return corrupt(in, "truncated vectors");
  uint64_t floats = h.count * h.dim;
  x.flat.resize(floats);
  if (!in.read(x.flat.data(), floats * sizeof(float)))
    return corrupt(in, "truncated vectors");
  if (!std::all_of(x.flat.begin(), x.flat.end(),
                   [](float f) { return std::isfinite(f); }))
    return corrupt(in, "non-finite vector component");
  return {};
}

caf::error read_graph(snapshot_reader& in, const file_header& h,
                      vector_index::impl& x) {
  auto g = detail::hnsw_graph::read(in, x.graph_params());
  if (!g)
    return std::move(g.error());
  if ((*g)->slots() != h.slots)
    return corrupt(in, "graph and slot table disagree on the slot count");
  for (uint32_t s = 0; s < h.slots; ++s)
    if ((*g)->is_deleted(s) == x.slots[s].live)
      return corrupt(in, "graph and slot table disagree on slot "
                           + std::to_string(s));
  x.graph = std::move(*g);
  return {};
}

} // namespace

caf::error vector_index::save(const std::string& path,
                              uint64_t covered_seq) const {
  const auto& x = *impl_;
  auto out = snapshot_writer::open(path);
  if (!out)
    return std::move(out.error());
  file_header h;
  std::memcpy(h.magic, magic, sizeof(magic));
  h.version = format_version;
  h.byte_order = byte_order_mark;
  h.dim = static_cast<uint32_t>(x.opts.dim);
  h.kind = uint32_t(x.graph ? body_kind::graph : body_kind::flat);
  h.count = x.live;
  // A graph's slot numbers are its node ids: keep free slots. A flat body
  // holds live documents only.
  h.slots = x.graph ? x.slots.size() : x.live;
  h.covered_seq = covered_seq;
  write_header(*out, h);
  for (const auto& s : x.slots)
    if (x.graph || s.live)
      write_slot(*out, s);
  if (x.graph) {
    x.graph->write(*out);
  } else {
    for (uint32_t s = 0; s < x.slots.size(); ++s)
      if (x.slots[s].live)
        out->write(x.vector_at(s), x.opts.dim * sizeof(float));
  }
  return out->commit();
}

caf::expected<loaded_vector_index>
vector_index::load(const std::string& path, const vector_index_options& opts) {
  auto made = make(opts);
  if (!made)
    return std::move(made.error());
  auto in = snapshot_reader::open(path);
  if (!in)
    return std::move(in.error());
  file_header h;
  if (!read_header(*in, h))
    return corrupt(*in, "truncated header");
  if (auto what = check_header(h, opts); !what.empty())
    return corrupt(*in, what);
  auto& x = *made->impl_;
  if (auto err = read_slots(*in, h, x))
    return err;
  auto body = h.kind == uint32_t(body_kind::graph) ? read_graph(*in, h, x)
                                                   : read_flat(*in, h, x);
  if (body)
    return body;
  if (auto err = in->verify())
    return err;
  // The snapshot holds the vectors (a graph also its links); the codes of
  // the quantized scan are derived from them here (~10 ms per 100k).
  if (x.graph && x.opts.method == vector_search_method::quantized_scan)
    x.graph_to_flat();
  if (auto err = x.switch_if_large())
    return err;
  return loaded_vector_index{std::move(*made), h.covered_seq};
}

} // namespace engram::storage
