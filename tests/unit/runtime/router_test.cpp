// Specification of runtime/http/router: which route a (method, path) picks,
// and which error it reports when none fits.

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "runtime/http/router.hpp"

using namespace engram;
using namespace engram::http;

namespace {

// A handler that does nothing: these tests only look at the match.
route_handler noop() {
  return [](request, path_params, responder) {};
}

router make_entity_router() {
  router r;
  r.add("GET", "/v1/users/{user}/entities/{id}", noop());
  r.add("DELETE", "/v1/users/{user}/entities/{id}", noop());
  r.add("POST", "/v1/users/{user}/entities/search", noop());
  r.add("GET", "/v1/node", noop());
  return r;
}

} // namespace

TEST_CASE("a literal segment beats a parameter in the same position",
          "[router]") {
  router r;
  // Registered first, so precedence cannot come from registration order.
  r.add("POST", "/v1/users/{user}/entities/{id}", noop());
  r.add("POST", "/v1/users/{user}/entities/search", noop());
  auto m = r.match("POST", "/v1/users/u1/entities/search");
  REQUIRE(m.handler != nullptr);
  CHECK(m.pattern == "/v1/users/{user}/entities/search");
  CHECK(m.params == path_params{{"user", "u1"}});
}

TEST_CASE("parameters are bound by name", "[router]") {
  auto r = make_entity_router();
  auto m = r.match("GET", "/v1/users/alice/entities/e-7");
  REQUIRE(m.handler != nullptr);
  CHECK_FALSE(m.err);
  CHECK(m.pattern == "/v1/users/{user}/entities/{id}");
  CHECK(m.params == path_params{{"user", "alice"}, {"id", "e-7"}});
}

TEST_CASE("a path no route matches is a 404 naming method and path",
          "[router]") {
  auto r = make_entity_router();
  auto m = r.match("GET", "/v1/x");
  CHECK(m.handler == nullptr);
  CHECK(code_of(m.err) == ec::not_found);
  CHECK(message_of(m.err) == "no route for GET /v1/x");
  CHECK(m.allow.empty());
}

TEST_CASE("a known path with an unknown method is a 405 listing the allowed "
          "methods",
          "[router]") {
  auto r = make_entity_router();
  SECTION("one pattern, several methods") {
    auto m = r.match("PUT", "/v1/users/u/entities/e1");
    CHECK(m.handler == nullptr);
    CHECK(code_of(m.err) == ec::method_not_allowed);
    CHECK(m.allow == "GET, DELETE");
  }
  SECTION("every pattern matching the path contributes, each method once") {
    auto m = r.match("PUT", "/v1/users/u/entities/search");
    CHECK(code_of(m.err) == ec::method_not_allowed);
    CHECK(m.allow == "GET, DELETE, POST");
  }
  SECTION("HEAD is not special") {
    auto m = r.match("HEAD", "/v1/node");
    CHECK(code_of(m.err) == ec::method_not_allowed);
    CHECK(m.allow == "GET");
  }
}

TEST_CASE("an invalid id parameter is a 422 naming the parameter",
          "[router]") {
  auto r = make_entity_router();
  auto m = r.match("GET", "/v1/users/u1/entities/bad id");
  CHECK(m.handler == nullptr);
  CHECK(code_of(m.err) == ec::invalid_argument);
  CHECK(field_of(m.err) == "path.id");
  CHECK(message_of(m.err).find("[A-Za-z0-9_.:-]{1,128}") != std::string::npos);
  CHECK(m.params.empty());
}

TEST_CASE("ids may be 128 characters long, not 129", "[router]") {
  auto r = make_entity_router();
  std::string ok(128, 'a');
  std::string too_long(129, 'a');
  CHECK(is_valid_id(ok));
  CHECK_FALSE(is_valid_id(too_long));
  CHECK(r.match("GET", "/v1/users/" + ok + "/entities/e").handler != nullptr);
  auto m = r.match("GET", "/v1/users/" + too_long + "/entities/e");
  CHECK(code_of(m.err) == ec::invalid_argument);
  CHECK(field_of(m.err) == "path.user");
}

TEST_CASE("ids allow letters, digits and _ . : - only", "[router]") {
  CHECK(is_valid_id("Az09_.:-"));
  CHECK_FALSE(is_valid_id(""));
  CHECK_FALSE(is_valid_id("a/b"));
  CHECK_FALSE(is_valid_id("a b"));
  CHECK_FALSE(is_valid_id("é"));
}

TEST_CASE("a trailing slash makes a different path, so it does not match",
          "[router]") {
  auto r = make_entity_router();
  // "/v1/node/" has an empty last segment: no alias, no redirect, a 404.
  CHECK(code_of(r.match("GET", "/v1/node/").err) == ec::not_found);
  // A parameter never matches the empty segment either.
  CHECK(code_of(r.match("GET", "/v1/users/u/entities/").err)
        == ec::not_found);
  CHECK(code_of(r.match("GET", "/v1/users//entities/e").err)
        == ec::not_found);
}

TEST_CASE("a route's trailing slash is matched literally", "[router]") {
  router r;
  r.add("GET", "/v1/dir/", noop());
  CHECK(r.match("GET", "/v1/dir/").handler != nullptr);
  CHECK(code_of(r.match("GET", "/v1/dir").err) == ec::not_found);
}

TEST_CASE("the root path and paths without a leading slash", "[router]") {
  router r;
  r.add("GET", "/", noop());
  CHECK(r.match("GET", "/").handler != nullptr);
  CHECK(code_of(r.match("GET", "").err) == ec::not_found);
  CHECK(code_of(r.match("GET", "v1").err) == ec::not_found);
}

TEST_CASE("equally specific patterns resolve to the first registered",
          "[router]") {
  router r;
  r.add("GET", "/a/{x}/c", noop());
  r.add("GET", "/a/b/{y}", noop());
  auto m = r.match("GET", "/a/b/c");
  CHECK(m.pattern == "/a/{x}/c");
}

TEST_CASE("the matched handler is the registered one", "[router]") {
  router r;
  int called = 0;
  r.add("GET", "/v1/node", [&](request, path_params, responder) { ++called; });
  auto m = r.match("GET", "/v1/node");
  REQUIRE(m.handler != nullptr);
  (*m.handler)(request{}, {}, [](response) {});
  CHECK(called == 1);
}
