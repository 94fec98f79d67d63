// to_json(): shape, stability, round trip and redaction; and the generated
// option reference.

#include <boost/json.hpp>

#include "config/detail/fields.hpp"
#include "support.hpp"

using namespace engram;
using namespace engram::config;
using namespace engram::config::test;

TEST_CASE("printed options load back to the same options", "[config]") {
  SECTION("every field set away from its default") {
    auto original = non_default_options();
    auto loaded = load_json(to_json(original, false));
    REQUIRE(loaded);
    require_same(*loaded, original);
  }
  SECTION("the defaults") {
    auto loaded = load_json(to_json(options{}, false));
    REQUIRE(loaded);
    require_same(*loaded, options{});
  }
}

TEST_CASE("to_json is pretty, ordered like the table and stable",
          "[config]") {
  auto text = to_json(options{});
  CHECK_THAT(text, Catch::StartsWith("{\n  \"node\": {\n    \"id\": "
                                     "\"engram-1\",\n    \"data_dir\": "));
  CHECK_THAT(text, Catch::Contains("\n  \"auth\": {\n    \"keys\": []\n  },\n"));
  CHECK_THAT(text, Catch::EndsWith("\"webhook_max_retries\": 5\n  }\n}\n"));
  CHECK(text == to_json(options{}));
}

TEST_CASE("to_json prints API keys one per object with users on one line",
          "[config]") {
  auto text = to_json(non_default_options(), false);
  CHECK_THAT(text, Catch::Contains(R"("users": ["alice", "bob"])"));
  CHECK_THAT(text, Catch::Contains("\"keys\": [\n      {\n        \"name\": \"ops\""));
}

TEST_CASE("redaction hides key_sha256 values but shows key_env names",
          "[config]") {
  auto opts = non_default_options();
  auto redacted = to_json(opts);
  CHECK_THAT(redacted, !Catch::Contains(some_sha256()));
  CHECK_THAT(redacted, Catch::Contains(R"("key_sha256": "<redacted>")"));
  CHECK_THAT(redacted, Catch::Contains(R"("key_env": "ENGRAM_KEY_APP")"));
  // A key without a digest stays visibly empty rather than "<redacted>".
  CHECK_THAT(redacted, Catch::Contains(R"("key_sha256": "")"));
  CHECK_THAT(to_json(opts, false), Catch::Contains(some_sha256()));
}

TEST_CASE("a redacted config does not load, naming the redacted field",
          "[config]") {
  auto err = error_of(load_json(to_json(non_default_options())));
  CHECK(field_of(err) == "auth.keys[0].key_sha256");
}

TEST_CASE("the option reference lists every option with its variable",
          "[config]") {
  auto reference = reference_markdown();
  for (const auto& f : detail::option_fields())
    CHECK_THAT(reference, Catch::Contains("| `" + std::string{f.path} + "` |"));
  for (const auto& f : detail::api_key_fields())
    CHECK_THAT(reference,
               Catch::Contains("| `auth.keys[]." + std::string{f.path} + "` |"));
  CHECK_THAT(reference,
             Catch::Contains("| `http.listen` | `ENGRAM_HTTP_LISTEN`, "
                             "`ENGRAM_LISTEN` | `\"127.0.0.1:8700\"` |"));
  CHECK_THAT(reference, Catch::Contains("Must be between 1 and 64."));
  CHECK_THAT(reference, Catch::Contains("| `auth.keys` | (file only) | `[]` |"));
  CHECK_THAT(reference,
             Catch::Contains("| `auth.keys[].role` | (file only) | `\"user\"` |"));
}
