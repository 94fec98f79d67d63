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

struct options {
  node_options node;
  http_options http;
  storage_options storage;
  log_options log;
  auth_options auth;
};

} // namespace engram::config
