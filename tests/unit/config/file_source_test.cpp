// The config file: relaxed JSON syntax, and errors that name the option path
// and say what was expected.

#include "support.hpp"

using namespace engram;
using namespace engram::config;
using namespace engram::config::test;

namespace {

// The message of a config file error without its "config file <path>: "
// prefix, which varies with the temp directory.
std::string problem_of(const caf::error& err) {
  auto message = message_of(err);
  auto json_suffix = message.find(".json: ");
  REQUIRE(json_suffix != std::string::npos);
  return message.substr(json_suffix + 7);
}

std::string problem_of(const std::string& json) {
  return problem_of(error_of(load_json(json)));
}

} // namespace

TEST_CASE("comments and trailing commas are accepted", "[config]") {
  auto loaded = load_json(R"(
    // line comment
    {
      /* block
         comment */
      "http": {"io_threads": 3,},  // trailing comma in an object
      "auth": {"keys": [
        {"name": "a", "role": "user", "users": ["u1", "u2",],
         "key_env": "ENGRAM_KEY_A",},
      ],},
    }
  )");
  REQUIRE(loaded);
  CHECK(loaded->http.io_threads == 3);
  REQUIRE(loaded->auth.keys.size() == 1);
  CHECK(loaded->auth.keys[0].users == std::vector<std::string>{"u1", "u2"});
}

TEST_CASE("an empty object is a valid config", "[config]") {
  auto loaded = load_json("{}");
  REQUIRE(loaded);
  require_same(*loaded, options{});
}

TEST_CASE("malformed JSON reports the file, line and column", "[config]") {
  temp_dir dir;
  cli_overrides cli;
  cli.config_file = dir.write("bad.json", "{\n  \"http\": {\n    \"io_threads\" 3\n  }\n}\n");
  auto err = error_of(load_options(cli, no_env()));
  CHECK(message_of(err) == "config file " + *cli.config_file
                             + ": invalid JSON at offset 31 (line 3, column 18): "
                               "syntax error");
  CHECK(field_of(err).empty());
}

TEST_CASE("truncated JSON and trailing garbage are parse errors", "[config]") {
  CHECK(problem_of("{\"http\": {") == "invalid JSON at offset 10 (line 1, column 11): incomplete JSON");
  CHECK(problem_of("{} {}") == "invalid JSON at offset 3 (line 1, column 4): extra data");
  CHECK(problem_of("") == "invalid JSON at offset 0 (line 1, column 1): incomplete JSON");
}

TEST_CASE("a key given twice in one object is an error, not last-wins",
          "[config]") {
  CHECK(problem_of("{\"http\": {\"io_threads\": 2},\n \"http\": {}}")
        == "duplicate key \"http\" at offset 34 (line 2, column 7)");
  CHECK(problem_of(R"({"auth": {"keys": [{"name": "a", "name": "b"}]}})")
        == "duplicate key \"name\" at offset 38 (line 1, column 39)");
  // Equal keys in different objects are fine.
  CHECK(load_json(R"({"auth": {"keys": [
    {"name": "a", "role": "admin", "key_env": "K1"},
    {"name": "b", "role": "admin", "key_env": "K2"}]}})"));
}

TEST_CASE("the top level must be a JSON object", "[config]") {
  CHECK(problem_of("[1, 2]") == "must hold a JSON object, got an array");
}

TEST_CASE("an unknown key is an error naming its dotted path", "[config]") {
  SECTION("top level") {
    auto err = error_of(load_json(R"({"foo": 1})"));
    CHECK(field_of(err) == "foo");
    CHECK(problem_of(err) == "foo: unknown option");
  }
  SECTION("inside a section, with a suggestion for a typo") {
    auto err = error_of(load_json(R"({"http": {"lisen": "127.0.0.1:1"}})"));
    CHECK(field_of(err) == "http.lisen");
    CHECK(problem_of(err)
          == "http.lisen: unknown option (did you mean http.listen?)");
  }
  SECTION("a key in the wrong section") {
    auto err = error_of(load_json(R"({"node": {"listen": "127.0.0.1:1"}})"));
    CHECK(problem_of(err)
          == "node.listen: unknown option (did you mean http.listen?)");
  }
  SECTION("a misspelled section") {
    CHECK(problem_of(R"({"storge": {}})")
          == "storge: unknown option (did you mean storage?)");
  }
}

TEST_CASE("a dotted key is not a shortcut for nesting", "[config]") {
  auto err = error_of(load_json(R"({"http.listen": "127.0.0.1:1"})"));
  CHECK(field_of(err) == "http.listen");
  CHECK_THAT(problem_of(err), Catch::StartsWith("http.listen: unknown option"));
}

TEST_CASE("a section that is not an object is an error", "[config]") {
  CHECK(problem_of(R"({"http": "127.0.0.1:1"})")
        == "http: must be an object, got string \"127.0.0.1:1\"");
  CHECK(problem_of(R"({"auth": []})") == "auth: must be an object, got an array");
}

TEST_CASE("a wrong type names the option and what was expected", "[config]") {
  CHECK(problem_of(R"({"http": {"max_body_bytes": "12"}})")
        == "http.max_body_bytes: must be an integer between 1024 and "
           "1073741824, got string \"12\"");
  CHECK(problem_of(R"({"http": {"listen": 8700}})")
        == "http.listen: must be a string, got number 8700");
  CHECK(problem_of(R"({"storage": {"sync": "true"}})")
        == "storage.sync: must be true or false, got string \"true\"");
  CHECK(problem_of(R"({"storage": {"sync": 1}})")
        == "storage.sync: must be true or false, got number 1");
  CHECK(problem_of(R"({"log": {"file": null}})")
        == "log.file: must be a string, got null");
  CHECK(problem_of(R"({"auth": {"keys": {}}})")
        == "auth.keys: must be an array of API key objects, got an object");
}

TEST_CASE("unsigned fields reject negative, fractional and too large numbers",
          "[config]") {
  CHECK(problem_of(R"({"node": {"scheduler_threads": -1}})")
        == "node.scheduler_threads: must be between 0 and 256, got -1");
  CHECK(problem_of(R"({"http": {"io_threads": 1.5}})")
        == "http.io_threads: must be an integer between 1 and 64, got 1.5");
  CHECK(problem_of(R"({"storage": {"block_cache_bytes": 1e30}})")
        == "storage.block_cache_bytes: must be at least 1048576, got 1e+30");
  CHECK(problem_of(R"({"storage": {"block_cache_bytes": 18446744073709551616}})")
        == "storage.block_cache_bytes: must be at least 1048576, got "
           "1.84467440737096e+19");
}

TEST_CASE("a uint32 option rejects numbers beyond 2^32-1 instead of wrapping",
          "[config]") {
  CHECK(problem_of(R"({"http": {"header_timeout_ms": 4294967297}})")
        == "http.header_timeout_ms: must be between 1 and 3600000, got "
           "4294967297");
}

TEST_CASE("integral numbers written with an exponent are integers",
          "[config]") {
  auto loaded = load_json(R"({"storage": {"block_cache_bytes": 2e9,
                                          "max_wait_us": 1.0}})");
  REQUIRE(loaded);
  CHECK(loaded->storage.block_cache_bytes == 2000000000u);
  CHECK(loaded->storage.max_wait_us == 1u);
}

TEST_CASE("an out-of-range value names the option and the allowed range",
          "[config]") {
  auto err = error_of(load_json(R"({"http": {"max_body_bytes": 12}})"));
  CHECK(field_of(err) == "http.max_body_bytes");
  CHECK(problem_of(err)
        == "http.max_body_bytes: must be between 1024 and 1073741824, got 12");
}

TEST_CASE("errors inside auth.keys name the element path", "[config]") {
  SECTION("invalid role") {
    auto err = error_of(load_json(R"({"auth": {"keys": [
      {"name": "a", "role": "root", "key_env": "K"}]}})"));
    CHECK(field_of(err) == "auth.keys[0].role");
    CHECK(problem_of(err)
          == "auth.keys[0].role: must be one of admin, user, got \"root\"");
  }
  SECTION("unknown key in the second element") {
    auto err = error_of(load_json(R"({"auth": {"keys": [
      {"name": "a", "role": "admin", "key_env": "K"},
      {"name": "b", "rol": "admin", "key_env": "K2"}]}})"));
    CHECK(field_of(err) == "auth.keys[1].rol");
    CHECK(problem_of(err)
          == "auth.keys[1].rol: unknown option (did you mean role?)");
  }
  SECTION("invalid user id") {
    auto err = error_of(load_json(R"({"auth": {"keys": [
      {"name": "a", "users": ["ok", "not ok"], "key_env": "K"}]}})"));
    CHECK(field_of(err) == "auth.keys[0].users[1]");
  }
  SECTION("a user id that is not a string") {
    auto err = error_of(load_json(R"({"auth": {"keys": [
      {"name": "a", "users": [7], "key_env": "K"}]}})"));
    CHECK(problem_of(err)
          == "auth.keys[0].users[0]: must be a string, got number 7");
  }
  SECTION("an element that is not an object") {
    auto err = error_of(load_json(R"({"auth": {"keys": ["secret"]}})"));
    CHECK(field_of(err) == "auth.keys[0]");
  }
  SECTION("key rules are checked while reading the file") {
    auto err = error_of(load_json(R"({"auth": {"keys": [
      {"name": "a", "role": "admin"}]}})"));
    CHECK(problem_of(err)
          == "auth.keys[0]: must set exactly one of key_sha256 and key_env");
  }
}
