#pragma once
// What engram sends to and reads from an OpenAI-compatible server: chat
// completion and embedding request bodies, and the parsing of their answers.
// Pure functions, no I/O, so every shape is unit-tested.
//
// The user's data goes to the model as ONE JSON document in the user
// message, {"task": ..., "items": [{"item": 0, ...}, ...]}, and the model
// answers {"results": [{"item": 0, ...}, ...]} (the prompts in
// config/prompts/ say so). JSON escaping is the delimiter: nothing a user
// writes can end its section or pose as an instruction outside it. Several
// items are one batch; a lone item is the same shape with one element.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>
#include <caf/expected.hpp>

#include "runtime/providers/llm_provider.hpp"
#include "runtime/providers/prompts.hpp"

namespace engram::providers::wire {

/// How the answer's format is requested: response_format json_schema
/// (constrained decoding), json_object, or not at all.
enum class json_mode { schema, object, off };

std::optional<json_mode> parse_json_mode(std::string_view text);
const char* to_string(json_mode m);
/// schema -> object -> off -> off: what to ask a server that refused `m`.
json_mode weaker(json_mode m);

/// One note rewrite: the entity and note (base) plus every update to fold
/// in, oldest first.
struct rewrite_item {
  const rewrite_input* base;
  const std::vector<std::string>* updates;
};

std::string analysis_input_json(const std::vector<const analysis_input*>& items);
std::string rewrite_input_json(const std::vector<rewrite_item>& items);
std::string creation_input_json(const std::vector<const creation_input*>& items);

struct chat_params {
  std::string model;
  double temperature = 0.3;
  uint32_t max_tokens = 2048;
  json_mode mode = json_mode::schema;
  // analysis + schema mode: the ids a lore_entry_id may take (an enum in the
  // schema, so constrained decoding cannot invent one); empty = any string.
  std::vector<std::string> entity_ids;
};

/// The body of POST /chat/completions: system prompt + the user document.
std::string chat_request(const chat_params& p, llm_task task,
                         const std::string& system_prompt,
                         const std::string& user_document);

/// The same body from parts a caller can keep between calls (the system
/// prompt as a JSON string, the response_format as JSON, "" for none):
/// the prompt and schema are most of the bytes and never change.
std::string chat_request_from(const chat_params& p,
                              std::string_view system_json,
                              std::string_view format_json,
                              const std::string& user_document);
/// `s` as a JSON string literal (quoted and escaped).
std::string json_quoted(std::string_view s);
/// The response_format member's value for `p.mode` ("" when off).
std::string response_format_json(const chat_params& p, llm_task task);

struct chat_answer {
  std::string content;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  std::string finish_reason;
};

/// Reads choices[0].message.content and usage. A body that is not a chat
/// completion is ec::invalid_argument (malformed_request if not JSON).
caf::expected<chat_answer> parse_chat_response(std::string_view body);

/// The answer of a batch of `n` items, matched by "item": element i is item
/// i's result or why it has none (missing, duplicate, wrong shape). A
/// document that is a bare result (no "results") counts as item 0 when
/// n == 1; a top-level array is taken as the results list.
std::vector<caf::expected<analysis_result>>
analysis_results(const boost::json::value& doc, std::size_t n);
/// Notes must be non-empty and at most `max_chars` characters (code points).
std::vector<caf::expected<std::string>>
rewrite_results(const boost::json::value& doc, std::size_t n,
                std::size_t max_chars);
std::vector<caf::expected<creation_result>>
creation_results(const boost::json::value& doc, std::size_t n);

/// True when an HTTP 400 body blames the requested response format, so the
/// request is worth repeating with a weaker json_mode.
bool blames_response_format(std::string_view body);

/// The server's error message ({"error": {"message"}} or the body), cut to
/// 200 bytes, for logs and /v1/providers.
std::string error_summary(std::string_view body);

/// The body of POST /embeddings; `dimensions` only when given.
std::string embeddings_request(const std::string& model,
                               const std::vector<std::string>& texts,
                               std::optional<std::size_t> dimensions);

/// One L2-normalised vector per text, ordered by "index". Fewer/more
/// vectors than texts, a wrong dimension or non-finite values are errors
/// (ec::invalid_argument naming what was wrong), never a corrupt index.
caf::expected<std::vector<std::vector<float>>>
parse_embeddings_response(std::string_view body, std::size_t n,
                          std::size_t dim);

} // namespace engram::providers::wire
