#pragma once
// Finds the JSON document in a model's reply. Chat models, local ones above
// all (Ollama, llama.cpp, vLLM), rarely answer with bare JSON: they think
// aloud in <think>...</think>, wrap the answer in a markdown fence or add a
// sentence before and after it. extract_json() peels those layers off so
// the task parsers (task_json.hpp) see only the document.
//
// Steps, first success wins:
//   1. Drop reasoning: every "<think>...</think>" block; text before a
//      "</think>" that has no opening tag (chat templates often emit the
//      opening tag themselves, so the reply starts mid-thought); and an
//      unclosed "<think>" with everything after it (a reply cut off while
//      thinking has no answer after that point, and the JSON a model
//      sketches while thinking is not its answer). Tags are matched
//      exactly, do not nest and count even inside JSON strings.
//   2. The whole remaining text, trimmed.
//   3. Each markdown fence in order (```json ... ```, ``` ... ```; an
//      unclosed fence runs to the end of the text).
//   4. The first complete JSON value that starts at a '{' or '[', trying
//      at most max_scan_starts opening brackets in text order.
// A candidate counts only when it is an object or an array. Beware that in
// step 4 a bracketed aside such as "see [1]" before the real answer wins.
//
// Pure, thread-safe and never throws. Nesting deeper than max_json_depth is
// rejected, and the bound on step 4 keeps the work linear in the length of
// the reply: a megabyte of '{' costs at most max_scan_starts short parses.

#include <cstddef>
#include <string_view>

#include <boost/json/value.hpp>
#include <caf/expected.hpp>

namespace engram::providers {

/// Opening brackets step 4 tries before giving up.
inline constexpr std::size_t max_scan_starts = 64;

/// Deepest nesting of arrays and objects accepted in a reply.
inline constexpr std::size_t max_json_depth = 64;

/// The JSON object or array in `reply`; ec::invalid_argument with an empty
/// field when there is none.
caf::expected<boost::json::value> extract_json(std::string_view reply);

} // namespace engram::providers
