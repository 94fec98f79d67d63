// engram-load's log-linear histogram against exact percentiles.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tools/load/histogram.hpp"

using engram::load::histogram;

namespace {

uint64_t exact(std::vector<uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = std::max<std::size_t>(1, std::size_t(std::ceil(q * double(v.size()))));
  return v[rank - 1];
}

void within_one_percent(uint64_t got, uint64_t want) {
  INFO("got " << got << ", exact " << want);
  CHECK(std::abs(double(got) - double(want)) <= 0.01 * double(want) + 0.5);
}

} // namespace

TEST_CASE("every value maps into a bucket that contains it, at most 1/128 "
          "wide relative to it",
          "[load]") {
  std::mt19937_64 rng{7};
  for (int i = 0; i < 200000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    auto [lo, hi] = histogram::range_of(histogram::index_of(v));
    REQUIRE(lo <= v);
    REQUIRE(v <= hi);
    REQUIRE(double(hi - lo) <= double(std::max<uint64_t>(lo, 1)) / 64.0);
  }
  for (uint64_t v = 0; v < 128; ++v)
    CHECK(histogram::range_of(histogram::index_of(v)) == std::make_pair(v, v));
  // Indexes increase with values (buckets are ordered).
  CHECK(histogram::index_of(127) < histogram::index_of(128));
  CHECK(histogram::index_of(255) < histogram::index_of(256));
  CHECK(histogram::index_of(UINT64_MAX) > histogram::index_of(UINT64_MAX / 2));
}

TEST_CASE("quantiles are within 1% of the exact percentiles", "[load]") {
  std::mt19937_64 rng{42};
  // Latency-like: lognormal microseconds with a heavy tail.
  std::lognormal_distribution<double> d(6.0, 1.2);
  std::vector<uint64_t> v;
  histogram h;
  for (int i = 0; i < 100000; ++i) {
    auto x = uint64_t(d(rng)) + 1;
    v.push_back(x);
    h.record(x);
  }
  for (double q : {0.5, 0.9, 0.99, 0.999})
    within_one_percent(h.quantile(q), exact(v, q));
  CHECK(h.max() == *std::max_element(v.begin(), v.end()));
  CHECK(h.min() == *std::min_element(v.begin(), v.end()));
  CHECK(h.quantile(1.0) == h.max());
  CHECK(h.count() == v.size());
}

TEST_CASE("small values are exact; merge equals recording everything once",
          "[load]") {
  histogram a, b, all;
  for (uint64_t i = 1; i <= 100; ++i) {
    (i % 2 ? a : b).record(i);
    all.record(i);
  }
  CHECK(a.quantile(0.5) == 49); // 1, 3, ..., 99: the 25th is 49
  a.merge(b);
  CHECK(a.count() == all.count());
  for (double q : {0.01, 0.5, 0.9, 0.99})
    CHECK(a.quantile(q) == all.quantile(q));
  CHECK(all.quantile(0.5) == 50);
  CHECK(all.mean() == Approx(50.5));
  auto cdf = all.cdf();
  REQUIRE(cdf.size() == 100);
  CHECK(cdf.back().second == Approx(1.0));
  CHECK(cdf.front() == std::make_pair(uint64_t{1}, 0.01));
  histogram empty;
  CHECK(empty.quantile(0.99) == 0);
  CHECK(empty.cdf().empty());
  all.reset();
  CHECK(all.count() == 0);
}
