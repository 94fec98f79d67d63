// Listen addresses: the forms accepted, the ones refused, and what counts as
// loopback.

#include <catch2/catch.hpp>

#include "config/endpoint.hpp"
#include "messages/errors.hpp"

using namespace engram;
using namespace engram::config;

TEST_CASE("parse_endpoint splits IPv4, localhost and bracketed IPv6",
          "[config]") {
  auto v4 = parse_endpoint("127.0.0.1:8700");
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 8700);
  auto local = parse_endpoint("localhost:0");
  REQUIRE(local);
  CHECK(local->host == "localhost");
  CHECK(local->port == 0);
  auto v6 = parse_endpoint("[::1]:65535");
  REQUIRE(v6);
  CHECK(v6->host == "::1"); // brackets are syntax, not part of the host
  CHECK(v6->port == 65535);
  CHECK(parse_endpoint("0.0.0.0:80"));
  CHECK(parse_endpoint("[::]:80"));
}

TEST_CASE("parse_endpoint refuses host names, bad ports and loose syntax",
          "[config]") {
  for (auto bad : {"", ":", "localhost", "localhost:", "localhost:-1",
                   "localhost:65536", "localhost:000080", "1.2.3:80",
                   "01.2.3.4:80", "engram.internal:80", "[::1:80", "[]:80",
                   "[fe80::1%eth0]:80", "::1:80", " 127.0.0.1:80",
                   "LocalHost:80"}) {
    INFO(bad);
    auto parsed = parse_endpoint(bad);
    REQUIRE_FALSE(parsed);
    CHECK(code_of(parsed.error()) == ec::invalid_config);
  }
}

TEST_CASE("is_loopback_host is true only for addresses of this machine",
          "[config]") {
  for (auto host : {"127.0.0.1", "127.255.0.9", "localhost", "LOCALHOST",
                    "::1", "[::1]", "::ffff:127.0.0.1"}) {
    INFO(host);
    CHECK(is_loopback_host(host));
  }
  for (auto host : {"0.0.0.0", "10.0.0.1", "128.0.0.1", "::", "[::]",
                    "::2", "::ffff:10.0.0.1", "example.com", "", "localhost."}) {
    INFO(host);
    CHECK_FALSE(is_loopback_host(host));
  }
}
