#pragma once
// An embedder backed by an OpenAI-compatible /v1/embeddings server. It
// blocks (so the embedder actor runs it detached), reuses one connection,
// retries a failed call with back-off (Retry-After wins) and has a circuit
// breaker: while it is open, calls fail at once and the documents stay in
// the users' durable embedding queues. Every vector is checked against
// embedder.dim before anything is stored.

#include <memory>
#include <random>
#include <string>

#include "runtime/providers/backoff.hpp"
#include "runtime/providers/circuit_breaker.hpp"
#include "runtime/providers/curl_client.hpp"
#include "runtime/providers/embedder.hpp"

namespace engram::metrics {
class registry;
}

namespace engram::providers {

class provider_stats;

struct openai_embedder_options {
  std::string base_url;
  std::string api_key;
  std::string model;
  std::size_t dim = 384;
  bool send_dimensions = false;
  uint32_t timeout_ms = 30000;
  uint32_t max_retries = 2;
  backoff_policy backoff{std::chrono::milliseconds(500),
                         std::chrono::milliseconds(10000)};
  breaker_options breaker;
};

class openai_embedder : public embedder {
public:
  openai_embedder(openai_embedder_options o, std::shared_ptr<provider_stats> s,
                  metrics::registry* reg);

  std::string name() const override { return "openai:" + opts_.model; }
  std::size_t dim() const override { return opts_.dim; }
  caf::expected<std::vector<vector>>
  embed(const std::vector<std::string>& texts) override;

private:
  caf::expected<std::vector<vector>> attempt(const std::vector<std::string>& texts,
                                             std::optional<std::chrono::milliseconds>& wait,
                                             bool& retryable);
  void publish_breaker();

  openai_embedder_options opts_;
  std::shared_ptr<provider_stats> stats_;
  metrics::registry* reg_;
  curl_client http_;
  circuit_breaker breaker_;
  std::mt19937_64 rng_{std::random_device{}()};
};

} // namespace engram::providers
