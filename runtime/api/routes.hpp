#pragma once
// Registration of every HTTP route, grouped by area. Each function adds its
// routes to the gateway; handlers never block (node-local reads are cheap,
// anything else goes to actors through a bridge).

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include <boost/json/object.hpp>
#include <caf/actor.hpp>

#include "runtime/gateway.hpp"
#include "runtime/health.hpp"

namespace caf {
class actor_system;
}

namespace engram {
class queue_stats;
struct cache_pool;
namespace exports {
class export_settings;
class node_export_stats;
} // namespace exports
namespace storage {
class store;
}
} // namespace engram

namespace engram::api {

struct system_deps {
  metrics::registry* metrics = nullptr;
  const health_checks* health = nullptr;
  const std::atomic<bool>* ready = nullptr;
  std::function<boost::json::object()> node_info;
  // Model providers' state for GET /v1/providers.
  std::function<boost::json::object()> providers;
};

/// GET /healthz, /readyz, /metrics (open), /v1/node, /v1/providers (any
/// key).
void add_system_routes(gateway& gw, system_deps deps);

/// The WebSocket endpoint /v1/node/ws: every text message is answered with
/// the node info document (a liveness channel for dashboards; later change
/// streams use the same upgrade path).
http::websocket_handler node_websocket(gateway& gw, system_deps deps);

/// /v1/users/{user}/entities[/{id}[/composite]] (user access), forwarded
/// through one of `bridges` (round-robin) to the router.
void add_entity_routes(gateway& gw, std::vector<caf::actor> bridges);

/// /v1/users/{user}/intents[/{id}[/close]] (user access).
void add_intent_routes(gateway& gw, std::vector<caf::actor> bridges);

struct session_deps {
  std::vector<caf::actor> bridges;
  std::shared_ptr<storage::store> db; // task id -> owner lookups
  std::shared_ptr<queue_stats> stats;
};

struct export_deps {
  std::vector<caf::actor> bridges;
  caf::actor scheduler; // takes (config_atom, bridge_call)
  std::shared_ptr<exports::export_settings> settings;
  std::shared_ptr<exports::node_export_stats> stats;
};

/// Exports, documents and session end: /v1/users/{user}/exports[/...],
/// /documents[/{id}], /sessions/{session}/end (user access);
/// GET /v1/exports/stats (any key), GET|PUT /v1/exports/config (admin).
void add_export_routes(gateway& gw, export_deps deps);

struct cache_deps {
  caf::actor_system* sys = nullptr;
  std::vector<std::shared_ptr<const cache_pool>> pools; // enabled uses
};

/// GET /v1/cache/stats (any key), POST /v1/cache/invalidate (admin).
void add_cache_routes(gateway& gw, cache_deps deps);

/// Turns, notes, tasks and search under /v1/users/{user}/ (user access),
/// POST /v1/tasks/{task_id}/retry (admin) and GET /v1/queues (any key).
void add_session_routes(gateway& gw, session_deps deps);

} // namespace engram::api
