#pragma once
// An engramd node: opens the data directory, starts the actor system and
// the gateway, and stops them in reverse order. Start order: storage ->
// actors (journal, router, bridges) -> HTTP. Stop order: stop accepting ->
// drain requests -> flush the journal -> stop actors -> close storage.

#include <cstdint>
#include <memory>

#include <caf/error.hpp>

#include "config/options.hpp"

namespace engram {

class node {
public:
  explicit node(config::options opts);
  ~node(); // stop() if still running

  /// Brings the node up; on error everything started so far is stopped
  /// again and the error says what failed (ec::storage_failure,
  /// ec::schema_too_new, ec::unavailable for a busy port, ...).
  caf::error start();

  /// Port the gateway listens on (after start).
  uint16_t http_port() const;

  /// Graceful stop within node.shutdown_timeout_ms; idempotent.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace engram
