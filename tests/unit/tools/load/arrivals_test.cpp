// Open-loop scheduling arithmetic and user distributions.

#include <catch2/catch.hpp>

#include <vector>

#include "tools/load/arrivals.hpp"

using namespace engram::load;

TEST_CASE("open-loop requests are due at start + i / rate", "[load]") {
  open_loop s{1000, 2.0, 5000000};
  CHECK(s.total() == 2000);
  CHECK(s.due_us(0) == 5000000);
  CHECK(s.due_us(1) == 5001000);
  CHECK(s.due_us(1999) == 6999000);
  CHECK(s.due_by(4999999) == 0);
  CHECK(s.due_by(5000000) == 1);
  CHECK(s.due_by(5000999) == 1);
  CHECK(s.due_by(5001000) == 2);
  CHECK(s.due_by(100000000) == 2000); // never more than the phase has
  // Fractional rates: 3 per second over 1 s -> 3 requests, 333,333 us apart.
  open_loop t{3, 1.0, 0};
  CHECK(t.total() == 3);
  CHECK(t.due_us(1) == 333333);
  CHECK(t.due_us(2) == 666667);
  CHECK(t.due_by(333332) == 1);
  CHECK(t.due_by(333333) == 2);
  // due_by agrees with due_us everywhere.
  open_loop u{777.7, 1.3, 123};
  for (int64_t now = 0; now < 1400000; now += 997) {
    auto k = u.due_by(now);
    if (k > 0)
      REQUIRE(u.due_us(k - 1) <= now);
    if (k < u.total())
      REQUIRE(u.due_us(k) > now);
  }
  CHECK(open_loop{0, 10, 0}.total() == 0);
}

TEST_CASE("users are picked uniformly or by Zipf's law", "[load]") {
  user_picker uni{10, false, 0, 1};
  std::vector<int> seen(10, 0);
  for (int i = 0; i < 100000; ++i)
    ++seen[uni.next()];
  for (auto n : seen)
    CHECK(n == Approx(10000).epsilon(0.05));
  user_picker z{100, true, 1.0, 2};
  double harmonic = 0;
  for (int k = 1; k <= 100; ++k)
    harmonic += 1.0 / k;
  CHECK(z.probability(0) == Approx(1 / harmonic));
  CHECK(z.probability(9) == Approx(0.1 / harmonic));
  std::vector<int> hits(100, 0);
  for (int i = 0; i < 200000; ++i)
    ++hits[z.next()];
  CHECK(hits[0] == Approx(200000 * z.probability(0)).epsilon(0.03));
  CHECK(hits[0] > 5 * hits[9]);
  CHECK(z.probability(100) == 0);
}
