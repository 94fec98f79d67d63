// Tests runtime/api/export_input.cpp: export trigger, manual export,
// document and session-end bodies are read strictly (every error names its
// field and has the right code), the node's own trigger events round-trip,
// and hostile bodies are parsed or refused without crashing.

#include "runtime/api/export_input.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "messages/errors.hpp"

using namespace engram;
using exports::trigger_kind;

namespace {

struct bad_case {
  std::string body;
  ec code;
  const char* field;
};

template <class T>
void check_refused(const caf::expected<T>& r, const bad_case& b) {
  INFO(b.body);
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == b.code);
  CHECK(field_of(r.error()) == b.field);
}

void check_same(const api::trigger_fields& a, const api::trigger_fields& b) {
  CHECK(a.kind == b.kind);
  CHECK(a.force == b.force);
  CHECK(a.concept_count == b.concept_count);
  CHECK(a.change_type == b.change_type);
  CHECK(a.high_impact == b.high_impact);
  CHECK(a.session_turns == b.session_turns);
  CHECK(a.label == b.label);
}

api::trigger_fields fields(trigger_kind kind, std::string label = {}) {
  api::trigger_fields t;
  t.kind = kind;
  t.label = std::move(label);
  return t;
}

} // namespace

// --- triggers ----------------------------------------------------------------

TEST_CASE("every public trigger kind is accepted with its fields",
          "[export_input]") {
  struct ok_case {
    const char* body;
    trigger_kind kind;
    bool force;
    uint32_t concept_count;
    const char* change_type;
    bool high_impact;
    uint32_t session_turns;
    const char* label;
  };
  const ok_case ok[] = {
    {R"({"trigger":"intent_closed"})", trigger_kind::intent_closed, false, 0,
     "", false, 0, "intent_closed"},
    {R"({"trigger":"document_upload"})", trigger_kind::document_upload, false,
     0, "", false, 0, "document_upload"},
    {R"({"trigger":"concept_change","concept_count":7})",
     trigger_kind::concept_change, false, 7, "", false, 0, "concept_change:7"},
    {R"({"trigger":"concept_change","concept_count":0})",
     trigger_kind::concept_change, false, 0, "", false, 0, "concept_change:0"},
    {R"({"trigger":"concept_change","concept_count":1000000})",
     trigger_kind::concept_change, false, 1000000, "", false, 0,
     "concept_change:1000000"},
    {R"({"trigger":"concept_change","concept_count":12,"change_type":"merge"})",
     trigger_kind::concept_change, false, 12, "merge", false, 0,
     "concept_change:merge"},
    {R"({"trigger":"concept_change","force":true})",
     trigger_kind::concept_change, true, 0, "", false, 0, "concept_change:0"},
    {R"({"trigger":"concept_change","force":true,"change_type":"rename"})",
     trigger_kind::concept_change, true, 0, "rename", false, 0,
     "concept_change:rename"},
    {R"({"trigger":"session_end"})", trigger_kind::session_end, false, 0, "",
     false, 0, "session_end"},
    {R"({"trigger":"session_end","high_impact":true,"session_turns":12})",
     trigger_kind::session_end, false, 0, "", true, 12, "session_end"},
    {R"({"trigger":"session_end","high_impact":false,"session_turns":0})",
     trigger_kind::session_end, false, 0, "", false, 0, "session_end"},
    {R"({"trigger":"session_end","session_turns":100000000})",
     trigger_kind::session_end, false, 0, "", false, 100000000, "session_end"},
    {R"({"trigger":"manual"})", trigger_kind::manual, false, 0, "", false, 0,
     "manual"},
    {R"({"force":true,"trigger":"manual"})", trigger_kind::manual, true, 0, "",
     false, 0, "manual"},
    {R"({"trigger":"manual","force":false})", trigger_kind::manual, false, 0,
     "", false, 0, "manual"},
    {R"({"trigger":"intent_closed","change_type":null})",
     trigger_kind::intent_closed, false, 0, "", false, 0, "intent_closed"},
    {R"({"trigger":"intent_closed","concept_count":null})",
     trigger_kind::intent_closed, false, 0, "", false, 0, "intent_closed"},
  };
  for (auto& c : ok) {
    INFO(c.body);
    auto r = api::parse_trigger_request(c.body);
    REQUIRE(r);
    CHECK(r->kind == c.kind);
    CHECK(r->force == c.force);
    CHECK(r->concept_count == c.concept_count);
    CHECK(r->change_type == c.change_type);
    CHECK(r->high_impact == c.high_impact);
    CHECK(r->session_turns == c.session_turns);
    CHECK(r->label == c.label);
  }
}

TEST_CASE("bad trigger requests are refused, naming the field",
          "[export_input]") {
  const bad_case bad[] = {
    // The kind.
    {R"({"trigger":"nightly"})", ec::invalid_argument, "trigger"},
    {R"({"trigger":"weekly"})", ec::invalid_argument, "trigger"},
    {R"({"trigger":"Manual"})", ec::invalid_argument, "trigger"},
    {R"({"trigger":""})", ec::invalid_argument, "trigger"},
    {R"({"trigger":5})", ec::invalid_argument, "trigger"},
    {R"({"trigger":null})", ec::invalid_argument, "trigger"},
    {R"({})", ec::invalid_argument, "trigger"},
    {R"({"force":true})", ec::invalid_argument, "trigger"},
    {"{\"trigger\":\"" + std::string(65, 'x') + "\"}", ec::invalid_argument,
     "trigger"},
    // concept_count: required for concept_change unless force, in range,
    // only with concept_change.
    {R"({"trigger":"concept_change"})", ec::invalid_argument, "concept_count"},
    {R"({"trigger":"concept_change","force":false})", ec::invalid_argument,
     "concept_count"},
    {R"({"trigger":"concept_change","concept_count":1000001})",
     ec::invalid_argument, "concept_count"},
    {R"({"trigger":"concept_change","concept_count":-1})", ec::invalid_argument,
     "concept_count"},
    {R"({"trigger":"concept_change","concept_count":2.5})",
     ec::invalid_argument, "concept_count"},
    {R"({"trigger":"concept_change","concept_count":"7"})",
     ec::invalid_argument, "concept_count"},
    {R"({"trigger":"manual","concept_count":3})", ec::invalid_argument,
     "concept_count"},
    {R"({"trigger":"session_end","concept_count":0})", ec::invalid_argument,
     "concept_count"},
    // change_type: 1..64 characters, only with concept_change.
    {R"({"trigger":"intent_closed","change_type":"merge"})",
     ec::invalid_argument, "change_type"},
    {R"({"trigger":"concept_change","concept_count":1,"change_type":""})",
     ec::invalid_argument, "change_type"},
    {R"({"trigger":"concept_change","concept_count":1,"change_type":7})",
     ec::invalid_argument, "change_type"},
    {"{\"trigger\":\"concept_change\",\"concept_count\":1,\"change_type\":\""
       + std::string(65, 'c') + "\"}",
     ec::invalid_argument, "change_type"},
    // high_impact and session_turns: only with session_end, right types.
    {R"({"trigger":"manual","high_impact":true})", ec::invalid_argument,
     "high_impact"},
    {R"({"trigger":"document_upload","high_impact":false})",
     ec::invalid_argument, "high_impact"},
    {R"({"trigger":"session_end","high_impact":"yes"})", ec::invalid_argument,
     "high_impact"},
    {R"({"trigger":"session_end","high_impact":1})", ec::invalid_argument,
     "high_impact"},
    {R"({"trigger":"concept_change","concept_count":1,"session_turns":3})",
     ec::invalid_argument, "session_turns"},
    {R"({"trigger":"session_end","session_turns":-3})", ec::invalid_argument,
     "session_turns"},
    {R"({"trigger":"session_end","session_turns":100000001})",
     ec::invalid_argument, "session_turns"},
    // force must be a boolean.
    {R"({"trigger":"manual","force":"true"})", ec::invalid_argument, "force"},
    {R"({"trigger":"manual","force":1})", ec::invalid_argument, "force"},
    {R"({"trigger":"manual","force":null})", ec::invalid_argument, "force"},
    // Unknown fields; "label" is only for the node's own events.
    {R"({"trigger":"manual","label":"x"})", ec::invalid_argument, "label"},
    {R"({"trigger":"manual","extra":1})", ec::invalid_argument, "extra"},
    {R"({"Trigger":"manual"})", ec::invalid_argument, "Trigger"},
    // Not a JSON object.
    {R"([{"trigger":"manual"}])", ec::malformed_request, "body"},
    {R"("manual")", ec::malformed_request, "body"},
    {"null", ec::malformed_request, "body"},
    {"", ec::malformed_request, "body"},
    {R"({"trigger":"manual")", ec::malformed_request, ""},
    {R"({"trigger":"manual"} x)", ec::malformed_request, ""},
  };
  for (auto& b : bad)
    check_refused(api::parse_trigger_request(b.body), b);
}

TEST_CASE("an unknown trigger kind is reported with the value given",
          "[export_input]") {
  auto r = api::parse_trigger_request(R"({"trigger":"weekly"})");
  REQUIRE_FALSE(r);
  CHECK(message_of(r.error())
        == "trigger: must be one of intent_closed, document_upload, "
           "concept_change, session_end, manual, got \"weekly\"");
}

TEST_CASE("trigger events accept a label and the nightly kind",
          "[export_input]") {
  auto nightly = api::parse_trigger_event(R"({"trigger":"nightly"})");
  REQUIRE(nightly);
  CHECK(nightly->kind == trigger_kind::nightly);
  CHECK(nightly->label == "nightly");

  auto labelled = api::parse_trigger_event(
    R"({"trigger":"intent_closed","label":"intent_closed:i42"})");
  REQUIRE(labelled);
  CHECK(labelled->kind == trigger_kind::intent_closed);
  CHECK(labelled->label == "intent_closed:i42");

  // An empty label means "make one".
  auto empty = api::parse_trigger_event(
    R"({"trigger":"concept_change","concept_count":3,"label":""})");
  REQUIRE(empty);
  CHECK(empty->label == "concept_change:3");

  auto max_label = api::parse_trigger_event(
    "{\"trigger\":\"manual\",\"label\":\"" + std::string(256, 'l') + "\"}");
  REQUIRE(max_label);
  CHECK(max_label->label == std::string(256, 'l'));

  const bad_case bad[] = {
    {"{\"trigger\":\"manual\",\"label\":\"" + std::string(257, 'l') + "\"}",
     ec::invalid_argument, "label"},
    {R"({"trigger":"manual","label":5})", ec::invalid_argument, "label"},
    {R"({"trigger":"hourly"})", ec::invalid_argument, "trigger"},
    {R"({"trigger":"manual","other":1})", ec::invalid_argument, "other"},
    {R"({"trigger":"nightly","concept_count":1})", ec::invalid_argument,
     "concept_count"},
    {R"({"trigger":"concept_change"})", ec::invalid_argument, "concept_count"},
    {"[]", ec::malformed_request, "body"},
  };
  for (auto& b : bad)
    check_refused(api::parse_trigger_event(b.body), b);
}

TEST_CASE("trigger event bodies round-trip through parse_trigger_event",
          "[export_input]") {
  std::vector<api::trigger_fields> all;
  all.push_back(fields(trigger_kind::intent_closed, "intent_closed:i42"));
  all.push_back(fields(trigger_kind::document_upload, "document_upload:d1"));
  all.push_back(fields(trigger_kind::manual, "manual"));
  all.push_back(fields(trigger_kind::nightly, "nightly"));
  {
    auto t = fields(trigger_kind::concept_change, "concept_change:merge");
    t.concept_count = 17;
    t.change_type = "merge";
    all.push_back(t);
  }
  {
    auto t = fields(trigger_kind::concept_change, "concept_change:0");
    t.force = true;
    all.push_back(t);
  }
  {
    auto t = fields(trigger_kind::session_end, "session_end:s9");
    t.high_impact = true;
    t.session_turns = 33;
    all.push_back(t);
  }
  {
    auto t = fields(trigger_kind::manual, "manual:ünïcode ✓");
    t.force = true;
    all.push_back(t);
  }
  for (auto& t : all) {
    auto body = api::trigger_event_body(t);
    INFO(body);
    auto back = api::parse_trigger_event(body);
    REQUIRE(back);
    check_same(*back, t);
  }
}

TEST_CASE("trigger event bodies have the documented shape", "[export_input]") {
  auto t = fields(trigger_kind::concept_change, "x");
  t.force = true;
  t.concept_count = 7;
  t.change_type = "merge";
  CHECK(api::trigger_event_body(t)
        == R"({"trigger":"concept_change","force":true,"concept_count":7,)"
           R"("change_type":"merge","label":"x"})");
  auto s = fields(trigger_kind::session_end);
  s.high_impact = true;
  s.session_turns = 4;
  CHECK(api::trigger_event_body(s)
        == R"({"trigger":"session_end","high_impact":true,"session_turns":4})");
  // Defaults are left out.
  CHECK(api::trigger_event_body(fields(trigger_kind::manual))
        == R"({"trigger":"manual"})");
  // Without a label, the parsed event gets the made-up one.
  auto back = api::parse_trigger_event(api::trigger_event_body(s));
  REQUIRE(back);
  CHECK(back->label == "session_end");
}

TEST_CASE("trigger_label is the kind, plus the change for concept_change",
          "[export_input]") {
  CHECK(api::trigger_label(fields(trigger_kind::manual)) == "manual");
  CHECK(api::trigger_label(fields(trigger_kind::intent_closed))
        == "intent_closed");
  CHECK(api::trigger_label(fields(trigger_kind::document_upload))
        == "document_upload");
  CHECK(api::trigger_label(fields(trigger_kind::nightly)) == "nightly");
  auto s = fields(trigger_kind::session_end);
  s.session_turns = 12;
  s.high_impact = true;
  CHECK(api::trigger_label(s) == "session_end");
  auto c = fields(trigger_kind::concept_change);
  c.concept_count = 12;
  CHECK(api::trigger_label(c) == "concept_change:12");
  c.change_type = "rename";
  CHECK(api::trigger_label(c) == "concept_change:rename");
  // The label already set does not matter.
  c.label = "something else";
  CHECK(api::trigger_label(c) == "concept_change:rename");
}

// --- manual exports ----------------------------------------------------------

TEST_CASE("manual export bodies: reason required, force optional",
          "[export_input]") {
  auto r = api::parse_manual_export(R"({"reason":"weekly review"})");
  REQUIRE(r);
  CHECK(r->reason == "weekly review");
  CHECK_FALSE(r->force);
  auto f = api::parse_manual_export(R"({"force":true,"reason":"x"})");
  REQUIRE(f);
  CHECK(f->reason == "x");
  CHECK(f->force);
  auto longest = api::parse_manual_export(
    "{\"reason\":\"" + std::string(api::max_reason_chars, 'r') + "\"}");
  REQUIRE(longest);
  CHECK(longest->reason.size() == api::max_reason_chars);
  // The limit is in characters: 512 two-byte characters fit.
  std::string wide;
  for (std::size_t i = 0; i < api::max_reason_chars; ++i)
    wide += "é";
  auto wide_ok = api::parse_manual_export("{\"reason\":\"" + wide + "\"}");
  REQUIRE(wide_ok);
  CHECK(wide_ok->reason == wide);

  const bad_case bad[] = {
    {R"({})", ec::invalid_argument, "reason"},
    {R"({"force":true})", ec::invalid_argument, "reason"},
    {R"({"reason":""})", ec::invalid_argument, "reason"},
    {R"({"reason":" \n\t "})", ec::invalid_argument, "reason"},
    {R"({"reason":null})", ec::invalid_argument, "reason"},
    {R"({"reason":42})", ec::invalid_argument, "reason"},
    {"{\"reason\":\"" + std::string(api::max_reason_chars + 1, 'r') + "\"}",
     ec::invalid_argument, "reason"},
    {R"({"reason":"x","force":"yes"})", ec::invalid_argument, "force"},
    {R"({"reason":"x","force":0})", ec::invalid_argument, "force"},
    {R"({"reason":"x","why":"y"})", ec::invalid_argument, "why"},
    {R"({"reason":"x","trigger":"manual"})", ec::invalid_argument, "trigger"},
    {"[]", ec::malformed_request, "body"},
    {"", ec::malformed_request, "body"},
    {R"({"reason":)", ec::malformed_request, ""},
  };
  for (auto& b : bad)
    check_refused(api::parse_manual_export(b.body), b);
}

// --- documents ---------------------------------------------------------------

TEST_CASE("document bodies: name, type and text", "[export_input]") {
  auto d = api::parse_document(
    R"({"name":"notes.md","type":"text/markdown","text":"# Notes\nLine two."})",
    1024);
  REQUIRE(d);
  CHECK(d->name == "notes.md");
  CHECK(d->type == "text/markdown");
  CHECK(d->text == "# Notes\nLine two.");

  // Surrounding whitespace is kept; only an all-blank text is refused.
  auto padded =
    api::parse_document(R"({"name":"n","type":"t","text":"  x  "})", 1024);
  REQUIRE(padded);
  CHECK(padded->text == "  x  ");

  auto longest_name = api::parse_document(
    "{\"name\":\"" + std::string(api::max_document_name_chars, 'n')
      + "\",\"type\":\"" + std::string(api::max_document_type_chars, 't')
      + "\",\"text\":\"x\"}",
    1024);
  REQUIRE(longest_name);
  CHECK(longest_name->name.size() == api::max_document_name_chars);
  CHECK(longest_name->type.size() == api::max_document_type_chars);
}

TEST_CASE("bad document bodies are refused, naming the field",
          "[export_input]") {
  const bad_case bad[] = {
    {R"({"type":"t","text":"x"})", ec::invalid_argument, "name"},
    {R"({"name":"n","text":"x"})", ec::invalid_argument, "type"},
    {R"({"name":"n","type":"t"})", ec::invalid_argument, "text"},
    {R"({"name":"","type":"t","text":"x"})", ec::invalid_argument, "name"},
    {R"({"name":"  ","type":"t","text":"x"})", ec::invalid_argument, "name"},
    {R"({"name":1,"type":"t","text":"x"})", ec::invalid_argument, "name"},
    {R"({"name":"n","type":"","text":"x"})", ec::invalid_argument, "type"},
    {R"({"name":"n","type":["t"],"text":"x"})", ec::invalid_argument, "type"},
    {R"({"name":"n","type":"t","text":""})", ec::invalid_argument, "text"},
    {R"({"name":"n","type":"t","text":"  \n\t \r\n"})", ec::invalid_argument,
     "text"},
    {R"({"name":"n","type":"t","text":5})", ec::invalid_argument, "text"},
    {R"({"name":"n","type":"t","text":null})", ec::invalid_argument, "text"},
    {R"({"name":"n","type":"t","text":["x"]})", ec::invalid_argument, "text"},
    {"{\"name\":\"" + std::string(api::max_document_name_chars + 1, 'n')
       + "\",\"type\":\"t\",\"text\":\"x\"}",
     ec::invalid_argument, "name"},
    {"{\"name\":\"n\",\"type\":\""
       + std::string(api::max_document_type_chars + 1, 't')
       + "\",\"text\":\"x\"}",
     ec::invalid_argument, "type"},
    {R"({"name":"n","type":"t","text":"x","id":"d1"})", ec::invalid_argument,
     "id"},
    {"[]", ec::malformed_request, "body"},
    {"", ec::malformed_request, "body"},
    {R"({"name":"n","type":"t","text":"x)", ec::malformed_request, ""},
  };
  for (auto& b : bad)
    check_refused(api::parse_document(b.body, 1024), b);
}

TEST_CASE("document text over the byte limit is too large", "[export_input]") {
  auto body = [](const std::string& text) {
    return R"({"name":"n","type":"t","text":")" + text + "\"}";
  };
  auto exact = api::parse_document(body(std::string(10, 'x')), 10);
  REQUIRE(exact);
  CHECK(exact->text.size() == 10);

  auto over = api::parse_document(body(std::string(11, 'x')), 10);
  REQUIRE_FALSE(over);
  CHECK(code_of(over.error()) == ec::too_large);
  CHECK(field_of(over.error()) == "text");
  CHECK(message_of(over.error())
        == "text: at most 10 bytes (exports.max_document_bytes), got 11");

  // The limit is in bytes, not characters: five "é" are 10 bytes, six 12.
  auto five = api::parse_document(body("ééééé"), 10);
  REQUIRE(five);
  CHECK(five->text == "ééééé");
  auto six = api::parse_document(body("éééééé"), 10);
  REQUIRE_FALSE(six);
  CHECK(code_of(six.error()) == ec::too_large);
  CHECK(field_of(six.error()) == "text");

  // Bytes of the decoded text: the escape \u00e9 is 6 bytes of JSON, 2 of text.
  auto escaped = api::parse_document(body(R"(\u00e9\u00e9\u00e9\u00e9\u00e9)"), 10);
  REQUIRE(escaped);
  CHECK(escaped->text == "ééééé");

  // A blank text over the limit is too large (the size is checked first).
  auto blank = api::parse_document(body(std::string(11, ' ')), 10);
  REQUIRE_FALSE(blank);
  CHECK(code_of(blank.error()) == ec::too_large);

  // With a zero limit no text fits.
  auto none = api::parse_document(body("x"), 0);
  REQUIRE_FALSE(none);
  CHECK(code_of(none.error()) == ec::too_large);
}

// --- session end -------------------------------------------------------------

TEST_CASE("session end bodies: empty means not high impact",
          "[export_input]") {
  struct ok_case {
    const char* body;
    bool high;
  };
  const ok_case ok[] = {
    {"", false},
    {" ", false},
    {" \n\t\r\n ", false},
    {"{}", false},
    {" {} ", false},
    {R"({"high_impact":false})", false},
    {R"({"high_impact":true})", true},
    {"\n{\"high_impact\": true}\n", true},
  };
  for (auto& c : ok) {
    INFO("'" << c.body << "'");
    auto r = api::parse_session_end(c.body);
    REQUIRE(r);
    CHECK(*r == c.high);
  }
  const bad_case bad[] = {
    {R"({"high_impact":1})", ec::invalid_argument, "high_impact"},
    {R"({"high_impact":"true"})", ec::invalid_argument, "high_impact"},
    {R"({"high_impact":null})", ec::invalid_argument, "high_impact"},
    {R"({"high_impact":true,"turns":3})", ec::invalid_argument, "turns"},
    {R"({"session_turns":3})", ec::invalid_argument, "session_turns"},
    {"[true]", ec::malformed_request, "body"},
    {"true", ec::malformed_request, "body"},
    {"{", ec::malformed_request, ""},
    {"x", ec::malformed_request, ""},
  };
  for (auto& b : bad)
    check_refused(api::parse_session_end(b.body), b);
}

// --- hostile bodies ----------------------------------------------------------

namespace {

const char* const trigger_seeds[] = {
  R"({"trigger":"concept_change","concept_count":7,"change_type":"merge","force":false})",
  R"({"trigger":"session_end","high_impact":true,"session_turns":12})",
  R"({"trigger":"manual","force":true})",
};
const char* const event_seeds[] = {
  R"({"trigger":"nightly","label":"nightly"})",
  R"({"trigger":"intent_closed","label":"intent_closed:i42","force":true})",
};
const char* const manual_seeds[] = {
  R"({"reason":"weekly review of the mesh","force":true})",
};
const char* const document_seeds[] = {
  R"({"name":"notes.md","type":"text/markdown","text":"# Notes\nA long line of text."})",
};
const char* const session_seeds[] = {
  R"({"high_impact":true})",
  R"({"high_impact":false})",
};

bool acceptable(ec code) {
  return code == ec::malformed_request || code == ec::invalid_argument
         || code == ec::too_large;
}

// Runs every parser on `body`; each must return normally, either a value or
// an error of a request-error code. Returns how many accepted it.
int run_all(const std::string& body) {
  int accepted = 0;
  auto check = [&](auto&& parse) {
    bool threw = false;
    try {
      auto r = parse();
      if (r)
        ++accepted;
      else
        CHECK(acceptable(code_of(r.error())));
    } catch (...) {
      threw = true;
    }
    CHECK_FALSE(threw);
  };
  INFO(body);
  check([&] { return api::parse_trigger_request(body); });
  check([&] { return api::parse_trigger_event(body); });
  check([&] { return api::parse_manual_export(body); });
  check([&] { return api::parse_document(body, 40); });
  check([&] { return api::parse_session_end(body); });
  return accepted;
}

std::vector<std::string> all_seeds() {
  std::vector<std::string> out;
  for (auto s : trigger_seeds)
    out.emplace_back(s);
  for (auto s : event_seeds)
    out.emplace_back(s);
  for (auto s : manual_seeds)
    out.emplace_back(s);
  for (auto s : document_seeds)
    out.emplace_back(s);
  for (auto s : session_seeds)
    out.emplace_back(s);
  return out;
}

} // namespace

TEST_CASE("the fuzz seeds are valid for their own parser", "[export_input][fuzz]") {
  for (auto s : trigger_seeds)
    CHECK(api::parse_trigger_request(s));
  for (auto s : event_seeds)
    CHECK(api::parse_trigger_event(s));
  for (auto s : manual_seeds)
    CHECK(api::parse_manual_export(s));
  for (auto s : document_seeds)
    CHECK(api::parse_document(s, 40));
  for (auto s : session_seeds)
    CHECK(api::parse_session_end(s));
}

TEST_CASE("every truncation of a valid body is malformed, never a crash",
          "[export_input][fuzz]") {
  for (auto& seed : all_seeds()) {
    for (std::size_t n = 0; n < seed.size(); ++n) {
      auto body = seed.substr(0, n);
      INFO(body);
      CHECK(run_all(body) == (n == 0 ? 1 : 0)); // "" is a valid session end
      auto t = api::parse_trigger_request(body);
      REQUIRE_FALSE(t);
      CHECK(code_of(t.error()) == ec::malformed_request);
      auto d = api::parse_document(body, 40);
      REQUIRE_FALSE(d);
      CHECK(code_of(d.error()) == ec::malformed_request);
    }
  }
}

TEST_CASE("bodies with flipped bytes are parsed or refused, never a crash",
          "[export_input][fuzz]") {
  std::mt19937 rng(20261123);
  auto seeds = all_seeds();
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    auto body = seeds[static_cast<std::size_t>(i) % seeds.size()];
    auto flips = 1 + rng() % 3;
    for (std::size_t f = 0; f < flips; ++f)
      body[rng() % body.size()] ^= static_cast<char>(1 + rng() % 255);
    // Also splice in structural characters now and then.
    if (i % 4 == 0)
      body.insert(rng() % body.size(), 1, "{}[]\",:\\ 0"[rng() % 11]);
    accepted += run_all(body);
  }
  // Some mutations stay valid, so the field checks are reached too.
  CHECK(accepted > 0);
}
