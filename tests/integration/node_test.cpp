// The engramd binary as users meet it: flags, startup, probes, the error
// vocabulary over HTTP, auth, and a graceful stop.

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "runtime/auth.hpp"
#include "tests/fixtures/engramd_process.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;
namespace json = boost::json;

namespace {

json::object parse(const std::string& body) {
  return json::parse(body).as_object();
}

std::string error_code(const http_result& r) {
  return json::value_to<std::string>(parse(r.body).at("error").at("code"));
}

std::string error_field(const http_result& r) {
  auto doc = parse(r.body);
  auto& e = doc.at("error").as_object();
  return e.contains("field") ? json::value_to<std::string>(e.at("field")) : "";
}

} // namespace

TEST_CASE("engramd --help, --version and --print-config answer and exit 0",
          "[node]") {
  auto help = run_engramd({"--help"});
  CHECK(help.first == 0);
  CHECK(help.second.find("--data-dir") != std::string::npos);
  auto version = run_engramd({"--version"});
  CHECK(version.first == 0);
  CHECK(version.second.find("engramd 0.1.0") != std::string::npos);
  auto printed = run_engramd({"--print-config", "--listen", "127.0.0.1:9999"});
  REQUIRE(printed.first == 0);
  auto cfg = parse(printed.second);
  CHECK(cfg.at("http").at("listen") == "127.0.0.1:9999");
}

TEST_CASE("configuration errors name the field and exit with code 2",
          "[node]") {
  auto bad_flag = run_engramd({"--set", "http.max_body_bytes=12"});
  CHECK(bad_flag.first == 2);
  CHECK(bad_flag.second.find("http.max_body_bytes") != std::string::npos);
  auto bad_env = run_engramd({"--print-config"}, {{"ENGRAM_STORAGE_SYNC", "maybe"}});
  CHECK(bad_env.first == 2);
  CHECK(bad_env.second.find("storage.sync") != std::string::npos);
  auto unknown = run_engramd({"--no-such-flag"});
  CHECK(unknown.first == 2);
}

TEST_CASE("without API keys the node refuses a non-loopback address",
          "[node]") {
  auto r = run_engramd({"--listen", "0.0.0.0:0", "--print-config"});
  CHECK(r.first == 2);
  CHECK(r.second.find("loopback") != std::string::npos);
}

TEST_CASE("a fresh node serves health, readiness, metrics and node info",
          "[node]") {
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(node.start());
  std::chrono::duration<double> startup = std::chrono::steady_clock::now() - t0;
  CHECK(startup.count() < 5.0); // generous: sanitizer builds start slower
  http_client c{node.port()};

  auto health = c.get("/healthz");
  REQUIRE(health.status == 200);
  auto h = parse(health.body);
  CHECK(h.at("status") == "ok");
  CHECK(h.at("checks").at("storage").at("status") == "ok");

  CHECK(c.get("/readyz").status == 200);

  auto info = c.get("/v1/node");
  REQUIRE(info.status == 200);
  CHECK(parse(info.body).at("version") == "0.1.0");
  CHECK(parse(info.body).contains("uptime_seconds"));

  auto metrics = c.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.header("content-type").find("text/plain") == 0);
  CHECK(metrics.body.find("engram_http_requests_total{") != std::string::npos);
  CHECK(metrics.body.find("engram_journal_commit_seconds_bucket") != std::string::npos);
  CHECK(metrics.body.find("engram_rocksdb_estimated_keys") != std::string::npos);
}

TEST_CASE("every response carries X-Request-Id, echoing the client's",
          "[node]") {
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  REQUIRE(node.start());
  http_client c{node.port()};
  CHECK(c.get("/healthz", {{"X-Request-Id", "trace-42"}}).header("x-request-id")
        == "trace-42");
  CHECK(c.get("/healthz").header("x-request-id").size() == 16);
  CHECK(c.get("/nope").header("x-request-id").size() == 16);
}

TEST_CASE("bad requests get the right status and a JSON error naming the "
          "field", "[node][errors]") {
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  REQUIRE(node.start());
  http_client c{node.port()};
  const std::string entities = "/v1/users/alice/entities";

  SECTION("malformed JSON is 400") {
    auto r = c.send_json("POST", entities, "{\"type\": ");
    CHECK(r.status == 400);
    CHECK(error_code(r) == "malformed_request");
  }
  SECTION("a body over http.max_body_bytes is 413") {
    auto r = c.send_json("POST", entities, std::string(2 * 1024 * 1024, 'x'));
    CHECK(r.status == 413);
    CHECK(error_code(r) == "too_large");
  }
  SECTION("an invalid id in the path is 422 naming the parameter") {
    auto r = c.get("/v1/users/al%20ice/entities");
    CHECK(r.status == 422);
    CHECK(error_field(r) == "path.user");
    auto long_id = c.get(entities + "/" + std::string(129, 'a'));
    CHECK(long_id.status == 422);
    CHECK(error_field(long_id) == "path.id");
  }
  SECTION("an unknown route is 404") {
    auto r = c.get("/v1/nothing/here");
    CHECK(r.status == 404);
    CHECK(error_code(r) == "not_found");
  }
  SECTION("a wrong method is 405 with Allow") {
    auto r = c.request("DELETE", "/healthz");
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "GET");
  }
  SECTION("a non-JSON body is 415") {
    auto r = c.request("POST", entities, "type=x", {{"Content-Type", "text/plain"}});
    CHECK(r.status == 415);
    CHECK(error_field(r) == "Content-Type");
  }
  SECTION("an invalid field is 422 naming it, and nothing is stored") {
    auto r = c.send_json("POST", entities,
                         R"({"type":"character","title":"","content":"x"})");
    CHECK(r.status == 422);
    CHECK(error_field(r) == "title");
    auto wrong_type = c.send_json("POST", entities,
                                  R"({"type":"character","title":"Momo","tags":"cat"})");
    CHECK(wrong_type.status == 422);
    CHECK(error_field(wrong_type) == "tags");
    auto unknown = c.send_json("POST", entities,
                               R"({"type":"character","title":"Momo","colour":"red"})");
    CHECK(unknown.status == 422);
    CHECK(error_field(unknown) == "colour");
    auto list = parse(c.get(entities).body);
    CHECK(list.at("items").as_array().empty());
  }
  SECTION("garbage on the socket is 400 and the node keeps serving") {
    auto r = http_client::raw(node.port(), "NOT HTTP AT ALL\r\n\r\n");
    CHECK((r.status == 400 || r.status == 0));
    CHECK(c.get("/healthz").status == 200);
  }
}

TEST_CASE("entities can be created, read, changed, listed and deleted",
          "[node][entities]") {
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  REQUIRE(node.start());
  http_client c{node.port()};
  const std::string base = "/v1/users/alice/entities";

  auto created = c.send_json("POST", base,
    R"({"id":"momo","type":"character","title":"Momo","content":"A cat.","tags":["cat"]})");
  REQUIRE(created.status == 201);
  auto e = parse(created.body);
  CHECK(e.at("version") == 1);
  CHECK(e.at("is_dynamically_generated") == false);
  CHECK(e.at("seq").as_int64() > 0);

  CHECK(c.send_json("POST", base, R"({"id":"momo","type":"character","title":"Momo"})")
          .status == 409);

  auto patched = c.send_json("PATCH", base + "/momo", R"({"content":"A grey cat."})");
  REQUIRE(patched.status == 200);
  CHECK(parse(patched.body).at("version") == 2);
  CHECK(parse(patched.body).at("title") == "Momo");
  CHECK(c.send_json("PATCH", base + "/momo", R"({"title":"M","version":1})").status
        == 409);

  auto generated = c.send_json("POST", base, R"({"type":"location","title":"Tokyo"})");
  REQUIRE(generated.status == 201);
  CHECK(parse(generated.body).at("id").as_string().size() == 26);

  auto list = parse(c.get(base + "?type=character").body);
  REQUIRE(list.at("items").as_array().size() == 1);
  CHECK(list.at("items").as_array()[0].at("content") == "A grey cat.");
  auto page = parse(c.get(base + "?limit=1").body);
  CHECK(page.at("items").as_array().size() == 1);
  CHECK(!page.at("next_after").is_null());

  CHECK(c.request("DELETE", base + "/momo").status == 200);
  CHECK(c.get(base + "/momo").status == 404);
  CHECK(c.get("/v1/users/bob/entities/momo").status == 404);
}

TEST_CASE("API keys: 401 without a valid key, 403 for another user's data",
          "[node][auth]") {
  temp_dir dir;
  auto cfg_path = dir.path() + "/engram.json";
  auto admin_hash = engram::authenticator::sha256("admin-secret");
  std::string hex;
  for (auto b : admin_hash) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  {
    std::FILE* f = std::fopen(cfg_path.c_str(), "w");
    std::fprintf(f, R"({
      // keys: one admin (by digest), one for alice (from the environment)
      "auth": {"keys": [
        {"name": "ops", "role": "admin", "key_sha256": "%s"},
        {"name": "alice-app", "role": "user", "users": ["alice"],
         "key_env": "TEST_ALICE_KEY"},
      ]}
    })", hex.c_str());
    std::fclose(f);
  }
  engramd_process node{dir.path() + "/data", {"--config", cfg_path},
                       {{"TEST_ALICE_KEY", "alice-secret"}}};
  REQUIRE(node.start());
  http_client c{node.port()};
  auto alice = std::map<std::string, std::string>{{"Authorization", "Bearer alice-secret"}};
  auto admin = std::map<std::string, std::string>{{"Authorization", "Bearer admin-secret"}};

  CHECK(c.get("/healthz").status == 200); // probes stay open
  CHECK(c.get("/v1/users/alice/entities").status == 401);
  CHECK(c.get("/v1/users/alice/entities", {{"Authorization", "Bearer wrong"}}).status
        == 401);
  CHECK(c.get("/v1/users/alice/entities", alice).status == 200);
  auto denied = c.get("/v1/users/bob/entities", alice);
  CHECK(denied.status == 403);
  CHECK(error_code(denied) == "forbidden");
  CHECK(c.get("/v1/users/bob/entities", admin).status == 200);
  CHECK(c.get("/v1/node", alice).status == 200);
}

TEST_CASE("SIGTERM stops the node gracefully within 2 s and keeps its data",
          "[node][shutdown]") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  {
    engramd_process node{data};
    REQUIRE(node.start());
    http_client c{node.port()};
    REQUIRE(c.send_json("POST", "/v1/users/u1/entities",
                        R"({"id":"e1","type":"t","title":"kept"})").status == 201);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(node.stop(SIGTERM, std::chrono::seconds(5)) == 0);
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    CHECK(took.count() < 2.0);
    CHECK(node.log().find("engramd stopped") != std::string::npos);
  }
  engramd_process again{data};
  REQUIRE(again.start());
  http_client c{again.port()};
  auto e = c.get("/v1/users/u1/entities/e1");
  REQUIRE(e.status == 200);
  CHECK(parse(e.body).at("title") == "kept");
  CHECK(again.stop(SIGINT) == 0);
}

TEST_CASE("a second node on the same data directory fails with a clear error",
          "[node]") {
  temp_dir dir;
  engramd_process first{dir.path() + "/data"};
  REQUIRE(first.start());
  auto second = run_engramd({"--data-dir", dir.path() + "/data", "--listen",
                             "127.0.0.1:0"});
  CHECK(second.first == 1);
  CHECK(second.second.find("lock") != std::string::npos);
}

TEST_CASE("the /v1/node/ws WebSocket answers with node info", "[node][ws]") {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  REQUIRE(node.start());
  asio::io_context io;
  beast::websocket::stream<beast::tcp_stream> ws{io};
  beast::get_lowest_layer(ws).connect(
    asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), node.port()));
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  ws.handshake("127.0.0.1", "/v1/node/ws");
  beast::flat_buffer buf;
  ws.read(buf);
  auto first = parse(beast::buffers_to_string(buf.data()));
  CHECK(first.at("version") == "0.1.0");
  buf.consume(buf.size());
  ws.write(asio::buffer(std::string("status?")));
  ws.read(buf);
  CHECK(parse(beast::buffers_to_string(buf.data())).contains("uptime_seconds"));
  ws.close(beast::websocket::close_code::normal);
}
