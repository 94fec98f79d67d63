// engram-bench-providers: what the model-provider client costs and what
// batching buys, against the in-process fake OpenAI-compatible server
// (tests/fixtures/fake_openai), all in one run so the ratios hold on a noisy
// machine.
//
//   overhead    one analysis at a time: the same chat request sent with a
//               bare libcurl client (baseline: network + fake server) and
//               through llm_client (queue, batching, breaker, worker actor,
//               parsing, validation). Client overhead = client - baseline,
//               at p50 and p99.
//   throughput  --tasks analyses of --users users, all at once, through the
//               client with --latency-ms per call and --concurrency workers:
//               tasks/s with batching (--batch) and with batch_size 1.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/llm_client.hpp"
#include "messages/registry.hpp"
#include "runtime/metrics.hpp"
#include "runtime/providers/curl_client.hpp"
#include "runtime/providers/provider_stats.hpp"
#include "runtime/providers/rules_llm.hpp"
#include "tests/fixtures/fake_openai.hpp"

namespace {

using namespace engram;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string scenario = "all";
  uint32_t calls = 2000;
  uint32_t tasks = 2000;
  uint32_t users = 4;
  uint32_t latency_ms = 200;
  uint32_t concurrency = 16;
  uint32_t batch = 16;
};

double pct(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * double(v.size() - 1) + 0.5))];
}

providers::analysis_input sample(const std::string& user, int64_t turn) {
  return {user, "s" + std::to_string(turn % 64), turn,
          "Alice and Borin walked along the harbor while talking about the "
          "storm. Later the lantern market grew quiet.",
          {{"e1", "character", "Alice", {}},
           {"e2", "character", "Borin", {}},
           {"e3", "location", "Harbor", {"the harbor"}}}};
}

llm_client_options client_options(const std::string& url, uint32_t concurrency,
                                  uint32_t batch) {
  llm_client_options o;
  o.base_url = url;
  o.models[0] = o.models[1] = o.models[2] = "bench-model";
  o.max_concurrency = concurrency;
  o.batch_size = batch;
  o.timeout_ms = 30000;
  o.prompts = providers::builtin_prompts();
  return o;
}

struct system {
  // Declared before the actor system: actors still use it while it stops.
  metrics::registry reg;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  system() {
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  llm_worker_actor client(llm_client_options o) {
    provider_factory rules = [] { return std::make_unique<providers::rules_llm>(); };
    return spawn_llm_client(*sys, std::move(o), {spawn_llm_worker(*sys, rules, reg)},
                            reg, std::make_shared<providers::provider_stats>());
  }
};

// Sequential calls through the client, timed by an event-based driver so no
// blocking wake-up of the measuring thread is counted.
std::vector<double> client_latencies(system& s, llm_worker_actor client,
                                     uint32_t n) {
  auto out = std::make_shared<std::vector<double>>();
  caf::scoped_actor waiter{*s.sys};
  auto driver = s.sys->spawn([=](caf::event_based_actor* self) -> caf::behavior {
    auto left = std::make_shared<uint32_t>(n);
    auto t0 = std::make_shared<clock_type::time_point>();
    auto next = std::make_shared<std::function<void()>>();
    *next = [=] {
      if (*left == 0) {
        self->quit();
        return;
      }
      --*left;
      *t0 = clock_type::now();
      self->request(client, caf::infinite, analyse_atom::value,
                    sample("overhead", *left))
        .then([=](providers::analysis_result&) {
                out->push_back(std::chrono::duration<double, std::milli>(
                                 clock_type::now() - *t0)
                                 .count());
                (*next)();
              },
              [=](caf::error&) { (*next)(); });
    };
    (*next)();
    return {[](int) {}};
  });
  waiter->wait_for(driver);
  return *out;
}

std::vector<double> curl_latencies(const std::string& url, uint32_t n) {
  providers::curl_client http;
  providers::wire::chat_params p;
  p.model = "bench-model";
  auto in = sample("overhead", 1);
  providers::http_call call;
  call.url = url + "/chat/completions";
  call.body = providers::wire::chat_request(
    p, providers::llm_task::analysis, providers::builtin_prompts().analysis,
    providers::wire::analysis_input_json({&in}));
  std::vector<double> out;
  for (uint32_t i = 0; i < n; ++i) {
    auto r = http.post(call);
    if (r.status == 200)
      out.push_back(r.seconds * 1000);
  }
  return out;
}

void run_overhead(const options& o) {
  testing::fake_openai fake;
  system s;
  auto client = s.client(client_options(fake.base_url(), 1, 1));
  // Warm both paths (connections, allocators).
  curl_latencies(fake.base_url(), 200);
  client_latencies(s, client, 200);
  auto base = curl_latencies(fake.base_url(), o.calls);
  auto via = client_latencies(s, client, o.calls);
  std::printf("overhead: %u sequential analyses, fake server with no added latency\n",
              o.calls);
  std::printf("  %-34s p50 %7.3f ms   p99 %7.3f ms\n", "bare libcurl (baseline)",
              pct(base, 0.5), pct(base, 0.99));
  std::printf("  %-34s p50 %7.3f ms   p99 %7.3f ms\n", "through llm_client",
              pct(via, 0.5), pct(via, 0.99));
  std::printf("  %-34s p50 %7.3f ms   p99 %7.3f ms   (goal p99 <= 0.5 ms)\n",
              "client overhead (difference)", pct(via, 0.5) - pct(base, 0.5),
              pct(via, 0.99) - pct(base, 0.99));
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
}

double throughput(const options& o, uint32_t batch) {
  testing::fake_openai fake{{std::chrono::milliseconds(o.latency_ms), 384, 0, 0}};
  system s;
  auto client = s.client(client_options(fake.base_url(), o.concurrency, batch));
  caf::scoped_actor self{*s.sys};
  auto t0 = clock_type::now();
  for (uint32_t i = 0; i < o.tasks; ++i)
    self->send(caf::actor_cast<caf::actor>(client), analyse_atom::value,
               sample("user" + std::to_string(i % o.users), i));
  uint32_t ok = 0;
  for (uint32_t i = 0; i < o.tasks; ++i)
    self->receive([&](providers::analysis_result&) { ++ok; },
                  [&](caf::error&) {});
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::printf("  batch_size %-3u %6u tasks in %6.2f s = %8.1f tasks/s "
              "(%zu calls, %u ok)\n",
              batch, o.tasks, secs, o.tasks / secs, fake.request_count(), ok);
  self->send_exit(client, caf::exit_reason::user_shutdown);
  return o.tasks / secs;
}

void run_throughput(const options& o) {
  std::printf("throughput: %u analyses of %u users at once, %u ms per call, "
              "max_concurrency %u\n",
              o.tasks, o.users, o.latency_ms, o.concurrency);
  auto batched = throughput(o, o.batch);
  auto single = throughput(o, 1);
  std::printf("  batching speed-up: %.1fx\n", batched / single);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"engram-bench-providers: llm_client overhead and batching "
               "throughput against an in-process fake OpenAI server"};
  options o;
  app.add_option("--scenario", o.scenario, "overhead | throughput | all")
    ->check(CLI::IsMember({"overhead", "throughput", "all"}));
  app.add_option("--calls", o.calls, "overhead: sequential calls per path");
  app.add_option("--tasks", o.tasks, "throughput: analyses sent at once");
  app.add_option("--users", o.users, "throughput: users the tasks belong to");
  app.add_option("--latency-ms", o.latency_ms, "throughput: fake server latency");
  app.add_option("--concurrency", o.concurrency, "throughput: llm.max_concurrency");
  app.add_option("--batch", o.batch, "throughput: llm.batch_size of the batched run");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  if (o.scenario != "throughput")
    run_overhead(o);
  if (o.scenario != "overhead")
    run_throughput(o);
  return 0;
}
