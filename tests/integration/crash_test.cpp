// Durability: whatever the node acknowledged survives kill -9.

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "tests/fixtures/engramd_process.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;

TEST_CASE("kill -9 during 1,000 concurrent writes loses no acknowledged write",
          "[crash]") {
  constexpr int writers = 100;
  constexpr int writes_each = 10;
  temp_dir dir;
  auto data = dir.path() + "/data";
  engramd_process node{data};
  REQUIRE(node.start());

  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> acks{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w, port = node.port()] {
      http_client c{port};
      for (int i = 0; i < writes_each; ++i) {
        auto id = "w" + std::to_string(w) + "-" + std::to_string(i);
        auto r = c.send_json("POST", "/v1/users/u" + std::to_string(w % 7)
                                       + "/entities",
                             R"({"id":")" + id + R"(","type":"t","title":")"
                               + id + R"("})");
        if (r.status != 201)
          return; // the node is gone
        std::lock_guard<std::mutex> guard{mu};
        acknowledged.push_back(id);
        acks.fetch_add(1);
      }
    });
  // Kill while writes are streaming in: after a third have been acknowledged.
  while (acks.load() < writers * writes_each / 3)
    std::this_thread::yield();
  node.kill9();
  for (auto& t : threads)
    t.join();
  INFO(acknowledged.size() << " writes were acknowledged before the kill");
  REQUIRE(acknowledged.size() >= static_cast<size_t>(writers * writes_each / 3));

  engramd_process again{data};
  REQUIRE(again.start());
  http_client c{again.port()};
  size_t missing = 0;
  for (auto& id : acknowledged) {
    auto w = std::stoi(id.substr(1, id.find('-') - 1));
    auto r = c.get("/v1/users/u" + std::to_string(w % 7) + "/entities/" + id);
    if (r.status != 200
        || boost::json::parse(r.body).at("title").as_string() != id.c_str())
      ++missing;
  }
  CHECK(missing == 0);
}
