#include "runtime/exports/chunker.hpp"

#include <algorithm>
#include <utility>

#include "messages/errors.hpp"
#include "runtime/providers/text_util.hpp"

namespace engram::exports {

namespace {

namespace text = providers::text;
using pos_list = std::vector<std::size_t>;
constexpr auto npos = std::string_view::npos;

bool is_continuation(std::string_view s, std::size_t pos) {
  return pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80;
}

// The position `n` code points after `pos` (or the end of `s`).
std::size_t advance(std::string_view s, std::size_t pos, std::size_t n) {
  for (; n > 0 && pos < s.size(); --n)
    do
      ++pos;
    while (is_continuation(s, pos));
  return pos;
}

// The position `n` code points before `pos` (or 0).
std::size_t retreat(std::string_view s, std::size_t pos, std::size_t n) {
  for (; n > 0 && pos > 0; --n)
    do
      --pos;
    while (pos > 0 && is_continuation(s, pos));
  return pos;
}

std::size_t skip_space(std::string_view s, std::size_t pos) {
  while (auto n = text::space_at(s, pos))
    pos += n;
  return pos;
}

// The last entry of `list` in (lo, hi], or npos.
std::size_t last_in(const pos_list& list, std::size_t lo, std::size_t hi) {
  auto it = std::upper_bound(list.begin(), list.end(), hi);
  if (it == list.begin() || *std::prev(it) <= lo)
    return npos;
  return *std::prev(it);
}

// The first entry of `list` after `lo`, or npos.
std::size_t first_after(const pos_list& list, std::size_t lo) {
  auto it = std::upper_bound(list.begin(), list.end(), lo);
  return it == list.end() ? npos : *it;
}

// Where chunks may start and end, found in one pass each. Every end is the
// end of non-whitespace text, so a chunk cut there needs no trimming.
struct layout {
  std::string_view s;
  pos_list word_starts;
  pos_list word_ends;
  pos_list sentence_ends;
  pos_list paragraph_ends;
};

void scan_words(layout& l) {
  auto s = l.s;
  for (auto pos = skip_space(s, 0); pos < s.size(); pos = skip_space(s, pos)) {
    l.word_starts.push_back(pos);
    while (pos < s.size() && text::space_at(s, pos) == 0)
      pos = advance(s, pos, 1);
    l.word_ends.push_back(pos);
  }
}

void scan_sentences(layout& l) {
  for (auto& sp : text::sentences(l.s))
    if (!is_continuation(l.s, sp.end)) // CJK stops need no space after them
      l.sentence_ends.push_back(sp.end);
}

// A paragraph ends at the last non-blank line before a blank line or the end.
void scan_paragraphs(layout& l) {
  auto s = l.s;
  std::size_t content_end = npos; // of the paragraph being read, if any
  std::size_t pos = 0;
  while (pos < s.size()) {
    auto eol = std::min(s.find_first_of("\r\n", pos), s.size());
    auto line = text::trim(s.substr(pos, eol - pos));
    if (!line.empty()) {
      content_end = static_cast<std::size_t>(line.data() - s.data())
                    + line.size();
    } else if (content_end != npos) {
      l.paragraph_ends.push_back(content_end);
      content_end = npos;
    }
    pos = eol + (s.compare(eol, 2, "\r\n") == 0 ? 2 : 1);
  }
  if (content_end != npos)
    l.paragraph_ends.push_back(content_end);
}

layout scan(std::string_view s) {
  layout l{s, {}, {}, {}, {}};
  scan_words(l);
  scan_sentences(l);
  scan_paragraphs(l);
  return l;
}

// The first word start in [from, below), or npos.
std::size_t word_start_in(const layout& l, std::size_t from,
                          std::size_t below) {
  auto it = std::lower_bound(l.word_starts.begin(), l.word_starts.end(), from);
  return it != l.word_starts.end() && *it < below ? *it : npos;
}

// Where the chunk after `prev` begins when its new text starts at `start`:
// at most `overlap` code points back, at a word start inside `prev` (not its
// first byte, so that begins strictly increase), else at `start`.
std::size_t overlap_begin(const layout& l, const chunk& prev,
                          std::size_t overlap, std::size_t start) {
  if (overlap == 0)
    return start;
  auto from = std::max(retreat(l.s, prev.end, overlap), prev.begin + 1);
  auto begin = word_start_in(l, from, prev.end);
  return begin != npos ? begin : start;
}

// `begin` moved forward to a word start (or to `start`) so that [begin, end)
// has at most `max` code points; used when keeping a paragraph or sentence
// whole costs overlap.
std::size_t shrink(const layout& l, std::size_t begin, std::size_t start,
                   std::size_t end, std::size_t max) {
  if (begin == start)
    return start;
  auto from = std::max(begin, retreat(l.s, end, max));
  auto shrunk = word_start_in(l, from, start);
  return shrunk != npos ? shrunk : start;
}

// When the paragraph after `para_end` is longer than `max` (so it is split
// anyway), the last sentence end of it within `limit`, so that its first
// sentences fill the room left in this chunk; else npos.
std::size_t fill_from_long_paragraph(const layout& l, std::size_t para_end,
                                     std::size_t limit, std::size_t max) {
  auto next_end = first_after(l.paragraph_ends, para_end);
  if (next_end == npos)
    return npos;
  if (advance(l.s, skip_space(l.s, para_end), max) >= next_end)
    return npos; // it fits in a chunk of its own
  return last_in(l.sentence_ends, para_end, limit);
}

// The range of the next chunk: it begins at `begin` (overlap, or `start`)
// and holds new text from `start` on.
std::pair<std::size_t, std::size_t>
next_range(const layout& l, std::size_t begin, std::size_t start,
           std::size_t max) {
  auto limit = advance(l.s, begin, max);
  if (limit <= start) { // overlap and whitespace fill the window: drop overlap
    begin = start;
    limit = advance(l.s, start, max);
  }
  auto own_limit = advance(l.s, start, max);
  // Keeping the next paragraph (sentence) whole beats a full overlap.
  auto next_whole = [&](const pos_list& breaks) {
    auto end = first_after(breaks, start);
    return end != npos && end <= own_limit ? end : npos;
  };
  if (auto end = last_in(l.paragraph_ends, start, limit); end != npos) {
    auto more = fill_from_long_paragraph(l, end, limit, max);
    return {begin, more != npos ? more : end};
  }
  if (auto end = next_whole(l.paragraph_ends); end != npos)
    return {shrink(l, begin, start, end, max), end};
  if (auto end = last_in(l.sentence_ends, start, limit); end != npos)
    return {begin, end};
  if (auto end = next_whole(l.sentence_ends); end != npos)
    return {shrink(l, begin, start, end, max), end};
  if (auto end = last_in(l.word_ends, start, limit); end != npos)
    return {begin, end};
  return {begin, limit}; // one word longer than the window: cut it
}

} // namespace

caf::error validate(const chunk_options& opts) {
  if (opts.max_chars < 100 || opts.max_chars > 100000)
    return make_error(ec::invalid_config,
                      "max_chars must be 100..100000, got "
                        + std::to_string(opts.max_chars),
                      "max_chars");
  if (opts.overlap_chars >= opts.max_chars)
    return make_error(ec::invalid_config,
                      "overlap_chars must be below max_chars ("
                        + std::to_string(opts.max_chars) + "), got "
                        + std::to_string(opts.overlap_chars),
                      "overlap_chars");
  return {};
}

std::vector<chunk> split_document(std::string_view text,
                                  const chunk_options& opts) {
  auto max = std::max<std::size_t>(opts.max_chars, 1);
  auto overlap = std::min(opts.overlap_chars, max - 1);
  auto l = scan(text);
  std::vector<chunk> out;
  for (auto start = skip_space(text, 0); start < text.size();
       start = skip_space(text, out.back().end)) {
    auto begin = out.empty() ? start
                             : overlap_begin(l, out.back(), overlap, start);
    auto [first, end] = next_range(l, begin, start, max);
    auto piece = text.substr(first, end - first);
    out.push_back(chunk{out.size(), first, end, std::string{piece}});
  }
  return out;
}

} // namespace engram::exports
