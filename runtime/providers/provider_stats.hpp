#pragma once
// What GET /v1/providers and /healthz show about the model providers: per
// model (and the embedder) its breaker, counters, recent errors and recent
// latencies. Written by the provider actors after each call, read by HTTP
// threads, hence the mutex; it holds no state any actor decides on (the
// breakers themselves live in the actors).

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace engram::providers {

struct model_counters {
  uint64_t calls = 0;       // HTTP calls made
  uint64_t ok = 0;          // calls whose every item was usable
  uint64_t failures = 0;    // transport errors, non-200, unusable answers
  uint64_t timeouts = 0;
  uint64_t retries = 0;     // items sent again to the same model
  uint64_t fallbacks = 0;   // items passed on to the next model / rules
  uint64_t rate_limited = 0; // 429 answers
  uint64_t items = 0;       // task items sent (a batch counts each)
  uint64_t tokens = 0;      // prompt + completion tokens reported
};

class provider_stats {
public:
  /// `kind` is "llm" or "embedder"; `base_url` for display only.
  void describe(const std::string& kind, const std::string& provider,
                const std::string& base_url);

  /// The model's entry, created on first use.
  void call_done(const std::string& model, double seconds, bool ok,
                 bool timed_out, uint64_t items, uint64_t tokens);
  void count_retry(const std::string& model, uint64_t n = 1);
  void count_fallback(const std::string& model, uint64_t n = 1);
  void count_rate_limited(const std::string& model);
  void error(const std::string& model, std::string message);
  void breaker(const std::string& model, const std::string& state,
               uint32_t consecutive_failures);
  /// A breaker changed state (to "open", "half_open" or "closed").
  void breaker_transition(const std::string& model, const std::string& to);
  void set_tasks(const std::string& model, std::vector<std::string> tasks);

  /// Node-wide llm figures.
  void rules_fallbacks(uint64_t n);
  void gauges(uint64_t queued, uint64_t in_flight, uint64_t budget_waiting);

  /// Worst breaker state of the embedder's models ("closed" when none).
  std::string embedder_breaker() const;
  /// The last embedder error (dimension mismatches stay until a success).
  std::string embedder_error() const;
  /// Language models whose breaker is not closed.
  std::vector<std::string> open_llm_breakers() const;

  boost::json::object to_json() const;

private:
  struct model_entry {
    std::string kind; // llm | embedder
    std::vector<std::string> tasks;
    model_counters c;
    std::string breaker = "closed";
    std::map<std::string, uint64_t> transitions; // by new state
    uint32_t consecutive_failures = 0;
    std::deque<std::pair<int64_t, std::string>> errors; // unix ms, message
    std::deque<double> latencies;                       // seconds, newest last
    // An error came after the last successful call. (A millisecond
    // timestamp cannot order an error and a success in the same ms.)
    bool error_since_ok = false;
  };
  model_entry& entry(const std::string& model);

  mutable std::mutex mu_;
  std::map<std::string, model_entry> models_;
  std::map<std::string, std::pair<std::string, std::string>> kinds_; // kind -> provider, url
  uint64_t rules_fallbacks_ = 0;
  uint64_t queued_ = 0, in_flight_ = 0, budget_waiting_ = 0;
};

/// Keys of provider_stats entries: the embedder's model is stored under
/// "embed:" + model so one model name can serve both kinds.
std::string embedder_key(const std::string& model);

} // namespace engram::providers
