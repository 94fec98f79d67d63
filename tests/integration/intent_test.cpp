// Intents through a real engramd: create, close once, list by status,
// validation, and that they survive a restart.

#include <catch2/catch.hpp>

#include <csignal>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "tests/fixtures/engramd_process.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;
namespace json = boost::json;

namespace {

const std::string intents = "/v1/users/ada/intents";

json::object body_of(const http_result& r, unsigned status) {
  INFO("HTTP " << r.status << ": " << r.body);
  REQUIRE(r.status == status);
  return json::parse(r.body).as_object();
}

void expect_error(const http_result& r, unsigned status, const char* code,
                  const char* field) {
  auto e = body_of(r, status).at("error").as_object();
  CHECK(e.at("code") == code);
  CHECK(e.at("field") == field);
}

std::vector<std::string> ids(const json::object& list) {
  std::vector<std::string> out;
  for (auto& i : list.at("items").as_array())
    out.emplace_back(i.at("id").as_string());
  return out;
}

} // namespace

TEST_CASE("intents are created, closed once and listed by status", "[intents]") {
  temp_dir dir;
  auto node = std::make_unique<engramd_process>(dir.path() + "/data");
  REQUIRE(node->start());
  {
    http_client c{node->port()};
    auto a = body_of(c.send_json("POST", intents,
                                 R"({"id":"trip","description":"Plan the trip to Lisbon"})"),
                     201);
    CHECK(a.at("status") == "open");
    CHECK(a.at("resolution").is_null());
    CHECK(a.at("seq").to_number<int64_t>() > 0);
    auto b = body_of(c.send_json("POST", intents, R"({"description":"Learn Portuguese"})"), 201);
    auto generated = std::string{b.at("id").as_string()};
    CHECK(!generated.empty());

    expect_error(c.send_json("POST", intents, R"({"id":"trip","description":"again"})"),
                 409, "conflict", "id");
    auto closed = body_of(c.send_json("POST", intents + "/trip/close",
                                      R"({"resolution":"Booked for May"})"),
                          200);
    CHECK(closed.at("status") == "closed");
    CHECK(closed.at("resolution") == "Booked for May");
    CHECK(!closed.at("closed_at").is_null());
    expect_error(c.send_json("POST", intents + "/trip/close", R"({"resolution":"twice"})"),
                 409, "conflict", "id");
    expect_error(c.send_json("POST", intents + "/nope/close", R"({"resolution":"x"})"),
                 404, "not_found", "id");

    CHECK(ids(body_of(c.get(intents + "?status=closed"), 200))
          == std::vector<std::string>{"trip"});
    CHECK(ids(body_of(c.get(intents + "?status=open"), 200))
          == std::vector<std::string>{generated});
    CHECK(ids(body_of(c.get(intents), 200)).size() == 2);
    CHECK(body_of(c.get(intents + "/trip"), 200).at("status") == "closed");
  }
  // Durable: the same answers after a restart.
  REQUIRE(node->stop(SIGTERM) == 0);
  node = std::make_unique<engramd_process>(dir.path() + "/data");
  REQUIRE(node->start());
  http_client c{node->port()};
  CHECK(ids(body_of(c.get(intents + "?status=closed"), 200))
        == std::vector<std::string>{"trip"});
  expect_error(c.send_json("POST", intents + "/trip/close", R"({"resolution":"again"})"),
               409, "conflict", "id");
}

TEST_CASE("bad intent input is a 422 naming the field", "[intents]") {
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  REQUIRE(node.start());
  http_client c{node.port()};
  expect_error(c.send_json("POST", intents, R"({"description":""})"), 422,
               "invalid_argument", "description");
  expect_error(c.send_json("POST", intents, R"({"description":"   "})"), 422,
               "invalid_argument", "description");
  expect_error(c.send_json("POST", intents, R"({"id":"a b","description":"x"})"), 422,
               "invalid_argument", "id");
  expect_error(c.send_json("POST", intents, R"({"description":"x","color":"red"})"), 422,
               "invalid_argument", "color");
  body_of(c.send_json("POST", intents, R"({"id":"i1","description":"x"})"), 201);
  expect_error(c.send_json("POST", intents + "/i1/close", R"({})"), 422,
               "invalid_argument", "resolution");
  expect_error(c.get(intents + "?status=done"), 422, "invalid_argument", "status");
  CHECK(c.send_json("POST", intents, "{not json").status == 400);
}
