// Specification of runtime/exports/chunker: how a document is cut into
// chunks for embedding and search.

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "runtime/exports/chunker.hpp"
#include "runtime/providers/text_util.hpp"

using namespace engram::exports;
namespace text = engram::providers::text;
using engram::code_of;
using engram::ec;
using engram::field_of;

namespace {

chunk_options opts(std::size_t max_chars, std::size_t overlap_chars) {
  chunk_options o;
  o.max_chars = max_chars;
  o.overlap_chars = overlap_chars;
  return o;
}

bool is_continuation(std::string_view s, std::size_t pos) {
  return pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80;
}

bool is_blank(std::string_view s) {
  return text::trim(s).empty();
}

// Strict UTF-8 check (shortest forms not enforced; enough for these tests).
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80   ? 1
                    : c >= 0xF0 ? 4
                    : c >= 0xE0 ? 3
                    : c >= 0xC0 ? 2
                                : 0;
    if (n == 0 || i + n > s.size())
      return false;
    for (std::size_t k = 1; k < n; ++k)
      if (!is_continuation(s, i + k))
        return false;
    i += n;
  }
  return true;
}

// Every guarantee the header makes, checked for one result. Returns a
// description of the first violation, or an empty string.
std::string violation(std::string_view doc, const std::vector<chunk>& chunks,
                      const chunk_options& o, bool utf8) {
  auto max = std::max<std::size_t>(o.max_chars, 1);
  std::size_t covered = 0; // everything before this is in a chunk or blank
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    auto& c = chunks[i];
    auto at = "chunk " + std::to_string(i) + ": ";
    if (c.index != i)
      return at + "wrong index";
    if (c.begin >= c.end || c.end > doc.size())
      return at + "bad range";
    if (c.text != doc.substr(c.begin, c.end - c.begin))
      return at + "text is not the range";
    if (text::length(c.text) > max)
      return at + "too long: " + std::to_string(text::length(c.text));
    if (text::trim(c.text) != std::string_view{c.text})
      return at + "starts or ends with whitespace";
    if (utf8 && (is_continuation(doc, c.begin) || is_continuation(doc, c.end)))
      return at + "offset inside a UTF-8 sequence";
    if (i > 0 && (c.begin <= chunks[i - 1].begin || c.end <= chunks[i - 1].end))
      return at + "not after the previous chunk";
    if (c.begin > covered && !is_blank(doc.substr(covered, c.begin - covered)))
      return at + "text before it is in no chunk";
    covered = std::max(covered, c.end);
  }
  if (!is_blank(doc.substr(covered)))
    return "text after the last chunk is in no chunk";
  return {};
}

std::vector<chunk> checked_split(std::string_view doc, const chunk_options& o,
                                 bool utf8 = true) {
  auto chunks = split_document(doc, o);
  auto why = violation(doc, chunks, o, utf8);
  INFO(why);
  CHECK(why.empty());
  return chunks;
}

std::vector<std::string> texts(const std::vector<chunk>& chunks) {
  std::vector<std::string> out;
  for (auto& c : chunks)
    out.push_back(c.text);
  return out;
}

// A paragraph of `sentences` sentences "Sentence <p>.<i> is here and ends."
std::string paragraph(int p, int sentences) {
  std::string out;
  for (int i = 0; i < sentences; ++i) {
    if (i > 0)
      out += ' ';
    out += "Sentence " + std::to_string(p) + "." + std::to_string(i)
           + " is here and ends.";
  }
  return out;
}

// Words "w0000 w0001 ..." without any sentence end.
std::string numbered_words(int n) {
  std::string out;
  char buf[16];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), "%sw%04d", i > 0 ? " " : "", i);
    out += buf;
  }
  return out;
}

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("a short text is one chunk without its surrounding whitespace",
          "[chunker]") {
  auto chunks = checked_split("Hello world.", {});
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].index == 0);
  CHECK(chunks[0].begin == 0);
  CHECK(chunks[0].end == 12);
  CHECK(chunks[0].text == "Hello world.");

  std::string doc = "  \n\n Hello\n\nworld. \r\n";
  chunks = checked_split(doc, {});
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].text == "Hello\n\nworld.");
  CHECK(chunks[0].begin == 5);
}

TEST_CASE("empty and whitespace-only texts give no chunks", "[chunker]") {
  CHECK(split_document("", {}).empty());
  CHECK(split_document(" \t\r\n\n \xC2\xA0 \xE3\x80\x80\n", {}).empty());
}

TEST_CASE("paragraphs are packed greedily and never split when they fit",
          "[chunker]") {
  // Paragraphs of ~290 characters; three plus separators fit in 1000.
  std::vector<std::string> paras;
  std::string doc;
  for (int p = 0; p < 7; ++p) {
    paras.push_back(paragraph(p, 9));
    doc += (p > 0 ? "\n\n" : "") + paras.back();
  }
  REQUIRE(text::length(paras[0]) > 250);
  REQUIRE(text::length(paras[0]) < 333);
  auto chunks = checked_split(doc, opts(1000, 0));
  CHECK(texts(chunks)
        == strings{paras[0] + "\n\n" + paras[1] + "\n\n" + paras[2],
                   paras[3] + "\n\n" + paras[4] + "\n\n" + paras[5],
                   paras[6]});
}

TEST_CASE("blank lines with spaces and CRLF line ends separate paragraphs",
          "[chunker]") {
  std::string p1 = "First paragraph, line one.\r\nLine two of it, which goes on"
                   " for a while to fill the room.";
  std::string p2 = "Second paragraph, also long enough that the two do not "
                   "share one chunk of a hundred.";
  std::string doc = p1 + "\r\n \t\r\n" + p2 + "\r\n";
  auto chunks = checked_split(doc, opts(100, 0));
  CHECK(texts(chunks) == strings{p1, p2});
  CHECK(chunks[1].begin == doc.find("Second"));
}

TEST_CASE("a paragraph longer than max_chars is split at sentence ends",
          "[chunker]") {
  auto doc = paragraph(1, 20); // 20 sentences of ~31 characters
  auto chunks = checked_split(doc, opts(100, 0));
  REQUIRE(chunks.size() > 5);
  for (auto& c : chunks) {
    CHECK(c.text.rfind("Sentence ", 0) == 0);
    CHECK(c.text.back() == '.');
    CHECK(text::length(c.text) > 60); // packed: three sentences of ~31
  }
}

TEST_CASE("a paragraph split anyway fills the room after a short one",
          "[chunker]") {
  std::string p1 = "A short heading.";
  auto p2 = paragraph(2, 10); // ~310 characters: must be split at 100
  auto doc = p1 + "\n\n" + p2;
  auto chunks = checked_split(doc, opts(100, 0));
  REQUIRE(chunks.size() > 3);
  CHECK(chunks[0].text == p1 + "\n\n" + paragraph(2, 2));
  // A paragraph that fits on its own is not split to fill the room.
  doc = p1 + "\n\n" + paragraph(2, 3);
  CHECK(texts(checked_split(doc, opts(100, 0)))
        == strings{p1, paragraph(2, 3)});
}

TEST_CASE("without sentence ends a paragraph is split between words",
          "[chunker]") {
  auto doc = numbered_words(96); // "w0000 w0001 ..." 5 chars + space
  auto chunks = checked_split(doc, opts(100, 0));
  REQUIRE(chunks.size() == 6);
  for (auto& c : chunks) {
    CHECK(c.text.size() == 95); // 16 whole words: 16 * 6 - 1
    CHECK((c.end == doc.size() || doc[c.end] == ' '));
  }
}

TEST_CASE("only a word longer than the window is cut, at max_chars",
          "[chunker]") {
  std::string doc = "short " + std::string(250, 'x') + " tail";
  auto chunks = checked_split(doc, opts(100, 0));
  CHECK(texts(chunks)
        == strings{"short", std::string(100, 'x'), std::string(100, 'x'),
                   std::string(50, 'x') + " tail"});
}

TEST_CASE("consecutive chunks overlap by about overlap_chars, from a word "
          "start", "[chunker]") {
  auto doc = numbered_words(300);
  auto chunks = checked_split(doc, opts(200, 50));
  REQUIRE(chunks.size() > 5);
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    auto& prev = chunks[i - 1];
    auto& cur = chunks[i];
    REQUIRE(cur.begin < prev.end);
    auto shared = doc.substr(cur.begin, prev.end - cur.begin);
    // A suffix of the previous chunk and a prefix of this one.
    CHECK(prev.text.compare(prev.text.size() - shared.size(), shared.size(),
                            shared) == 0);
    CHECK(cur.text.compare(0, shared.size(), shared) == 0);
    CHECK(shared.size() <= 50);
    CHECK(shared.size() >= 50 - 6); // within one word of the target
    CHECK(doc[cur.begin - 1] == ' ');
  }
}

TEST_CASE("overlap 0 gives disjoint chunks", "[chunker]") {
  auto doc = numbered_words(300);
  auto chunks = checked_split(doc, opts(200, 0));
  for (std::size_t i = 1; i < chunks.size(); ++i)
    CHECK(chunks[i].begin > chunks[i - 1].end);
}

TEST_CASE("the overlap shrinks rather than split a paragraph that fits",
          "[chunker]") {
  std::string p1 = numbered_words(25);                       // 149 chars
  std::string p2 = std::string(170, 'y') + " end";           // 174 chars
  std::string doc = p1 + "\n\n" + p2;
  auto chunks = checked_split(doc, opts(200, 50));
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[0].text == p1);
  CHECK(chunks[1].end == doc.size());
  // 174 + 2 leave room for 24 characters of overlap: four whole words.
  CHECK(chunks[1].text == "w0021 w0022 w0023 w0024\n\n" + p2);
}

TEST_CASE("multi-byte characters count once and are never split",
          "[chunker]") {
  // 2-, 3- and 4-byte characters in words, a no-break space and CJK text
  // ending sentences with an ideographic full stop.
  std::string doc;
  for (int i = 0; i < 60; ++i)
    doc += "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x80\x82"
           "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xC2\xA0na\xC3\xAFve ";
  auto chunks = checked_split(doc, opts(100, 20));
  REQUIRE(chunks.size() > 3);
  for (auto& c : chunks)
    CHECK(valid_utf8(c.text));
  CHECK(text::length(chunks[0].text) > 80);  // counted in characters,
  CHECK(chunks[0].text.size() > 120);        // not in bytes

  std::string word;
  for (int i = 0; i < 250; ++i)
    word += "\xE6\x97\xA5"; // one 250-character word
  chunks = checked_split(word, opts(100, 10));
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].text.size() == 300);
  CHECK(chunks[2].text.size() == 150);
}

TEST_CASE("every non-blank byte is in some chunk, in order", "[chunker]") {
  std::string doc;
  for (int p = 0; p < 12; ++p)
    doc += paragraph(p, p % 4 + 1) + (p % 3 == 0 ? "\n\n\n" : "\r\n\r\n")
           + numbered_words(p * 7) + "\n  \n";
  for (auto o : {opts(100, 0), opts(100, 30), opts(150, 149), opts(1200, 150),
                 opts(5, 2)}) {
    auto chunks = checked_split(doc, o);
    REQUIRE_FALSE(chunks.empty());
    std::vector<bool> in_chunk(doc.size(), false);
    for (auto& c : chunks)
      for (auto i = c.begin; i < c.end; ++i)
        in_chunk[i] = true;
    for (std::size_t i = 0; i < doc.size(); ++i)
      if (!in_chunk[i])
        REQUIRE(text::space_at(doc, i) > 0);
  }
}

TEST_CASE("the same text and options give the same chunks", "[chunker]") {
  std::string doc = paragraph(1, 30) + "\n\n" + numbered_words(200);
  auto a = split_document(doc, opts(120, 40));
  auto b = split_document(doc, opts(120, 40));
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].begin == b[i].begin);
    CHECK(a[i].end == b[i].end);
    CHECK(a[i].text == b[i].text);
  }
}

TEST_CASE("out-of-range options are clamped, not trusted", "[chunker]") {
  auto doc = numbered_words(50);
  // overlap >= max_chars counts as max_chars - 1: every chunk still adds text.
  auto chunks = checked_split(doc, opts(20, 500));
  CHECK(chunks.size() >= 17);
  CHECK(chunks.size() <= doc.size());
  // max_chars 0 counts as 1.
  chunks = checked_split("ab c", opts(0, 0));
  CHECK(texts(chunks) == strings{"a", "b", "c"});
}

TEST_CASE("validate accepts max_chars 100..100000 and overlap below it",
          "[chunker]") {
  CHECK(!validate({}));
  CHECK(!validate(opts(100, 99)));
  CHECK(!validate(opts(100000, 0)));
  auto err = validate(opts(99, 0));
  CHECK(code_of(err) == ec::invalid_config);
  CHECK(field_of(err) == "max_chars");
  CHECK(field_of(validate(opts(100001, 0))) == "max_chars");
  err = validate(opts(100, 100));
  CHECK(code_of(err) == ec::invalid_config);
  CHECK(field_of(err) == "overlap_chars");
}

TEST_CASE("fuzz: random texts never break the guarantees", "[chunker]") {
  // Pieces chosen to hit every rule: words, sentence ends, line breaks of
  // both kinds, blank lines, multi-byte letters and spaces, CJK stops.
  static const std::vector<std::string> pieces{
    "a", "word", "longerword", " ", " ", "  ", ".", "!", "? ", "\n", "\r\n",
    "\n\n", "\r\n\r\n", "\n \n", "\t", "\xC3\xA9", "\xE6\x97\xA5",
    "\xF0\x9F\x98\x80", "\xC2\xA0", "\xE3\x80\x80", "\xE3\x80\x82", "\"",
    "\xE2\x80\xA6 "};
  std::mt19937 rng{20240611};
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n}(rng);
  };
  for (int round = 0; round < 5000; ++round) {
    std::string doc;
    auto n = pick(round % 25 == 0 ? 1000 : 120); // a few long documents
    for (std::size_t i = 0; i < n; ++i)
      doc += pieces[pick(pieces.size() - 1)];
    auto max = round % 2 == 0 ? 1 + pick(40) : 100 + pick(200);
    auto o = opts(max, pick(max + 5));
    auto chunks = split_document(doc, o);
    auto why = violation(doc, chunks, o, true);
    INFO("round " << round << " max " << o.max_chars << " overlap "
                  << o.overlap_chars << ": " << why);
    REQUIRE(why.empty());
  }
}

TEST_CASE("fuzz: arbitrary bytes never crash and stay covered", "[chunker]") {
  std::mt19937 rng{7};
  for (int round = 0; round < 1000; ++round) {
    std::string doc(std::uniform_int_distribution<std::size_t>{0, 400}(rng),
                    '\0');
    for (auto& c : doc)
      c = static_cast<char>(std::uniform_int_distribution<int>{0, 255}(rng));
    auto o = opts(1 + round % 50, round % 7);
    auto chunks = split_document(doc, o);
    auto why = violation(doc, chunks, o, false);
    INFO("round " << round << ": " << why);
    REQUIRE(why.empty());
  }
}
