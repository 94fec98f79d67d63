#pragma once
// What user actors send the LLM workers and the embedding actor, and what
// comes back: the provider interface's own structs, made inspectable so
// they can travel in CAF messages (and, later, between nodes).

#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "runtime/providers/llm_provider.hpp"

namespace engram::providers {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, known_entity& x) {
  return f(caf::meta::type_name("engram::known_entity"), x.id, x.type,
           x.title, x.aliases);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, analysis_input& x) {
  return f(caf::meta::type_name("engram::analysis_input"), x.user, x.session,
           x.turn, x.text, x.known);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, entity_update& x) {
  return f(caf::meta::type_name("engram::entity_update"), x.lore_entry_id,
           x.update_summary);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, entity_creation& x) {
  return f(caf::meta::type_name("engram::entity_creation"), x.entity_type,
           x.creation_summary, x.name);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, analysis_result& x) {
  return f(caf::meta::type_name("engram::analysis_result"), x.updates,
           x.creations);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rewrite_input& x) {
  return f(caf::meta::type_name("engram::rewrite_input"), x.entity_id,
           x.entity_title, x.entity_type, x.base_content, x.previous_note,
           x.update_summary, x.max_note_chars);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, creation_input& x) {
  return f(caf::meta::type_name("engram::creation_input"), x.entity_type,
           x.creation_summary, x.name, x.user);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, creation_result& x) {
  return f(caf::meta::type_name("engram::creation_result"), x.title,
           x.content, x.tags);
}

} // namespace engram::providers

namespace engram {

/// A chain of note updates for one (session, entity), applied in order:
/// `base.update_summary` is ignored; each of `summaries` is applied to the
/// note the previous one produced, starting from `base.previous_note`.
/// The answer holds the note after each step.
struct rewrite_chain {
  providers::rewrite_input base;
  std::vector<std::string> summaries;
  // Whose note it is (model budgets and batching are per user).
  std::string user;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rewrite_chain& x) {
  return f(caf::meta::type_name("engram::rewrite_chain"), x.base,
           x.summaries, x.user);
}

using vector_list = std::vector<std::vector<float>>;
using string_list = std::vector<std::string>;

} // namespace engram
