#pragma once
// The typed options of an engramd node. Every field has an in-class default
// that is the documented default (config/engram.example.json mirrors them);
// only config/ and runtime/ read raw configuration, everything else receives
// one of these structs. "Restart" means a change needs a node restart.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace engram::config {

struct node_options {
  // Stable name of this node in logs, /v1/node and (later) the cluster.
  // Default: "engram-1". Restart.
  std::string id = "engram-1";
  // Directory holding RocksDB (db/), exports and logs. Created if missing.
  // Default: "./data" (relative to the working directory). Restart.
  std::string data_dir = "./data";
  // CAF scheduler worker threads; 0 = one per core (at least 2).
  // Default: 0. Restart.
  uint32_t scheduler_threads = 0;
  // How long a graceful stop may take (drain requests, flush, close the
  // store) before the process exits anyway. Default: 2000 ms. Restart.
  uint32_t shutdown_timeout_ms = 2000;
};

struct http_options {
  // Address the HTTP/WebSocket gateway binds, "HOST:PORT". Port 0 picks a
  // free port (the chosen one is logged and written to data_dir/engramd.port).
  // Default: "127.0.0.1:8700". Restart.
  std::string listen = "127.0.0.1:8700";
  // Threads running the gateway's network IO. Default: 2. Restart.
  uint32_t io_threads = 2;
  // Largest accepted request body; larger bodies get 413. Default: 1 MiB.
  uint64_t max_body_bytes = 1024 * 1024;
  // A client must send complete request headers within this time or the
  // connection is closed (slowloris guard). Default: 10000 ms.
  uint32_t header_timeout_ms = 10000;
  // Keep-alive connections idle for this long are closed. Default: 60000 ms.
  uint32_t idle_timeout_ms = 60000;
  // Open connections beyond this are refused (accepted, then closed with a
  // 503). Default: 1024.
  uint32_t max_connections = 1024;
  // Requests being processed by actors at once, node wide; beyond it the
  // gateway answers 429 instead of growing mailboxes. Default: 4096.
  uint32_t max_inflight_requests = 4096;
  // How long a request may wait for its actor's answer before 503.
  // Default: 10000 ms.
  uint32_t request_timeout_ms = 10000;
};

struct storage_options {
  // fsync every group-committed batch before acknowledging it. Turning this
  // off trades durability on power loss for throughput (a process crash still
  // loses nothing thanks to the OS page cache). Default: true. Restart.
  bool sync = true;
  // Most writes the journal puts into one WriteBatch. Default: 1024. Restart.
  uint32_t max_batch = 1024;
  // How long the journal may wait for more writes before committing a batch
  // that is not full. 0 = commit as soon as the journal is idle (lowest
  // latency; batches still form while a sync is running). Default: 0 us.
  uint32_t max_wait_us = 0;
  // RocksDB block cache size. Default: 128 MiB. Restart.
  uint64_t block_cache_bytes = 128ull * 1024 * 1024;
  // RocksDB memtable size per column family. Default: 64 MiB. Restart.
  uint64_t write_buffer_bytes = 64ull * 1024 * 1024;
};

struct log_options {
  // trace, debug, info, warn, error, critical, off. Default: info.
  std::string level = "info";
  // text (human readable key=value) or json (one object per line).
  // Default: text.
  std::string format = "text";
  // Log file path; empty = standard error. Default: "".
  std::string file;
};

// One API key. The secret is never stored in clear: either its SHA-256 hex
// digest is in the config, or the name of an environment variable that holds
// the key itself.
struct api_key_options {
  // Name shown in logs and metrics (never the key). Required.
  std::string name;
  // "admin" (every route) or "user" (only /v1/users/{u}/... for u in users).
  std::string role = "user";
  // User ids a "user" key may touch; "*" is not special.
  std::vector<std::string> users;
  // Lower-case hex SHA-256 of the key. Exactly one of key_sha256 / key_env.
  std::string key_sha256;
  // Environment variable holding the key in clear.
  std::string key_env;
};

struct auth_options {
  // With no keys, auth is off; that is only allowed on a loopback listen
  // address. Default: none.
  std::vector<api_key_options> keys;
};

struct pipeline_options {
  // Longest accepted turn text, in characters; longer turns get 422.
  // Default: 32768.
  uint32_t max_turn_chars = 32768;
  // Session notes are trimmed (oldest sentences first) to this many
  // characters by the rewrite. Default: 4000.
  uint32_t max_note_chars = 4000;
  // Attempts a task gets before it is `failed` (retry it via the API).
  // Default: 5.
  uint32_t max_attempts = 5;
  // Back-off after the first failed attempt; doubles per attempt (with
  // jitter) up to retry_max_ms. Default: 200 ms.
  uint32_t retry_base_ms = 200;
  // Longest back-off between attempts. Default: 30000 ms.
  uint32_t retry_max_ms = 30000;
  // Threads running language tasks (analysis, rewrite, creation) for all
  // users. Model-backed providers block on HTTP in them. Default: 2. Restart.
  uint32_t workers = 2;
  // Language tasks one user may have running at once; the rest wait in the
  // durable queue, so one busy user cannot occupy every worker. Default: 8.
  uint32_t max_running_per_user = 8;
  // Note updates of one (session, entity) that are waiting together are
  // rewritten in one worker job and committed in one batch (in turn order).
  // Default: 16.
  uint32_t max_updates_per_job = 16;
};

// Model names per language task (provider "openai").
struct llm_models {
  std::string analysis;
  std::string rewrite;
  std::string creation;
};

// Sampling temperature per language task.
struct llm_temperatures {
  double analysis = 0.3;
  double rewrite = 0.7;
  double creation = 0.5;
};

// Prompt files per task; empty = the built-in prompt (config/prompts/).
struct llm_prompts {
  std::string analysis;
  std::string rewrite;
  std::string creation;
};

// Per-user limits on model use; 0 = unlimited. A user over budget has their
// tasks wait in the durable queue until the minute is over.
struct llm_budget {
  uint64_t calls_per_minute = 0;
  uint64_t tokens_per_minute = 0;
};

struct llm_options {
  // Language task provider: "rules" (offline, deterministic; docs/RULES.md)
  // or "openai" (any OpenAI-compatible /v1/chat/completions server;
  // docs/PROVIDERS.md). Default: "rules". Restart.
  std::string provider = "rules";
  // Base URL of the server, up to and including /v1. Default:
  // "http://127.0.0.1:11434/v1" (Ollama). Restart.
  std::string base_url = "http://127.0.0.1:11434/v1";
  // Environment variable holding the API key (sent as a bearer token, never
  // logged); empty = no Authorization header. Default: "ENGRAM_LLM_KEY".
  std::string api_key_env = "ENGRAM_LLM_KEY";
  // Model per task; required with provider "openai".
  llm_models models;
  // Models tried, in order, when a task's model keeps failing; after the
  // last one the `rules` provider answers. Default: none.
  std::vector<std::string> fallback_models;
  llm_temperatures temperature;
  llm_prompts prompts;
  llm_budget budget;
  // "json_schema" (constrained decoding), "json_object" or "off". A server
  // that rejects a mode (HTTP 400) is asked again with the next weaker one.
  // Default: "json_schema".
  std::string json_mode = "json_schema";
  // Longest one HTTP call may take. Default: 60000 ms.
  uint32_t timeout_ms = 60000;
  // Retries of one model (after its first attempt) before the next model
  // in the chain is asked. Default: 2.
  uint32_t max_retries = 2;
  // Back-off before a retry (doubling, equal jitter, capped); a 429 with
  // Retry-After waits what the server asks. Default: 500 / 30000 ms.
  uint32_t retry_base_ms = 500;
  uint32_t retry_max_ms = 30000;
  // HTTP calls in flight at once (blocking worker threads). Default: 8.
  uint32_t max_concurrency = 8;
  // Client-side rate limit, calls per second over all models; 0 = none.
  // Default: 0.
  uint32_t rate_limit_rps = 0;
  // Queued tasks of one user and kind sent in one request (the prompt asks
  // for a JSON array of results); 1 disables batching. Default: 8.
  uint32_t batch_size = 8;
  // A model's breaker opens after this many consecutive failures and lets
  // one probe through after the cool-down. Default: 5 / 30000 ms.
  uint32_t breaker_failures = 5;
  uint32_t breaker_cooldown_ms = 30000;
  // Most tokens a model may generate per call. Default: 2048.
  uint32_t max_tokens = 2048;
};

struct embedder_options {
  // Embedding provider: "hash" (offline feature hashing; docs/EMBEDDINGS.md)
  // or "openai" (any OpenAI-compatible /v1/embeddings server).
  // Default: "hash". Restart.
  std::string provider = "hash";
  // Vector dimension. Changing it makes existing vectors unusable (they are
  // re-embedded). A model answering another dimension is an error, never
  // stored. Default: 384. Restart.
  uint32_t dim = 384;
  // Most documents embedded in one call. Default: 64.
  uint32_t batch_size = 64;
  // How long a partial batch waits for more documents. Default: 1000 us.
  uint32_t max_wait_us = 1000;
  // provider "openai": server base URL (up to /v1), key variable, model.
  std::string base_url = "http://127.0.0.1:11434/v1";
  std::string api_key_env = "ENGRAM_EMBED_KEY";
  std::string model;
  // Send `dimensions` with each request (models that can shorten their
  // vectors, e.g. text-embedding-3-*). Default: false.
  bool send_dimensions = false;
  // Longest one call may take; retries before the call fails (the
  // documents stay queued). Default: 30000 ms / 2.
  uint32_t timeout_ms = 30000;
  uint32_t max_retries = 2;
  // Breaker, as for llm. Default: 5 / 30000 ms.
  uint32_t breaker_failures = 5;
  uint32_t breaker_cooldown_ms = 30000;
};

struct index_options {
  // A user's vector index scans every vector exactly up to this many
  // documents and switches to `method` past it. Default: 2000.
  uint32_t exact_threshold = 2000;
  // What a larger index does: "quantized_scan" (int8 scan of the query's
  // nonzero dimensions + exact rerank; right for the `hash` embedder) or
  // "hnsw" (graph; for clustered model embeddings). Default:
  // "quantized_scan". Applies to indexes that have not switched yet.
  std::string method = "quantized_scan";
  // quantized_scan: candidates reranked exactly. Default: 128.
  uint32_t rerank_candidates = 128;
  // quantized_scan: most query dimensions the approximate scan reads.
  // Default: 128.
  uint32_t scan_dims = 128;
  // HNSW candidates per search (ef). Default: 64.
  uint32_t ef_search = 64;
  // HNSW links per node (M). Default: 16. Applies to new graphs.
  uint32_t m = 16;
  // HNSW ef_construction. Default: 200. Applies to new graphs.
  uint32_t ef_construction = 200;
};

// Mesh-context exports (docs/EXPORTS.md). mode, debounce_ms and nightly_at
// can also be changed at run time (PUT /v1/exports/config); the stored
// change then wins over these values.
struct export_options {
  // "event" (triggers only), "nightly" (schedule and manual only) or
  // "hybrid" (both). Default: "hybrid".
  std::string mode = "hybrid";
  // Window after an export within which further triggers wait for one
  // trailing export at its end. Default: 600000 (10 minutes).
  uint64_t debounce_ms = 600000;
  // Daily export of every user changed since their last export, "HH:MM" or
  // "HH:MM:SS" UTC. Default: "03:00".
  std::string nightly_at = "03:00";
  // concept_change triggers naming fewer concepts are ignored. Default: 5.
  uint32_t concept_change_threshold = 5;
  // session_end exports only for high-impact sessions or sessions with at
  // least this many turns. Default: 10.
  uint32_t session_end_min_turns = 10;
  // Trigger kinds that export at once, skipping the window. Default: none.
  std::vector<std::string> high_priority;
  // Coalesced triggers a trailing export lists (more are only counted).
  // Default: 100.
  uint32_t max_pending = 100;
  // Document chunks: most characters (code points) per chunk, and how many
  // repeat from the previous chunk. Defaults: 1200 / 150.
  uint32_t chunk_chars = 1200;
  uint32_t chunk_overlap = 150;
  // An exporter with nothing scheduled is passivated after this long
  // without calls (its state is stored). Default: 2000 ms.
  uint32_t exporter_idle_ms = 2000;
  // Longest accepted document text, in bytes. Default: 1 MiB.
  uint64_t max_document_bytes = 1024 * 1024;
  // Webhook called after each export; empty = none.
  std::string webhook_url;
  // Variable holding the HMAC-SHA256 key for the signature header; empty or
  // unset = unsigned.
  std::string webhook_secret_env = "ENGRAM_WEBHOOK_SECRET";
  // Longest webhook call, and retries (exponential back-off). Defaults:
  // 5000 ms / 5.
  uint32_t webhook_timeout_ms = 5000;
  uint32_t webhook_max_retries = 5;
};

// One use of the in-process cache (docs/CACHE.md).
struct cache_use_options {
  bool enabled = true;
  // How long an entry lives.
  uint64_t ttl_ms = 60000;
  // Bounds of this use over all shards; least recently used entries go
  // first.
  uint64_t max_entries = 10000;
  uint64_t max_bytes = 64ull << 20;
};

struct cache_options {
  // Actors each use is sharded over (by key hash). Default: 2. Restart.
  uint32_t shards = 2;
  // Search answers per (user, write generation, query, k, session).
  // Defaults: on, 60 s, 10,000 entries, 64 MiB.
  cache_use_options search{true, 60000, 10000, 64ull << 20};
  // Model completions per (task, model, temperature, prompt + input
  // digest); only validated answers of a task's first model. Defaults: on,
  // 24 h, 10,000 entries, 64 MiB.
  cache_use_options llm{true, 86400000, 10000, 64ull << 20};
  // Vectors per (embedder, text digest). Defaults: on, 1 h, 40,000
  // entries, 96 MiB.
  cache_use_options embed{true, 3600000, 40000, 96ull << 20};
};

struct options {
  node_options node;
  http_options http;
  storage_options storage;
  log_options log;
  auth_options auth;
  pipeline_options pipeline;
  llm_options llm;
  embedder_options embedder;
  index_options index;
  export_options exports;
  cache_options cache;
};

} // namespace engram::config
