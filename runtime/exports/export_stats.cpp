#include "runtime/exports/export_stats.hpp"

#include <cmath>

#include "messages/errors.hpp"
#include "runtime/ids.hpp"

namespace engram::exports {

namespace {

constexpr std::array<trigger_kind, trigger_kinds> all_kinds{
  trigger_kind::intent_closed, trigger_kind::document_upload,
  trigger_kind::concept_change, trigger_kind::session_end,
  trigger_kind::manual, trigger_kind::nightly};
constexpr std::array<outcome, outcome_count> all_outcomes{
  outcome::exported, outcome::debounced, outcome::coalesced,
  outcome::ignored, outcome::unchanged, outcome::failed};

double bucket_bound(std::size_t i) {
  return 0.0001 * std::ldexp(1.0, static_cast<int>(i));
}

std::size_t bucket_of(double seconds) {
  for (std::size_t i = 0; i + 1 < duration_buckets; ++i)
    if (seconds <= bucket_bound(i))
      return i;
  return duration_buckets - 1;
}

boost::json::value time_or_null(int64_t ms) {
  if (ms <= 0)
    return nullptr;
  return boost::json::value(iso8601_ms(ms));
}

} // namespace

void user_export_stats::exported(double seconds, int64_t at_ms) {
  ++exports;
  last_export_ms = at_ms;
  auto& b = durations[bucket_of(seconds)];
  if (b < UINT32_MAX)
    ++b;
}

double user_export_stats::duration_quantile(double q) const {
  uint64_t total = 0;
  for (auto n : durations)
    total += n;
  if (total == 0)
    return 0;
  auto want = static_cast<uint64_t>(std::ceil(q * double(total)));
  uint64_t seen = 0;
  for (std::size_t i = 0; i < duration_buckets; ++i) {
    seen += durations[i];
    if (seen >= want && durations[i] > 0)
      return bucket_bound(i);
  }
  return bucket_bound(duration_buckets - 1);
}

boost::json::object to_json(const user_export_stats& s) {
  boost::json::object trig, outs;
  for (auto k : all_kinds)
    trig[to_string(k)] = s.triggers[static_cast<std::size_t>(k)];
  for (auto o : all_outcomes)
    outs[to_string(o)] = s.outcomes[static_cast<std::size_t>(o)];
  boost::json::array buckets;
  for (auto n : s.durations)
    buckets.emplace_back(n);
  return {{"triggers", std::move(trig)},
          {"outcomes", std::move(outs)},
          {"total_exports", s.exports},
          {"last_export_at", time_or_null(s.last_export_ms)},
          {"last_export_ms", s.last_export_ms},
          {"duration_seconds",
           {{"p50", s.duration_quantile(0.5)},
            {"p99", s.duration_quantile(0.99)}}},
          {"duration_buckets", std::move(buckets)}};
}

caf::expected<user_export_stats>
user_stats_from_json(const boost::json::value& v) {
  auto fail = [](const char* what) {
    return make_error(ec::storage_failure,
                      std::string{"stored export stats are damaged: "} + what);
  };
  auto obj = v.if_object();
  if (!obj)
    return fail("not an object");
  user_export_stats s;
  auto num = [](const boost::json::value* x) -> std::optional<uint64_t> {
    if (!x)
      return std::nullopt;
    if (auto u = x->if_uint64())
      return *u;
    if (auto i = x->if_int64(); i && *i >= 0)
      return static_cast<uint64_t>(*i);
    return std::nullopt;
  };
  auto trig = obj->if_contains("triggers");
  auto outs = obj->if_contains("outcomes");
  if (!trig || !trig->is_object() || !outs || !outs->is_object())
    return fail("triggers/outcomes");
  for (auto k : all_kinds)
    s.triggers[static_cast<std::size_t>(k)] =
      num(trig->as_object().if_contains(to_string(k))).value_or(0);
  for (auto o : all_outcomes)
    s.outcomes[static_cast<std::size_t>(o)] =
      num(outs->as_object().if_contains(to_string(o))).value_or(0);
  s.exports = num(obj->if_contains("total_exports")).value_or(0);
  if (auto l = obj->if_contains("last_export_ms"); l && l->is_int64())
    s.last_export_ms = l->as_int64();
  if (auto b = obj->if_contains("duration_buckets"); b && b->is_array()) {
    auto& arr = b->as_array();
    for (std::size_t i = 0; i < arr.size() && i < duration_buckets; ++i)
      s.durations[i] = static_cast<uint32_t>(
        std::min<uint64_t>(num(&arr[i]).value_or(0), UINT32_MAX));
  }
  return s;
}

node_export_stats::node_export_stats(metrics::registry& reg) {
  for (auto k : all_kinds)
    triggers_[static_cast<std::size_t>(k)] =
      &reg.get_counter("engram_export_triggers_total",
                       "Export triggers received, by kind.",
                       {{"trigger", to_string(k)}});
  for (auto o : all_outcomes)
    outcomes_[static_cast<std::size_t>(o)] =
      &reg.get_counter("engram_export_outcomes_total",
                       "Export decisions and export runs, by outcome.",
                       {{"outcome", to_string(o)}});
  exports_ = &reg.get_counter("engram_exports_total",
                              "Mesh-context files written.");
  duration_ = &reg.get_histogram("engram_export_duration_seconds",
                                 "Time from an export decision to its file "
                                 "being durable.");
  lateness_ = &reg.get_histogram(
    "engram_export_timer_lateness_seconds",
    "How late trailing-export timers fire after their due time.", {},
    {0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25,
     0.5, 1, 2.5, 5, 10});
  webhook_ok_ = &reg.get_counter("engram_export_webhook_total",
                                 "Webhook deliveries by result.",
                                 {{"result", "ok"}});
  webhook_failed_ = &reg.get_counter("engram_export_webhook_total",
                                     "Webhook deliveries by result.",
                                     {{"result", "failed"}});
  webhook_retries_ = &reg.get_counter("engram_export_webhook_retries_total",
                                      "Webhook calls retried.");
}

void node_export_stats::count(trigger_kind k) {
  triggers_[static_cast<std::size_t>(k)]->inc();
}

void node_export_stats::count(outcome o) {
  outcomes_[static_cast<std::size_t>(o)]->inc();
}

void node_export_stats::exported(double seconds, int64_t at_ms) {
  exports_->inc();
  duration_->observe(seconds);
  auto prev = last_export_ms_.load();
  while (prev < at_ms && !last_export_ms_.compare_exchange_weak(prev, at_ms)) {
  }
}

void node_export_stats::timer_fired(double late_seconds) {
  lateness_->observe(std::max(0.0, late_seconds));
}

void node_export_stats::webhook(bool ok, uint32_t retries) {
  (ok ? webhook_ok_ : webhook_failed_)->inc();
  webhook_retries_->inc(retries);
}

boost::json::object node_export_stats::to_json() const {
  boost::json::object trig, outs;
  for (auto k : all_kinds)
    trig[to_string(k)] = triggers_[static_cast<std::size_t>(k)]->value();
  for (auto o : all_outcomes)
    outs[to_string(o)] = outcomes_[static_cast<std::size_t>(o)]->value();
  auto cnt = duration_->count();
  return {{"triggers", std::move(trig)},
          {"outcomes", std::move(outs)},
          {"total_exports", exports_->value()},
          {"last_export_at", time_or_null(last_export_ms_.load())},
          {"duration_seconds",
           {{"p50", cnt ? duration_->quantile(0.5) : 0.0},
            {"p99", cnt ? duration_->quantile(0.99) : 0.0}}},
          {"timer_lateness_seconds",
           {{"p50", lateness_->count() ? lateness_->quantile(0.5) : 0.0},
            {"p99", lateness_->count() ? lateness_->quantile(0.99) : 0.0},
            {"count", lateness_->count()}}},
          {"webhook",
           {{"ok", webhook_ok_->value()},
            {"failed", webhook_failed_->value()},
            {"retries", webhook_retries_->value()}}}};
}

} // namespace engram::exports
