// Specification of the export webhook signature
// (runtime/exports/webhook_signature): HMAC-SHA256 as RFC 4231 publishes it,
// and the header value over "<timestamp>.<body>".

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "runtime/exports/webhook_signature.hpp"

using namespace engram::exports;

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 1", "[exports][webhook]") {
  std::string key(20, '\x0b');
  CHECK(hmac_sha256_hex(key, "Hi There")
        == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test case 2", "[exports][webhook]") {
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?")
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("hmac_sha256_hex matches RFC 4231 test cases 3 and 6",
          "[exports][webhook]") {
  // Case 3: 20-byte key 0xaa, 50 bytes 0xdd.
  CHECK(hmac_sha256_hex(std::string(20, '\xaa'), std::string(50, '\xdd'))
        == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Case 6: a 131-byte key, longer than the block size, is hashed first.
  CHECK(hmac_sha256_hex(std::string(131, '\xaa'),
                        "Test Using Larger Than Block-Size Key - Hash Key First")
        == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("hmac_sha256_hex is 64 lower-case hex digits, key and message matter",
          "[exports][webhook]") {
  auto a = hmac_sha256_hex("key", "message");
  REQUIRE(a.size() == 64);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(hmac_sha256_hex("key", "message") == a);
  CHECK(hmac_sha256_hex("key", "message!") != a);
  CHECK(hmac_sha256_hex("kez", "message") != a);
  // Empty key and empty message are allowed (RFC 2104: any key length).
  auto empty = hmac_sha256_hex("", "");
  CHECK(empty
        == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  // Bytes after a NUL count.
  CHECK(hmac_sha256_hex(std::string("k\0a", 3), "m")
        != hmac_sha256_hex(std::string("k\0b", 3), "m"));
  CHECK(hmac_sha256_hex("k", std::string("m\0a", 3))
        != hmac_sha256_hex("k", std::string("m\0b", 3)));
}

TEST_CASE("webhook_signature is sha256= and the HMAC of timestamp.body",
          "[exports][webhook]") {
  std::string body = R"({"user":"alice","version":3})";
  auto sig = webhook_signature("s3cret", 1795341600, body);
  CHECK(sig == "sha256=" + hmac_sha256_hex("s3cret", "1795341600." + body));
  REQUIRE(sig.size() == 7 + 64);
  CHECK(sig.substr(0, 7) == "sha256=");

  // An independently computed value (Python's hmac module).
  CHECK(sig
        == "sha256=2f9324f7523f23cefd85b935223ccaa215fc96d396992bcb0ad3f691685a713f");

  // The timestamp is signed: another second, another signature.
  CHECK(webhook_signature("s3cret", 1795341601, body) != sig);
  // The body is signed.
  CHECK(webhook_signature("s3cret", 1795341600, body + " ") != sig);
  // The key is used.
  CHECK(webhook_signature("s3cret2", 1795341600, body) != sig);
  // Negative and zero timestamps are written as decimal integers.
  CHECK(webhook_signature("k", -5, "b") == "sha256=" + hmac_sha256_hex("k", "-5.b"));
  CHECK(webhook_signature("k", 0, "") == "sha256=" + hmac_sha256_hex("k", "0."));
}
