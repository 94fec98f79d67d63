#include "runtime/providers/text_util.hpp"

#include <algorithm>
#include <array>
#include <unordered_set>

namespace engram::providers::text {

namespace {

// Multi-byte whitespace: U+00A0 no-break space, U+3000 ideographic space.
constexpr std::array<std::string_view, 2> wide_spaces{"\xC2\xA0",
                                                      "\xE3\x80\x80"};

// Unicode punctuation that ends a word. Kept short on purpose: anything not
// listed is a word character, which errs towards "no match" rather than
// splitting a name written in another script.
constexpr std::array<std::string_view, 16> wide_punctuation{
  "\xC2\xAB",     // « U+00AB
  "\xC2\xBB",     // » U+00BB
  "\xE2\x80\x93", // – U+2013
  "\xE2\x80\x94", // — U+2014
  "\xE2\x80\x98", // ‘ U+2018
  "\xE2\x80\x99", // ’ U+2019
  "\xE2\x80\x9C", // “ U+201C
  "\xE2\x80\x9D", // ” U+201D
  "\xE2\x80\xA6", // … U+2026
  "\xE3\x80\x81", // 、 U+3001
  "\xE3\x80\x82", // 。 U+3002
  "\xE3\x80\x8C", // 「 U+300C
  "\xE3\x80\x8D", // 」 U+300D
  "\xEF\xBC\x81", // ！ U+FF01
  "\xEF\xBC\x8C", // ， U+FF0C
  "\xEF\xBC\x9F", // ？ U+FF1F
};

// Ends a sentence only when whitespace or the end follows (so "3.5" and
// "e.g.x" stay whole).
constexpr std::array<std::string_view, 4> soft_terminators{".", "!", "?",
                                                           "\xE2\x80\xA6"};

// CJK terminators end a sentence at once: that text has no spaces.
constexpr std::array<std::string_view, 3> hard_terminators{
  "\xE3\x80\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F"};

// May follow a terminator and still belong to the sentence: `"Go!" he said`.
constexpr std::array<std::string_view, 8> closers{
  "\"", "'", ")", "]", "\xE2\x80\x9D", "\xE2\x80\x99", "\xE3\x80\x8D",
  "\xC2\xBB"};

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
         || (c >= 'A' && c <= 'Z');
}

bool is_ascii_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// Length of the first entry of `table` that starts at `pos`, 0 if none.
template <std::size_t N>
std::size_t table_at(const std::array<std::string_view, N>& table,
                     std::string_view s, std::size_t pos) {
  if (pos >= s.size())
    return 0;
  auto rest = s.substr(pos);
  for (auto entry : table)
    if (rest.compare(0, entry.size(), entry) == 0)
      return entry.size();
  return 0;
}

// Length of the whitespace code point that ends just before `end`, 0 if none.
std::size_t space_before(std::string_view s, std::size_t end) {
  if (end == 0)
    return 0;
  if (is_ascii_space(static_cast<unsigned char>(s[end - 1])))
    return 1;
  for (auto entry : wide_spaces)
    if (end >= entry.size()
        && s.compare(end - entry.size(), entry.size(), entry) == 0)
      return entry.size();
  return 0;
}

std::size_t skip_closers(std::string_view s, std::size_t pos) {
  while (auto n = table_at(closers, s, pos))
    pos += n;
  return pos;
}

// Where the sentence that has a terminator at `pos` ends, or npos when the
// terminator does not end one (no whitespace after a soft terminator).
std::size_t sentence_end_at(std::string_view s, std::size_t pos) {
  if (auto n = table_at(hard_terminators, s, pos))
    return skip_closers(s, pos + n);
  if (table_at(soft_terminators, s, pos) == 0)
    return std::string_view::npos;
  while (auto n = table_at(soft_terminators, s, pos))
    pos += n;
  pos = skip_closers(s, pos);
  return pos == s.size() || space_at(s, pos) > 0 ? pos
                                                 : std::string_view::npos;
}

void add_trimmed(std::string_view s, std::size_t begin, std::size_t end,
                 std::vector<span>& out) {
  auto part = trim(s.substr(begin, end - begin));
  if (part.empty())
    return;
  auto first = static_cast<std::size_t>(part.data() - s.data());
  out.push_back({first, first + part.size()});
}

// Whitespace runs become one space, curly quotes straight ones: the forms a
// writer uses interchangeably must not make two names differ.
std::string normalise_gap(std::string_view g) {
  std::string out;
  std::size_t pos = 0;
  while (pos < g.size()) {
    if (auto n = space_at(g, pos)) {
      if (out.empty() || out.back() != ' ')
        out += ' ';
      pos += n;
    } else if (g.compare(pos, 3, "\xE2\x80\x98") == 0
               || g.compare(pos, 3, "\xE2\x80\x99") == 0) {
      out += '\'';
      pos += 3;
    } else if (g.compare(pos, 3, "\xE2\x80\x9C") == 0
               || g.compare(pos, 3, "\xE2\x80\x9D") == 0) {
      out += '"';
      pos += 3;
    } else {
      out += g[pos++];
    }
  }
  return out;
}

// Folded, whitespace runs collapsed to one space, trimmed.
std::string collapse(std::string_view s) {
  std::string out;
  std::size_t pos = 0;
  s = trim(s);
  while (pos < s.size()) {
    if (auto n = space_at(s, pos)) {
      if (out.back() != ' ') // never empty here: `s` is trimmed
        out += ' ';
      pos += n;
    } else {
      out += s[pos++];
    }
  }
  return fold(out);
}

} // namespace

std::size_t space_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size())
    return 0;
  if (is_ascii_space(static_cast<unsigned char>(s[pos])))
    return 1;
  return table_at(wide_spaces, s, pos);
}

std::size_t separator_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size())
    return 0;
  auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80)
    return is_ascii_alnum(c) ? 0 : 1;
  if (auto n = space_at(s, pos))
    return n;
  return table_at(wide_punctuation, s, pos);
}

bool is_inline_space(std::string_view s) {
  if (s.empty())
    return false;
  for (std::size_t pos = 0; pos < s.size();) {
    auto n = space_at(s, pos);
    if (n == 0 || s[pos] == '\n' || s[pos] == '\r')
      return false;
    pos += n;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (auto n = space_at(s, 0))
    s.remove_prefix(n);
  while (auto n = space_before(s, s.size()))
    s.remove_suffix(n);
  return s;
}

std::string fold(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::size_t length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
    s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string_view first_chars(std::string_view s, std::size_t n) {
  std::size_t pos = 0;
  for (std::size_t seen = 0; pos < s.size(); ++pos) {
    if ((s[pos] & 0xC0) != 0x80 && seen++ == n)
      break;
  }
  return s.substr(0, pos);
}

std::string_view last_chars(std::string_view s, std::size_t n) {
  std::size_t pos = s.size();
  for (std::size_t seen = 0; pos > 0 && seen < n;) {
    --pos;
    if ((s[pos] & 0xC0) != 0x80)
      ++seen;
  }
  return s.substr(pos);
}

std::vector<span> words(std::string_view s) {
  std::vector<span> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (auto n = separator_at(s, pos)) {
      pos += n;
      continue;
    }
    auto begin = pos;
    // Byte steps are safe: every separator starts with an ASCII or a lead
    // byte, never with a continuation byte.
    while (pos < s.size() && separator_at(s, pos) == 0)
      ++pos;
    out.push_back({begin, pos});
  }
  return out;
}

std::vector<span> sentences(std::string_view s) {
  std::vector<span> out;
  std::size_t start = 0;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (s[pos] == '\n' || s[pos] == '\r') {
      add_trimmed(s, start, pos, out);
      start = ++pos;
    } else if (auto end = sentence_end_at(s, pos);
               end != std::string_view::npos) {
      add_trimmed(s, start, end, out);
      start = pos = end;
    } else {
      ++pos;
    }
  }
  add_trimmed(s, start, s.size(), out);
  return out;
}

std::string name_key(std::string_view s) {
  auto t = tokenize(s);
  std::string out;
  for (std::size_t i = 0; i < t.folded.size(); ++i) {
    out += t.folded[i];
    if (i < t.gaps.size())
      out += t.gaps[i];
  }
  return out;
}

std::string sentence_key(std::string_view s) {
  auto ws = words(s);
  if (ws.empty())
    return collapse(s);
  return collapse(s.substr(0, ws.back().end));
}

bool is_stopword(std::string_view folded_word) {
  // Function-local static: built once, thread-safe, read-only afterwards.
  static const std::unordered_set<std::string_view> list{
    "a", "about", "above", "after", "again", "against", "all", "also", "am",
    "among", "an", "and", "another", "any", "anything", "are", "around",
    "as", "at", "away", "back", "be", "because", "been", "before", "being",
    "below", "between", "both", "but", "by", "called", "came", "can",
    "come", "could", "did", "do", "does", "doing", "down", "during", "each",
    "even", "ever", "every", "everything", "few", "for", "from", "further",
    "get", "gets", "goes", "going", "got", "had", "has", "have", "having",
    "he", "her", "here", "hers", "herself", "him", "himself", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "itself", "just", "know",
    "knew", "later", "let", "like", "look", "looked", "made", "make",
    "many", "may", "me", "more", "most", "much", "must", "my", "myself",
    "named", "never", "new", "no", "nor", "not", "nothing", "now", "of",
    "off", "on", "once", "one", "only", "onto", "or", "other", "our",
    "ours", "ourselves", "out", "over", "own", "really", "said", "same",
    "says", "she", "should", "so", "some", "something", "soon", "still",
    "such", "take", "tell", "than", "that", "the", "their", "theirs",
    "them", "themselves", "then", "there", "these", "they", "thing",
    "things", "think", "this", "those", "thought", "through", "to", "today",
    "told", "too", "took", "under", "until", "up", "upon", "us", "very",
    "want", "wanted", "was", "we", "well", "went", "were", "what", "when",
    "where", "which", "while", "who", "whom", "whose", "why", "will",
    "with", "within", "without", "would", "yet", "you", "your", "yours",
    "yourself", "yourselves"};
  return list.count(folded_word) > 0;
}

bool is_capitalised(std::string_view word) {
  if (word.empty())
    return false;
  auto c = static_cast<unsigned char>(word[0]);
  return (c >= 'A' && c <= 'Z') || c >= 0x80;
}

tokens tokenize(std::string_view s) {
  tokens t;
  t.text = s;
  t.words = words(s);
  t.folded.reserve(t.words.size());
  for (std::size_t i = 0; i < t.words.size(); ++i) {
    t.folded.push_back(fold(t.word(i)));
    if (i + 1 < t.words.size())
      t.gaps.push_back(normalise_gap(t.raw_gap(i)));
  }
  return t;
}

phrase make_phrase(std::string_view name) {
  auto t = tokenize(name);
  return {std::move(t.folded), std::move(t.gaps)};
}

std::size_t match_at(const tokens& t, std::size_t i, const phrase& p) {
  auto n = p.words.size();
  if (n == 0 || i + n > t.folded.size())
    return 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (t.folded[i + k] != p.words[k])
      return 0;
    if (k + 1 < n && t.gaps[i + k] != p.gaps[k])
      return 0;
  }
  return n;
}

} // namespace engram::providers::text
