// The caches through a real engramd: repeated searches are hits until a
// write, model completions come from the cache instead of the model
// server, stats and invalidation; and under racing writers and searchers
// no search answers without a write that was acknowledged before it.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "tests/fixtures/engramd_process.hpp"
#include "tests/fixtures/fake_openai.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::object body_of(const http_result& r, unsigned status) {
  INFO("HTTP " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  return json::parse(r.body).as_object();
}

int64_t create_entity(http_client& c, const std::string& user,
                      const std::string& id, const std::string& content) {
  auto r = body_of(c.send_json("POST", "/v1/users/" + user + "/entities",
                               R"({"id":")" + id + R"(","type":"thing","title":")"
                                 + id + R"(","content":")" + content + "\"}"),
                   201);
  return r.at("seq").to_number<int64_t>();
}

json::object search(http_client& c, const std::string& user,
                    const std::string& query, int64_t min_seq) {
  return body_of(c.send_json("POST", "/v1/users/" + user + "/search",
                             R"({"query":")" + query + R"(","k":50,"min_seq":)"
                               + std::to_string(min_seq) + R"(,"wait_ms":5000})"),
                 200);
}

bool has_entity(const json::object& answer, const std::string& id) {
  for (auto& h : answer.at("hits").as_array())
    if (h.as_object().contains("entity_id") && h.at("entity_id") == id.c_str())
      return true;
  return false;
}

json::object use_stats(http_client& c, const char* use) {
  return body_of(c.get("/v1/cache/stats"), 200).at("uses").at(use).as_object();
}

} // namespace

TEST_CASE("a repeated search is a cache hit until the next write", "[cache]") {
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  REQUIRE(node.start());
  http_client c{node.port()};
  auto seq = create_entity(c, "ann", "harbor", "The old harbor of Lisbon.");
  auto first = search(c, "ann", "harbor Lisbon", seq);
  CHECK(first.at("cached") == false);
  CHECK(has_entity(first, "harbor"));
  auto again = search(c, "ann", "harbor Lisbon", seq);
  CHECK(again.at("cached") == true);
  CHECK(again.at("hits") == first.at("hits"));
  // Another user's identical query is not theirs.
  create_entity(c, "bob", "castle", "A castle.");
  CHECK(search(c, "bob", "harbor Lisbon", 0).at("cached") == false);
  // A write changes the generation: the next search is computed afresh.
  auto seq2 = create_entity(c, "ann", "lighthouse", "The harbor lighthouse of Lisbon.");
  auto after = search(c, "ann", "harbor Lisbon", seq2);
  CHECK(after.at("cached") == false);
  CHECK(has_entity(after, "lighthouse"));
  auto s = use_stats(c, "search");
  CHECK(s.at("hits").to_number<int64_t>() >= 1);
  CHECK(s.at("misses").to_number<int64_t>() >= 2);
  CHECK(s.at("entries").to_number<int64_t>() >= 1);
  CHECK(s.at("hit_rate").to_number<double>() > 0);
  // Explicit invalidation of one user's answers (admin).
  auto inv = body_of(c.send_json("POST", "/v1/cache/invalidate", R"({"user":"ann"})"), 200);
  CHECK(inv.at("invalidated").to_number<int64_t>() >= 1);
  CHECK(search(c, "ann", "harbor Lisbon", seq2).at("cached") == false);
  CHECK(c.send_json("POST", "/v1/cache/invalidate", R"({"use":"search"})").status == 422);
  CHECK(c.send_json("POST", "/v1/cache/invalidate", R"({"prefix":"","use":"nope"})").status
        == 422);
  auto metrics = c.get("/metrics").body;
  CHECK(metrics.find("engram_cache_hits_total{use=\"search\"}") != std::string::npos);
}

TEST_CASE("after an acknowledged write no search misses it, however writers "
          "and searchers race",
          "[cache]") {
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  REQUIRE(node.start());
  http_client warm{node.port()};
  create_entity(warm, "race", "seed", "zebra seed");
  // Each entity has a token of its own: a search for the newest token must
  // find the newest entity once its write is acknowledged (min_seq waits
  // for it to be indexed), whether the answer is cached or not.
  constexpr int writes = 1000;
  std::atomic<int64_t> acked_seq{0};
  std::atomic<int> acked{0};
  std::atomic<bool> done{false};
  std::atomic<int> misses{0}, checks{0};
  std::thread writer([&] {
    http_client c{node.port()};
    for (int i = 0; i < writes; ++i) {
      auto seq = create_entity(c, "race", "e" + std::to_string(i),
                               "zebra tok" + std::to_string(i));
      acked_seq = seq;
      acked = i + 1;
    }
    done = true;
  });
  std::vector<std::thread> searchers;
  for (int t = 0; t < 3; ++t)
    searchers.emplace_back([&] {
      http_client c{node.port()};
      while (!done) {
        // acked after acked_seq: the seq read next covers entity n - 1.
        int n = acked;
        int64_t seq = acked_seq;
        if (n == 0)
          continue;
        // Ask for the next token first: an answer without that entity is
        // cached now, and must not be served once the entity is written.
        c.send_json("POST", "/v1/users/race/search",
                    R"({"query":"tok)" + std::to_string(n) + R"(","k":5})");
        auto body = R"({"query":"tok)" + std::to_string(n - 1)
                    + R"(","k":5,"min_seq":)" + std::to_string(seq)
                    + R"(,"wait_ms":5000})";
        // Twice: the second is usually a hit, and must be as complete.
        for (int rep = 0; rep < 2; ++rep) {
          auto r = c.send_json("POST", "/v1/users/race/search", body);
          if (r.status != 200)
            continue;
          auto a = json::parse(r.body).as_object();
          ++checks;
          if (!has_entity(a, "e" + std::to_string(n - 1)))
            ++misses;
        }
      }
    });
  writer.join();
  for (auto& s : searchers)
    s.join();
  CHECK(checks > 1000);
  CHECK(misses == 0);
  CHECK(use_stats(warm, "search").at("hits").to_number<int64_t>() > 0);
}

TEST_CASE("a model completion served from the cache does not reach the model "
          "server again",
          "[cache]") {
  fake_openai fake;
  temp_dir dir;
  engramd_process node{dir.path() + "/data",
                       {"--set", "llm.provider=openai", "--set",
                        "llm.base_url=" + fake.base_url(), "--set",
                        "llm.models.analysis=m-analysis", "--set",
                        "llm.models.rewrite=m-rewrite", "--set",
                        "llm.models.creation=m-creation"}};
  REQUIRE(node.start());
  http_client c{node.port()};
  const std::string text = "Mira met a smith named Borin at the pier.";
  auto turn = [&](const std::string& user) {
    auto r = body_of(c.send_json("POST", "/v1/users/" + user + "/sessions/s1/turns",
                                 R"({"turn":1,"text":")" + text + "\"}"),
                     202);
    auto seq = r.at("seq").to_number<int64_t>();
    auto t = body_of(c.get("/v1/users/" + user + "/sessions/s1/turns/1?min_seq="
                           + std::to_string(seq) + "&wait_ms=10000"),
                     200);
    CHECK(t.at("status") == "applied");
  };
  // Two users in the same state send the same turn: the second one's
  // analysis (and the creations and rewrites that follow) are answered
  // from the cache.
  turn("first");
  // Let the pipeline settle (queued work of the first user).
  std::this_thread::sleep_for(300ms);
  auto calls = fake.request_count();
  REQUIRE(calls > 0);
  turn("second");
  std::this_thread::sleep_for(300ms);
  CHECK(fake.request_count() == calls);
  auto s = use_stats(c, "llm");
  CHECK(s.at("hits").to_number<int64_t>() >= 1);
  // The same turn text for a user whose known entities differ is a new
  // prompt: it reaches the model.
  create_entity(c, "third", "borin", "A smith.");
  turn("third");
  CHECK(fake.request_count() > calls);
}
