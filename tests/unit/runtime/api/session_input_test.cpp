// Session-memory request bodies and read parameters: every rule has a
// precise error naming its field, and hostile input never crashes a parser.

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>

#include "messages/errors.hpp"
#include "runtime/api/session_input.hpp"

using namespace engram;
using namespace engram::api;

namespace {

using failure_t = std::pair<ec, std::string>;

template <class T>
failure_t failure(const caf::expected<T>& r) {
  REQUIRE_FALSE(r);
  CHECK_FALSE(message_of(r.error()).empty());
  return {code_of(r.error()), field_of(r.error())};
}

failure_t inv(const std::string& field) {
  return {ec::invalid_argument, field};
}

// The limit the tests pass to parse_turn.
constexpr std::size_t text_limit = 20;

std::string turn_body(const std::string& turn, const std::string& text,
                      const std::string& extra = {}) {
  return R"({"turn":)" + turn + R"(,"text":)" + text + extra + "}";
}

std::string with_analysis(const std::string& analysis) {
  return turn_body("1", R"("Momo sat.")", R"(,"analysis":)" + analysis);
}

} // namespace

// --- parse_turn ------------------------------------------------------------

TEST_CASE("a valid turn is read as given", "[session_input][turn]") {
  auto f = parse_turn(R"({"turn":7,"text":"Momo sat down."})", text_limit);
  REQUIRE(f);
  CHECK(f->turn == 7);
  CHECK(f->text == "Momo sat down.");
  CHECK_FALSE(f->analysis);
}

TEST_CASE("turn is a required integer 0..2^53", "[session_input][turn]") {
  auto parse = [](const std::string& turn) {
    return parse_turn(turn_body(turn, R"("x")"), text_limit);
  };
  CHECK(failure(parse_turn(R"({"text":"x"})", text_limit)) == inv("turn"));
  CHECK(failure(parse("\"5\"")) == inv("turn"));
  CHECK(failure(parse("null")) == inv("turn"));
  CHECK(failure(parse("true")) == inv("turn"));
  CHECK(failure(parse("-1")) == inv("turn"));
  CHECK(failure(parse("-1.0")) == inv("turn"));
  CHECK(failure(parse("1.5")) == inv("turn"));
  CHECK(failure(parse("9007199254740993")) == inv("turn"));    // 2^53 + 1
  CHECK(failure(parse("18446744073709551615")) == inv("turn")); // uint64 max
  CHECK(failure(parse("1e16")) == inv("turn"));
  CHECK(failure(parse("1e300")) == inv("turn"));  // beyond int64 as well
  CHECK(failure(parse("-1e300")) == inv("turn"));
  CHECK(failure(parse("-9223372036854775808")) == inv("turn"));

  auto zero = parse("0");
  REQUIRE(zero);
  CHECK(zero->turn == 0);
  auto top = parse("9007199254740992"); // exactly 2^53
  REQUIRE(top);
  CHECK(top->turn == max_turn_number);
  CHECK(max_turn_number == 9007199254740992);

  // The message states the rule and, when it is an integer, what was sent.
  auto neg = parse("-1");
  REQUIRE_FALSE(neg);
  CHECK(message_of(neg.error())
        == "turn: must be an integer 0..9007199254740992, got -1");
  auto str = parse("\"5\"");
  REQUIRE_FALSE(str);
  CHECK(message_of(str.error())
        == "turn: must be an integer 0..9007199254740992");
}

TEST_CASE("an integral floating-point turn within range is accepted",
          "[session_input][turn]") {
  // JSON has one number type; 3.0 and 1e2 are integers to most clients.
  auto f = parse_turn(turn_body("3.0", R"("x")"), text_limit);
  REQUIRE(f);
  CHECK(f->turn == 3);
  auto g = parse_turn(turn_body("1e2", R"("x")"), text_limit);
  REQUIRE(g);
  CHECK(g->turn == 100);
  auto top = parse_turn(turn_body("9007199254740992.0", R"("x")"), text_limit);
  REQUIRE(top);
  CHECK(top->turn == max_turn_number);
}

TEST_CASE("text is a required string of 1..max characters, not blank",
          "[session_input][turn]") {
  CHECK(failure(parse_turn(R"({"turn":1})", text_limit)) == inv("text"));
  CHECK(failure(parse_turn(turn_body("1", "5"), text_limit)) == inv("text"));
  CHECK(failure(parse_turn(turn_body("1", "null"), text_limit))
        == inv("text"));
  CHECK(failure(parse_turn(turn_body("1", R"(["x"])"), text_limit))
        == inv("text"));
  CHECK(failure(parse_turn(turn_body("1", R"("")"), text_limit))
        == inv("text"));
  CHECK(failure(parse_turn(turn_body("1", R"("  \n\t ")"), text_limit))
        == inv("text"));

  std::string at_limit(text_limit, 'a');
  auto ok = parse_turn(turn_body("1", "\"" + at_limit + "\""), text_limit);
  REQUIRE(ok);
  CHECK(ok->text == at_limit);
  auto over = parse_turn(turn_body("1", "\"" + at_limit + "a\""), text_limit);
  CHECK(failure(over) == inv("text"));
  CHECK(message_of(over.error()) == "text: must be 1..20 characters, got 21");
}

TEST_CASE("the text limit counts code points, not bytes",
          "[session_input][turn]") {
  // é is two bytes, 猫 three, 🐈 four: each is one character.
  for (std::string ch : {"\xC3\xA9", "\xE7\x8C\xAB", "\xF0\x9F\x90\x88"}) {
    INFO(ch);
    std::string at_limit;
    for (std::size_t i = 0; i < text_limit; ++i)
      at_limit += ch;
    auto ok = parse_turn(turn_body("1", "\"" + at_limit + "\""), text_limit);
    REQUIRE(ok);
    CHECK(ok->text == at_limit);
    auto over = parse_turn(turn_body("1", "\"" + at_limit + ch + "\""),
                           text_limit);
    CHECK(failure(over) == inv("text"));
    CHECK(message_of(over.error()) == "text: must be 1..20 characters, got 21");
  }
  // A JSON escape is one character, too.
  std::string escaped;
  for (std::size_t i = 0; i < text_limit; ++i)
    escaped += "\\u00e9";
  CHECK(parse_turn(turn_body("1", "\"" + escaped + "\""), text_limit));
}

TEST_CASE("a turn body rejects unknown fields and non-object bodies",
          "[session_input][turn]") {
  CHECK(failure(parse_turn(turn_body("1", R"("x")", R"(,"extra":1)"),
                           text_limit))
        == inv("extra"));
  // Unknown fields are reported before any other problem.
  CHECK(failure(parse_turn(R"({"Turn":1,"text":"x"})", text_limit))
        == inv("Turn"));
  CHECK(failure(parse_turn("", text_limit)).first == ec::malformed_request);
  CHECK(failure(parse_turn("{", text_limit)).first == ec::malformed_request);
  CHECK(failure(parse_turn("[1,2]", text_limit)).first
        == ec::malformed_request);
  CHECK(failure(parse_turn("\"turn\"", text_limit)).first
        == ec::malformed_request);
  CHECK(failure(parse_turn(R"({"turn":1,"text":"x"} x)", text_limit)).first
        == ec::malformed_request);
}

TEST_CASE("an app-supplied analysis is read with its shape checked",
          "[session_input][turn][analysis]") {
  auto f = parse_turn(
    with_analysis(R"({"updates":[{"lore_entry_id":"e-momo","update_summary":"Momo sat."}],
                      "creations":[{"entity_type":"character","creation_summary":"Kenta came.","name":"Kenta"},
                                   {"entity_type":"item","creation_summary":"A lamp.","name":null}],
                      "comment":"ignored"})"),
    text_limit);
  REQUIRE(f);
  REQUIRE(f->analysis);
  REQUIRE(f->analysis->updates.size() == 1);
  CHECK(f->analysis->updates[0].lore_entry_id == "e-momo");
  CHECK(f->analysis->updates[0].update_summary == "Momo sat.");
  REQUIRE(f->analysis->creations.size() == 2);
  CHECK(f->analysis->creations[0].entity_type == "character");
  CHECK(f->analysis->creations[0].creation_summary == "Kenta came.");
  CHECK(f->analysis->creations[0].name == "Kenta");
  CHECK(f->analysis->creations[1].name.empty());

  // Entity ids are the user actor's business: an unknown id passes here.
  auto empty = parse_turn(with_analysis(R"({"updates":[],"creations":[]})"),
                          text_limit);
  REQUIRE(empty);
  REQUIRE(empty->analysis);
  CHECK(empty->analysis->updates.empty());
  CHECK(empty->analysis->creations.empty());
}

TEST_CASE("analysis errors name their field under analysis.",
          "[session_input][turn][analysis]") {
  auto check = [](const std::string& analysis, const std::string& field,
                  const std::string& rule) {
    INFO(analysis);
    auto r = parse_turn(with_analysis(analysis), text_limit);
    CHECK(failure(r) == inv(field));
    if (!r)
      CHECK(message_of(r.error()) == field + ": " + rule);
  };
  check(R"({"updates":[{"lore_entry_id":"e"}],"creations":[]})",
        "analysis.updates[0].update_summary", "required field is missing");
  check(R"({"updates":[{"lore_entry_id":"e","update_summary":"a"},
                       {"lore_entry_id":"e","update_summary":5}],"creations":[]})",
        "analysis.updates[1].update_summary", "must be a string");
  check(R"({"updates":[{"update_summary":"a"}],"creations":[]})",
        "analysis.updates[0].lore_entry_id", "required field is missing");
  check(R"({"updates":["e"],"creations":[]})", "analysis.updates[0]",
        "must be a JSON object");
  check(R"({"creations":[]})", "analysis.updates",
        "required field is missing");
  check(R"({"updates":{},"creations":[]})", "analysis.updates",
        "must be an array");
  check(R"({"updates":[]})", "analysis.creations",
        "required field is missing");
  check(R"({"updates":[],"creations":[{"entity_type":"x","creation_summary":"y","name":5}]})",
        "analysis.creations[0].name", "must be a string");
  check(R"({"updates":[],"creations":[{"creation_summary":"y"}]})",
        "analysis.creations[0].entity_type", "required field is missing");
}

TEST_CASE("an analysis that is not an object is refused as a whole",
          "[session_input][turn][analysis]") {
  for (std::string a : {"[]", "\"x\"", "1", "null", "true"}) {
    INFO(a);
    auto r = parse_turn(with_analysis(a), text_limit);
    CHECK(failure(r) == inv("analysis"));
    if (!r)
      CHECK(message_of(r.error()) == "analysis: must be an object");
  }
}

// --- parse_turn_param ------------------------------------------------------

TEST_CASE("a turn in the path is an integer 0..2^53",
          "[session_input][turn_param]") {
  CHECK(parse_turn_param("0") == int64_t{0});
  CHECK(parse_turn_param("42") == int64_t{42});
  CHECK(parse_turn_param("9007199254740992") == max_turn_number);
  for (std::string bad : {"", "-1", "+1", "1.0", "1e3", " 1", "1 ", "abc",
                          "0x10", "9007199254740993",
                          "99999999999999999999999"}) {
    INFO(bad);
    auto r = parse_turn_param(bad);
    CHECK(failure(r) == inv("path.turn"));
    if (!r)
      CHECK(message_of(r.error())
            == "path.turn: must be an integer 0..9007199254740992");
  }
}

// --- parse_read_wait -------------------------------------------------------

TEST_CASE("without parameters a read does not wait for a seq",
          "[session_input][read_wait]") {
  auto w = parse_read_wait({});
  REQUIRE(w);
  CHECK_FALSE(w->min_seq);
  CHECK(w->wait_ms == default_wait_ms);
  CHECK(default_wait_ms == 5000);
  // Other query parameters are not this parser's concern.
  auto other = parse_read_wait({{"limit", "abc"}});
  REQUIRE(other);
  CHECK_FALSE(other->min_seq);
}

TEST_CASE("min_seq and wait_ms are read from the query",
          "[session_input][read_wait]") {
  auto w = parse_read_wait({{"min_seq", "17"}});
  REQUIRE(w);
  CHECK(w->min_seq == uint64_t{17});
  CHECK(w->wait_ms == 5000);

  auto z = parse_read_wait({{"min_seq", "0"}, {"wait_ms", "0"}});
  REQUIRE(z);
  CHECK(z->min_seq == uint64_t{0});
  CHECK(z->wait_ms == 0); // explicit 0: do not wait at all

  auto top = parse_read_wait({{"min_seq", "1"}, {"wait_ms", "60000"}});
  REQUIRE(top);
  CHECK(top->wait_ms == max_wait_ms);

  auto only_wait = parse_read_wait({{"wait_ms", "250"}});
  REQUIRE(only_wait);
  CHECK_FALSE(only_wait->min_seq);
  CHECK(only_wait->wait_ms == 250);

  auto big = parse_read_wait({{"min_seq", "9999999999999999999"}}); // 19 digits
  REQUIRE(big);
  CHECK(big->min_seq == uint64_t{9999999999999999999ull});
}

TEST_CASE("bad min_seq or wait_ms name the query parameter",
          "[session_input][read_wait]") {
  for (std::string bad : {"", "-1", "+1", "abc", "1.5", " 1", "1e3",
                          "99999999999999999999"}) {
    INFO(bad);
    CHECK(failure(parse_read_wait({{"min_seq", bad}})) == inv("query.min_seq"));
    CHECK(failure(parse_read_wait({{"wait_ms", bad}})) == inv("query.wait_ms"));
  }
  auto over = parse_read_wait({{"min_seq", "1"}, {"wait_ms", "60001"}});
  CHECK(failure(over) == inv("query.wait_ms"));
  // query_uint puts the "query." prefix in the field, not in the message.
  CHECK(message_of(over.error()) == "wait_ms: must be an integer in 0..60000");
  auto seq = parse_read_wait({{"min_seq", "x"}});
  REQUIRE_FALSE(seq);
  CHECK(message_of(seq.error())
        == "min_seq: must be an integer in 0..18446744073709551615");
}

// --- parse_search ----------------------------------------------------------

TEST_CASE("a search body has defaults for everything but the query",
          "[session_input][search]") {
  auto f = parse_search(R"({"query":"where is Momo"})");
  REQUIRE(f);
  CHECK(f->query == "where is Momo");
  CHECK(f->k == 10);
  CHECK_FALSE(f->session);
  CHECK_FALSE(f->wait.min_seq);
  CHECK(f->wait.wait_ms == default_wait_ms);

  auto g = parse_search(
    R"({"query":"q","k":3,"session":"s-1.a:b_C","min_seq":12,"wait_ms":0})");
  REQUIRE(g);
  CHECK(g->k == 3);
  CHECK(g->session == std::string{"s-1.a:b_C"});
  CHECK(g->wait.min_seq == uint64_t{12});
  CHECK(g->wait.wait_ms == 0);

  auto nulls = parse_search(
    R"({"query":"q","k":null,"session":null,"min_seq":null,"wait_ms":null})");
  REQUIRE(nulls);
  CHECK(nulls->k == 10);
  CHECK_FALSE(nulls->session);
  CHECK_FALSE(nulls->wait.min_seq);
  CHECK(nulls->wait.wait_ms == default_wait_ms);
}

TEST_CASE("search k is an integer 1..100", "[session_input][search]") {
  auto k = [](const std::string& v) {
    return parse_search(R"({"query":"q","k":)" + v + "}");
  };
  REQUIRE(k("1"));
  CHECK(k("1")->k == 1);
  REQUIRE(k("100"));
  CHECK(k("100")->k == 100);
  for (std::string bad : {"0", "101", "-1", "\"5\"", "2.5", "true",
                          "18446744073709551615"}) {
    INFO(bad);
    CHECK(failure(k(bad)) == inv("k"));
  }
}

TEST_CASE("search query is 1..4096 characters", "[session_input][search]") {
  auto q = [](const std::string& v) {
    return parse_search(R"({"query":)" + v + "}");
  };
  CHECK(failure(parse_search(R"({"k":5})")) == inv("query"));
  CHECK(failure(q("\"\"")) == inv("query"));
  CHECK(failure(q("\"   \"")) == inv("query"));
  CHECK(failure(q("5")) == inv("query"));
  CHECK(failure(q("null")) == inv("query"));
  std::string at_limit;
  for (std::size_t i = 0; i < max_query_chars; ++i)
    at_limit += "\xC3\xA9";
  REQUIRE(q("\"" + at_limit + "\""));
  CHECK(failure(q("\"" + at_limit + "e\"")) == inv("query"));
  CHECK(failure(q("\"" + std::string(max_query_chars + 1, 'a') + "\""))
        == inv("query"));
}

TEST_CASE("search session must be an id", "[session_input][search]") {
  auto s = [](const std::string& v) {
    return parse_search(R"({"query":"q","session":)" + v + "}");
  };
  for (std::string bad : {"\"\"", "\"a/b\"", "\"a b\"", "\"caf\xC3\xA9\"",
                          "5", "[\"s\"]"}) {
    INFO(bad);
    CHECK(failure(s(bad)) == inv("session"));
  }
  auto r = s("\"a/b\"");
  REQUIRE_FALSE(r);
  CHECK(message_of(r.error()) == "session: must match [A-Za-z0-9_.:-]{1,128}");
  REQUIRE(s("\"" + std::string(128, 's') + "\""));
  CHECK(failure(s("\"" + std::string(129, 's') + "\"")) == inv("session"));
}

TEST_CASE("search min_seq and wait_ms in the body are checked",
          "[session_input][search]") {
  auto b = [](const std::string& fields) {
    return parse_search(R"({"query":"q",)" + fields + "}");
  };
  CHECK(failure(b(R"("wait_ms":60001)")) == inv("wait_ms"));
  CHECK(failure(b(R"("wait_ms":-1)")) == inv("wait_ms"));
  CHECK(failure(b(R"("wait_ms":"5")")) == inv("wait_ms"));
  CHECK(failure(b(R"("min_seq":-1)")) == inv("min_seq"));
  CHECK(failure(b(R"("min_seq":"5")")) == inv("min_seq"));
  CHECK(failure(b(R"("min_seq":1.5)")) == inv("min_seq"));
  auto top = b(R"("min_seq":18446744073709551615,"wait_ms":60000)");
  REQUIRE(top);
  CHECK(top->wait.min_seq == UINT64_MAX);
  CHECK(top->wait.wait_ms == max_wait_ms);
}

TEST_CASE("search rejects unknown fields and non-object bodies",
          "[session_input][search]") {
  CHECK(failure(parse_search(R"({"query":"q","top_k":5})")) == inv("top_k"));
  CHECK(failure(parse_search("")).first == ec::malformed_request);
  CHECK(failure(parse_search("[]")).first == ec::malformed_request);
  CHECK(failure(parse_search("{\"query\":")).first == ec::malformed_request);
}

// --- parse_restore ---------------------------------------------------------

TEST_CASE("a restore body names a version >= 1", "[session_input][restore]") {
  CHECK(parse_restore(R"({"version":1})") == uint64_t{1});
  CHECK(parse_restore(R"({"version":18446744073709551615})") == UINT64_MAX);
  CHECK(failure(parse_restore("{}")) == inv("version"));
  CHECK(failure(parse_restore(R"({"version":null})")) == inv("version"));
  CHECK(failure(parse_restore(R"({"version":0})")) == inv("version"));
  CHECK(failure(parse_restore(R"({"version":-1})")) == inv("version"));
  CHECK(failure(parse_restore(R"({"version":"2"})")) == inv("version"));
  CHECK(failure(parse_restore(R"({"version":2.0})")) == inv("version"));
  CHECK(failure(parse_restore(R"({"version":2,"force":true})"))
        == inv("force"));
  CHECK(failure(parse_restore("")).first == ec::malformed_request);
  CHECK(failure(parse_restore("2")).first == ec::malformed_request);
}

// --- hostile input -----------------------------------------------------------

namespace {

std::string mutate(std::string s, std::mt19937& rng) {
  std::uniform_int_distribution<int> op(0, 4);
  std::uniform_int_distribution<int> byte(0, 255);
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    auto pos = rng() % s.size();
    switch (op(rng)) {
      case 0: s[pos] = static_cast<char>(byte(rng)); break;
      case 1: s.erase(pos, 1 + rng() % 4); break;
      case 2: s.insert(pos, 1, "{}[]\",:\\0-.e"[rng() % 12]); break;
      case 3: s.insert(pos, s.substr(0, rng() % s.size())); break;
      default: s[pos] = "0123456789"[rng() % 10]; break;
    }
  }
  return s;
}

std::string random_bytes(std::mt19937& rng) {
  std::string s(rng() % 64, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng() & 0xFF);
  return s;
}

template <class T>
bool acceptable(const caf::expected<T>& r) {
  if (r)
    return true;
  auto code = code_of(r.error());
  return (code == ec::malformed_request || code == ec::invalid_argument)
         && !message_of(r.error()).empty();
}

} // namespace

TEST_CASE("mutated session bodies are parsed or refused, never crash",
          "[session_input][fuzz]") {
  std::mt19937 rng(20261123);
  const std::string seeds[] = {
    R"({"turn":3,"text":"Momo sat down."})",
    R"({"turn":9007199254740992,"text":"caf\u00e9 \u732b","analysis":{"updates":[{"lore_entry_id":"e-momo","update_summary":"Momo sat."}],"creations":[{"entity_type":"character","creation_summary":"Kenta came.","name":null}]}})",
    R"({"query":"where is Momo","k":5,"session":"s1","min_seq":3,"wait_ms":100})",
    R"({"version":2})",
  };
  int accepted = 0;
  for (int i = 0; i < 4000; ++i) {
    auto body = i % 10 == 9 ? random_bytes(rng) : mutate(seeds[i % 4], rng);
    auto turn = parse_turn(body, 64);
    auto search = parse_search(body);
    auto restore = parse_restore(body);
    REQUIRE(acceptable(turn));
    REQUIRE(acceptable(search));
    REQUIRE(acceptable(restore));
    auto param = parse_turn_param(body.substr(0, rng() % 24));
    REQUIRE(acceptable(param));
    auto wait = parse_read_wait({{"min_seq", mutate("123", rng)},
                                 {"wait_ms", mutate("5000", rng)}});
    REQUIRE(acceptable(wait));
    accepted += (turn ? 1 : 0) + (search ? 1 : 0) + (restore ? 1 : 0)
                + (wait ? 1 : 0);
  }
  // Some mutations keep bodies valid: the fuzzer reaches the field checks.
  CHECK(accepted > 0);
}
