// Per-option ranges and formats, API key rules, and the rules between
// options. Range limits are tested at both edges: inside passes, one step
// outside fails with the option path.

#include "support.hpp"

using namespace engram;
using namespace engram::config;
using namespace engram::config::test;

namespace {

caf::expected<options> set(const std::string& path, const std::string& text) {
  cli_overrides cli;
  cli.settings = {path + "=" + text};
  return load_options(cli, no_env());
}

struct bounds {
  std::string path;
  uint64_t min;
  uint64_t max; // 0 = no upper bound
};

const bounds all_bounds[] = {
  {"node.scheduler_threads", 0, 256},
  {"node.shutdown_timeout_ms", 100, 60000},
  {"http.io_threads", 1, 64},
  {"http.max_body_bytes", 1024, 1073741824},
  {"http.header_timeout_ms", 1, 3600000},
  {"http.idle_timeout_ms", 1, 3600000},
  {"http.max_connections", 1, 1000000},
  {"http.max_inflight_requests", 1, 1000000},
  {"http.request_timeout_ms", 1, 600000},
  {"storage.max_batch", 1, 100000},
  {"storage.max_wait_us", 0, 1000000},
  {"storage.block_cache_bytes", 1048576, 0},
  {"storage.write_buffer_bytes", 1048576, 0},
};

caf::expected<options> with_key(const std::string& key_json) {
  return load_json(R"({"auth": {"keys": [)" + key_json + "]}}");
}

} // namespace

TEST_CASE("the defaults pass validation", "[config]") {
  CHECK_FALSE(validate(options{}));
}

TEST_CASE("integer options accept their bounds and reject one step beyond",
          "[config]") {
  for (const auto& b : all_bounds) {
    INFO(b.path);
    CHECK(set(b.path, std::to_string(b.min)));
    if (b.min > 0) {
      auto err = error_of(set(b.path, std::to_string(b.min - 1)));
      CHECK(field_of(err) == b.path);
    }
    if (b.max > 0) {
      CHECK(set(b.path, std::to_string(b.max)));
      auto err = error_of(set(b.path, std::to_string(b.max + 1)));
      CHECK(field_of(err) == b.path);
      CHECK_THAT(message_of(err),
                 Catch::EndsWith("must be between " + std::to_string(b.min)
                                 + " and " + std::to_string(b.max) + ", got "
                                 + std::to_string(b.max + 1)));
    }
  }
}

TEST_CASE("node.id is 1-128 characters of A-Z a-z 0-9 _ . : -", "[config]") {
  CHECK(set("node.id", "Node_1.eu-west:2"));
  CHECK(set("node.id", std::string(128, 'n')));
  for (auto bad : {std::string{}, std::string(129, 'n'), std::string{"a b"},
                   std::string{"a/b"}, std::string{"n\xc3\xa9"}}) {
    auto err = error_of(set("node.id", bad));
    CHECK(field_of(err) == "node.id");
  }
}

TEST_CASE("node.data_dir must not be empty", "[config]") {
  auto err = error_of(set("node.data_dir", ""));
  CHECK(message_of(err) == "--set: node.data_dir: must not be empty");
}

TEST_CASE("log.level and log.format take only their named values",
          "[config]") {
  for (auto level : {"trace", "debug", "info", "warn", "error", "critical",
                     "off"})
    CHECK(set("log.level", level));
  CHECK(field_of(error_of(set("log.level", "INFO"))) == "log.level");
  CHECK(set("log.format", "json"));
  CHECK(message_of(error_of(set("log.format", "xml")))
        == "--set: log.format: must be one of text, json, got \"xml\"");
}

TEST_CASE("a bad listen address names http.listen and the expected form",
          "[config]") {
  for (auto bad : {"8700", ":8700", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
                   "127.0.0.1:65536", "256.0.0.1:80", "example.com:80",
                   "::1:80", "[::1]", "[127.0.0.1]:80", "127.0.0.1:80 "}) {
    INFO(bad);
    auto err = error_of(set("http.listen", bad));
    CHECK(field_of(err) == "http.listen");
    CHECK(message_of(err)
          == std::string{"--set: http.listen: must be HOST:PORT with HOST an "
                         "IPv4 address, localhost or [IPv6] and PORT 0-65535, "
                         "got \""}
               + bad + "\"");
  }
}

TEST_CASE("a valid API key of each kind is accepted", "[config]") {
  auto loaded = with_key(R"(
    {"name": "ops", "role": "admin", "key_sha256": ")" + some_sha256() + R"("},
    {"name": "app", "users": ["alice"], "key_env": "ENGRAM_KEY_APP"})");
  REQUIRE(loaded);
  REQUIRE(loaded->auth.keys.size() == 2);
  CHECK(loaded->auth.keys[1].role == "user"); // the default role
}

TEST_CASE("API key rules name the offending element and field", "[config]") {
  auto field_for = [](const std::string& key_json) {
    return field_of(error_of(with_key(key_json)));
  };
  CHECK(field_for(R"({"role": "admin", "key_env": "K"})")
        == "auth.keys[0].name");
  CHECK(field_for(R"({"name": "a", "role": "admin", "key_env": "K",
                      "key_sha256": ")" + some_sha256() + R"("})")
        == "auth.keys[0]");
  CHECK(field_for(R"({"name": "a", "role": "admin"})") == "auth.keys[0]");
  CHECK(field_for(R"({"name": "a", "role": "user", "key_env": "K"})")
        == "auth.keys[0].users");
  CHECK(field_for(R"({"name": "a", "role": "admin", "users": ["u"],
                      "key_env": "K"})")
        == "auth.keys[0].users");
  CHECK(field_for(R"({"name": "a", "role": "admin", "key_sha256": "ABC"})")
        == "auth.keys[0].key_sha256");
  CHECK(field_for(R"({"name": "a", "users": [""], "key_env": "K"})")
        == "auth.keys[0].users[0]");
}

TEST_CASE("a malformed key_sha256 is reported without echoing it",
          "[config]") {
  auto upper = some_sha256();
  upper[0] = 'F';
  auto err = error_of(with_key(R"({"name": "a", "role": "admin",
                                   "key_sha256": ")" + upper + R"("})"));
  CHECK(field_of(err) == "auth.keys[0].key_sha256");
  CHECK_THAT(message_of(err),
             Catch::EndsWith("must be 64 lower-case hex characters (a SHA-256 "
                             "digest), got a 64-character value"));
  CHECK_THAT(message_of(err), !Catch::Contains(upper));
}

TEST_CASE("API key names are unique", "[config]") {
  auto err = error_of(with_key(R"(
    {"name": "a", "role": "admin", "key_env": "K1"},
    {"name": "b", "role": "admin", "key_env": "K2"},
    {"name": "a", "role": "admin", "key_env": "K3"})"));
  CHECK(field_of(err) == "auth.keys[2].name");
  CHECK_THAT(message_of(err),
             Catch::EndsWith("duplicate key name \"a\" (also auth.keys[0])"));
}

TEST_CASE("auth may be off only on a loopback listen address", "[config]") {
  for (auto loopback : {"127.0.0.1:1", "127.1.2.3:1", "localhost:1",
                        "[::1]:1", "[::ffff:127.0.0.1]:1"}) {
    INFO(loopback);
    CHECK(set("http.listen", loopback));
  }
  SECTION("a public address without keys is refused") {
    auto err = error_of(set("http.listen", "0.0.0.0:8700"));
    CHECK(field_of(err) == "auth.keys");
    CHECK(message_of(err)
          == "auth.keys: no API keys are configured, which turns auth off; "
             "that is only allowed when http.listen is a loopback address, "
             "got \"0.0.0.0:8700\"");
  }
  SECTION("the rule applies after merging: env may move listen off loopback") {
    auto err = error_of(load_json(R"({"http": {"listen": "127.0.0.1:1"}})",
                                  env_of({{"ENGRAM_LISTEN", "[::]:1"}})));
    CHECK(field_of(err) == "auth.keys");
  }
  SECTION("with a key, any address is fine") {
    CHECK(load_json(R"({"http": {"listen": "0.0.0.0:8700"}, "auth": {"keys": [
      {"name": "a", "role": "admin", "key_env": "K"}]}})"));
  }
}

TEST_CASE("validate checks options built in code", "[config]") {
  auto opts = non_default_options();
  CHECK_FALSE(validate(opts));
  opts.http.io_threads = 0;
  CHECK(field_of(validate(opts)) == "http.io_threads");
  opts = non_default_options();
  opts.auth.keys[1].users.push_back("bad id");
  CHECK(field_of(validate(opts)) == "auth.keys[1].users[2]");
}
