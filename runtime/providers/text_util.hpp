#pragma once
// Text primitives of the offline `rules` provider: words, sentences, keys
// for comparing names and sentences, and whole-word phrase matching. They
// take any bytes, need no locale and no Unicode tables, and give the same
// answer on every machine. docs/RULES.md states the same rules for users;
// keep the two in step.
//
// Vocabulary used below:
// - whitespace: ASCII space, \t \n \v \f \r, U+00A0 (no-break space) and
//   U+3000 (ideographic space);
// - separator: whitespace, any other ASCII byte that is not a letter or a
//   digit, and a short table of Unicode punctuation (curly quotes, dashes,
//   ellipsis, guillemets, CJK comma/full stop/brackets, full-width ! , ?);
// - word character: everything else, so letters of any script are word
//   characters (non-ASCII bytes outside the table count as letters);
// - word: a maximal run of word characters;
// - gap: the bytes between two neighbouring words.
// Case folding is ASCII-only: "Momo" equals "MOMO", "É" and "é" differ.
// All functions are pure and thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace engram::providers::text {

/// A half-open byte range [begin, end) of some text.
struct span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

/// Byte length of the whitespace code point starting at `pos`, 0 if none.
std::size_t space_at(std::string_view s, std::size_t pos);

/// Byte length of the separator code point starting at `pos`, 0 when a word
/// character starts there (or `pos` is at or past the end).
std::size_t separator_at(std::string_view s, std::size_t pos);

/// True when `s` is non-empty whitespace without a line break.
bool is_inline_space(std::string_view s);

/// `s` without leading and trailing whitespace.
std::string_view trim(std::string_view s);

/// ASCII lower-case copy; other bytes unchanged.
std::string fold(std::string_view s);

/// Number of code points (bytes that are not UTF-8 continuation bytes).
std::size_t length(std::string_view s);

/// The first / last `n` code points of `s`; cuts only on code point
/// boundaries, so a valid UTF-8 input gives a valid UTF-8 result.
std::string_view first_chars(std::string_view s, std::size_t n);
std::string_view last_chars(std::string_view s, std::size_t n);

/// The words of `s`, in order.
std::vector<span> words(std::string_view s);

/// The sentences of `s`, each trimmed and non-empty, in order. A sentence
/// ends at a line break; after a run of `.` `!` `?` `…` (plus closing quotes
/// or brackets) that is followed by whitespace or the end; and right after
/// `。` `！` `？`, which need no space after them.
std::vector<span> sentences(std::string_view s);

/// Key under which two names are the same name: the folded words joined by
/// their gaps, each gap with whitespace runs collapsed to one space and curly
/// quotes made straight. "Red  dragon\nInn" and "red Dragon Inn" share a
/// key; leading and trailing separators do not count. Empty when `s` has no
/// word.
std::string name_key(std::string_view s);

/// Key under which two sentences are the same sentence: folded, whitespace
/// collapsed and trimmed, trailing separators dropped ("It rains!" equals
/// "it  rains"). A sentence without any word keys as its folded, collapsed
/// text.
std::string sentence_key(std::string_view s);

/// True for the shipped English stopwords; `folded_word` must be folded.
bool is_stopword(std::string_view folded_word);

/// True when a word starts with an ASCII capital or a non-ASCII character
/// (scripts without case, such as kana, count as capitalised).
bool is_capitalised(std::string_view word);

/// A text prepared for phrase matching: its words, their folded forms and
/// the normalised gaps (see name_key) between neighbours.
struct tokens {
  std::string_view text;
  std::vector<span> words;
  std::vector<std::string> folded;
  std::vector<std::string> gaps; // gaps[i] lies between words i and i + 1

  std::string_view word(std::size_t i) const {
    return text.substr(words[i].begin, words[i].end - words[i].begin);
  }
  /// Raw bytes between words i and i + 1.
  std::string_view raw_gap(std::size_t i) const {
    return text.substr(words[i].end, words[i + 1].begin - words[i].end);
  }
};

/// Tokenises `s`; the result refers to `s`, which must outlive it.
tokens tokenize(std::string_view s);

/// A name prepared for matching: folded words and normalised gaps.
struct phrase {
  std::vector<std::string> words;
  std::vector<std::string> gaps;
};

phrase make_phrase(std::string_view name);

/// Number of words of `t` that `p` matches starting at word `i` (the words
/// of `p` equal the folded words of `t`, and every gap equals), 0 if none.
std::size_t match_at(const tokens& t, std::size_t i, const phrase& p);

} // namespace engram::providers::text
