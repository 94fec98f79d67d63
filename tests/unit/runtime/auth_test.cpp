// Bearer keys: hashed at rest, compared in constant time, scoped to users.

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "runtime/auth.hpp"

using namespace engram;

namespace {

std::string hex(const authenticator::digest& d) {
  std::string out;
  char buf[3];
  for (auto b : d) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

authenticator make_auth() {
  config::auth_options opts;
  opts.keys.push_back({"ops", "admin", {}, hex(authenticator::sha256("root-key")), ""});
  opts.keys.push_back({"alice-app", "user", {"alice", "carol"}, "", "ALICE_KEY"});
  auto a = authenticator::make(opts, [](const std::string& name) {
    return name == "ALICE_KEY" ? std::optional<std::string>{"alice-key"}
                               : std::nullopt;
  });
  REQUIRE(a);
  return std::move(*a);
}

} // namespace

TEST_CASE("sha256 matches the published test vector", "[auth]") {
  CHECK(hex(authenticator::sha256("abc"))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a configured key authenticates, a wrong or missing one does not",
          "[auth]") {
  auto a = make_auth();
  CHECK(a.enabled());
  auto admin = a.authenticate("Bearer root-key");
  REQUIRE(admin);
  CHECK(admin->admin);
  CHECK(admin->name == "ops");
  auto user = a.authenticate("bearer alice-key"); // scheme is case-insensitive
  REQUIRE(user);
  CHECK_FALSE(user->admin);
  for (auto bad : {"", "Bearer ", "Bearer wrong", "Basic cm9vdC1rZXk=", "root-key"}) {
    auto r = a.authenticate(bad);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == ec::unauthenticated);
  }
}

TEST_CASE("user keys reach only their users; admin reaches everything",
          "[auth]") {
  auto a = make_auth();
  auto user = *a.authenticate("Bearer alice-key");
  auto admin = *a.authenticate("Bearer root-key");
  CHECK_FALSE(authenticator::authorize(user, "alice"));
  CHECK_FALSE(authenticator::authorize(user, "carol"));
  CHECK(code_of(authenticator::authorize(user, "bob")) == ec::forbidden);
  CHECK(code_of(authenticator::authorize(user, "")) == ec::forbidden);
  CHECK_FALSE(authenticator::authorize(admin, "bob"));
  CHECK_FALSE(authenticator::authorize(admin, ""));
}

TEST_CASE("an unset key variable or a malformed digest is a config error "
          "naming the key", "[auth]") {
  config::auth_options opts;
  opts.keys.push_back({"k", "admin", {}, "", "MISSING_VAR"});
  auto r = authenticator::make(opts, [](const std::string&) { return std::nullopt; });
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == ec::invalid_config);
  CHECK(field_of(r.error()) == "auth.keys[0].key_env");
  opts.keys[0] = {"k", "admin", {}, "abc", ""};
  auto d = authenticator::make(opts, {});
  REQUIRE_FALSE(d);
  CHECK(field_of(d.error()) == "auth.keys[0].key_sha256");
}

TEST_CASE("with no keys auth is disabled", "[auth]") {
  auto a = authenticator::make({}, {});
  REQUIRE(a);
  CHECK_FALSE(a->enabled());
}
