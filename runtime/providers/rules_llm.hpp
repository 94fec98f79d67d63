#pragma once
// The offline `rules` provider: answers the three language tasks with
// fixed, documented heuristics instead of a model. Same input, same output,
// on every machine and run (no randomness, no clock, no locale). It is the
// default provider, the one tests run against, and the fallback when no
// model is configured. The heuristics are specified for users in
// docs/RULES.md; tests/unit/runtime/providers/rules_llm_test.cpp pins them.
//
// Thread safety: the provider holds only its options, so one instance may
// serve several worker actors at once.

#include <cstddef>
#include <string>

#include "runtime/providers/llm_provider.hpp"
#include "runtime/providers/task_json.hpp"

namespace engram::providers {

struct rules_options {
  // At most this many sentences (the first ones in the turn) go into one
  // update or creation summary. Fewer keeps notes terse; more keeps context.
  // Default: 8. Values below 1 count as 1. Restart required.
  std::size_t max_summary_sentences = 8;

  // Upper bound on one summary, in characters. Sentences that would cross it
  // are left out; a first sentence longer than this is cut to its first
  // characters. Default: 8000, what validate() accepts; larger values make
  // the provider produce results that validation rejects. Values below 1
  // count as 1. Restart required.
  std::size_t max_summary_chars = providers::max_summary_chars;

  // Keyword tags a created entity gets besides its type tag. Default: 8.
  // Restart required.
  std::size_t max_keyword_tags = 8;
};

class rules_llm final : public llm_provider {
public:
  explicit rules_llm(rules_options opts = {});

  /// "rules".
  std::string name() const override;

  /// false: pure computation, safe on a scheduler thread.
  bool blocks() const override { return false; }

  /// Updates for known entities the turn mentions by title or alias, and
  /// creations for names the turn introduces ("a girl named Kenta").
  /// Never fails; an empty text gives an empty result.
  caf::expected<analysis_result> analyse(const analysis_input& in) override;

  /// The previous note plus the summary's new sentences, trimmed oldest
  /// sentence first to max_note_chars. ec::invalid_argument when
  /// max_note_chars is 0.
  caf::expected<std::string> rewrite(const rewrite_input& in) override;

  /// Title from the name (or the summary), content = the summary, tags = the
  /// type plus keywords. ec::invalid_argument when the type is invalid, no
  /// title can be found or a limit of the entity API is exceeded.
  caf::expected<creation_result> create(const creation_input& in) override;

private:
  rules_options opts_;
};

} // namespace engram::providers
