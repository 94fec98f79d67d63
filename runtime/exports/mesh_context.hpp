#pragma once
// What a mesh-context export says about a user, built from a snapshot of
// the user's state (pure: no I/O, so it is unit-tested and the exporter only
// has to gather the snapshot and write the file).
//
//   {"user_id", "generated_at", "version", "content_hash", "triggers": [...],
//    "context": {"entity_counts": {type: n}, "recent_entities": [...],
//                "open_intents": [...], "closed_intents": [...],
//                "recent_documents": [...]}}
//
// The content hash covers "context" only, so an export whose context did
// not change since the previous one can be skipped ("unchanged") even
// though its time, version and triggers differ.

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "storage/entity_record.hpp"
#include "storage/intent_record.hpp"
#include "storage/note_record.hpp"

namespace engram::exports {

/// A stored document as the export lists it.
struct document_summary {
  std::string id;
  std::string name;
  std::string type;
  std::size_t chunks = 0;
  std::string created_at;
};

struct context_snapshot {
  std::vector<storage::entity_record> entities;
  std::vector<storage::note_record> notes; // current note per (session, entity)
  std::vector<storage::intent_record> intents;
  std::vector<document_summary> documents;
};

struct context_limits {
  std::size_t recent_entities = 50;
  std::size_t closed_intents = 20;
  std::size_t recent_documents = 20;
  std::size_t note_chars = 2000; // longer notes are cut (at a character)
};

/// The "context" object: counts by type; the most recently updated entities
/// (newest first) each with its latest session note (newest across
/// sessions); open intents (oldest first); the most recently closed intents
/// with resolutions; the most recent documents.
boost::json::object build_context(const context_snapshot& s,
                                  const context_limits& lim = {});

/// Lower-case hex SHA-256 of the context's compact serialisation.
std::string content_hash(const boost::json::object& context);

struct export_header {
  std::string user_id;
  int64_t generated_at_ms = 0;
  uint64_t version = 0;
  std::vector<std::string> triggers;
};

/// The whole export document (pretty enough to read: one compact line).
std::string render_export(const export_header& h,
                          const boost::json::object& context,
                          const std::string& hash);

} // namespace engram::exports
