#include "storage/detail/quantized_codes.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

// The scoring loop is plain C++ that GCC vectorises. Built for the baseline
// x86-64 (SSE2) only, it converts 4 codes at a time; GCC function
// multiversioning adds an AVX2 + FMA copy (x86-64-v3: 8 at a time) that the
// loader picks on CPUs that have it, without -march flags on the build.
// Measured in docs/EMBEDDINGS.md.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#  define ENGRAM_SIMD_CLONES                                                   \
    __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#  define ENGRAM_SIMD_CLONES
#endif

namespace engram::storage::detail {

namespace {

constexpr std::size_t block_slots = quantized_codes::block_slots;
constexpr float code_max = 127.0f;

// Query codes stay within +-63 and document codes within +-127, so four
// products sum to at most 32,004: they fit 16 bits.
constexpr float query_code_max = 63.0f;

// acc[i] += sum over eight scan dimensions of query code * document code,
// for one block, in integers: two sums of four products in 16 bits, added
// to the 32-bit accumulators once per eight dimensions. GCC turns the body
// into 16-bit multiplies and adds (16 slots per step with AVX2, 8 with
// SSE2) without -ffast-math: integer sums are exact in any order.
ENGRAM_SIMD_CLONES
void accumulate8(int32_t* __restrict acc, const int8_t* __restrict c0,
                 const int8_t* __restrict c1, const int8_t* __restrict c2,
                 const int8_t* __restrict c3, const int8_t* __restrict c4,
                 const int8_t* __restrict c5, const int8_t* __restrict c6,
                 const int8_t* __restrict c7, const int8_t* __restrict w) {
  const int16_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4],
                w5 = w[5], w6 = w[6], w7 = w[7];
  for (std::size_t i = 0; i < block_slots; ++i) {
    auto p0 = static_cast<int16_t>(w0 * c0[i]);
    auto p1 = static_cast<int16_t>(w1 * c1[i]);
    auto p2 = static_cast<int16_t>(w2 * c2[i]);
    auto p3 = static_cast<int16_t>(w3 * c3[i]);
    auto p4 = static_cast<int16_t>(w4 * c4[i]);
    auto p5 = static_cast<int16_t>(w5 * c5[i]);
    auto p6 = static_cast<int16_t>(w6 * c6[i]);
    auto p7 = static_cast<int16_t>(w7 * c7[i]);
    auto a = static_cast<int16_t>(static_cast<int16_t>(p0 + p1)
                                  + static_cast<int16_t>(p2 + p3));
    auto b = static_cast<int16_t>(static_cast<int16_t>(p4 + p5)
                                  + static_cast<int16_t>(p6 + p7));
    acc[i] += int32_t{a} + int32_t{b};
  }
}

ENGRAM_SIMD_CLONES
void apply_scales(float* __restrict out, const int32_t* __restrict acc,
                  const float* __restrict scales, float query_scale) {
  for (std::size_t i = 0; i < block_slots; ++i)
    out[i] = float(acc[i]) * (scales[i] * query_scale);
}

} // namespace

scan_query make_scan_query(const float* q, std::size_t dim,
                           std::size_t max_dims) {
  std::vector<uint32_t> nonzero;
  for (std::size_t d = 0; d < dim; ++d)
    if (q[d] != 0.0f)
      nonzero.push_back(static_cast<uint32_t>(d));
  if (nonzero.size() > max_dims) {
    auto larger = [q](uint32_t a, uint32_t b) {
      float x = std::fabs(q[a]), y = std::fabs(q[b]);
      return x != y ? x > y : a < b;
    };
    std::nth_element(nonzero.begin(), nonzero.begin() + max_dims,
                     nonzero.end(), larger);
    nonzero.resize(max_dims);
    std::sort(nonzero.begin(), nonzero.end());
  }
  scan_query result;
  result.dims = std::move(nonzero);
  float peak = 0;
  for (uint32_t d : result.dims) {
    result.weights.push_back(q[d]);
    peak = std::max(peak, std::fabs(q[d]));
  }
  result.scale = peak / query_code_max;
  for (uint32_t d : result.dims)
    result.codes.push_back(static_cast<int8_t>(std::clamp(
      std::nearbyint(q[d] / result.scale), -query_code_max, query_code_max)));
  return result;
}

quantized_codes::quantized_codes(std::size_t dim) : dim_(dim) {}

void quantized_codes::put(uint32_t slot, const float* v) {
  if (slot >= capacity()) {
    std::size_t blocks = slot / block_slots + 1;
    codes_.resize(blocks * dim_ * block_slots, 0);
    scales_.resize(blocks * block_slots, 0.0f);
  }
  float peak = 0;
  for (std::size_t d = 0; d < dim_; ++d)
    peak = std::max(peak, std::fabs(v[d]));
  std::size_t b = slot / block_slots, lane = slot % block_slots;
  int8_t* base = codes_.data() + b * dim_ * block_slots + lane;
  if (peak == 0) {
    clear(slot);
    return;
  }
  float inv = code_max / peak;
  for (std::size_t d = 0; d < dim_; ++d) {
    float c = std::nearbyint(v[d] * inv);
    base[d * block_slots] = static_cast<int8_t>(
      std::clamp(c, -code_max, code_max));
  }
  scales_[slot] = peak / code_max;
}

void quantized_codes::clear(uint32_t slot) {
  if (slot >= capacity())
    return;
  std::size_t b = slot / block_slots, lane = slot % block_slots;
  int8_t* base = codes_.data() + b * dim_ * block_slots + lane;
  for (std::size_t d = 0; d < dim_; ++d)
    base[d * block_slots] = 0;
  scales_[slot] = 0.0f;
}

void quantized_codes::score_block(std::size_t b, const scan_query& q,
                                  float* out) const {
  alignas(64) int32_t acc[block_slots] = {};
  std::size_t n = q.dims.size();
  // The columns a query reads are far apart, too short for the hardware
  // prefetcher to lock on: ask for the next eight while adding these.
  auto prefetch = [&](std::size_t from) {
    for (std::size_t j = from; j < std::min(from + 8, n); ++j) {
      const int8_t* c = column(b, q.dims[j]);
      for (std::size_t line = 0; line < block_slots; line += 64)
        __builtin_prefetch(c + line);
    }
  };
  prefetch(0);
  for (std::size_t i = 0; i < n; i += 8) {
    prefetch(i + 8);
    // Past the last dimension, repeat it with weight 0.
    const int8_t* c[8];
    int8_t w[8] = {};
    for (std::size_t j = 0; j < 8; ++j) {
      c[j] = column(b, q.dims[std::min(i + j, n - 1)]);
      if (i + j < n)
        w[j] = q.codes[i + j];
    }
    accumulate8(acc, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], w);
  }
  apply_scales(out, acc, scales_.data() + b * block_slots, q.scale);
}

float quantized_codes::score(uint32_t slot, const scan_query& q) const {
  std::size_t b = slot / block_slots, lane = slot % block_slots;
  int32_t acc = 0;
  for (std::size_t i = 0; i < q.dims.size(); ++i)
    acc += int32_t{q.codes[i]} * column(b, q.dims[i])[lane];
  return float(acc) * (scales_[slot] * q.scale);
}

std::size_t quantized_codes::memory_bytes() const {
  return codes_.size() + scales_.size() * sizeof(float);
}

} // namespace engram::storage::detail
