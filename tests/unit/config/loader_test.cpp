// Layering: defaults < config file < environment < command line, and the
// environment and command-line sources themselves.

#include <set>

#include <boost/json.hpp>

#include "config/detail/fields.hpp"
#include "config/detail/sources.hpp"
#include "support.hpp"

using namespace engram;
using namespace engram::config;
using namespace engram::config::test;

TEST_CASE("without file, environment or flags the options are the defaults",
          "[config]") {
  auto loaded = load_options({}, no_env());
  REQUIRE(loaded);
  require_same(*loaded, options{});
}

TEST_CASE("an empty env_lookup means no environment", "[config]") {
  auto loaded = load_options({}, env_lookup{});
  REQUIRE(loaded);
  require_same(*loaded, options{});
}

TEST_CASE("the config file overrides the defaults and keeps the rest",
          "[config]") {
  auto loaded = load_json(R"({"http": {"io_threads": 8},
                              "storage": {"sync": false}})");
  REQUIRE(loaded);
  options expected;
  expected.http.io_threads = 8;
  expected.storage.sync = false;
  require_same(*loaded, expected);
}

TEST_CASE("environment variables override the config file", "[config]") {
  auto loaded = load_json(R"({"http": {"io_threads": 8, "listen": "127.0.0.1:1"},
                              "node": {"data_dir": "/from/file"}})",
                          env_of({{"ENGRAM_HTTP_IO_THREADS", "3"},
                                  {"ENGRAM_NODE_DATA_DIR", "/from/env"}}));
  REQUIRE(loaded);
  CHECK(loaded->http.io_threads == 3);
  CHECK(loaded->node.data_dir == "/from/env");
  CHECK(loaded->http.listen == "127.0.0.1:1"); // not in the env: file wins
}

TEST_CASE("command-line flags override the environment", "[config]") {
  cli_overrides cli;
  cli.data_dir = "/from/cli";
  cli.listen = "127.0.0.1:9001";
  cli.log_level = "debug";
  cli.log_format = "json";
  auto env = env_of({{"ENGRAM_DATA_DIR", "/from/env"},
                     {"ENGRAM_LISTEN", "127.0.0.1:9000"},
                     {"ENGRAM_LOG_LEVEL", "warn"},
                     {"ENGRAM_LOG_FORMAT", "text"}});
  auto loaded = load_options(cli, env);
  REQUIRE(loaded);
  CHECK(loaded->node.data_dir == "/from/cli");
  CHECK(loaded->http.listen == "127.0.0.1:9001");
  CHECK(loaded->log.level == "debug");
  CHECK(loaded->log.format == "json");
}

TEST_CASE("the --set flag applies any scalar option, in order, before the flags",
          "[config]") {
  cli_overrides cli;
  cli.settings = {"storage.max_batch=10", "storage.max_batch=20",
                  "storage.sync=0", "log.file=a=b.log",
                  "http.listen=127.0.0.1:1"};
  cli.listen = "127.0.0.1:2";
  auto loaded = load_options(cli, env_of({{"ENGRAM_STORAGE_MAX_BATCH", "5"}}));
  REQUIRE(loaded);
  CHECK(loaded->storage.max_batch == 20);
  CHECK_FALSE(loaded->storage.sync);
  CHECK(loaded->log.file == "a=b.log"); // split at the first '='
  CHECK(loaded->http.listen == "127.0.0.1:2");
}

TEST_CASE("a --set with an unknown path or without an equals sign is an error",
          "[config]") {
  cli_overrides cli;
  SECTION("unknown path") {
    cli.settings = {"http.lisen=127.0.0.1:1"};
    auto err = error_of(load_options(cli, no_env()));
    CHECK(field_of(err) == "http.lisen");
    CHECK(message_of(err)
          == "--set: http.lisen: unknown option (did you mean http.listen?)");
  }
  SECTION("no '='") {
    cli.settings = {"storage.sync"};
    auto err = error_of(load_options(cli, no_env()));
    CHECK(message_of(err) == "--set: expected PATH=VALUE, got \"storage.sync\"");
  }
}

TEST_CASE("invalid flag values name the flag and the option path",
          "[config]") {
  cli_overrides cli;
  cli.log_level = "verbose";
  auto err = error_of(load_options(cli, no_env()));
  CHECK(field_of(err) == "log.level");
  CHECK(message_of(err)
        == "--log-level: log.level: must be one of trace, debug, info, warn, "
           "error, critical, off, got \"verbose\"");
}

TEST_CASE("auth.keys can only be set in the config file", "[config]") {
  cli_overrides cli;
  cli.settings = {"auth.keys=[]"};
  auto err = error_of(load_options(cli, no_env()));
  CHECK(field_of(err) == "auth.keys");
  CHECK(message_of(err) == "--set: auth.keys: can only be set in the config file");
  // From the environment it is simply not an option, hence ignored.
  CHECK(load_options({}, env_of({{"ENGRAM_AUTH_KEYS", "[]"}})));
}

TEST_CASE("the short environment aliases set the same options", "[config]") {
  auto loaded = load_options({}, env_of({{"ENGRAM_DATA_DIR", "/d"},
                                         {"ENGRAM_LISTEN", "localhost:1"}}));
  REQUIRE(loaded);
  CHECK(loaded->node.data_dir == "/d");
  CHECK(loaded->http.listen == "localhost:1");
}

TEST_CASE("an alias and its canonical variable may not disagree", "[config]") {
  SECTION("same value is fine") {
    CHECK(load_options({}, env_of({{"ENGRAM_DATA_DIR", "/d"},
                                   {"ENGRAM_NODE_DATA_DIR", "/d"}})));
  }
  SECTION("different values are an error naming both") {
    auto err = error_of(load_options(
      {}, env_of({{"ENGRAM_DATA_DIR", "/a"}, {"ENGRAM_NODE_DATA_DIR", "/b"}})));
    CHECK(field_of(err) == "node.data_dir");
    CHECK_THAT(message_of(err),
               Catch::Contains("ENGRAM_NODE_DATA_DIR and ENGRAM_DATA_DIR"));
  }
}

TEST_CASE("ENGRAM_ variables that are not options are ignored", "[config]") {
  auto loaded = load_options({}, env_of({{"ENGRAM_KEY_APP", "s3cret"},
                                         {"ENGRAM_HTTP_LISEN", "junk"},
                                         {"ENGRAM_FOO", "bar"}}));
  REQUIRE(loaded);
  require_same(*loaded, options{});
}

TEST_CASE("only variables named after options are looked up", "[config]") {
  std::set<std::string> asked;
  env_lookup spy = [&](const std::string& name) -> std::optional<std::string> {
    asked.insert(name);
    return std::nullopt;
  };
  REQUIRE(load_options({}, spy));
  CHECK(asked.count("ENGRAM_NODE_DATA_DIR") == 1);
  CHECK(asked.count("ENGRAM_DATA_DIR") == 1);
  CHECK(asked.count("ENGRAM_STORAGE_SYNC") == 1);
  CHECK(asked.count("ENGRAM_AUTH_KEYS") == 0);
  for (const auto& name : asked)
    CHECK(name.rfind("ENGRAM_", 0) == 0);
}

TEST_CASE("an invalid environment value names the variable and the path",
          "[config]") {
  auto err = error_of(
    load_options({}, env_of({{"ENGRAM_HTTP_IO_THREADS", "lots"}})));
  CHECK(field_of(err) == "http.io_threads");
  CHECK(message_of(err)
        == "environment variable ENGRAM_HTTP_IO_THREADS: http.io_threads: "
           "must be an integer between 1 and 64, got \"lots\"");
}

TEST_CASE("booleans from text accept exactly true, false, 1 and 0",
          "[config]") {
  for (auto [text, expected] : {std::pair{"true", true}, {"1", true},
                                {"false", false}, {"0", false}}) {
    auto loaded = load_options({}, env_of({{"ENGRAM_STORAGE_SYNC", text}}));
    REQUIRE(loaded);
    CHECK(loaded->storage.sync == expected);
  }
  auto err = error_of(
    load_options({}, env_of({{"ENGRAM_STORAGE_SYNC", "yes"}})));
  CHECK(message_of(err)
        == "environment variable ENGRAM_STORAGE_SYNC: storage.sync: must be "
           "true, false, 1 or 0, got \"yes\"");
}

TEST_CASE("integers from text are plain decimal digits", "[config]") {
  auto set = [](std::string text) {
    cli_overrides cli;
    cli.settings = {"storage.max_wait_us=" + text};
    return load_options(cli, no_env());
  };
  CHECK(set("1000000"));
  for (auto bad : {"", "+5", " 5", "5 ", "0x10", "1.5", "1e3"})
    CHECK_THAT(message_of(error_of(set(bad))),
               Catch::Contains("must be an integer between 0 and 1000000"));
  CHECK_THAT(message_of(error_of(set("-1"))),
             Catch::EndsWith("must be between 0 and 1000000, got -1"));
  CHECK_THAT(message_of(error_of(set("99999999999999999999999"))),
             Catch::EndsWith("got 99999999999999999999999"));
}

TEST_CASE("every scalar option can be set from its ENGRAM_ variable",
          "[config]") {
  // Feed each field of non-default options through the environment as text.
  auto wanted = non_default_options();
  auto printed = boost::json::parse(to_json(wanted, false));
  std::map<std::string, std::string> vars;
  for (const auto& f : detail::option_fields()) {
    if (!detail::is_scalar(detail::default_of(f)))
      continue;
    const boost::json::value* v = &printed;
    for (auto rest = std::string{f.path}; !rest.empty();) {
      auto dot = rest.find('.');
      v = &v->at(rest.substr(0, dot));
      rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
    }
    vars[detail::env_name(f.path)]
      = v->is_string() ? std::string{v->get_string()}
                       : boost::json::serialize(*v);
  }
  CHECK(vars.count("ENGRAM_HTTP_MAX_INFLIGHT_REQUESTS") == 1);
  // auth.keys cannot come from the environment; without keys, auth would be
  // off on a public address, so listen on loopback for this test.
  vars["ENGRAM_HTTP_LISTEN"] = "127.0.0.1:9000";
  auto loaded = load_options({}, env_of(vars));
  REQUIRE(loaded);
  wanted.auth.keys.clear();
  wanted.http.listen = "127.0.0.1:9000";
  require_same(*loaded, wanted);
}

TEST_CASE("a missing config file is a clear error", "[config]") {
  temp_dir dir;
  cli_overrides cli;
  cli.config_file = (dir.path() / "nope.json").string();
  auto err = error_of(load_options(cli, no_env()));
  CHECK(message_of(err) == "config file " + *cli.config_file
                             + ": does not exist");
}

TEST_CASE("a directory given as config file is an error", "[config]") {
  temp_dir dir;
  cli_overrides cli;
  cli.config_file = dir.path().string();
  auto err = error_of(load_options(cli, no_env()));
  CHECK_THAT(message_of(err), Catch::EndsWith("is a directory, expected a JSON file"));
}
