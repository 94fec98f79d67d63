#pragma once
// Splits a document's text into chunks small enough to embed and to show as
// a search hit, keeping paragraphs, then sentences, then words whole where
// the size limit allows.
//
// Rules, in the order they apply to each chunk:
// - whitespace is space_at() of runtime/providers/text_util.hpp (ASCII
//   whitespace, U+00A0, U+3000); a chunk never starts or ends with it, and
//   whitespace-only text gives no chunks;
// - paragraphs are separated by blank lines (lines with whitespace only);
//   "\n", "\r\n" and a lone "\r" all end a line;
// - paragraphs are packed greedily: a chunk ends at the last paragraph end
//   that keeps it within max_chars code points; when the paragraph after
//   that end is longer than max_chars (so it is split anyway), its first
//   sentences fill the rest of the chunk instead;
// - a paragraph that fits in max_chars on its own is never split: when it
//   fits only without the full overlap, the overlap shrinks (maybe to none);
// - a longer paragraph is split at the last sentence end (text::sentences)
//   that fits, again shrinking the overlap rather than splitting a sentence
//   that fits on its own; then at the last word end; and only a single word
//   longer than the room left is cut, at a code point boundary;
// - each chunk after the first starts with about overlap_chars code points
//   (never more) from the end of the previous chunk, beginning at a word
//   start inside it other than its first byte; a word longer than that
//   gives no overlap.
//
// Guarantees: every chunk's text is `text.substr(begin, end - begin)` and
// has at most max_chars code points; begin and end strictly increase from
// chunk to chunk; every non-whitespace byte lies in some chunk, and the bytes
// between a chunk's end and the next chunk's begin (if any) are whitespace;
// in valid UTF-8 no offset falls inside a sequence. Invalid UTF-8 is
// accepted: a "code point" is then any byte that is not a continuation byte.
// The result depends only on the input. All functions are pure and
// thread-safe.
//
// Cost: O(text size + chunks * max_chars) time; about
// size / (max_chars - overlap) chunks, so an overlap close to max_chars
// multiplies both the chunk count and the output size.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

namespace engram::exports {

struct chunk_options {
  // Longest chunk, in code points (overlap included). Larger chunks give
  // fewer, coarser search hits and longer embedding inputs. Default: 1200.
  // validate() accepts 100..100000; split_document treats 0 as 1.
  std::size_t max_chars = 1200;
  // Code points repeated from the end of the previous chunk, so a passage
  // cut at a chunk boundary is still found whole. Default: 150. Must be
  // below max_chars; split_document clamps larger values to max_chars - 1.
  std::size_t overlap_chars = 150;
};

/// ec::invalid_config naming "max_chars" or "overlap_chars" when out of
/// range (max_chars 100..100000, overlap_chars < max_chars), else no error.
caf::error validate(const chunk_options& opts);

struct chunk {
  /// 0-based position in the document.
  std::size_t index = 0;
  /// Half-open byte range [begin, end) of the text.
  std::size_t begin = 0;
  std::size_t end = 0;
  /// The bytes of that range, unchanged (CRLF stays CRLF).
  std::string text;
};

/// The chunks of `text` in document order (see the rules above). Accepts
/// any options without validating them (out of range values are clamped).
std::vector<chunk> split_document(std::string_view text,
                                  const chunk_options& opts);

} // namespace engram::exports
