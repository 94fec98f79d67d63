#include "actors/webhook.hpp"

#include <map>
#include <random>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "runtime/exports/export_stats.hpp"
#include "runtime/exports/webhook_signature.hpp"
#include "runtime/ids.hpp"
#include "runtime/providers/backoff.hpp"
#include "runtime/providers/curl_client.hpp"

namespace engram {

namespace {

struct delivery {
  std::string body;
  uint32_t retries = 0;
};

struct webhook_state {
  webhook_options opts;
  std::shared_ptr<exports::node_export_stats> stats;
  std::unique_ptr<providers::curl_client> client;
  std::map<uint64_t, delivery> waiting; // backing off
  uint64_t next_id = 0;
  uint64_t dropped = 0;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "engram.webhook";
};

using webhook_self = webhook_actor::stateful_pointer<webhook_state>;

void attempt(webhook_self self, delivery d) {
  auto& st = self->state;
  providers::http_call call;
  call.url = st.opts.url;
  call.body = d.body;
  call.timeout_ms = st.opts.timeout_ms;
  auto ts = now_unix_ms() / 1000;
  call.headers.push_back("X-Engram-Timestamp: " + std::to_string(ts));
  if (!st.opts.secret.empty())
    call.headers.push_back("X-Engram-Signature: "
                           + exports::webhook_signature(st.opts.secret, ts,
                                                        d.body));
  auto r = st.client->post(call);
  if (r.status >= 200 && r.status < 300) {
    st.stats->webhook(true, d.retries);
    return;
  }
  auto why = r.transport_failed() ? r.error : "HTTP " + std::to_string(r.status);
  // 4xx other than 408/429 will not get better by retrying.
  bool retryable = r.transport_failed() || r.status >= 500 || r.status == 408
                   || r.status == 429;
  if (!retryable || d.retries >= st.opts.max_retries) {
    st.stats->webhook(false, d.retries);
    spdlog::warn("event=webhook_failed url={} retries={} error=\"{}\"",
                 st.opts.url, d.retries, why);
    return;
  }
  ++d.retries;
  providers::backoff_policy p;
  p.base = std::chrono::milliseconds(st.opts.base_delay_ms);
  p.max = std::chrono::milliseconds(st.opts.max_delay_ms);
  auto delay = providers::retry_delay(
    p, d.retries, std::uniform_real_distribution<double>(0, 1)(st.rng));
  auto id = ++st.next_id;
  st.waiting.emplace(id, std::move(d));
  self->delayed_send(self, delay, retry_atom::value, id);
}

webhook_actor::behavior_type webhook(webhook_self self, webhook_options opts,
                                     std::shared_ptr<exports::node_export_stats> stats) {
  self->state.opts = std::move(opts);
  self->state.stats = std::move(stats);
  self->state.client = std::make_unique<providers::curl_client>();
  return {
    [self](notify_atom, std::string& body) {
      auto& st = self->state;
      if (st.waiting.size() >= st.opts.max_queue) {
        st.stats->webhook(false, 0);
        if (st.dropped++ % 100 == 0)
          spdlog::warn("event=webhook_dropped waiting={} dropped={}",
                       st.waiting.size(), st.dropped);
        return;
      }
      attempt(self, delivery{std::move(body), 0});
    },
    [self](retry_atom, uint64_t id) {
      auto it = self->state.waiting.find(id);
      if (it == self->state.waiting.end())
        return;
      auto d = std::move(it->second);
      self->state.waiting.erase(it);
      attempt(self, std::move(d));
    },
  };
}

} // namespace

webhook_actor spawn_webhook(caf::actor_system& sys, webhook_options opts,
                            std::shared_ptr<exports::node_export_stats> stats) {
  return sys.spawn<caf::detached>(webhook, std::move(opts), std::move(stats));
}

} // namespace engram
