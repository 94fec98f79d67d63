// Specification of runtime/metrics: the exposition text Prometheus scrapes
// and the arithmetic behind it.

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "runtime/metrics.hpp"

using namespace engram::metrics;

TEST_CASE("a small registry renders in the exact text format", "[metrics]") {
  registry reg;
  reg.get_counter("engram_requests_total", "Requests served.",
                  {{"route", "/v1/node"}, {"code", "200"}})
    .inc(3);
  reg.get_counter("engram_requests_total", "ignored: help is kept from the "
                                           "first registration",
                  {{"route", "/v1/x"}, {"code", "404"}})
    .inc();
  reg.get_gauge("engram_queue_depth", "Items\nqueued \\ waiting.").set(2.5);
  auto& h = reg.get_histogram("engram_batch_size", "Writes per batch.", {},
                              {1, 2, 4});
  h.observe(1);
  h.observe(3);
  h.observe(100);
  CHECK(reg.render()
        == "# HELP engram_batch_size Writes per batch.\n"
           "# TYPE engram_batch_size histogram\n"
           "engram_batch_size_bucket{le=\"1\"} 1\n"
           "engram_batch_size_bucket{le=\"2\"} 1\n"
           "engram_batch_size_bucket{le=\"4\"} 2\n"
           "engram_batch_size_bucket{le=\"+Inf\"} 3\n"
           "engram_batch_size_sum 104\n"
           "engram_batch_size_count 3\n"
           "# HELP engram_queue_depth Items\\nqueued \\\\ waiting.\n"
           "# TYPE engram_queue_depth gauge\n"
           "engram_queue_depth 2.5\n"
           "# HELP engram_requests_total Requests served.\n"
           "# TYPE engram_requests_total counter\n"
           "engram_requests_total{code=\"200\",route=\"/v1/node\"} 3\n"
           "engram_requests_total{code=\"404\",route=\"/v1/x\"} 1\n");
}

TEST_CASE("label values escape backslash, quote and newline", "[metrics]") {
  registry reg;
  reg.get_counter("c_total", "h", {{"v", "a\\b\"c\nd"}}).inc();
  CHECK(reg.render()
        == "# HELP c_total h\n# TYPE c_total counter\n"
           "c_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST_CASE("histogram labels come before le, and sum and count follow",
          "[metrics]") {
  registry reg;
  reg.get_histogram("lat_seconds", "h", {{"route", "r"}}, {0.5}).observe(0.25);
  CHECK(reg.render()
        == "# HELP lat_seconds h\n# TYPE lat_seconds histogram\n"
           "lat_seconds_bucket{route=\"r\",le=\"0.5\"} 1\n"
           "lat_seconds_bucket{route=\"r\",le=\"+Inf\"} 1\n"
           "lat_seconds_sum{route=\"r\"} 0.25\n"
           "lat_seconds_count{route=\"r\"} 1\n");
}

TEST_CASE("the same name and labels give the same instrument", "[metrics]") {
  registry reg;
  auto& a = reg.get_counter("x_total", "h", {{"k", "v"}});
  auto& b = reg.get_counter("x_total", "h", {{"k", "v"}});
  auto& c = reg.get_counter("x_total", "h", {{"k", "w"}});
  CHECK(&a == &b);
  CHECK(&a != &c);
}

TEST_CASE("a name keeps the instrument type it was first registered with",
          "[metrics]") {
  registry reg;
  reg.get_counter("x", "h");
  CHECK_THROWS_AS(reg.get_gauge("x", "h"), std::logic_error);
}

TEST_CASE("histogram buckets are cumulative and le is inclusive",
          "[metrics]") {
  histogram h{{1, 2, 5}};
  for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 9.0})
    h.observe(v);
  CHECK(h.cumulative() == std::vector<uint64_t>{2, 4, 5, 6});
  CHECK(h.count() == 6);
  CHECK(h.sum() == Approx(18.0));
}

TEST_CASE("quantiles interpolate linearly inside a bucket", "[metrics]") {
  histogram h{{10, 20, 30}};
  // 10 values in (10, 20]: the median sits in the middle of that bucket.
  for (int i = 0; i < 10; ++i)
    h.observe(15);
  CHECK(h.quantile(0.5) == Approx(15.0));
  CHECK(h.quantile(1.0) == Approx(20.0));
  CHECK(h.quantile(0.0) == Approx(10.0));
  // Add 10 values in the first bucket [0, 10]: the median is its top edge,
  // p25 half way up it.
  for (int i = 0; i < 10; ++i)
    h.observe(5);
  CHECK(h.quantile(0.5) == Approx(10.0));
  CHECK(h.quantile(0.25) == Approx(5.0));
  CHECK(h.quantile(0.75) == Approx(15.0));
}

TEST_CASE("quantiles of an empty histogram are 0, of the +Inf bucket the top "
          "bound",
          "[metrics]") {
  histogram h{{1, 2}};
  CHECK(h.quantile(0.9) == 0.0);
  h.observe(100);
  CHECK(h.quantile(0.9) == 2.0);
}

TEST_CASE("default buckets cover 50 us to 10 s and sizes 1 to 4096",
          "[metrics]") {
  auto lat = latency_buckets();
  CHECK(lat.front() == Approx(0.00005));
  CHECK(lat.back() == 10.0);
  CHECK(std::is_sorted(lat.begin(), lat.end()));
  auto sizes = size_buckets();
  CHECK(sizes.size() == 13);
  CHECK(sizes.front() == 1.0);
  CHECK(sizes.back() == 4096.0);
}

TEST_CASE("concurrent updates from four threads lose nothing", "[metrics]") {
  registry reg;
  auto& c = reg.get_counter("c_total", "h");
  auto& g = reg.get_gauge("g", "h");
  auto& h = reg.get_histogram("h", "h", {}, {10});
  constexpr int per_thread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        c.inc();
        g.add(0.5);
        h.observe(1);
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(c.value() == 4u * per_thread);
  CHECK(g.value() == 2.0 * per_thread); // halves are exact in binary
  CHECK(h.count() == 4u * per_thread);
  CHECK(h.sum() == 4.0 * per_thread);
}

TEST_CASE("collectors run before each render and may register gauges",
          "[metrics]") {
  registry reg;
  int runs = 0;
  reg.add_collector([&] {
    ++runs;
    reg.get_gauge("depth", "h").set(runs);
  });
  CHECK(reg.render().find("depth 1\n") != std::string::npos);
  CHECK(reg.render().find("depth 2\n") != std::string::npos);
}
