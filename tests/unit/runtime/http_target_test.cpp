// Specification of runtime/http/detail/target and error_body: how request
// targets are decoded and how errors look on the wire.

#include <catch2/catch.hpp>

#include <caf/sec.hpp>

#include "messages/errors.hpp"
#include "runtime/http/detail/target.hpp"
#include "runtime/http/error_body.hpp"

using namespace engram;
using namespace engram::http;
using namespace engram::http::detail;

TEST_CASE("percent-decoding turns %XX into bytes and '+' into space only in "
          "queries",
          "[http][target]") {
  CHECK(percent_decode("/a%20b%2Fc", false) == std::string{"/a b/c"});
  CHECK(percent_decode("a+b", false) == std::string{"a+b"});
  CHECK(percent_decode("a+b%2B", true) == std::string{"a b+"});
}

TEST_CASE("bad escapes and NUL bytes are rejected", "[http][target]") {
  CHECK_FALSE(percent_decode("%", false));
  CHECK_FALSE(percent_decode("ab%4", false));
  CHECK_FALSE(percent_decode("%zz", false));
  CHECK_FALSE(percent_decode("a%00b", false));
}

TEST_CASE("a target splits into decoded path, raw query and decoded "
          "parameters",
          "[http][target]") {
  request r;
  REQUIRE_FALSE(parse_target("/v1/a%20b?x=1+2&y=%41&flag&&x=dup", r));
  CHECK(r.path == "/v1/a b");
  CHECK(r.query_string == "x=1+2&y=%41&flag&&x=dup");
  CHECK(r.query.at("x") == "1 2"); // the first of repeated keys wins
  CHECK(r.query.at("y") == "A");
  CHECK(r.query.at("flag").empty());
}

TEST_CASE("a target that is not an absolute path or has bad escapes is "
          "malformed",
          "[http][target]") {
  request r;
  auto no_slash = parse_target("http://x/v1", r);
  CHECK(code_of(no_slash) == ec::malformed_request);
  CHECK(field_of(no_slash) == "path");
  CHECK(field_of(parse_target("/v1/%zz", r)) == "path");
  CHECK(field_of(parse_target("/v1?q=%0", r)) == "query");
}

TEST_CASE("client request ids are echoed only when short and visible ASCII",
          "[http][target]") {
  CHECK(is_acceptable_request_id("abc-123"));
  CHECK(is_acceptable_request_id(std::string(128, 'x')));
  CHECK_FALSE(is_acceptable_request_id(std::string(129, 'x')));
  CHECK_FALSE(is_acceptable_request_id(""));
  CHECK_FALSE(is_acceptable_request_id("a b"));
  CHECK_FALSE(is_acceptable_request_id("a\tb"));
  CHECK(choose_request_id("mine") == "mine");
}

TEST_CASE("generated request ids are 16 lower-case hex characters",
          "[http][target]") {
  auto a = make_request_id();
  auto b = make_request_id();
  CHECK(a.size() == 16);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}

TEST_CASE("each error code maps to its HTTP status", "[http][error]") {
  CHECK(status_of(ec::malformed_request) == 400);
  CHECK(status_of(ec::invalid_argument) == 422);
  CHECK(status_of(ec::not_found) == 404);
  CHECK(status_of(ec::method_not_allowed) == 405);
  CHECK(status_of(ec::conflict) == 409);
  CHECK(status_of(ec::too_large) == 413);
  CHECK(status_of(ec::unsupported_media_type) == 415);
  CHECK(status_of(ec::unauthenticated) == 401);
  CHECK(status_of(ec::forbidden) == 403);
  CHECK(status_of(ec::overloaded) == 429);
  CHECK(status_of(ec::unavailable) == 503);
  CHECK(status_of(ec::storage_failure) == 500);
  CHECK(status_of(ec::internal) == 500);
}

TEST_CASE("error bodies carry code, escaped message and field",
          "[http][error]") {
  auto res = error_response(
    make_error(ec::invalid_argument, "bad \"name\"\n", "body.name"));
  CHECK(res.status == 422);
  CHECK(res.content_type == "application/json");
  CHECK(res.body
        == R"({"error":{"code":"invalid_argument","message":"bad \"name\"\n","field":"body.name"}})");
}

TEST_CASE("error bodies omit an empty field", "[http][error]") {
  auto res = error_response(make_error(ec::not_found, "no route for GET /x"));
  CHECK(res.status == 404);
  CHECK(res.body
        == R"({"error":{"code":"not_found","message":"no route for GET /x"}})");
}

TEST_CASE("a CAF request timeout is a 503, other foreign errors a 500",
          "[http][error]") {
  CHECK(error_response(caf::make_error(caf::sec::request_timeout)).status
        == 503);
  auto other = error_response(caf::make_error(caf::sec::invalid_argument));
  CHECK(other.status == 500);
  CHECK(other.body.find(R"("code":"internal")") != std::string::npos);
}
