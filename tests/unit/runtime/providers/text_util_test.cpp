// Specification of runtime/providers/text_util: the word and sentence rules
// that docs/RULES.md states for users.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "runtime/providers/text_util.hpp"

using namespace engram::providers;

namespace {

std::vector<std::string> pieces(std::string_view s,
                                const std::vector<text::span>& spans) {
  std::vector<std::string> out;
  for (auto& sp : spans)
    out.emplace_back(s.substr(sp.begin, sp.end - sp.begin));
  return out;
}

std::vector<std::string> sentences_of(std::string_view s) {
  return pieces(s, text::sentences(s));
}

std::vector<std::string> words_of(std::string_view s) {
  return pieces(s, text::words(s));
}

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("words are runs of letters, digits and non-ASCII characters",
          "[text_util]") {
  CHECK(words_of("Momo's  tail, x_y 3.5") == strings{"Momo", "s", "tail", "x",
                                                     "y", "3", "5"});
  CHECK(words_of("caf\xC3\xA9 \xE5\x81\xA5\xE5\xA4\xAA")
        == strings{"caf\xC3\xA9", "\xE5\x81\xA5\xE5\xA4\xAA"});
  SECTION("listed Unicode punctuation ends a word") {
    CHECK(words_of("Momo\xE2\x80\x99s \xE2\x80\x9CRin\xE2\x80\x9D "
                   "A\xE2\x80\x94" "B \xE3\x80\x8C\xE3\x83\xA6\xE3\x80\x8D")
          == strings{"Momo", "s", "Rin", "A", "B", "\xE3\x83\xA6"});
  }
  CHECK(words_of("").empty());
  CHECK(words_of(" ,.!").empty());
}

TEST_CASE("sentences end at . ! ? before whitespace, and at line breaks",
          "[text_util]") {
  CHECK(sentences_of("Momo ran. Rin hid! Who? Kenta") ==
        strings{"Momo ran.", "Rin hid!", "Who?", "Kenta"});
  CHECK(sentences_of("Pi is 3.14. Wait...what? Yes?!  Ok")
        == strings{"Pi is 3.14.", "Wait...what?", "Yes?!", "Ok"});
  CHECK(sentences_of("one\ntwo\r\n\nthree") ==
        strings{"one", "two", "three"});
  SECTION("closing quotes and brackets stay with their sentence") {
    CHECK(sentences_of("He said \"Go!\" Then left. (Quietly.) End")
          == strings{"He said \"Go!\"", "Then left.", "(Quietly.)", "End"});
  }
  SECTION("CJK terminators need no space after them") {
    CHECK(sentences_of("\xE9\x9B\xA8\xE3\x80\x82\xE6\x99\xB4\xEF\xBC\x81")
          == strings{"\xE9\x9B\xA8\xE3\x80\x82", "\xE6\x99\xB4\xEF\xBC\x81"});
  }
  CHECK(sentences_of("   ").empty());
}

TEST_CASE("trim knows the no-break and ideographic spaces", "[text_util]") {
  CHECK(text::trim("\xC2\xA0 x y\t\xE3\x80\x80") == "x y");
  CHECK(text::trim(" \xC2\xA0 ").empty());
}

TEST_CASE("names compare folded, with whitespace and quotes normalised",
          "[text_util]") {
  CHECK(text::name_key("Red  dragon\nInn") == text::name_key("red Dragon Inn"));
  CHECK(text::name_key("O\xE2\x80\x99" "Brien") == text::name_key("o'brien"));
  CHECK(text::name_key("  'Momo'!") == "momo");
  CHECK(text::name_key("Red-Dragon") != text::name_key("Red Dragon"));
  CHECK(text::name_key("\xC3\x89lodie") != text::name_key("\xC3\xA9lodie"));
  CHECK(text::name_key("?!").empty());
}

TEST_CASE("sentences compare folded, collapsed, without trailing punctuation",
          "[text_util]") {
  CHECK(text::sentence_key("It  RAINS!") == text::sentence_key("it rains"));
  CHECK(text::sentence_key("\"It rains.\"") != text::sentence_key("It rains"));
  CHECK(text::sentence_key("...") == "...");
}

TEST_CASE("characters are counted and cut on code point boundaries",
          "[text_util]") {
  std::string s = "a\xC3\xA9\xE5\x81\xA5" "b"; // a é 健 b
  CHECK(text::length(s) == 4);
  CHECK(text::first_chars(s, 2) == "a\xC3\xA9");
  CHECK(text::last_chars(s, 2) == "\xE5\x81\xA5" "b");
  CHECK(text::first_chars(s, 9) == s);
  CHECK(text::last_chars(s, 0).empty());
}
