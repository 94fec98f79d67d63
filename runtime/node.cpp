#include "runtime/node.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <engram/build_info.hpp>

#include "actors/bridge.hpp"
#include "actors/cache.hpp"
#include "actors/embed_cache.hpp"
#include "actors/embedder.hpp"
#include "actors/export_io.hpp"
#include "actors/export_scheduler.hpp"
#include "actors/exporter.hpp"
#include "actors/webhook.hpp"
#include "actors/journal.hpp"
#include "actors/llm_worker.hpp"
#include "actors/router.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "runtime/api/routes.hpp"
#include "runtime/auth.hpp"
#include "runtime/exports/export_settings.hpp"
#include "runtime/exports/export_stats.hpp"
#include "runtime/gateway.hpp"
#include "runtime/health.hpp"
#include "runtime/http/server.hpp"
#include "runtime/ids.hpp"
#include "runtime/metrics.hpp"
#include "runtime/provider_setup.hpp"
#include "runtime/providers/provider_stats.hpp"
#include "runtime/queue_stats.hpp"
#include "storage/active_users.hpp"
#include "storage/store.hpp"

namespace engram {

namespace fs = std::filesystem;

struct node::impl {
  config::options opts;
  metrics::registry metrics;
  health_checks health;
  std::atomic<bool> ready{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  int64_t started_unix_ms = now_unix_ms();
  std::shared_ptr<storage::store> db;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  journal_actor journal;
  router_actor router;
  std::vector<caf::actor> bridges;
  std::vector<llm_worker_actor> workers;
  embedder_actor embedder;
  embedder_actor embed_front; // caching front of `embedder`, or null
  std::shared_ptr<const cache_pool> search_cache, llm_cache, embed_cache;
  std::shared_ptr<exports::export_settings> export_settings;
  std::shared_ptr<exports::node_export_stats> export_stats;
  std::vector<export_writer_actor> export_writers;
  event_log_actor export_events;
  webhook_actor webhook;
  export_scheduler_actor export_scheduler;
  std::shared_ptr<queue_stats> stats;
  std::shared_ptr<providers::provider_stats> provider_stats
    = std::make_shared<providers::provider_stats>();
  std::unique_ptr<gateway> gw;
  std::unique_ptr<http::server> server;
  bool running = false;

  caf::error open_storage();
  caf::error start_actors();
  caf::error start_http();
  caf::error start_pipeline(user_context& ctx);
  void start_caches();
  std::vector<std::shared_ptr<const cache_pool>> cache_pools() const;
  caf::error start_exports(user_context& ctx, export_context& ectx);
  void wake_active_users();
  boost::json::object node_info() const;
  void stop_actors();
  void register_storage_metrics();
};

caf::error node::impl::open_storage() {
  std::error_code fs_err;
  fs::create_directories(opts.node.data_dir, fs_err);
  if (fs_err)
    return make_error(ec::invalid_config,
                      "cannot create data directory " + opts.node.data_dir
                        + ": " + fs_err.message(),
                      "node.data_dir");
  storage::store_options so;
  so.path = (fs::path(opts.node.data_dir) / "db").string();
  so.block_cache_bytes = opts.storage.block_cache_bytes;
  so.write_buffer_bytes = opts.storage.write_buffer_bytes;
  auto st = storage::store::open(so);
  if (!st)
    return st.error();
  db = std::shared_ptr<storage::store>(std::move(*st));
  health.add("storage", [this] {
    auto v = db->get(storage::column::meta, "schema_version");
    if (!v)
      return check_result{"failing", message_of(v.error())};
    return check_result{"ok", "schema_version " + *v};
  });
  register_storage_metrics();
  add_provider_health(health, provider_stats);
  return caf::none;
}

void node::impl::register_storage_metrics() {
  metrics.add_collector([this] {
    auto set = [this](const char* name, const char* help, const char* prop) {
      metrics.get_gauge(name, help).set(static_cast<double>(db->int_property(prop)));
    };
    set("engram_rocksdb_estimated_keys", "Estimated keys over all column families",
        "rocksdb.estimate-num-keys");
    set("engram_rocksdb_live_sst_bytes", "Bytes of live SST files",
        "rocksdb.live-sst-files-size");
    set("engram_rocksdb_memtable_bytes", "Bytes in active and unflushed memtables",
        "rocksdb.cur-size-all-mem-tables");
    set("engram_rocksdb_pending_compaction_bytes",
        "Bytes compaction still has to rewrite",
        "rocksdb.estimate-pending-compaction-bytes");
  });
}

caf::error node::impl::start_actors() {
  register_message_types(cfg);
  auto threads = opts.node.scheduler_threads;
  if (threads == 0)
    threads = std::max(2u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
  // Parse from an empty stream so no caf-application.ini in the working
  // directory changes the node behind the user's back.
  std::istringstream no_ini;
  if (auto err = cfg.parse(caf::actor_system_config::string_list{}, no_ini))
    return make_error(ec::internal, "actor system config: " + caf::to_string(err));
  sys = std::make_unique<caf::actor_system>(cfg);
  if (auto err = self_test_message_types(*sys))
    return err;
  auto j = spawn_journal(*sys, db,
                         {opts.storage.sync, opts.storage.max_batch,
                          opts.storage.max_wait_us},
                         metrics);
  if (!j)
    return j.error();
  journal = std::move(*j);
  std::chrono::milliseconds timeout{opts.http.request_timeout_ms};
  user_context ctx;
  ctx.db = db;
  ctx.journal = journal;
  start_caches();
  if (auto err = start_pipeline(ctx))
    return err;
  export_context ectx;
  if (auto err = start_exports(ctx, ectx))
    return err;
  router_options ropts;
  ropts.exporter_idle = std::chrono::milliseconds(opts.exports.exporter_idle_ms);
  ropts.live_users = &metrics.get_gauge("engram_live_user_actors",
                                        "User actors in memory.");
  ropts.live_exporters = &metrics.get_gauge("engram_live_exporters",
                                            "Exporter actors in memory.");
  router = spawn_router(*sys, std::move(ctx), std::move(ectx), ropts);
  export_scheduler = spawn_export_scheduler(*sys, db, journal, router,
                                            export_settings);
  for (uint32_t i = 0; i < std::max(1u, opts.http.io_threads); ++i)
    bridges.push_back(spawn_bridge(*sys, router, timeout));
  return caf::none;
}

caf::error node::impl::start_pipeline(user_context& ctx) {
  stats = std::make_shared<queue_stats>(metrics);
  auto setup = start_providers(*sys, opts, metrics, provider_stats, llm_cache);
  if (!setup)
    return setup.error();
  workers = setup->workers;
  embedder = setup->embedder;
  ctx.providers_block = setup->blocks;
  ctx.task_timeout = setup->task_timeout;
  ctx.workers = workers;
  ctx.embedder = embedder;
  if (embed_cache) {
    embed_front = spawn_embed_cache(
      *sys, embedder, embed_cache,
      opts.embedder.provider + ":" + opts.embedder.model + ":"
        + std::to_string(opts.embedder.dim));
    ctx.embedder = embed_front;
  }
  ctx.search_cache = search_cache;
  ctx.stats = stats;
  ctx.pipeline = opts.pipeline;
  ctx.index.dim = opts.embedder.dim;
  ctx.index.exact_threshold = opts.index.exact_threshold;
  ctx.index.method = opts.index.method == "hnsw"
                       ? storage::vector_search_method::hnsw
                       : storage::vector_search_method::quantized_scan;
  ctx.index.rerank_candidates = opts.index.rerank_candidates;
  ctx.index.scan_dims = opts.index.scan_dims;
  ctx.index.ef_search = opts.index.ef_search;
  ctx.index.m = opts.index.m;
  ctx.index.ef_construction = opts.index.ef_construction;
  ctx.index_dir = (fs::path(opts.node.data_dir) / "index").string();
  return caf::none;
}

caf::error node::impl::start_exports(user_context& ctx, export_context& ectx) {
  auto& o = opts.exports;
  export_settings = std::make_shared<exports::export_settings>(o);
  if (auto err = load_export_config(*db, *export_settings))
    return err;
  export_stats = std::make_shared<exports::node_export_stats>(metrics);
  auto data = fs::path(opts.node.data_dir);
  // Two writers: one user's writes stay ordered (always the same writer),
  // and one slow disk sync does not hold every other user's export.
  for (int i = 0; i < 2; ++i)
    export_writers.push_back(spawn_export_writer(*sys));
  export_events = spawn_event_log(
    *sys, (data / "logs" / "export_events.jsonl").string());
  if (!o.webhook_url.empty()) {
    webhook_options w;
    w.url = o.webhook_url;
    if (auto v = std::getenv(o.webhook_secret_env.c_str());
        v && !o.webhook_secret_env.empty())
      w.secret = v;
    else
      spdlog::warn("event=webhook_unsigned reason=\"{} is not set\"",
                   o.webhook_secret_env);
    w.timeout_ms = o.webhook_timeout_ms;
    w.max_retries = o.webhook_max_retries;
    webhook = spawn_webhook(*sys, std::move(w), export_stats);
  }
  ectx.db = db;
  ectx.journal = journal;
  ectx.writers = export_writers;
  ectx.events = export_events;
  ectx.webhook = webhook;
  ectx.settings = export_settings;
  ectx.stats = export_stats;
  ectx.dir = (data / "exports").string();
  ctx.chunk_chars = o.chunk_chars;
  ctx.chunk_overlap = o.chunk_overlap;
  ctx.max_document_bytes = o.max_document_bytes;
  ctx.export_settings = export_settings;
  return caf::none;
}

void node::impl::start_caches() {
  auto pool = [this](const char* use, const config::cache_use_options& u)
    -> std::shared_ptr<const cache_pool> {
    if (!u.enabled)
      return nullptr;
    cache_pool_options o;
    o.use = use;
    o.shards = opts.cache.shards;
    o.limits = {static_cast<std::size_t>(u.max_entries),
                static_cast<std::size_t>(u.max_bytes)};
    o.ttl_ms = static_cast<int64_t>(u.ttl_ms);
    return spawn_cache_pool(*sys, o, metrics);
  };
  search_cache = pool("search", opts.cache.search);
  llm_cache = pool("llm", opts.cache.llm);
  embed_cache = pool("embed", opts.cache.embed);
}

std::vector<std::shared_ptr<const cache_pool>> node::impl::cache_pools() const {
  std::vector<std::shared_ptr<const cache_pool>> out;
  for (auto& p : {search_cache, llm_cache, embed_cache})
    if (p)
      out.push_back(p);
  return out;
}

// Users with unfinished work (tasks, embeddings) before the last stop get
// their actors back at once, so recovery does not wait for their next call.
void node::impl::wake_active_users() {
  std::vector<std::string> users;
  auto err = db->scan(storage::column::meta, storage::active_user_prefix(), {},
                      [&](std::string_view key, std::string_view) {
                        if (auto u = storage::user_of_active_key(key))
                          users.push_back(std::move(*u));
                        return true;
                      });
  if (err)
    spdlog::error("event=recovery_scan_failed error=\"{}\"", message_of(err));
  for (auto& u : users) {
    api_call call;
    call.user = u;
    call.op = "user.wake";
    call.request_id = "recovery";
    caf::anon_send(router, call_atom::value, std::move(call));
  }
  if (!users.empty())
    spdlog::info("event=recovery users_with_pending_work={}", users.size());
}

boost::json::object node::impl::node_info() const {
  auto up = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started);
  return {{"node_id", opts.node.id},
          {"version", build_info::version},
          {"build", {{"git_rev", build_info::git_rev},
                     {"type", build_info::build_type},
                     {"compiler", build_info::compiler}}},
          {"started_at", iso8601_ms(started_unix_ms)},
          {"uptime_seconds", static_cast<double>(up.count()) / 1000.0},
          {"ready", ready.load()}};
}

caf::error node::impl::start_http() {
  auto auth = authenticator::make(opts.auth, [](const std::string& name) {
    auto v = std::getenv(name.c_str());
    return v ? std::optional<std::string>{v} : std::nullopt;
  });
  if (!auth)
    return auth.error();
  gw = std::make_unique<gateway>(opts.http, std::move(*auth), metrics);
  api::system_deps deps{&metrics, &health, &ready,
                        [this] { return node_info(); },
                        [ps = provider_stats] { return ps->to_json(); }};
  api::add_system_routes(*gw, deps);
  api::add_entity_routes(*gw, bridges);
  api::add_intent_routes(*gw, bridges);
  api::add_session_routes(*gw, {bridges, db, stats});
  api::add_cache_routes(*gw, {sys.get(), cache_pools()});
  api::add_export_routes(
    *gw, {bridges, caf::actor_cast<caf::actor>(export_scheduler),
          export_settings, export_stats});
  server = std::make_unique<http::server>(
    opts.http,
    [this](http::request req, http::responder done) {
      gw->handle(std::move(req), std::move(done));
    },
    api::node_websocket(*gw, deps), metrics);
  if (auto err = server->start())
    return err;
  std::ofstream(fs::path(opts.node.data_dir) / "engramd.port")
    << server->port() << "\n";
  return caf::none;
}

void node::impl::stop_actors() {
  if (!sys)
    return;
  if (journal) {
    // Commit whatever the journal still holds before anything stops.
    caf::scoped_actor self{*sys};
    self->request(journal, std::chrono::seconds(2), flush_atom::value)
      .receive([](uint64_t) {},
               [](caf::error& err) {
                 spdlog::error("journal flush at shutdown failed error=\"{}\"",
                               message_of(err));
               });
  }
  for (auto& b : bridges)
    caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(export_scheduler, caf::exit_reason::user_shutdown);
  for (auto& w : export_writers)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(export_events, caf::exit_reason::user_shutdown);
  if (webhook)
    caf::anon_send_exit(webhook, caf::exit_reason::user_shutdown);
  for (auto& w : workers)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(embedder, caf::exit_reason::user_shutdown);
  if (embed_front)
    caf::anon_send_exit(embed_front, caf::exit_reason::user_shutdown);
  for (auto& p : cache_pools())
    stop_cache_pool(*p);
  caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  workers.clear();
  embedder = nullptr;
  embed_front = nullptr;
  search_cache = llm_cache = embed_cache = nullptr;
  bridges.clear();
  router = nullptr;
  export_scheduler = nullptr;
  export_writers.clear();
  export_events = nullptr;
  webhook = nullptr;
  journal = nullptr;
  sys->await_all_actors_done();
  sys.reset();
}

node::node(config::options opts) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
}

node::~node() {
  stop();
}

caf::error node::start() {
  auto t0 = std::chrono::steady_clock::now();
  impl_->running = true;
  caf::error err = impl_->open_storage();
  if (!err)
    err = impl_->start_actors();
  if (!err)
    err = impl_->start_http();
  if (!err)
    impl_->wake_active_users();
  if (err) {
    stop();
    return err;
  }
  impl_->ready = true;
  std::chrono::duration<double, std::milli> took
    = std::chrono::steady_clock::now() - t0;
  spdlog::info("engramd started node={} listen={} port={} data_dir={} "
               "startup_ms={:.1f}",
               impl_->opts.node.id, impl_->opts.http.listen,
               impl_->server->port(), impl_->opts.node.data_dir, took.count());
  return caf::none;
}

uint16_t node::http_port() const {
  return impl_->server ? impl_->server->port() : 0;
}

void node::stop() {
  auto& d = *impl_;
  if (!d.running)
    return;
  d.running = false;
  d.ready = false;
  auto t0 = std::chrono::steady_clock::now();
  auto deadline = t0 + std::chrono::milliseconds(d.opts.node.shutdown_timeout_ms / 2);
  if (d.server) {
    d.server->stop_accepting();
    if (!d.server->drain(deadline))
      spdlog::warn("shutdown: requests still in flight at drain deadline");
  }
  d.stop_actors();
  if (d.server)
    d.server->stop();
  d.server.reset();
  d.gw.reset();
  if (d.db)
    (void) d.db->flush(); // best effort: the WAL already holds every write
  d.db.reset();
  std::chrono::duration<double, std::milli> took
    = std::chrono::steady_clock::now() - t0;
  spdlog::info("engramd stopped shutdown_ms={:.1f}", took.count());
}

} // namespace engram
