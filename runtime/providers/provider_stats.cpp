#include "runtime/providers/provider_stats.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "runtime/ids.hpp"

namespace engram::providers {

namespace json = boost::json;

namespace {

constexpr std::size_t max_errors = 10;
constexpr std::size_t max_latencies = 1024;
constexpr std::string_view embed_prefix = "embed:";

bool is_embedder(const std::string& key) {
  return key.rfind(embed_prefix, 0) == 0;
}

double percentile_ms(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)] * 1000.0;
}

uint64_t count_of(const std::map<std::string, uint64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

int rank(const std::string& breaker) {
  return breaker == "open" ? 2 : breaker == "half_open" ? 1 : 0;
}

} // namespace

std::string embedder_key(const std::string& model) {
  return std::string{embed_prefix} + model;
}

provider_stats::model_entry& provider_stats::entry(const std::string& model) {
  auto& e = models_[model];
  e.kind = is_embedder(model) ? "embedder" : "llm";
  return e;
}

void provider_stats::describe(const std::string& kind,
                              const std::string& provider,
                              const std::string& base_url) {
  std::lock_guard lock{mu_};
  kinds_[kind] = {provider, base_url};
}

void provider_stats::call_done(const std::string& model, double seconds,
                               bool ok, bool timed_out, uint64_t items,
                               uint64_t tokens) {
  std::lock_guard lock{mu_};
  auto& e = entry(model);
  ++e.c.calls;
  (ok ? e.c.ok : e.c.failures) += 1;
  e.c.timeouts += timed_out ? 1 : 0;
  e.c.items += items;
  e.c.tokens += tokens;
  if (ok)
    e.error_since_ok = false;
  e.latencies.push_back(seconds);
  if (e.latencies.size() > max_latencies)
    e.latencies.pop_front();
}

void provider_stats::count_retry(const std::string& model, uint64_t n) {
  std::lock_guard lock{mu_};
  entry(model).c.retries += n;
}

void provider_stats::count_fallback(const std::string& model, uint64_t n) {
  std::lock_guard lock{mu_};
  entry(model).c.fallbacks += n;
}

void provider_stats::count_rate_limited(const std::string& model) {
  std::lock_guard lock{mu_};
  ++entry(model).c.rate_limited;
}

void provider_stats::error(const std::string& model, std::string message) {
  std::lock_guard lock{mu_};
  auto& e = entry(model);
  e.errors.emplace_back(now_unix_ms(), std::move(message));
  e.error_since_ok = true;
  if (e.errors.size() > max_errors)
    e.errors.pop_front();
}

void provider_stats::breaker(const std::string& model, const std::string& state,
                             uint32_t consecutive_failures) {
  std::lock_guard lock{mu_};
  auto& e = entry(model);
  e.breaker = state;
  e.consecutive_failures = consecutive_failures;
}

void provider_stats::breaker_transition(const std::string& model,
                                        const std::string& to) {
  std::lock_guard lock{mu_};
  ++entry(model).transitions[to];
}

void provider_stats::set_tasks(const std::string& model,
                               std::vector<std::string> tasks) {
  std::lock_guard lock{mu_};
  entry(model).tasks = std::move(tasks);
}

void provider_stats::rules_fallbacks(uint64_t n) {
  std::lock_guard lock{mu_};
  rules_fallbacks_ += n;
}

void provider_stats::gauges(uint64_t queued, uint64_t in_flight,
                            uint64_t budget_waiting) {
  std::lock_guard lock{mu_};
  queued_ = queued;
  in_flight_ = in_flight;
  budget_waiting_ = budget_waiting;
}

std::string provider_stats::embedder_breaker() const {
  std::lock_guard lock{mu_};
  std::string worst = "closed";
  for (auto& [key, e] : models_)
    if (is_embedder(key) && rank(e.breaker) > rank(worst))
      worst = e.breaker;
  return worst;
}

std::string provider_stats::embedder_error() const {
  std::lock_guard lock{mu_};
  for (auto& [key, e] : models_)
    if (is_embedder(key) && e.error_since_ok && !e.errors.empty())
      return e.errors.back().second;
  return {};
}

std::vector<std::string> provider_stats::open_llm_breakers() const {
  std::lock_guard lock{mu_};
  std::vector<std::string> out;
  for (auto& [key, e] : models_)
    if (!is_embedder(key) && e.breaker != "closed")
      out.push_back(key + " (" + e.breaker + ")");
  return out;
}

json::object provider_stats::to_json() const {
  std::lock_guard lock{mu_};
  json::object out;
  for (auto& [kind, desc] : kinds_) {
    json::array models;
    for (auto& [key, e] : models_) {
      if (e.kind != kind)
        continue;
      std::vector<double> lat(e.latencies.begin(), e.latencies.end());
      json::array errors;
      for (auto it = e.errors.rbegin(); it != e.errors.rend(); ++it)
        errors.push_back(json::object{{"at", iso8601_ms(it->first)},
                                      {"error", it->second}});
      json::array tasks;
      for (auto& t : e.tasks)
        tasks.emplace_back(t);
      auto name = is_embedder(key) ? key.substr(embed_prefix.size()) : key;
      models.push_back(json::object{
        {"model", name},
        {"tasks", std::move(tasks)},
        {"breaker", json::object{{"state", e.breaker},
                                 {"consecutive_failures",
                                  e.consecutive_failures},
                                 {"opened", count_of(e.transitions, "open")},
                                 {"half_opened", count_of(e.transitions, "half_open")},
                                 {"closed", count_of(e.transitions, "closed")}}},
        {"calls", e.c.calls},
        {"ok", e.c.ok},
        {"failures", e.c.failures},
        {"timeouts", e.c.timeouts},
        {"retries", e.c.retries},
        {"fallbacks", e.c.fallbacks},
        {"rate_limited", e.c.rate_limited},
        {"items", e.c.items},
        {"tokens", e.c.tokens},
        {"latency_ms", json::object{{"p50", percentile_ms(lat, 0.50)},
                                    {"p99", percentile_ms(lat, 0.99)},
                                    {"samples", lat.size()}}},
        {"recent_errors", std::move(errors)}});
    }
    json::object section{{"provider", desc.first},
                         {"base_url", desc.second},
                         {"models", std::move(models)}};
    if (kind == "llm") {
      section["rules_fallbacks"] = rules_fallbacks_;
      section["queued"] = queued_;
      section["in_flight"] = in_flight_;
      section["users_over_budget"] = budget_waiting_;
    }
    out[kind] = std::move(section);
  }
  return out;
}

} // namespace engram::providers
