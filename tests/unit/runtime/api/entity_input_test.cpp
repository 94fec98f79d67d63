// Entity request bodies: every rule has a precise error naming its field.

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "runtime/api/entity_input.hpp"

using namespace engram;
using namespace engram::api;

namespace {

template <class T>
std::pair<ec, std::string> failure(const caf::expected<T>& r) {
  REQUIRE_FALSE(r);
  return {code_of(r.error()), field_of(r.error())};
}

} // namespace

TEST_CASE("a complete create body is accepted as given", "[entity_input]") {
  auto f = parse_entity_create(
    R"({"id":"momo","type":"character","title":"Momo","content":"A cat.","tags":["cat","pet"]})");
  REQUIRE(f);
  CHECK(*f->id == "momo");
  CHECK(*f->type == "character");
  CHECK(*f->title == "Momo");
  CHECK(*f->content == "A cat.");
  CHECK(f->tags->size() == 2);
}

TEST_CASE("create needs type and title; id, content and tags are optional",
          "[entity_input]") {
  auto f = parse_entity_create(R"({"type":"place","title":"Tokyo"})");
  REQUIRE(f);
  CHECK_FALSE(f->id);
  CHECK_FALSE(f->content);
  CHECK(failure(parse_entity_create(R"({"title":"x"})"))
        == std::make_pair(ec::invalid_argument, std::string("type")));
  CHECK(failure(parse_entity_create(R"({"type":"x"})"))
        == std::make_pair(ec::invalid_argument, std::string("title")));
}

TEST_CASE("malformed bodies are 400-class errors, not 422", "[entity_input]") {
  CHECK(failure(parse_entity_create("")).first == ec::malformed_request);
  CHECK(failure(parse_entity_create("{")).first == ec::malformed_request);
  CHECK(failure(parse_entity_create("[1,2]")).first == ec::malformed_request);
  CHECK(failure(parse_entity_create("\"text\"")).first == ec::malformed_request);
}

TEST_CASE("types, limits and unknown fields are checked field by field",
          "[entity_input]") {
  using p = std::pair<ec, std::string>;
  auto inv = [](const char* f) { return p{ec::invalid_argument, f}; };
  CHECK(failure(parse_entity_create(R"({"type":"t","title":5})")) == inv("title"));
  CHECK(failure(parse_entity_create(R"({"type":"t","title":"   "})")) == inv("title"));
  CHECK(failure(parse_entity_create(R"({"type":"a b","title":"x"})")) == inv("type"));
  CHECK(failure(parse_entity_create(R"({"id":"a/b","type":"t","title":"x"})")) == inv("id"));
  CHECK(failure(parse_entity_create(R"({"type":"t","title":"x","tags":[1]})")) == inv("tags[0]"));
  CHECK(failure(parse_entity_create(R"({"type":"t","title":"x","tags":"a"})")) == inv("tags"));
  CHECK(failure(parse_entity_create(R"({"type":"t","title":"x","extra":1})")) == inv("extra"));
  std::string long_title(max_title_chars + 1, 'a');
  CHECK(failure(parse_entity_create(R"({"type":"t","title":")" + long_title + "\"}"))
        == inv("title"));
  std::string ok_title(max_title_chars, 'a');
  CHECK(parse_entity_create(R"({"type":"t","title":")" + ok_title + "\"}"));
}

TEST_CASE("limits count characters, not bytes", "[entity_input]") {
  std::string title;
  for (size_t i = 0; i < max_title_chars; ++i)
    title += "\xC3\xA9"; // é: two bytes, one character
  CHECK(parse_entity_create(R"({"type":"t","title":")" + title + "\"}"));
}

TEST_CASE("replace keeps the path id and checks a body id against it",
          "[entity_input]") {
  auto f = parse_entity_replace(R"({"type":"t","title":"x","version":3})", "e1");
  REQUIRE(f);
  CHECK(*f->id == "e1");
  CHECK(*f->expected_version == 3);
  CHECK(failure(parse_entity_replace(R"({"id":"e2","type":"t","title":"x"})", "e1"))
        .second == "id");
}

TEST_CASE("patch needs at least one change", "[entity_input]") {
  CHECK(parse_entity_patch(R"({"content":"new"})"));
  CHECK(failure(parse_entity_patch(R"({})")).second == "body");
  CHECK(failure(parse_entity_patch(R"({"version":2})")).second == "body");
  CHECK(failure(parse_entity_patch(R"({"version":0,"title":"x"})")).second == "version");
  CHECK(failure(parse_entity_patch(R"({"id":"x","title":"x"})")).second == "id");
}
