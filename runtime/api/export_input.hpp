#pragma once
// Validation of export, document and session-end request bodies, so the
// actors only see valid input. Every error is ec::invalid_argument naming
// the field (HTTP 422), or ec::malformed_request for a body that is not a
// JSON object (400), or ec::too_large naming the limit (413).

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "runtime/exports/debounce_policy.hpp"

namespace engram::api {

inline constexpr std::size_t max_document_name_chars = 256;
inline constexpr std::size_t max_document_type_chars = 64;
inline constexpr std::size_t max_reason_chars = 512;

struct trigger_fields {
  exports::trigger_kind kind = exports::trigger_kind::manual;
  bool force = false;
  uint32_t concept_count = 0;
  std::string change_type;  // concept_change: what kind of change
  bool high_impact = false; // session_end
  uint32_t session_turns = 0;
  std::string label;        // for logs and the export's trigger list
};

/// POST .../exports/triggers: {trigger, concept_count?, change_type?,
/// force?, high_impact?, session_turns?}. trigger is intent_closed,
/// document_upload, concept_change, session_end or manual (nightly is the
/// node's schedule); concept_count (0..1000000) is required for
/// concept_change unless force; change_type (1..64 characters) only with
/// concept_change; high_impact and session_turns only with session_end.
caf::expected<trigger_fields> parse_trigger_request(std::string_view body);

/// The same, as the node's own actors send it (also "label" and "nightly").
caf::expected<trigger_fields> parse_trigger_event(std::string_view body);
std::string trigger_event_body(const trigger_fields& t);

/// A label for logs: "<kind>" or "<kind>:<detail>".
std::string trigger_label(const trigger_fields& t);

struct manual_fields {
  std::string reason;
  bool force = false;
};

/// POST .../exports: {reason (1..512 characters), force?}.
caf::expected<manual_fields> parse_manual_export(std::string_view body);

struct document_fields {
  std::string name;
  std::string type;
  std::string text;
};

/// POST .../documents: {name (1..256), type (1..64), text (not blank, at
/// most max_text_bytes bytes: 413 beyond)}.
caf::expected<document_fields> parse_document(std::string_view body,
                                              std::size_t max_text_bytes);

/// POST .../sessions/{session}/end: {high_impact?}; an empty body is {}.
caf::expected<bool> parse_session_end(std::string_view body);

} // namespace engram::api
