#include "runtime/providers/prompts.hpp"

#include <fstream>
#include <sstream>

#include "engram/builtin_prompts.hpp"
#include "messages/errors.hpp"

namespace engram::providers {

const char* to_string(llm_task t) {
  switch (t) {
    case llm_task::analysis:
      return "analysis";
    case llm_task::rewrite:
      return "rewrite";
    case llm_task::creation:
      return "creation";
  }
  return "unknown";
}

const std::string& prompt_set::of(llm_task t) const {
  switch (t) {
    case llm_task::rewrite:
      return rewrite;
    case llm_task::creation:
      return creation;
    default:
      return analysis;
  }
}

prompt_set builtin_prompts() {
  return {builtin::analysis_prompt, builtin::rewrite_prompt,
          builtin::creation_prompt};
}

namespace {

caf::error read_prompt(const std::string& path, const char* option,
                       std::string& out) {
  if (path.empty())
    return caf::none;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in)
    text << in.rdbuf();
  if (!in || text.str().find_first_not_of(" \t\r\n") == std::string::npos)
    return make_error(ec::invalid_config,
                      std::string{option} + ": cannot read a prompt from \""
                        + path + "\" (missing, unreadable or empty)",
                      option);
  out = text.str();
  return caf::none;
}

} // namespace

caf::expected<prompt_set> load_prompts(const config::llm_prompts& paths) {
  auto set = builtin_prompts();
  if (auto err = read_prompt(paths.analysis, "llm.prompts.analysis",
                             set.analysis))
    return err;
  if (auto err = read_prompt(paths.rewrite, "llm.prompts.rewrite",
                             set.rewrite))
    return err;
  if (auto err = read_prompt(paths.creation, "llm.prompts.creation",
                             set.creation))
    return err;
  return set;
}

} // namespace engram::providers
