// Hostile bodies: random mutations of valid entity bodies never crash the
// parser and always end as either valid input or a 400/422-class error.

#include <catch2/catch.hpp>

#include <random>

#include "messages/errors.hpp"
#include "runtime/api/entity_input.hpp"

using namespace engram;

namespace {

std::string mutate(std::string s, std::mt19937& rng) {
  std::uniform_int_distribution<int> op(0, 3);
  std::uniform_int_distribution<int> byte(0, 255);
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    auto pos = rng() % s.size();
    switch (op(rng)) {
      case 0: s[pos] = static_cast<char>(byte(rng)); break;
      case 1: s.erase(pos, 1 + rng() % 4); break;
      case 2: s.insert(pos, 1, "{}[]\",:\\0"[rng() % 9]); break;
      default: s.insert(pos, s.substr(0, rng() % s.size())); break;
    }
  }
  return s;
}

bool acceptable(const caf::expected<api::entity_fields>& r) {
  if (r)
    return true;
  auto code = code_of(r.error());
  return code == ec::malformed_request || code == ec::invalid_argument;
}

} // namespace

TEST_CASE("mutated entity bodies are parsed or refused, never crash",
          "[entity_input][fuzz]") {
  std::mt19937 rng(20261122);
  const std::string seeds[] = {
    R"({"id":"momo","type":"character","title":"Momo","content":"A cat.","tags":["cat"]})",
    R"({"type":"place","title":"Tokyo","version":3})",
    R"({"content":"x","tags":[]})",
  };
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    auto body = mutate(seeds[i % 3], rng);
    auto create = api::parse_entity_create(body);
    auto replace = api::parse_entity_replace(body, "momo");
    auto patch = api::parse_entity_patch(body);
    REQUIRE(acceptable(create));
    REQUIRE(acceptable(replace));
    REQUIRE(acceptable(patch));
    accepted += create ? 1 : 0;
  }
  // Some mutations keep the body valid: the fuzzer reaches the field checks.
  CHECK(accepted > 0);
}
