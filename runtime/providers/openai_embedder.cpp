#include "runtime/providers/openai_embedder.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "messages/errors.hpp"
#include "runtime/metrics.hpp"
#include "runtime/providers/openai_wire.hpp"
#include "runtime/providers/provider_stats.hpp"

namespace engram::providers {

openai_embedder::openai_embedder(openai_embedder_options o,
                                 std::shared_ptr<provider_stats> s,
                                 metrics::registry* reg)
  : opts_(std::move(o)),
    stats_(std::move(s)),
    reg_(reg),
    breaker_(opts_.breaker, [this](breaker_state from, breaker_state to) {
      spdlog::warn("event=embed_breaker model={} from={} to={}", opts_.model,
                   to_string(from), to_string(to));
      if (stats_)
        stats_->breaker_transition(embedder_key(opts_.model), to_string(to));
      if (reg_)
        reg_->get_counter("engram_embed_breaker_transitions_total",
                          "Embedder circuit breaker state changes",
                          {{"model", opts_.model}, {"to", to_string(to)}})
          .inc();
    }) {
  if (stats_)
    stats_->breaker(embedder_key(opts_.model), "closed", 0);
}

void openai_embedder::publish_breaker() {
  if (stats_)
    stats_->breaker(embedder_key(opts_.model),
                    to_string(breaker_.state(std::chrono::steady_clock::now())),
                    breaker_.consecutive_failures());
}

caf::expected<std::vector<vector>>
openai_embedder::attempt(const std::vector<std::string>& texts,
                         std::optional<std::chrono::milliseconds>& wait,
                         bool& retryable) {
  http_call call;
  call.url = opts_.base_url + "/embeddings";
  if (!opts_.api_key.empty())
    call.headers.push_back("Authorization: Bearer " + opts_.api_key);
  call.body = wire::embeddings_request(
    opts_.model, texts,
    opts_.send_dimensions ? std::optional<std::size_t>{opts_.dim}
                          : std::nullopt);
  call.timeout_ms = opts_.timeout_ms;
  auto r = http_.post(call);
  auto key = embedder_key(opts_.model);
  caf::expected<std::vector<vector>> out{std::vector<vector>{}};
  if (r.transport_failed() || r.status != 200) {
    retryable = r.transport_failed() || r.status == 408 || r.status == 429
                || r.status >= 500;
    if (r.status == 429) {
      wait = parse_retry_after(r.retry_after, std::chrono::system_clock::now());
      if (stats_)
        stats_->count_rate_limited(key);
    }
    auto why = r.transport_failed()
                 ? (r.timed_out ? "timed out after "
                                    + std::to_string(opts_.timeout_ms) + " ms"
                                : r.error)
                 : "HTTP " + std::to_string(r.status) + ": "
                     + wire::error_summary(r.body);
    out = make_error(ec::unavailable, "embedding call failed: " + why);
  } else {
    out = wire::parse_embeddings_response(r.body, texts.size(), opts_.dim);
    retryable = false; // a wrong answer comes back wrong again
  }
  auto now = std::chrono::steady_clock::now();
  if (out)
    breaker_.on_success(now);
  else
    breaker_.on_failure(now);
  publish_breaker();
  if (stats_) {
    stats_->call_done(key, r.seconds, bool(out), r.timed_out, texts.size(), 0);
    if (!out)
      stats_->error(key, message_of(out.error()));
  }
  if (reg_)
    reg_->get_counter("engram_embed_requests_total",
                      "Embedding server calls by outcome",
                      {{"model", opts_.model},
                       {"outcome", out ? "ok" : r.timed_out ? "timeout" : "error"}})
      .inc();
  return out;
}

caf::expected<std::vector<vector>>
openai_embedder::embed(const std::vector<std::string>& texts) {
  if (texts.empty())
    return std::vector<vector>{};
  auto key = embedder_key(opts_.model);
  for (uint32_t retry = 0;; ++retry) {
    if (!breaker_.allow(std::chrono::steady_clock::now()))
      return make_error(ec::unavailable,
                        "the embedding model " + opts_.model
                          + " is failing (circuit breaker open); documents "
                            "stay queued");
    std::optional<std::chrono::milliseconds> wait;
    bool retryable = false;
    auto out = attempt(texts, wait, retryable);
    if (out || !retryable || retry >= opts_.max_retries) {
      if (!out)
        spdlog::warn("event=embed_failed model={} texts={} error=\"{}\"",
                     opts_.model, texts.size(), message_of(out.error()));
      return out;
    }
    if (stats_)
      stats_->count_retry(key);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    // Detached thread: sleeping here holds no scheduler thread.
    std::this_thread::sleep_for(next_wait(opts_.backoff, retry + 1, u(rng_), wait));
  }
}

} // namespace engram::providers
