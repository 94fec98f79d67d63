// Log lines are "event key=value ..." and become JSON fields in json format.

#include <catch2/catch.hpp>

#include "runtime/logging.hpp"

using engram::logging::quote;
using engram::logging::split_fields;

TEST_CASE("key=value pairs become fields and the rest is the message",
          "[logging]") {
  auto o = split_fields("journal started last_seq=42 sync=true");
  CHECK(o.at("msg") == "journal started");
  CHECK(o.at("last_seq") == "42");
  CHECK(o.at("sync") == "true");
}

TEST_CASE("quoted values keep their spaces and escaped quotes", "[logging]") {
  auto o = split_fields(R"(http request path="/a b" err="say \"hi\"" status=200)");
  CHECK(o.at("msg") == "http request");
  CHECK(o.at("path") == "/a b");
  CHECK(o.at("err") == "say \"hi\"");
  CHECK(o.at("status") == "200");
}

TEST_CASE("quote() round-trips through split_fields", "[logging]") {
  for (std::string v : {"plain", "two words", "a=b", "q\"uote", "back\\slash", ""}) {
    auto o = split_fields("event v=" + quote(v));
    CHECK(o.at("v") == boost::json::value(v));
  }
}

TEST_CASE("tokens that only look like pairs stay in the message", "[logging]") {
  auto o = split_fields("value =5 and =x");
  CHECK(o.at("msg") == "value =5 and =x");
}
