#pragma once
// The system prompts of the model-backed language tasks. The built-in ones
// are config/prompts/*.txt compiled into the binary; llm.prompts.<task>
// points at a file that replaces one. The user's data never goes into the
// prompt text: it travels as a JSON document in the user message (see
// openai_wire.hpp), so it is delimited and escaped by construction.

#include <string>

#include <caf/expected.hpp>

#include "config/options.hpp"

namespace engram::providers {

enum class llm_task { analysis, rewrite, creation };

/// "analysis", "rewrite", "creation" (metric labels, JSON "task" values).
const char* to_string(llm_task t);

struct prompt_set {
  std::string analysis;
  std::string rewrite;
  std::string creation;

  const std::string& of(llm_task t) const;
};

/// The compiled-in prompts.
prompt_set builtin_prompts();

/// Built-in prompts, each replaced by the file its llm.prompts.<task> names.
/// A file that cannot be read or is empty is an error naming the option.
caf::expected<prompt_set> load_prompts(const config::llm_prompts& paths);

} // namespace engram::providers
