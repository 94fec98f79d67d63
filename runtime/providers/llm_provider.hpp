#pragma once
// The three language tasks of the session-memory pipeline, as one interface
// so that the offline `rules` provider and model-backed providers (an
// OpenAI-compatible client) are interchangeable without touching the actors
// that use them. Implementations are called from worker actors, never from
// the gateway's threads; a model-backed one may block (it runs detached).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace engram::providers {

/// An entity the user already has, as the analyser sees it.
struct known_entity {
  std::string id;
  std::string type;
  std::string title;
  std::vector<std::string> aliases; // alternative names (alias tags)
};

/// analysis: which known entities a turn changes, which new ones it brings.
struct analysis_input {
  std::string user;
  std::string session;
  int64_t turn = 0;
  std::string text;
  std::vector<known_entity> known;
};

struct entity_update {
  std::string lore_entry_id;  // id of a known entity
  std::string update_summary; // what the turn says about it
};

struct entity_creation {
  std::string entity_type;      // e.g. "character", "location"
  std::string creation_summary; // what the turn says about the new entity
  std::string name;             // the new entity's name, when known
};

struct analysis_result {
  std::vector<entity_update> updates;
  std::vector<entity_creation> creations;
};

/// rewrite: the entity's session note after one more update.
struct rewrite_input {
  std::string entity_id;
  std::string entity_title;
  std::string entity_type;
  std::string base_content;  // the entity's base lore
  std::string previous_note; // empty when the session has no note yet
  std::string update_summary;
  std::size_t max_note_chars = 4000;
};

/// creation: a new entity from what the turn said about it.
struct creation_input {
  std::string entity_type;
  std::string creation_summary;
  std::string name;
  std::string user; // whose entity (model budgets and batching are per user)
};

struct creation_result {
  std::string title;
  std::string content;
  std::vector<std::string> tags;
};

class llm_provider {
public:
  virtual ~llm_provider() = default;
  /// Provider name for logs, metrics and /v1/providers ("rules", a model).
  virtual std::string name() const = 0;
  /// Whether calls may block (network I/O). Blocking providers run in
  /// detached workers; CPU-only ones (rules) in scheduled actors, which
  /// costs no thread wake-up per call (~40 us each on these machines).
  virtual bool blocks() const { return true; }
  virtual caf::expected<analysis_result> analyse(const analysis_input& in) = 0;
  virtual caf::expected<std::string> rewrite(const rewrite_input& in) = 0;
  virtual caf::expected<creation_result> create(const creation_input& in) = 0;
};

} // namespace engram::providers
