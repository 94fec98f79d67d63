// Tests runtime/api/intent_input.cpp and storage/intent_record.cpp.

#include "runtime/api/intent_input.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "messages/errors.hpp"
#include "storage/intent_record.hpp"

using namespace engram;

TEST_CASE("intent create bodies: id optional, description required and not blank",
          "[intent_input]") {
  auto ok = api::parse_intent_create(R"({"id":"trip-1","description":"Plan it"})");
  REQUIRE(ok);
  CHECK(*ok->id == "trip-1");
  CHECK(ok->description == "Plan it");
  auto no_id = api::parse_intent_create(R"({"description":"Plan it"})");
  REQUIRE(no_id);
  CHECK(!no_id->id);

  struct bad_case {
    const char* body;
    ec code;
    const char* field;
  };
  const bad_case bad[] = {
    {R"({})", ec::invalid_argument, "description"},
    {R"({"description":""})", ec::invalid_argument, "description"},
    {R"({"description":" \n "})", ec::invalid_argument, "description"},
    {R"({"description":7})", ec::invalid_argument, "description"},
    {R"({"id":"","description":"x"})", ec::invalid_argument, "id"},
    {R"({"id":"a/b","description":"x"})", ec::invalid_argument, "id"},
    {R"({"description":"x","extra":1})", ec::invalid_argument, "extra"},
    {R"([1])", ec::malformed_request, ""},
  };
  for (auto& b : bad) {
    INFO(b.body);
    auto r = api::parse_intent_create(b.body);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == b.code);
    if (*b.field)
      CHECK(field_of(r.error()) == b.field);
  }
  std::string long_text(api::max_intent_description_chars + 1, 'x');
  auto too_long = api::parse_intent_create("{\"description\":\"" + long_text + "\"}");
  REQUIRE_FALSE(too_long);
  CHECK(field_of(too_long.error()) == "description");
}

TEST_CASE("intent close bodies and status filters", "[intent_input]") {
  auto r = api::parse_intent_close(R"({"resolution":"Done, booked."})");
  REQUIRE(r);
  CHECK(*r == "Done, booked.");
  CHECK_FALSE(api::parse_intent_close(R"({})"));
  CHECK_FALSE(api::parse_intent_close(R"({"resolution":"  "})"));
  CHECK_FALSE(api::parse_intent_close(R"({"resolution":"x","why":"y"})"));

  std::string open = "open", closed = "closed", other = "done";
  CHECK(*api::parse_intent_status(nullptr) == std::nullopt);
  CHECK(*api::parse_intent_status(&open) == std::optional<bool>{false});
  CHECK(*api::parse_intent_status(&closed) == std::optional<bool>{true});
  auto bad = api::parse_intent_status(&other);
  REQUIRE_FALSE(bad);
  CHECK(field_of(bad.error()) == "status");
}

TEST_CASE("intent records round-trip and damaged ones name the field",
          "[intent_input][storage]") {
  storage::intent_record i{"trip", "Plan the trip", true, "Booked",
                           "2026-11-22T10:00:00.000Z", "2026-11-22T11:00:00.000Z",
                           "2026-11-22T11:00:00.000Z"};
  auto text = boost::json::serialize(storage::to_json(i));
  auto back = storage::intent_from_json(text);
  REQUIRE(back);
  CHECK(back->id == "trip");
  CHECK(back->closed);
  CHECK(back->resolution == "Booked");
  CHECK(back->closed_at == i.closed_at);

  storage::intent_record open{"o", "Open one", false, "", "t", "t", ""};
  auto json = storage::to_json(open);
  CHECK(json.at("resolution").is_null());
  CHECK(json.at("closed_at").is_null());
  auto open_back = storage::intent_from_json(boost::json::serialize(json));
  REQUIRE(open_back);
  CHECK_FALSE(open_back->closed);

  auto bad = storage::intent_from_json(
    R"({"id":"x","description":"d","status":"maybe","resolution":null,)"
    R"("created_at":"t","updated_at":"t","closed_at":null})");
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad.error()) == ec::storage_failure);
  CHECK(field_of(bad.error()) == "status");
  CHECK_FALSE(storage::intent_from_json("not json"));
  CHECK(storage::intent_key("u", "a") < storage::intent_key("u", "b"));
}
