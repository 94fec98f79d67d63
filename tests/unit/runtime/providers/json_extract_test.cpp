// Specification of runtime/providers/json_extract: finding the JSON document
// in a model's reply wrapped in reasoning, fences and prose.

#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "messages/errors.hpp"
#include "runtime/providers/json_extract.hpp"
#include "storage/json_codec.hpp"

using namespace engram;
using namespace engram::providers;

namespace {

// The extracted document, serialised compactly, or "error: <message>".
std::string extracted(std::string_view reply) {
  auto v = extract_json(reply);
  if (!v)
    return "error: " + message_of(v.error());
  return storage::encode_json(*v);
}

caf::error error_of(std::string_view reply) {
  auto v = extract_json(reply);
  REQUIRE_FALSE(v); // reading error() of a value is undefined in CAF 0.17
  return v.error();
}

} // namespace

TEST_CASE("plain JSON is returned as it is", "[json_extract]") {
  CHECK(extracted(R"({"a":1,"b":[true,null]})")
        == R"({"a":1,"b":[true,null]})");
  CHECK(extracted(" \n [1, 2, {\"c\": \"d\"}] \n") == R"([1,2,{"c":"d"}])");
}

TEST_CASE("reasoning, a fence and prose around the JSON are dropped",
          "[json_extract]") {
  auto reply = "<think>The user wants {\"a\": 0}? No.</think>\n"
               "Here is the result:\n```json\n{\"a\": 1}\n```\nHope it helps!";
  CHECK(extracted(reply) == R"({"a":1})");
}

TEST_CASE("a fence without a language tag is read", "[json_extract]") {
  CHECK(extracted("Result:\n```\n[\"x\"]\n```") == R"(["x"])");
  CHECK(extracted("```{\"inline\":true}```") == R"({"inline":true})");
}

TEST_CASE("the first fence that holds an object or array wins",
          "[json_extract]") {
  auto reply = "Example:\n```\nnot json\n```\n"
               "Answer:\n```json\n{\"n\":1}\n```\n"
               "```json\n{\"n\":2}\n```";
  CHECK(extracted(reply) == R"({"n":1})");
}

TEST_CASE("an unclosed fence runs to the end of the reply", "[json_extract]") {
  CHECK(extracted("```json\n{\"a\": 1}\n") == R"({"a":1})");
}

TEST_CASE("a closing think tag without an opening one ends the reasoning",
          "[json_extract]") {
  // Chat templates often emit "<think>" themselves; the reply starts inside.
  CHECK(extracted("so {\"draft\": 1} then</think>{\"final\": 2}")
        == R"({"final":2})");
}

TEST_CASE("an unclosed think block is dropped with everything after it",
          "[json_extract]") {
  CHECK(extracted("{\"a\": 1}\n<think>maybe {\"b\": 2}") == R"({"a":1})");
  CHECK(code_of(error_of("<think>I would answer {\"b\": 2}"))
        == ec::invalid_argument);
}

TEST_CASE("several think blocks are all dropped", "[json_extract]") {
  CHECK(extracted("<think>[1]</think> x <think>{}</think> {\"a\":[]}")
        == R"({"a":[]})");
}

TEST_CASE("braces in prose before the JSON are skipped", "[json_extract]") {
  CHECK(extracted(R"(Use {curly} braces and [square] ones: {"ok": true} done.)")
        == R"({"ok":true})");
}

TEST_CASE("braces, quotes and escapes inside strings do not confuse the scan",
          "[json_extract]") {
  auto reply = R"(Answer: {"s": "a } b { c ] [", "q": "say \"hi\" \\", )"
               R"("u": "\u007d"} trailing {"other": 1})";
  CHECK(extracted(reply)
        == R"({"s":"a } b { c ] [","q":"say \"hi\" \\","u":"}"})");
}

TEST_CASE("a scalar is not a document", "[json_extract]") {
  CHECK(extracted(R"("just a string" then {"a": 1})") == R"({"a":1})");
  CHECK(code_of(error_of("42")) == ec::invalid_argument);
}

TEST_CASE("trailing commas and comments are tolerated", "[json_extract]") {
  CHECK(extracted("{\"a\": [1, 2,], // the list\n}") == R"({"a":[1,2]})");
}

TEST_CASE("a reply without JSON is an invalid_argument error",
          "[json_extract]") {
  for (auto reply : {"", "   \n\t", "I cannot help with that.",
                     "<think>hmm</think>", "{not json}", "[oops"}) {
    INFO("reply: " << reply);
    auto err = error_of(reply);
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err).empty());
  }
  CHECK(message_of(error_of("")) == "the model's reply is empty");
  CHECK(message_of(error_of("Sorry."))
        == "no JSON object or array in the model's reply");
}

TEST_CASE("JSON cut off before its end is reported as such, not as a fragment",
          "[json_extract]") {
  auto reply =
    R"({"updates": [{"id": "e1"}, {"id": "e2"}], "creations": [{"ty)";
  CHECK(message_of(error_of(reply))
        == "the JSON in the model's reply is cut off before its end");
}

TEST_CASE("a bracket inside a malformed value does not yield a fragment",
          "[json_extract]") {
  CHECK(code_of(error_of(R"({"a": {"b": 1} oops})")) == ec::invalid_argument);
}

TEST_CASE("nesting up to the depth limit is accepted, deeper is refused",
          "[json_extract]") {
  auto nested = [](std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  CHECK(extract_json(nested(max_json_depth)));
  CHECK_FALSE(extract_json(nested(max_json_depth + 1)));
  CHECK_FALSE(extract_json(nested(100000)));
}

TEST_CASE("a megabyte of opening braces fails fast", "[json_extract]") {
  CHECK_FALSE(extract_json(std::string(1 << 20, '{')));
  CHECK_FALSE(extract_json("x" + std::string(1 << 20, '[') + "{\"a\":1}"));
  // Only max_scan_starts candidates are tried.
  std::string many;
  for (std::size_t i = 0; i < max_scan_starts; ++i)
    many += "{x} ";
  CHECK_FALSE(extract_json(many + "{\"a\":1}"));
  CHECK(extract_json(many.substr(4) + "{\"a\":1}"));
}

TEST_CASE("random replies never crash and only yield objects or arrays",
          "[json_extract]") {
  static const char* pieces[] = {"{", "}", "[", "]", "\"", "\\", ":", ",",
                                 " ", "\n", "<think>", "</think>", "```",
                                 "```json\n", "a", "1", "true", "null",
                                 "{\"k\":", "\"v\"", "\xC3\xA9", "\xFF"};
  constexpr std::size_t n_pieces = sizeof(pieces) / sizeof(pieces[0]);
  std::mt19937 rng{20240601};
  std::uniform_int_distribution<std::size_t> length(0, 300);
  std::uniform_int_distribution<std::size_t> piece(0, n_pieces - 1);
  std::size_t found = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string reply;
    for (auto n = length(rng); reply.size() < n;)
      reply += pieces[piece(rng)];
    auto v = extract_json(reply);
    if (v) {
      ++found;
      if (!v->is_object() && !v->is_array())
        FAIL("not an object or array from: " << reply);
    } else if (code_of(v.error()) != ec::invalid_argument) {
      FAIL("unexpected error for: " << reply);
    }
  }
  CHECK(found > 0); // the generator does produce documents
}
