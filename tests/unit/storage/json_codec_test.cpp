// Tests storage/json_codec.cpp: strict parsing by default, opt-in leniency,
// bounded depth, and errors (never exceptions) that say where input broke.

#include "storage/json_codec.hpp"

#include <random>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "messages/errors.hpp"

using namespace engram::storage;
using engram::code_of;
using engram::ec;
using engram::message_of;

namespace {

// The code of a failed result, ec::none for a value. (Calling error() on an
// expected that holds a value is undefined behaviour in CAF 0.17.)
template <class T>
ec result_code(const caf::expected<T>& x) {
  return x ? ec::none : code_of(x.error());
}

// The message of a failed result, empty for a value.
template <class T>
std::string result_message(const caf::expected<T>& x) {
  return x ? std::string{} : message_of(x.error());
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

parse_options lenient() {
  parse_options opts;
  opts.allow_comments = true;
  opts.allow_trailing_commas = true;
  return opts;
}

} // namespace

TEST_CASE("a value survives encode then decode") {
  auto v = boost::json::parse(R"({
    "text": "quote \" backslash \\ tab \t unicode \u00e9 \ud83d\ude00",
    "ints": [0, -1, 9223372036854775807, -9223372036854775808],
    "big": 18446744073709551615,
    "real": 0.125,
    "flags": [true, false, null],
    "nested": {"empty_obj": {}, "empty_arr": []}
  })");
  auto decoded = decode_json(encode_json(v));
  INFO(result_message(decoded));
  REQUIRE(decoded);
  CHECK(*decoded == v);
}

TEST_CASE("encoding is compact") {
  auto v = boost::json::parse(R"( { "a" : [ 1 , 2 ] , "b" : null } )");
  CHECK(encode_json(v) == R"({"a":[1,2],"b":null})");
}

TEST_CASE("comments are accepted only when enabled") {
  auto text = "// leading\n{\"a\": /* inline */ 1}";
  CHECK(result_code(decode_json(text)) == ec::malformed_request);
  auto parsed = decode_json(text, lenient());
  REQUIRE(parsed);
  CHECK(parsed->at("a") == 1);
}

TEST_CASE("trailing commas are accepted only when enabled") {
  auto text = R"({"a": [1, 2,], "b": 3,})";
  CHECK(result_code(decode_json(text)) == ec::malformed_request);
  auto parsed = decode_json(text, lenient());
  REQUIRE(parsed);
  CHECK(parsed->at("a").as_array().size() == 2);
}

TEST_CASE("nesting deeper than max_depth is rejected") {
  parse_options opts;
  opts.max_depth = 8;
  CHECK(decode_json(nested_arrays(8), opts));
  auto too_deep = decode_json(nested_arrays(9), opts);
  REQUIRE_FALSE(too_deep);
  CHECK(result_code(too_deep) == ec::malformed_request);
  SECTION("the default limit of 64 holds against hostile depth") {
    CHECK(decode_json(nested_arrays(64)));
    CHECK_FALSE(decode_json(nested_arrays(65)));
    CHECK_FALSE(decode_json(std::string(1'000'000, '[')));
  }
}

TEST_CASE("a parse error names the byte offset, line and reason") {
  // "oops" starts at byte 14: line 3, column 3.
  auto result = decode_json("{\n  \"a\": 1,\n  oops\n}");
  REQUIRE_FALSE(result);
  CHECK(result_code(result) == ec::malformed_request);
  CHECK(result_message(result)
        == "invalid JSON at offset 14 (line 3, column 3): syntax error");
}

TEST_CASE("incomplete, empty and trailing input is malformed") {
  for (auto text : {"", "   ", "{\"a\":", "[1, 2", "{} x", "1 2", "nul"}) {
    auto result = decode_json(text);
    INFO("input: '" << text << "'");
    REQUIRE_FALSE(result);
    CHECK(result_code(result) == ec::malformed_request);
  }
  auto msg = result_message(decode_json("{} x"));
  INFO(msg);
  CHECK(msg.find("offset 3") != std::string::npos);
}

TEST_CASE("invalid UTF-8 in a string is malformed") {
  CHECK_FALSE(decode_json("\"\xC3\x28\""));
  CHECK(decode_json("\"\xC3\xA9\""));
}

TEST_CASE("random bytes never throw, they parse or fail as malformed") {
  // Biased toward JSON's own characters so the parser gets deep into inputs.
  static constexpr char alphabet[] = "{}[]\",:0123456789.eE+-truefalsenul \n\\/*";
  std::mt19937_64 rng{4242};
  std::uniform_int_distribution<int> len{0, 48};
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    for (int n = len(rng); n > 0; --n)
      text.push_back(rng() % 4 == 0 ? static_cast<char>(rng())
                                    : alphabet[rng() % (sizeof(alphabet) - 1)]);
    auto opts = i % 2 == 0 ? parse_options{} : lenient();
    caf::expected<boost::json::value> result{boost::json::value{}};
    REQUIRE_NOTHROW(result = decode_json(text, opts));
    if (!result)
      REQUIRE(result_code(result) == ec::malformed_request);
  }
}
