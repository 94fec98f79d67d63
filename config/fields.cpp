// The option tables. Adding an option: add the member (with its documented
// default) to options.hpp, one line here, and the entry in
// engram.example.json (a unit test fails until the example has it).

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "config/detail/fields.hpp"
#include "config/detail/values.hpp"
#include "config/endpoint.hpp"
#include "messages/errors.hpp"

namespace engram::config::detail {

namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

std::string non_empty(std::string_view value) {
  return value.empty() ? "must not be empty" : "";
}

// Ids appear in URLs, keys and log lines, hence the small alphabet.
std::string valid_id(std::string_view value) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':'
           || c == '-';
  };
  if (!value.empty() && value.size() <= 128
      && std::all_of(value.begin(), value.end(), allowed))
    return "";
  return "must be 1-128 characters of A-Z a-z 0-9 _ . : -, got "
         + quoted(value);
}

std::string listen_address(std::string_view value) {
  auto parsed = parse_endpoint(value);
  return parsed ? "" : message_of(parsed.error());
}

template <size_t N>
std::string one_of(std::string_view value,
                   const std::array<std::string_view, N>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end())
    return "";
  std::string list;
  for (auto choice : choices)
    list += (list.empty() ? "" : ", ") + std::string{choice};
  return "must be one of " + list + ", got " + quoted(value);
}

std::string log_level(std::string_view value) {
  static constexpr std::array<std::string_view, 7> levels{
    "trace", "debug", "info", "warn", "error", "critical", "off"};
  return one_of(value, levels);
}

std::string log_format(std::string_view value) {
  static constexpr std::array<std::string_view, 2> formats{"text", "json"};
  return one_of(value, formats);
}

std::string llm_provider(std::string_view value) {
  static constexpr std::array<std::string_view, 2> providers{"rules",
                                                             "openai"};
  return one_of(value, providers);
}

std::string embedder_provider(std::string_view value) {
  static constexpr std::array<std::string_view, 2> providers{"hash",
                                                             "openai"};
  return one_of(value, providers);
}

std::string json_mode(std::string_view value) {
  static constexpr std::array<std::string_view, 3> modes{
    "json_schema", "json_object", "off"};
  return one_of(value, modes);
}

// The client appends /chat/completions or /embeddings to it.
std::string base_url(std::string_view value) {
  auto scheme_ok = value.rfind("http://", 0) == 0
                   || value.rfind("https://", 0) == 0;
  auto rest = value.substr(value.find("://") == std::string_view::npos
                             ? 0
                             : value.find("://") + 3);
  if (scheme_ok && !rest.empty() && rest.front() != '/'
      && value.find_first_of(" \t\r\n") == std::string_view::npos)
    return "";
  return "must be an http:// or https:// URL such as "
         "http://127.0.0.1:11434/v1, got "
         + quoted(value);
}

std::string export_mode(std::string_view value) {
  static constexpr std::array<std::string_view, 3> modes{"event", "nightly",
                                                         "hybrid"};
  return one_of(value, modes);
}

std::string trigger_name(std::string_view value) {
  static constexpr std::array<std::string_view, 6> kinds{
    "intent_closed", "document_upload", "concept_change",
    "session_end",   "manual",          "nightly"};
  return one_of(value, kinds);
}

std::string time_of_day(std::string_view value) {
  auto digits = [&](std::size_t at, int max) {
    if (at + 2 > value.size() || value[at] < '0' || value[at] > '9'
        || value[at + 1] < '0' || value[at + 1] > '9')
      return false;
    return (value[at] - '0') * 10 + (value[at + 1] - '0') <= max;
  };
  bool ok = (value.size() == 5 || (value.size() == 8 && value[5] == ':'))
            && value[2] == ':' && digits(0, 23) && digits(3, 59)
            && (value.size() == 5 || digits(6, 59));
  return ok ? "" : "must be HH:MM or HH:MM:SS (UTC), got " + quoted(value);
}

std::string optional_url(std::string_view value) {
  return value.empty() ? "" : base_url(value);
}

// A model name goes into JSON bodies and labels; keep it printable.
std::string model_name(std::string_view value) {
  if (value.size() <= 256
      && std::all_of(value.begin(), value.end(),
                     [](char c) { return c > ' ' && c != 0x7f; }))
    return "";
  return "must be at most 256 printable characters without spaces, got "
         + quoted(value);
}

std::string index_method(std::string_view value) {
  static constexpr std::array<std::string_view, 2> methods{"quantized_scan",
                                                           "hnsw"};
  return one_of(value, methods);
}

std::string key_role(std::string_view value) {
  static constexpr std::array<std::string_view, 2> roles{"admin", "user"};
  return one_of(value, roles);
}

// Empty means "not given" (key_env is used instead). The value is not echoed:
// a mistyped digest may be the key itself pasted into the wrong field.
std::string sha256_hex(std::string_view value) {
  auto lower_hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  };
  if (value.empty()
      || (value.size() == 64
          && std::all_of(value.begin(), value.end(), lower_hex)))
    return "";
  return "must be 64 lower-case hex characters (a SHA-256 digest), got a "
         + std::to_string(value.size()) + "-character value";
}

} // namespace

const std::vector<field<options>>& option_fields() {
  using o = options;
  static const std::vector<field<options>> table{
    {"node.id", at(&o::node, &node_options::id), checked_by(valid_id),
     "Stable name of this node in logs, /v1/node and the cluster."},
    {"node.data_dir", at(&o::node, &node_options::data_dir),
     checked_by(non_empty),
     "Directory holding RocksDB (db/), exports and logs; created if missing."},
    {"node.scheduler_threads", at(&o::node, &node_options::scheduler_threads),
     between(0, 256), "CAF scheduler worker threads; 0 = one per core."},
    {"node.shutdown_timeout_ms",
     at(&o::node, &node_options::shutdown_timeout_ms), between(100, 60000),
     "How long a graceful stop may take before the process exits anyway."},
    {"http.listen", at(&o::http, &http_options::listen),
     checked_by(listen_address),
     "HOST:PORT the HTTP/WebSocket gateway binds; port 0 picks a free port."},
    {"http.io_threads", at(&o::http, &http_options::io_threads),
     between(1, 64), "Threads running the gateway's network IO."},
    {"http.max_body_bytes", at(&o::http, &http_options::max_body_bytes),
     between(KiB, GiB), "Largest accepted request body; larger get 413."},
    {"http.header_timeout_ms", at(&o::http, &http_options::header_timeout_ms),
     between(1, 3600000), "Time a client has to send complete headers."},
    {"http.idle_timeout_ms", at(&o::http, &http_options::idle_timeout_ms),
     between(1, 3600000), "Idle keep-alive connections are closed after it."},
    {"http.max_connections", at(&o::http, &http_options::max_connections),
     between(1, 1000000), "Open connections beyond this are refused (503)."},
    {"http.max_inflight_requests",
     at(&o::http, &http_options::max_inflight_requests), between(1, 1000000),
     "Requests processed at once, node wide; beyond it the answer is 429."},
    {"http.request_timeout_ms",
     at(&o::http, &http_options::request_timeout_ms), between(1, 600000),
     "How long a request may wait for its actor's answer before 503."},
    {"storage.sync", at(&o::storage, &storage_options::sync), anything(),
     "fsync every group-committed batch before acknowledging it."},
    {"storage.max_batch", at(&o::storage, &storage_options::max_batch),
     between(1, 100000), "Most writes the journal puts into one WriteBatch."},
    {"storage.max_wait_us", at(&o::storage, &storage_options::max_wait_us),
     between(0, 1000000),
     "How long the journal waits to fill a batch; 0 = commit when idle."},
    {"storage.block_cache_bytes",
     at(&o::storage, &storage_options::block_cache_bytes), at_least(MiB),
     "RocksDB block cache size."},
    {"storage.write_buffer_bytes",
     at(&o::storage, &storage_options::write_buffer_bytes), at_least(MiB),
     "RocksDB memtable size per column family."},
    {"log.level", at(&o::log, &log_options::level), checked_by(log_level),
     "trace, debug, info, warn, error, critical or off."},
    {"log.format", at(&o::log, &log_options::format), checked_by(log_format),
     "text (key=value lines) or json (one object per line)."},
    {"log.file", at(&o::log, &log_options::file), anything(),
     "Log file path; empty = standard error."},
    {"auth.keys", at(&o::auth, &auth_options::keys), anything(),
     "API keys; none = auth off, allowed only on a loopback listen address."},
    {"pipeline.max_turn_chars",
     at(&o::pipeline, &pipeline_options::max_turn_chars), between(1, 1000000),
     "Longest accepted turn text in characters; longer gets 422."},
    {"pipeline.max_note_chars",
     at(&o::pipeline, &pipeline_options::max_note_chars),
     between(100, 1000000),
     "Session notes are trimmed, oldest sentences first, to this length."},
    {"pipeline.max_attempts",
     at(&o::pipeline, &pipeline_options::max_attempts), between(1, 100),
     "Attempts a task gets before it is failed."},
    {"pipeline.retry_base_ms",
     at(&o::pipeline, &pipeline_options::retry_base_ms), between(1, 600000),
     "Back-off after a first failed attempt; doubles per attempt."},
    {"pipeline.retry_max_ms",
     at(&o::pipeline, &pipeline_options::retry_max_ms), between(1, 3600000),
     "Longest back-off between attempts of a task."},
    {"pipeline.workers", at(&o::pipeline, &pipeline_options::workers),
     between(1, 64), "Threads running analysis, rewrite and creation tasks."},
    {"pipeline.max_running_per_user",
     at(&o::pipeline, &pipeline_options::max_running_per_user),
     between(1, 1024), "Language tasks one user may have running at once."},
    {"pipeline.max_updates_per_job",
     at(&o::pipeline, &pipeline_options::max_updates_per_job),
     between(1, 1024),
     "Queued note updates of one (session, entity) rewritten in one job."},
    {"llm.provider", at(&o::llm, &llm_options::provider),
     checked_by(llm_provider),
     "Language task provider: rules (offline) or openai (model server)."},
    {"llm.base_url", at(&o::llm, &llm_options::base_url),
     checked_by(base_url), "OpenAI-compatible server URL, up to /v1."},
    {"llm.api_key_env", at(&o::llm, &llm_options::api_key_env), anything(),
     "Variable holding the API key (never logged); empty = none."},
    {"llm.models.analysis", at(&o::llm, &llm_options::models,
                               &llm_models::analysis),
     checked_by(model_name), "Model for turn analysis (openai)."},
    {"llm.models.rewrite", at(&o::llm, &llm_options::models,
                              &llm_models::rewrite),
     checked_by(model_name), "Model for note rewrites (openai)."},
    {"llm.models.creation", at(&o::llm, &llm_options::models,
                               &llm_models::creation),
     checked_by(model_name), "Model for entity creation (openai)."},
    {"llm.fallback_models", at(&o::llm, &llm_options::fallback_models),
     checked_by(model_name),
     "Models tried in order after a task's model fails; then rules."},
    {"llm.temperature.analysis", at(&o::llm, &llm_options::temperature,
                                    &llm_temperatures::analysis),
     real_between(0, 2), "Sampling temperature of analysis calls."},
    {"llm.temperature.rewrite", at(&o::llm, &llm_options::temperature,
                                   &llm_temperatures::rewrite),
     real_between(0, 2), "Sampling temperature of rewrite calls."},
    {"llm.temperature.creation", at(&o::llm, &llm_options::temperature,
                                    &llm_temperatures::creation),
     real_between(0, 2), "Sampling temperature of creation calls."},
    {"llm.prompts.analysis", at(&o::llm, &llm_options::prompts,
                                &llm_prompts::analysis),
     anything(), "Analysis prompt file; empty = built-in."},
    {"llm.prompts.rewrite", at(&o::llm, &llm_options::prompts,
                               &llm_prompts::rewrite),
     anything(), "Rewrite prompt file; empty = built-in."},
    {"llm.prompts.creation", at(&o::llm, &llm_options::prompts,
                                &llm_prompts::creation),
     anything(), "Creation prompt file; empty = built-in."},
    {"llm.budget.calls_per_minute", at(&o::llm, &llm_options::budget,
                                       &llm_budget::calls_per_minute),
     anything(), "Model calls per user per minute; 0 = unlimited."},
    {"llm.budget.tokens_per_minute", at(&o::llm, &llm_options::budget,
                                        &llm_budget::tokens_per_minute),
     anything(), "Model tokens per user per minute; 0 = unlimited."},
    {"llm.json_mode", at(&o::llm, &llm_options::json_mode),
     checked_by(json_mode), "json_schema, json_object or off."},
    {"llm.timeout_ms", at(&o::llm, &llm_options::timeout_ms),
     between(100, 3600000), "Longest one model call may take."},
    {"llm.max_retries", at(&o::llm, &llm_options::max_retries),
     between(0, 20), "Retries of one model before the next is asked."},
    {"llm.retry_base_ms", at(&o::llm, &llm_options::retry_base_ms),
     between(1, 600000), "Back-off before the first retry; doubles."},
    {"llm.retry_max_ms", at(&o::llm, &llm_options::retry_max_ms),
     between(1, 3600000), "Longest back-off between retries."},
    {"llm.max_concurrency", at(&o::llm, &llm_options::max_concurrency),
     between(1, 256), "Model calls in flight at once."},
    {"llm.rate_limit_rps", at(&o::llm, &llm_options::rate_limit_rps),
     between(0, 100000), "Client-side calls per second; 0 = no limit."},
    {"llm.batch_size", at(&o::llm, &llm_options::batch_size),
     between(1, 64), "Tasks of one user sent in one call; 1 = no batching."},
    {"llm.breaker_failures", at(&o::llm, &llm_options::breaker_failures),
     between(1, 1000), "Consecutive failures that open a model's breaker."},
    {"llm.breaker_cooldown_ms",
     at(&o::llm, &llm_options::breaker_cooldown_ms), between(1, 3600000),
     "How long an open breaker waits before one probe call."},
    {"llm.max_tokens", at(&o::llm, &llm_options::max_tokens),
     between(16, 1000000), "Most tokens a model may generate per call."},
    {"embedder.provider", at(&o::embedder, &embedder_options::provider),
     checked_by(embedder_provider),
     "Embedding provider: hash (offline) or openai (model server)."},
    {"embedder.dim", at(&o::embedder, &embedder_options::dim),
     between(8, 4096), "Vector dimension."},
    {"embedder.batch_size", at(&o::embedder, &embedder_options::batch_size),
     between(1, 4096), "Most documents embedded in one call."},
    {"embedder.max_wait_us", at(&o::embedder, &embedder_options::max_wait_us),
     between(0, 1000000), "How long a partial batch waits for more documents."},
    {"embedder.base_url", at(&o::embedder, &embedder_options::base_url),
     checked_by(base_url), "openai: server URL, up to /v1."},
    {"embedder.api_key_env", at(&o::embedder, &embedder_options::api_key_env),
     anything(), "openai: variable holding the API key; empty = none."},
    {"embedder.model", at(&o::embedder, &embedder_options::model),
     checked_by(model_name), "openai: embedding model (required)."},
    {"embedder.send_dimensions",
     at(&o::embedder, &embedder_options::send_dimensions), anything(),
     "openai: send `dimensions` (models that shorten vectors)."},
    {"embedder.timeout_ms", at(&o::embedder, &embedder_options::timeout_ms),
     between(100, 3600000), "openai: longest one call may take."},
    {"embedder.max_retries",
     at(&o::embedder, &embedder_options::max_retries), between(0, 20),
     "openai: retries of a failed call."},
    {"embedder.breaker_failures",
     at(&o::embedder, &embedder_options::breaker_failures), between(1, 1000),
     "openai: consecutive failures that open the breaker."},
    {"embedder.breaker_cooldown_ms",
     at(&o::embedder, &embedder_options::breaker_cooldown_ms),
     between(1, 3600000), "openai: open breaker's wait before a probe."},
    {"index.exact_threshold",
     at(&o::index, &index_options::exact_threshold), between(0, 100000000),
     "Documents a user's index scans exactly before switching to method."},
    {"index.method", at(&o::index, &index_options::method),
     checked_by(index_method),
     "Large indexes: quantized_scan (hash embedder) or hnsw (model "
     "embeddings)."},
    {"index.rerank_candidates",
     at(&o::index, &index_options::rerank_candidates), between(1, 100000),
     "quantized_scan: candidates reranked exactly."},
    {"index.scan_dims", at(&o::index, &index_options::scan_dims),
     between(1, 65536),
     "quantized_scan: most query dimensions the approximate scan reads."},
    {"index.ef_search", at(&o::index, &index_options::ef_search),
     between(1, 10000), "hnsw: candidates per search (ef)."},
    {"index.m", at(&o::index, &index_options::m), between(2, 256),
     "hnsw: links per node (M); applies to new graphs."},
    {"index.ef_construction", at(&o::index, &index_options::ef_construction),
     between(1, 10000), "hnsw: ef_construction; applies to new graphs."},
    {"cache.shards", at(&o::cache, &cache_options::shards), between(1, 64),
     "Actors each cache use is sharded over."},
    {"cache.search.enabled", at(&o::cache, &cache_options::search,
                               &cache_use_options::enabled),
     anything(), "Cache search answers."},
    {"cache.search.ttl_ms", at(&o::cache, &cache_options::search,
                              &cache_use_options::ttl_ms),
     between(1, 31536000000), "How long a cached search answer entry lives."},
    {"cache.search.max_entries", at(&o::cache, &cache_options::search,
                                   &cache_use_options::max_entries),
     between(1, 100000000), "Most search answers entries held."},
    {"cache.search.max_bytes", at(&o::cache, &cache_options::search,
                                 &cache_use_options::max_bytes),
     between(4096, 64 * GiB), "Most bytes the search answers cache holds."},
    {"cache.llm.enabled", at(&o::cache, &cache_options::llm,
                               &cache_use_options::enabled),
     anything(), "Cache model completions."},
    {"cache.llm.ttl_ms", at(&o::cache, &cache_options::llm,
                              &cache_use_options::ttl_ms),
     between(1, 31536000000), "How long a cached model completion entry lives."},
    {"cache.llm.max_entries", at(&o::cache, &cache_options::llm,
                                   &cache_use_options::max_entries),
     between(1, 100000000), "Most model completions entries held."},
    {"cache.llm.max_bytes", at(&o::cache, &cache_options::llm,
                                 &cache_use_options::max_bytes),
     between(4096, 64 * GiB), "Most bytes the model completions cache holds."},
    {"cache.embed.enabled", at(&o::cache, &cache_options::embed,
                               &cache_use_options::enabled),
     anything(), "Cache embeddings."},
    {"cache.embed.ttl_ms", at(&o::cache, &cache_options::embed,
                              &cache_use_options::ttl_ms),
     between(1, 31536000000), "How long a cached embedding entry lives."},
    {"cache.embed.max_entries", at(&o::cache, &cache_options::embed,
                                   &cache_use_options::max_entries),
     between(1, 100000000), "Most embeddings entries held."},
    {"cache.embed.max_bytes", at(&o::cache, &cache_options::embed,
                                 &cache_use_options::max_bytes),
     between(4096, 64 * GiB), "Most bytes the embeddings cache holds."},
    {"exports.mode", at(&o::exports, &export_options::mode),
     checked_by(export_mode),
     "Which triggers export: event, nightly or hybrid."},
    {"exports.debounce_ms", at(&o::exports, &export_options::debounce_ms),
     between(0, 31536000000), "Window that coalesces triggers after an export."},
    {"exports.nightly_at", at(&o::exports, &export_options::nightly_at),
     checked_by(time_of_day), "Daily export time, HH:MM[:SS] UTC."},
    {"exports.concept_change_threshold",
     at(&o::exports, &export_options::concept_change_threshold),
     between(0, 1000000), "Fewest concepts a concept_change needs."},
    {"exports.session_end_min_turns",
     at(&o::exports, &export_options::session_end_min_turns),
     between(0, 1000000), "Fewest turns a session_end needs (unless high impact)."},
    {"exports.high_priority", at(&o::exports, &export_options::high_priority),
     checked_by(trigger_name), "Trigger kinds that skip the window."},
    {"exports.max_pending", at(&o::exports, &export_options::max_pending),
     between(1, 10000), "Coalesced triggers a trailing export lists."},
    {"exports.chunk_chars", at(&o::exports, &export_options::chunk_chars),
     between(100, 100000), "Most characters per document chunk."},
    {"exports.chunk_overlap", at(&o::exports, &export_options::chunk_overlap),
     between(0, 99999), "Characters repeated from the previous chunk."},
    {"exports.exporter_idle_ms",
     at(&o::exports, &export_options::exporter_idle_ms), between(10, 86400000),
     "Idle time after which an exporter with nothing scheduled passivates."},
    {"exports.max_document_bytes",
     at(&o::exports, &export_options::max_document_bytes),
     between(1, 64 * MiB), "Longest accepted document text."},
    {"exports.webhook_url", at(&o::exports, &export_options::webhook_url),
     checked_by(optional_url), "Called after each export; empty = none."},
    {"exports.webhook_secret_env",
     at(&o::exports, &export_options::webhook_secret_env), anything(),
     "Variable holding the webhook's HMAC-SHA256 key."},
    {"exports.webhook_timeout_ms",
     at(&o::exports, &export_options::webhook_timeout_ms),
     between(100, 600000), "Longest webhook call."},
    {"exports.webhook_max_retries",
     at(&o::exports, &export_options::webhook_max_retries), between(0, 100),
     "Retries of a failed webhook call."},
  };
  return table;
}

const std::vector<field<api_key_options>>& api_key_fields() {
  using k = api_key_options;
  static const std::vector<field<api_key_options>> table{
    {"name", at(&k::name), checked_by(non_empty),
     "Name shown in logs and metrics (never the key). Required."},
    {"role", at(&k::role), checked_by(key_role),
     "admin (every route) or user (only the listed users)."},
    {"users", at(&k::users), checked_by(valid_id),
     "User ids a user key may touch; must be empty for admin."},
    {"key_sha256", at(&k::key_sha256), checked_by(sha256_hex),
     "Lower-case hex SHA-256 of the key; or use key_env.", true},
    {"key_env", at(&k::key_env), anything(),
     "Environment variable holding the key in clear; or use key_sha256."},
  };
  return table;
}

} // namespace engram::config::detail
