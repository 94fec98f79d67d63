// Specification of runtime/providers/rules_llm: the offline provider's
// heuristics exactly as docs/RULES.md describes them.

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "messages/errors.hpp"
#include "runtime/providers/rules_llm.hpp"
#include "runtime/providers/task_json.hpp"
#include "storage/json_codec.hpp"

using namespace engram;
using namespace engram::providers;

namespace {

using update_list = std::vector<std::pair<std::string, std::string>>;

struct creation_row {
  std::string type;
  std::string name;
  std::string summary;
};

bool operator==(const creation_row& a, const creation_row& b) {
  return a.type == b.type && a.name == b.name && a.summary == b.summary;
}

std::ostream& operator<<(std::ostream& os, const creation_row& c) {
  return os << "{" << c.type << ", " << c.name << ", " << c.summary << "}";
}

std::vector<known_entity> cast() {
  return {
    {"e-momo", "character", "Momo", {"Little Cat"}},
    {"e-inn", "location", "Red Dragon Inn", {"RDI"}},
    {"e-tower", "location", "Tokyo Tower", {}},
    {"e-tokyo", "location", "Tokyo", {}},
    {"e-elodie", "character", "\xC3\x89lodie", {}}, // Élodie
  };
}

analysis_result analyse(const std::string& text,
                        std::vector<known_entity> known = cast(),
                        rules_options opts = {}) {
  rules_llm rules{opts};
  auto r = rules.analyse({"u1", "s1", 1, text, std::move(known)});
  REQUIRE(r);
  return std::move(*r);
}

update_list updates_of(const analysis_result& r) {
  update_list out;
  for (auto& u : r.updates)
    out.emplace_back(u.lore_entry_id, u.update_summary);
  return out;
}

std::vector<creation_row> creations_of(const analysis_result& r) {
  std::vector<creation_row> out;
  for (auto& c : r.creations)
    out.push_back({c.entity_type, c.name, c.creation_summary});
  return out;
}

// The error of a failed expected; fails the test (instead of reading a
// value as an error, undefined in CAF 0.17) when it holds a value.
template <class T>
caf::error error_of(const caf::expected<T>& x) {
  REQUIRE_FALSE(x);
  return x.error();
}

struct mention_case {
  const char* rule;
  std::string text;
  update_list expected;
};

} // namespace

TEST_CASE("the rules provider is called rules", "[rules_llm]") {
  CHECK(rules_llm{}.name() == "rules");
}

// --- analyse: mentions of known entities ------------------------------------

TEST_CASE("a known entity is updated when its title or an alias appears as "
          "whole words",
          "[rules_llm][analyse]") {
  std::vector<mention_case> cases{
    {"title", "Momo sat down.", {{"e-momo", "Momo sat down."}}},
    {"case-insensitive", "MOMO sat down.", {{"e-momo", "MOMO sat down."}}},
    {"alias", "The little cat purred.",
     {{"e-momo", "The little cat purred."}}},
    {"punctuation ends a word", "Hello, Momo, hi!",
     {{"e-momo", "Hello, Momo, hi!"}}},
    {"possessive", "Momo's tail twitched.",
     {{"e-momo", "Momo's tail twitched."}}},
    {"curly possessive", "Momo\xE2\x80\x99s tail twitched.",
     {{"e-momo", "Momo\xE2\x80\x99s tail twitched."}}},
    {"multi-word title with flexible whitespace",
     "We reached the red  dragon\tinn at dusk.",
     {{"e-inn", "We reached the red  dragon\tinn at dusk."}}},
    {"non-ASCII title", "\xC3\x89lodie smiled.",
     {{"e-elodie", "\xC3\x89lodie smiled."}}},
    {"summary keeps the original text, trimmed", "  momo   RAN home!  ",
     {{"e-momo", "momo   RAN home!"}}},
  };
  for (auto& c : cases) {
    INFO(c.rule);
    CHECK(updates_of(analyse(c.text)) == c.expected);
  }
}

TEST_CASE("a name inside a longer word is no mention", "[rules_llm][analyse]") {
  std::vector<mention_case> cases{
    {"longer word", "Momotaro arrived.", {}},
    {"suffix", "Snowmomo arrived.", {}},
    {"non-ASCII letters continue a word", "Momo\xE3\x81\x95\xE3\x82\x93 came.",
     {}},
    {"non-ASCII case is not folded", "\xC3\xA9lodie smiled.", {}},
    {"a phrase needs all its words", "The red dragon slept.", {}},
    {"a phrase needs the same separators", "The Red-Dragon Inn.", {}},
  };
  for (auto& c : cases) {
    INFO(c.rule);
    CHECK(updates_of(analyse(c.text)) == c.expected);
  }
}

TEST_CASE("each entity is updated once, with every sentence that mentions it",
          "[rules_llm][analyse]") {
  auto r = analyse("Momo ran. Rain fell. Then momo slept!\nThe little cat "
                   "dreamed");
  CHECK(updates_of(r)
        == update_list{{"e-momo",
                        "Momo ran. Then momo slept! The little cat dreamed"}});
}

TEST_CASE("updates come in order of first mention", "[rules_llm][analyse]") {
  auto r = analyse("The RDI was loud. Momo hid. We left the Red Dragon Inn.");
  CHECK(updates_of(r)
        == update_list{{"e-inn", "The RDI was loud. We left the Red Dragon "
                                 "Inn."},
                       {"e-momo", "Momo hid."}});
}

TEST_CASE("overlapping names: the leftmost, then longest, match wins",
          "[rules_llm][analyse]") {
  SECTION("a longer title hides the shorter one inside it") {
    auto r = analyse("Tokyo Tower glowed.");
    CHECK(updates_of(r) == update_list{{"e-tower", "Tokyo Tower glowed."}});
  }
  SECTION("the shorter title still counts where it stands alone") {
    auto r = analyse("Tokyo is big. Tokyo Tower glowed.");
    CHECK(updates_of(r)
          == update_list{{"e-tokyo", "Tokyo is big."},
                         {"e-tower", "Tokyo Tower glowed."}});
  }
}

TEST_CASE("a multi-word name broken across lines takes both lines",
          "[rules_llm][analyse]") {
  auto r = analyse("We saw the Red\nDragon Inn. Then rain.");
  CHECK(updates_of(r) == update_list{{"e-inn", "We saw the Red Dragon Inn."}});
}

TEST_CASE("a name with an abbreviation takes the sentences it spans",
          "[rules_llm][analyse]") {
  std::vector<known_entity> known{{"e-w", "character", "Dr. Watson", {}}};
  auto r = analyse("Rain. Dr.  Watson came. Dr Watson left.", known);
  CHECK(updates_of(r) == update_list{{"e-w", "Dr. Watson came."}});
}

TEST_CASE("an empty or blank turn gives an empty analysis",
          "[rules_llm][analyse]") {
  for (auto text : {"", "   \n\t ", "...!?"}) {
    auto r = analyse(text);
    CHECK(r.updates.empty());
    CHECK(r.creations.empty());
  }
}

TEST_CASE("entities without an id or sharing one give at most one update",
          "[rules_llm][analyse]") {
  std::vector<known_entity> known{{"", "character", "Momo", {}},
                                  {"e1", "character", "Rin", {}},
                                  {"e1", "character", "Kenta", {}}};
  auto r = analyse("Momo, Rin and Kenta.", known);
  CHECK(updates_of(r) == update_list{{"e1", "Momo, Rin and Kenta."}});
}

TEST_CASE("summaries are bounded by the options", "[rules_llm][analyse]") {
  std::string text = "Momo one. Momo two. Momo three.";
  SECTION("the first max_summary_sentences sentences") {
    rules_options opts;
    opts.max_summary_sentences = 2;
    CHECK(updates_of(analyse(text, cast(), opts))
          == update_list{{"e-momo", "Momo one. Momo two."}});
  }
  SECTION("whole sentences within max_summary_chars") {
    rules_options opts;
    opts.max_summary_chars = 20;
    CHECK(updates_of(analyse(text, cast(), opts))
          == update_list{{"e-momo", "Momo one. Momo two."}});
  }
  SECTION("a first sentence longer than max_summary_chars is cut") {
    rules_options opts;
    opts.max_summary_chars = 6;
    CHECK(updates_of(analyse(text, cast(), opts))
          == update_list{{"e-momo", "Momo o"}});
  }
}

// --- analyse: new entities -----------------------------------------------

TEST_CASE("phrases that introduce a name create an entity",
          "[rules_llm][analyse]") {
  struct creation_case {
    const char* rule;
    std::string text;
    std::vector<creation_row> expected;
  };
  std::vector<creation_case> cases{
    {"named, single quotes", "She met a girl named 'Kenta'.",
     {{"character", "Kenta", "She met a girl named 'Kenta'."}}},
    {"called, double quotes, noun not in the table",
     "There is a cat called \"Rin\" here.",
     {{"cat", "Rin", "There is a cat called \"Rin\" here."}}},
    {"curly quotes", "A sword called \xE2\x80\x9C" "Dawnbreaker\xE2\x80\x9D.",
     {{"item", "Dawnbreaker",
       "A sword called \xE2\x80\x9C" "Dawnbreaker\xE2\x80\x9D."}}},
    {"an apostrophe inside single quotes",
     "A blade named 'Kenta's Edge' lay there.",
     {{"blade", "Kenta's Edge", "A blade named 'Kenta's Edge' lay there."}}},
    {"a new <type> named X", "Add a new character named Kenta today.",
     {{"character", "Kenta", "Add a new character named Kenta today."}}},
    {"a new <type> X", "They found a new location Tokyo Tower at night.",
     {{"location", "Tokyo Tower",
       "They found a new location Tokyo Tower at night."}}},
    {"a new <type>: X", "Meet a new friend: Rin.",
     {{"character", "Rin", "Meet a new friend: Rin."}}},
    {"capitalised run stops at a lower-case word",
     "A man named Kenta Sato walked in.",
     {{"character", "Kenta Sato", "A man named Kenta Sato walked in."}}},
    {"capitalised run stops at punctuation",
     "A boy named Kenta, who smiled, left.",
     {{"character", "Kenta", "A boy named Kenta, who smiled, left."}}},
    {"capitalised run keeps a leading article",
     "We found a tavern called The Red Dragon.",
     {{"location", "The Red Dragon",
       "We found a tavern called The Red Dragon."}}},
    {"a form of 'to be' before the cue", "Her sister was called Rin.",
     {{"character", "Rin", "Her sister was called Rin."}}},
    {"guild maps to organization", "A guild called Silver Hand rose.",
     {{"organization", "Silver Hand", "A guild called Silver Hand rose."}}},
    {"scripts without case count as capitalised",
     "A girl named \xE5\x81\xA5\xE5\xA4\xAA arrived.", // 健太
     {{"character", "\xE5\x81\xA5\xE5\xA4\xAA",
       "A girl named \xE5\x81\xA5\xE5\xA4\xAA arrived."}}},
    {"CJK quotes", "A girl named \xE3\x80\x8C\xE3\x83\xA6\xE3\x82\xAD"
                   "\xE3\x80\x8D.", // 「ユキ」
     {{"character", "\xE3\x83\xA6\xE3\x82\xAD",
       "A girl named \xE3\x80\x8C\xE3\x83\xA6\xE3\x82\xAD\xE3\x80\x8D."}}},
    {"the summary holds every sentence naming it, nothing else",
     "A girl named Kenta arrived. Rain fell. Kenta smiled.",
     {{"character", "Kenta", "A girl named Kenta arrived. Kenta smiled."}}},
    {"creations in order of their naming phrase",
     "A boy named Rin met a girl called Yuki.",
     {{"character", "Rin", "A boy named Rin met a girl called Yuki."},
      {"character", "Yuki", "A boy named Rin met a girl called Yuki."}}},
    {"the same name twice in a turn is one creation",
     "A girl named Kenta sang. A boy named KENTA danced.",
     {{"character", "Kenta", "A girl named Kenta sang. A boy named KENTA "
                             "danced."}}},
  };
  for (auto& c : cases) {
    INFO(c.rule);
    auto r = analyse(c.text, {});
    CHECK(creations_of(r) == c.expected);
  }
}

TEST_CASE("no new entity without a naming phrase and a proper name",
          "[rules_llm][analyse]") {
  struct quiet_case {
    const char* rule;
    std::string text;
  };
  std::vector<quiet_case> cases{
    {"a verb with a pronoun subject", "She called Kenta yesterday."},
    {"a verb after a name", "Momo called Kenta twice."},
    {"a lower-case name", "A girl named kenta came."},
    {"a pronoun after the cue", "Momo named her cat Mochi."},
    {"'new' without an article", "They visited New York City."},
    {"a capitalised word after 'new'", "They opened the New York office."},
    {"a stopword after 'new'", "a new and Bright day."},
    {"an unclosed quote", "A girl named 'Kenta"},
    {"an empty quote", "A girl named '' waved."},
    {"a quote with no word", "A girl named '!!' waved."},
    {"the cue ends the text", "There was a girl named"},
    {"the cue and the name on different lines", "A girl named\nKenta."},
  };
  for (auto& c : cases) {
    INFO(c.rule);
    CHECK(analyse(c.text, {}).creations.empty());
  }
}

TEST_CASE("naming a known entity updates it instead of creating it",
          "[rules_llm][analyse]") {
  SECTION("by title") {
    auto r = analyse("We met a cat named Momo.");
    CHECK(r.creations.empty());
    CHECK(updates_of(r) == update_list{{"e-momo", "We met a cat named Momo."}});
  }
  SECTION("by alias, whatever the case") {
    auto r = analyse("We met a cat called 'LITTLE CAT'.");
    CHECK(r.creations.empty());
    CHECK(updates_of(r)
          == update_list{{"e-momo", "We met a cat called 'LITTLE CAT'."}});
  }
}

TEST_CASE("a new name hides a known name inside it", "[rules_llm][analyse]") {
  std::vector<known_entity> known{{"e-tokyo", "location", "Tokyo", {}}};
  auto r = analyse("We found a new location Tokyo Tower. Tokyo slept.", known);
  CHECK(updates_of(r) == update_list{{"e-tokyo", "Tokyo slept."}});
  CHECK(creations_of(r)
        == std::vector<creation_row>{{"location", "Tokyo Tower",
                                      "We found a new location Tokyo "
                                      "Tower."}});
}

TEST_CASE("analysis is deterministic and passes validation",
          "[rules_llm][analyse]") {
  std::string text = "Momo met a girl named Kenta at the Red Dragon Inn. "
                     "Kenta's friend, a man called Rin, waved.\n"
                     "Tokyo Tower glowed over Tokyo.";
  auto a = analyse(text);
  auto b = analyse(text);
  CHECK(storage::encode_json(to_json(a)) == storage::encode_json(to_json(b)));
  CHECK(a.updates.size() == 4);
  CHECK(a.creations.size() == 2);
  CHECK_FALSE(validate(a, cast()));
}

// --- rewrite -----------------------------------------------------------------

namespace {

std::string rewrite(std::string note, std::string summary,
                    std::size_t max_chars = 4000) {
  rewrite_input in;
  in.entity_id = "e-momo";
  in.entity_title = "Momo";
  in.previous_note = std::move(note);
  in.update_summary = std::move(summary);
  in.max_note_chars = max_chars;
  auto r = rules_llm{}.rewrite(in);
  REQUIRE(r);
  return std::move(*r);
}

} // namespace

TEST_CASE("rewrite appends the summary to the note", "[rules_llm][rewrite]") {
  CHECK(rewrite("", "Momo ran.") == "Momo ran.");
  CHECK(rewrite("Momo ran.", "Momo slept.") == "Momo ran. Momo slept.");
  CHECK(rewrite("  Momo ran.  ", "  Momo slept. ") == "Momo ran. Momo slept.");
  CHECK(rewrite("Line one\nLine two", "Line three.")
        == "Line one\nLine two Line three.");
  CHECK(rewrite("Momo ran.", "") == "Momo ran.");
  CHECK(rewrite("", "") == "");
}

TEST_CASE("rewrite never repeats a sentence", "[rules_llm][rewrite]") {
  SECTION("compared case-folded, whitespace-collapsed, without trailing "
          "punctuation") {
    CHECK(rewrite("Momo ran home.", "momo  ran\thome! Momo slept.")
          == "Momo ran home. Momo slept.");
  }
  SECTION("within the summary too") {
    CHECK(rewrite("", "Momo slept. Momo slept.") == "Momo slept.");
  }
  SECTION("a summary that says nothing new leaves the note as it was") {
    CHECK(rewrite("Momo ran. Momo slept.", "Momo slept") ==
          "Momo ran. Momo slept.");
  }
}

TEST_CASE("rewrite trims the note oldest sentence first",
          "[rules_llm][rewrite]") {
  // "One. Two. Three. Four." is 22 characters.
  CHECK(rewrite("One. Two. Three.", "Four.", 12) == "Three. Four.");
  CHECK(rewrite("One. Two. Three.", "Four.", 5) == "Four.");
  SECTION("an old note over a lowered limit is trimmed too") {
    CHECK(rewrite("One. Two. Three.", "", 6) == "Three.");
  }
}

TEST_CASE("a single sentence over the limit keeps its last characters",
          "[rules_llm][rewrite]") {
  CHECK(rewrite("", "abcdefghij.", 5) == "ghij.");
  SECTION("cut on a UTF-8 boundary") {
    // "Ünïcödé" is 7 characters in 11 bytes.
    auto note = rewrite("", "\xC3\x9Cn\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9", 3);
    CHECK(note == "\xC3\xB6" "d\xC3\xA9"); // "ödé"
  }
  SECTION("never an empty note for a non-empty summary") {
    CHECK(rewrite("", "...", 1) == ".");
    CHECK(rewrite("", "Momo   ran", 3) == "ran");
  }
}

TEST_CASE("rewrite rejects a zero note limit", "[rules_llm][rewrite]") {
  rewrite_input in;
  in.update_summary = "Momo ran.";
  in.max_note_chars = 0;
  auto err = error_of(rules_llm{}.rewrite(in));
  CHECK(code_of(err) == ec::invalid_argument);
  CHECK(field_of(err) == "max_note_chars");
}

// --- create ------------------------------------------------------------------

namespace {

caf::expected<creation_result> create(std::string type, std::string summary,
                                      std::string name,
                                      rules_options opts = {}) {
  return rules_llm{opts}.create(
    {std::move(type), std::move(summary), std::move(name), std::string{}});
}

} // namespace

TEST_CASE("create takes the title from the name and the content from the "
          "summary",
          "[rules_llm][create]") {
  auto r = create("character",
                  "  A girl named Kenta arrived at the village. Kenta carried "
                  "a lantern. The lantern glowed.  ",
                  "Kenta");
  REQUIRE(r);
  CHECK(r->title == "Kenta");
  CHECK(r->content == "A girl named Kenta arrived at the village. Kenta "
                      "carried a lantern. The lantern glowed.");
  // Type first; then by frequency, ties by first occurrence; no stopwords
  // ("named"), no title words ("kenta"), no words under four letters.
  CHECK(r->tags
        == std::vector<std::string>{"character", "lantern", "girl", "arrived",
                                    "village", "carried", "glowed"});
}

TEST_CASE("create strips quotes around the name", "[rules_llm][create]") {
  for (auto name : {"'Kenta'", "\"Kenta\"", " \xE2\x80\x9C Kenta \xE2\x80\x9D ",
                    "\xE2\x80\x98Kenta\xE2\x80\x99"}) {
    auto r = create("character", "Someone.", name);
    REQUIRE(r);
    CHECK(r->title == "Kenta");
  }
}

TEST_CASE("without a name the title is the summary's first capitalised words",
          "[rules_llm][create]") {
  SECTION("leading stopwords are dropped") {
    auto r = create("location", "The Red Dragon opened its doors.", "");
    REQUIRE(r);
    CHECK(r->title == "Red Dragon");
  }
  SECTION("a capitalised stopword alone is skipped") {
    auto r = create("character", "She met Kenta Sato at noon.", "  ");
    REQUIRE(r);
    CHECK(r->title == "Kenta Sato");
  }
  SECTION("no capitalised words is an error naming the name field") {
    auto err = error_of(create("character", "the girl smiled.", ""));
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == "name");
  }
}

TEST_CASE("create keeps keyword tags few and meaningful", "[rules_llm][create]") {
  SECTION("at most max_keyword_tags keywords after the type") {
    rules_options opts;
    opts.max_keyword_tags = 2;
    auto r = create("item", "Bright steel, sharp steel, cold blade, 1999.",
                    "Edge", opts);
    REQUIRE(r);
    CHECK(r->tags == std::vector<std::string>{"item", "steel", "bright"});
  }
  SECTION("the type is not repeated and numbers are no keywords") {
    auto r = create("location", "A location built in 1999.", "Keep");
    REQUIRE(r);
    CHECK(r->tags == std::vector<std::string>{"location", "built"});
  }
  SECTION("the same input gives the same tags") {
    auto a = create("character", "Kenta likes tea, rain and tea houses.", "");
    auto b = create("character", "Kenta likes tea, rain and tea houses.", "");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->tags == b->tags);
    CHECK(a->tags == std::vector<std::string>{"character", "likes", "rain",
                                              "houses"});
  }
}

TEST_CASE("create rejects what the entity API would reject",
          "[rules_llm][create]") {
  SECTION("an invalid entity type") {
    std::vector<std::string> types{"", "two words", "a/b",
                                   std::string(65, 'x')};
    for (auto& type : types) {
      INFO(type);
      auto err = error_of(create(type, "Kenta.", "Kenta"));
      CHECK(code_of(err) == ec::invalid_argument);
      CHECK(field_of(err) == "entity_type");
    }
  }
  SECTION("a name longer than a title may be") {
    auto err = error_of(create("character", "x", std::string(513, 'K')));
    CHECK(field_of(err) == "name");
  }
  SECTION("a summary longer than content may be") {
    auto err = error_of(create("character", std::string(65537, 'a'), "K"));
    CHECK(field_of(err) == "creation_summary");
  }
}
