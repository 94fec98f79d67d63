// Specification of runtime/providers/task_json: the JSON shapes of the
// language tasks and the validation every provider's answer must pass.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "runtime/providers/task_json.hpp"
#include "storage/json_codec.hpp"

using namespace engram;
using namespace engram::providers;

namespace {

template <class T>
caf::error error_of(const caf::expected<T>& x) {
  REQUIRE_FALSE(x); // reading error() of a value is undefined in CAF 0.17
  return x.error();
}

analysis_result sample_analysis() {
  analysis_result r;
  r.updates = {{"e1", "Momo ran."}, {"e2", "The inn \"burned\".\n"}};
  r.creations = {{"character", "A girl named Kenta.", "Kenta"},
                 {"location", "Somewhere \xC3\xA9trange.", ""}};
  return r;
}

std::vector<known_entity> known() {
  return {{"e1", "character", "Momo", {}}, {"e2", "location", "Inn", {}}};
}

struct error_case {
  const char* rule;
  std::string json;
  std::string field;
};

void check_analysis_errors(const std::vector<error_case>& cases) {
  for (auto& c : cases) {
    INFO(c.rule << ": " << c.json);
    auto err = error_of(analysis_from_json(std::string_view{c.json}));
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == c.field);
  }
}

} // namespace

// --- shapes --------------------------------------------------------------

TEST_CASE("an analysis survives a JSON round trip", "[task_json]") {
  auto text = storage::encode_json(to_json(sample_analysis()));
  CHECK(text
        == R"({"updates":[{"lore_entry_id":"e1","update_summary":"Momo ran."},)"
           R"({"lore_entry_id":"e2","update_summary":"The inn \"burned\".\n"}],)"
           R"("creations":[{"entity_type":"character","creation_summary":)"
           R"("A girl named Kenta.","name":"Kenta"},{"entity_type":"location",)"
           "\"creation_summary\":\"Somewhere \xC3\xA9trange.\"}]}");
  auto back = analysis_from_json(std::string_view{text});
  REQUIRE(back);
  CHECK(storage::encode_json(to_json(*back)) == text);
  CHECK(back->creations[1].name.empty());
}

TEST_CASE("a creation survives a JSON round trip", "[task_json]") {
  creation_result r{"Kenta", "A girl.", {"character", "girl"}};
  auto text = storage::encode_json(to_json(r));
  CHECK(text
        == R"({"title":"Kenta","content":"A girl.","tags":["character","girl"]})");
  auto back = creation_from_json(std::string_view{text});
  REQUIRE(back);
  CHECK(back->title == r.title);
  CHECK(back->content == r.content);
  CHECK(back->tags == r.tags);
}

TEST_CASE("model output may carry keys the shapes do not know",
          "[task_json]") {
  auto r = analysis_from_json(std::string_view{
    R"({"reasoning":"x","updates":[{"lore_entry_id":"e1",)"
    R"("update_summary":"s","confidence":0.9}],"creations":[]})"});
  REQUIRE(r);
  CHECK(r->updates.size() == 1);
  auto c = creation_from_json(
    std::string_view{R"({"title":"T","content":"","tags":[],"extra":1})"});
  CHECK(c);
}

TEST_CASE("a creation name may be absent or null", "[task_json]") {
  for (auto json :
       {R"({"updates":[],"creations":[{"entity_type":"t","creation_summary":"s"}]})",
        R"({"updates":[],"creations":[{"entity_type":"t","creation_summary":"s","name":null}]})"}) {
    auto r = analysis_from_json(std::string_view{json});
    REQUIRE(r);
    REQUIRE(r->creations.size() == 1);
    CHECK(r->creations[0].name.empty());
  }
}

// --- parse errors ----------------------------------------------------------

TEST_CASE("text that is not JSON is a malformed request", "[task_json]") {
  auto err = error_of(analysis_from_json(std::string_view{"{\"updates\":"}));
  CHECK(code_of(err) == ec::malformed_request);
  err = error_of(creation_from_json(std::string_view{"title"}));
  CHECK(code_of(err) == ec::malformed_request);
}

TEST_CASE("every analysis shape error names its field", "[task_json]") {
  check_analysis_errors({
    {"document not an object", R"([])", ""},
    {"updates missing", R"({"creations":[]})", "updates"},
    {"updates not an array", R"({"updates":{},"creations":[]})", "updates"},
    {"update not an object", R"({"updates":["e1"],"creations":[]})",
     "updates[0]"},
    {"id missing",
     R"({"updates":[{"update_summary":"s"}],"creations":[]})",
     "updates[0].lore_entry_id"},
    {"id not a string",
     R"({"updates":[{"lore_entry_id":7,"update_summary":"s"}],"creations":[]})",
     "updates[0].lore_entry_id"},
    {"id null",
     R"({"updates":[{"lore_entry_id":null,"update_summary":"s"}],"creations":[]})",
     "updates[0].lore_entry_id"},
    {"summary missing in the second update",
     R"({"updates":[{"lore_entry_id":"a","update_summary":"s"},)"
     R"({"lore_entry_id":"b"}],"creations":[]})",
     "updates[1].update_summary"},
    {"creations missing", R"({"updates":[]})", "creations"},
    {"creations not an array", R"({"updates":[],"creations":null})",
     "creations"},
    {"creation not an object", R"({"updates":[],"creations":[1]})",
     "creations[0]"},
    {"type missing",
     R"({"updates":[],"creations":[{"creation_summary":"s"}]})",
     "creations[0].entity_type"},
    {"summary not a string",
     R"({"updates":[],"creations":[{"entity_type":"t","creation_summary":[]}]})",
     "creations[0].creation_summary"},
    {"name not a string",
     R"({"updates":[],"creations":[{"entity_type":"t","creation_summary":"s",)"
     R"("name":false}]})",
     "creations[0].name"},
  });
}

TEST_CASE("every creation shape error names its field", "[task_json]") {
  std::vector<error_case> cases{
    {"document not an object", R"("Kenta")", ""},
    {"title missing", R"({"content":"","tags":[]})", "title"},
    {"title not a string", R"({"title":1,"content":"","tags":[]})", "title"},
    {"content missing", R"({"title":"T","tags":[]})", "content"},
    {"tags missing", R"({"title":"T","content":""})", "tags"},
    {"tags not an array", R"({"title":"T","content":"","tags":"a"})", "tags"},
    {"a tag not a string", R"({"title":"T","content":"","tags":["a",2]})",
     "tags[1]"},
  };
  for (auto& c : cases) {
    INFO(c.rule << ": " << c.json);
    auto err = error_of(creation_from_json(std::string_view{c.json}));
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == c.field);
  }
}

TEST_CASE("error messages say which field broke which rule", "[task_json]") {
  auto err = error_of(analysis_from_json(
    std::string_view{R"({"updates":[{"lore_entry_id":1}],"creations":[]})"}));
  CHECK(message_of(err) == "updates[0].lore_entry_id: must be a string");
  err = error_of(analysis_from_json(std::string_view{"[]"}));
  CHECK(message_of(err) == "document: must be a JSON object");
}

// --- validation --------------------------------------------------------------

TEST_CASE("a well-formed analysis of known entities is valid",
          "[task_json][validate]") {
  CHECK_FALSE(validate(sample_analysis(), known()));
  CHECK_FALSE(validate(analysis_result{}, {}));
}

TEST_CASE("an update must name a known entity, once",
          "[task_json][validate]") {
  SECTION("unknown id") {
    auto r = sample_analysis();
    r.updates[1].lore_entry_id = "e9";
    auto err = validate(r, known());
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == "updates[1].lore_entry_id");
    CHECK(message_of(err) == "updates[1].lore_entry_id: unknown entity 'e9'");
  }
  SECTION("a long unknown id is quoted only in part") {
    auto r = sample_analysis();
    r.updates[0].lore_entry_id = std::string(300, 'x');
    auto msg = message_of(validate(r, known()));
    CHECK(msg == "updates[0].lore_entry_id: unknown entity '"
                   + std::string(128, 'x') + "...'");
  }
  SECTION("duplicate id") {
    auto r = sample_analysis();
    r.updates.push_back({"e1", "Again."});
    auto err = validate(r, known());
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == "updates[2].lore_entry_id");
    CHECK(message_of(err)
          == "updates[2].lore_entry_id: duplicate of updates[0] (entity 'e1')");
  }
}

TEST_CASE("summaries are 1..8000 characters and not blank",
          "[task_json][validate]") {
  struct summary_case {
    const char* rule;
    std::string summary;
    bool valid;
  };
  std::vector<summary_case> cases{
    {"empty", "", false},
    {"blank", " \n\t", false},
    {"8000 two-byte characters", std::string(8000 * 2, '\0'), true},
    {"8001 characters", std::string(8001, 'a'), false},
  };
  // 'é' repeated: 8000 characters in 16000 bytes.
  for (std::size_t i = 0; i < cases[2].summary.size(); i += 2) {
    cases[2].summary[i] = '\xC3';
    cases[2].summary[i + 1] = '\xA9';
  }
  for (auto& c : cases) {
    INFO(c.rule);
    auto u = sample_analysis();
    u.updates[0].update_summary = c.summary;
    auto err = validate(u, known());
    CHECK(!err == c.valid);
    if (err)
      CHECK(field_of(err) == "updates[0].update_summary");
    auto k = sample_analysis();
    k.creations[1].creation_summary = c.summary;
    err = validate(k, known());
    CHECK(!err == c.valid);
    if (err)
      CHECK(field_of(err) == "creations[1].creation_summary");
  }
}

TEST_CASE("entity types match [A-Za-z0-9_.:-]{1,64}", "[task_json][validate]") {
  std::vector<std::string> good{"character", "a", "Item_2.v1:x-y",
                                std::string(64, 't')};
  for (auto& ok : good) {
    INFO(ok);
    CHECK(is_valid_entity_type(ok));
  }
  std::vector<std::string> bad{"", "two words", "a/b", "caf\xC3\xA9",
                               std::string(65, 't')};
  for (auto& type : bad) {
    INFO(type);
    CHECK_FALSE(is_valid_entity_type(type));
    auto r = sample_analysis();
    r.creations[0].entity_type = type;
    auto err = validate(r, known());
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == "creations[0].entity_type");
  }
}

TEST_CASE("a creation name must fit in a title", "[task_json][validate]") {
  auto r = sample_analysis();
  r.creations[0].name = std::string(512, 'K');
  CHECK_FALSE(validate(r, known()));
  r.creations[0].name += "K";
  auto err = validate(r, known());
  CHECK(field_of(err) == "creations[0].name");
}

TEST_CASE("a creation result obeys the entity API's limits",
          "[task_json][validate]") {
  auto valid = [] {
    return creation_result{"Kenta", "A girl.", {"character", "girl"}};
  };
  CHECK_FALSE(validate(valid()));
  struct limit_case {
    const char* rule;
    creation_result r;
    std::string field;
  };
  std::vector<limit_case> cases;
  cases.push_back({"empty title", valid(), "title"});
  cases.back().r.title = "";
  cases.push_back({"blank title", valid(), "title"});
  cases.back().r.title = "  ";
  cases.push_back({"title over 512", valid(), "title"});
  cases.back().r.title = std::string(513, 'T');
  cases.push_back({"content over 65536", valid(), "content"});
  cases.back().r.content = std::string(65537, 'c');
  cases.push_back({"more than 64 tags", valid(), "tags"});
  cases.back().r.tags.assign(65, "t");
  cases.push_back({"an empty tag", valid(), "tags[1]"});
  cases.back().r.tags[1] = "";
  cases.push_back({"a tag over 64", valid(), "tags[0]"});
  cases.back().r.tags[0] = std::string(65, 'g');
  for (auto& c : cases) {
    INFO(c.rule);
    auto err = validate(c.r);
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == c.field);
  }
}
