// config/engram.example.json must stay equal to the defaults and mention
// every option, so it can never drift from options.hpp.

#include <fstream>
#include <iterator>

#include <boost/json.hpp>

#include "config/detail/fields.hpp"
#include "support.hpp"

#ifndef ENGRAM_SOURCE_DIR
#  define ENGRAM_SOURCE_DIR "."
#endif

using namespace engram;
using namespace engram::config;
using namespace engram::config::test;

namespace {

const std::string example_path = ENGRAM_SOURCE_DIR
  "/config/engram.example.json";

std::string example_text() {
  std::ifstream in(example_path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>{in}, {}};
}

boost::json::value example_json() {
  boost::json::parse_options relaxed;
  relaxed.allow_comments = true;
  relaxed.allow_trailing_commas = true;
  return boost::json::parse(example_text(), {}, relaxed);
}

// The member at a dotted path, or null.
const boost::json::value* find_path(const boost::json::value& root,
                                    std::string_view path) {
  const auto* at = &root;
  while (at && !path.empty()) {
    auto dot = path.find('.');
    const auto* obj = at->if_object();
    at = obj ? obj->if_contains(path.substr(0, dot)) : nullptr;
    path = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  }
  return at;
}

} // namespace

TEST_CASE("the example config loads to exactly the defaults", "[config]") {
  cli_overrides cli;
  cli.config_file = example_path;
  auto loaded = load_options(cli, no_env());
  REQUIRE(loaded);
  require_same(*loaded, options{});
}

TEST_CASE("the example config lists every option", "[config]") {
  auto doc = example_json();
  for (const auto& f : detail::option_fields()) {
    INFO(f.path);
    CHECK(find_path(doc, f.path) != nullptr);
  }
}

TEST_CASE("the example config shows every API key field in its sample",
          "[config]") {
  auto text = example_text();
  for (const auto& f : detail::api_key_fields()) {
    INFO(f.path);
    CHECK_THAT(text, Catch::Contains("//   \"" + std::string{f.path} + "\": "));
  }
}
