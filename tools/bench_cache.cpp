// engram-bench-cache: the cache actors.
//
// 1. ops: aggregate cache operations/s (90% get, 10% put over 10,000 keys)
//    from closed-loop client actors against S shards, beside a baseline in
//    the same run: T threads on one std::mutex + std::unordered_map.
// 2. search: an in-process node core (store, journal, rules workers, hash
//    embedder, router, user actor, search and embed caches) with --entities
//    entities; search latency through the router from a scoped actor, for
//    a repeated query (cache hit) and for distinct queries (computed),
//    beside a trivial call (user.wake) as the request floor.
// 3. http (with --spawn): the same three over HTTP keep-alive against a
//    spawned engramd.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>
#include <CLI/CLI.hpp>

#include "actors/cache.hpp"
#include "actors/embed_cache.hpp"
#include "actors/journal.hpp"
#include "actors/router.hpp"
#include "config/options.hpp"
#include "messages/registry.hpp"
#include "runtime/metrics.hpp"
#include "runtime/provider_setup.hpp"
#include "runtime/providers/provider_stats.hpp"
#include "runtime/queue_stats.hpp"
#include "storage/store.hpp"
#include "tools/bench_pipeline/http_client.hpp"
#include "tools/bench_pipeline/node_process.hpp"

namespace {

using namespace engram;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct options {
  std::size_t shards = 2;
  std::size_t clients = 8;
  std::size_t window = 16;
  double seconds = 3;
  std::size_t threads = 2;
  std::size_t entities = 2000;
  std::size_t searches = 3000;
  std::string spawn;
};

std::vector<std::string> make_keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < 10000; ++i)
    keys.push_back("user-" + std::to_string(i % 97) + "\x1f" + std::to_string(i));
  return keys;
}

double baseline_ops(const options& o, const std::vector<std::string>& keys) {
  std::mutex mu;
  std::unordered_map<std::string, std::string> map;
  for (auto& k : keys)
    map[k] = std::string(200, 'v');
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < o.threads; ++t)
    pool.emplace_back([&, t] {
      std::mt19937 rng{static_cast<unsigned>(t)};
      uint64_t n = 0, sink = 0;
      while (!stop) {
        auto& k = keys[rng() % keys.size()];
        std::lock_guard<std::mutex> g{mu};
        if (rng() % 10 == 0)
          map[k] = std::string(200, 'w');
        else if (auto it = map.find(k); it != map.end())
          sink += it->second.size();
        ++n;
      }
      total += n + (sink == 42 ? 1 : 0);
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& th : pool)
    th.join();
  return double(total) / o.seconds;
}

double actor_ops(caf::actor_system& sys, const options& o,
                 const std::vector<std::string>& keys, metrics::registry& reg) {
  cache_pool_options po;
  po.use = "bench";
  po.shards = o.shards;
  po.limits = {100000, 1u << 30};
  po.ttl_ms = 600000;
  auto pool = spawn_cache_pool(sys, po, reg);
  for (auto& k : keys)
    caf::anon_send(pool->shard_of(k), cput_atom::value, k, std::string(200, 'v'),
                   int64_t{600000});
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> total{0};
  std::atomic<std::size_t> finished{0};
  for (std::size_t c = 0; c < o.clients; ++c)
    sys.spawn([&, c](caf::event_based_actor* self, int) {
      struct st_t {
        std::mt19937 rng;
        uint64_t n = 0;
        std::size_t open = 0;
      };
      auto st = std::make_shared<st_t>();
      st->rng.seed(unsigned(c));
      // One request finished (or a put was sent): send the next.
      auto one = std::make_shared<std::function<void()>>();
      std::weak_ptr<std::function<void()>> weak = one;
      *one = [self, st, &keys, pool, &stop, &total, &finished, weak]() {
        if (stop) {
          if (--st->open == 0) {
            total += st->n;
            ++finished;
            self->quit();
          }
          return;
        }
        auto& k = keys[st->rng() % keys.size()];
        ++st->n;
        if (st->rng() % 10 == 0) {
          self->send(pool->shard_of(k), cput_atom::value, k,
                     std::string(200, 'w'), int64_t{600000});
          self->send(self, pump_atom::value); // keep the window full
          return;
        }
        self->request(pool->shard_of(k), caf::infinite, cget_atom::value, k)
          .then([weak](cache_lookup&) {
            if (auto f = weak.lock())
              (*f)();
          });
      };
      for (std::size_t w = 0; w < o.window; ++w) {
        ++st->open;
        (*one)();
      }
      return caf::behavior{[one](pump_atom) { (*one)(); }};
    }, 0);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  while (finished < o.clients)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop_cache_pool(*pool);
  return double(total) / o.seconds;
}

struct latency {
  double p50 = 0, p99 = 0;
};

// Closed loop from an event-based actor: no thread has to wake up for
// each answer (a scoped_actor would add a wake-up, ~40-100 us, per call).
latency measure(caf::actor_system& sys, const router_actor& router,
                std::size_t n, const std::function<api_call(std::size_t)>& make) {
  struct loop {
    std::vector<double> us;
    std::size_t i = 0;
    clock_type::time_point t0;
  };
  std::promise<std::vector<double>> done;
  auto result = done.get_future();
  sys.spawn([&](caf::event_based_actor* self, int) {
    auto st = std::make_shared<loop>();
    auto next = std::make_shared<std::function<void()>>();
    std::weak_ptr<std::function<void()>> weak = next;
    *next = [self, st, weak, &done, &make, &router, n] {
      if (st->i == n) {
        done.set_value(std::move(st->us));
        self->quit();
        return;
      }
      st->t0 = clock_type::now();
      self->request(router, std::chrono::seconds(10), call_atom::value, make(st->i++))
        .then(
          [st, weak](api_reply&) {
            st->us.push_back(std::chrono::duration<double, std::micro>(
                               clock_type::now() - st->t0)
                               .count());
            if (auto f = weak.lock())
              (*f)();
          },
          [st, weak](caf::error&) {
            if (auto f = weak.lock())
              (*f)();
          });
    };
    (*next)();
    return caf::behavior{[next](pump_atom) { (*next)(); }};
  }, 0);
  auto us = result.get();
  std::sort(us.begin(), us.end());
  if (us.empty())
    return {};
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

void search_bench(caf::actor_system& sys, const options& o,
                  metrics::registry& reg) {
  auto dir = fs::temp_directory_path() / ("engram-bench-cache-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto db = storage::store::open({(dir / "db").string()});
  if (!db) {
    std::fprintf(stderr, "store: %s\n", caf::to_string(db.error()).c_str());
    return;
  }
  std::shared_ptr<storage::store> store = std::move(*db);
  config::options cfg;
  auto j = spawn_journal(sys, store, {true, 1024, 0}, reg);
  auto stats = std::make_shared<providers::provider_stats>();
  auto setup = start_providers(sys, cfg, reg, stats);
  if (!j || !setup) {
    std::fprintf(stderr, "could not start the node core\n");
    return;
  }
  auto mk = [&](const char* use, int64_t ttl) {
    cache_pool_options p;
    p.use = use;
    p.shards = o.shards;
    p.ttl_ms = ttl;
    return spawn_cache_pool(sys, p, reg);
  };
  auto search_cache = mk("search", 60000);
  auto embed_cache = mk("embed", 3600000);
  user_context ctx;
  ctx.db = store;
  ctx.journal = *j;
  ctx.workers = setup->workers;
  ctx.embedder = spawn_embed_cache(sys, setup->embedder, embed_cache, "hash:384");
  ctx.stats = std::make_shared<queue_stats>(reg);
  ctx.index.dim = cfg.embedder.dim;
  ctx.providers_block = false;
  ctx.search_cache = search_cache;
  auto router = spawn_router(sys, ctx, export_context{}, {});
  caf::scoped_actor self{sys};
  std::string last;
  for (std::size_t i = 0; i < o.entities; ++i) {
    api_call c{"bench", "entity.create", {}, {},
               R"({"id":"e)" + std::to_string(i) + R"(","type":"thing","title":"Thing )"
                 + std::to_string(i) + R"(","content":"A thing numbered )"
                 + std::to_string(i) + R"( with word w)" + std::to_string(i % 500)
                 + R"(."})",
               "bench"};
    self->request(router, std::chrono::seconds(10), call_atom::value, c)
      .receive([&](api_reply& r) { last = r.body; }, [](caf::error&) {});
  }
  auto seq_at = last.find("\"seq\":");
  auto seq = seq_at == std::string::npos ? std::string{"0"}
                                         : last.substr(seq_at + 6, last.find_first_of(",}", seq_at) - seq_at - 6);
  // Wait until everything is indexed.
  api_call wait{"bench", "search", {}, {},
                R"({"query":"thing","k":10,"min_seq":)" + seq + R"(,"wait_ms":60000})",
                "bench"};
  self->request(router, std::chrono::seconds(70), call_atom::value, wait)
    .receive([](api_reply&) {}, [](caf::error&) {});
  auto floor = measure(sys, router, o.searches, [](std::size_t) {
    return api_call{"bench", "user.wake", {}, {}, {}, "bench"};
  });
  auto cached = measure(sys, router, o.searches, [](std::size_t) {
    return api_call{"bench", "search", {}, {}, R"({"query":"thing numbered w7","k":10})",
                    "bench"};
  });
  auto computed = measure(sys, router, o.searches, [](std::size_t i) {
    return api_call{"bench", "search", {}, {},
                    R"({"query":"thing numbered w)" + std::to_string(i) + " q"
                      + std::to_string(i) + R"(","k":10})",
                    "bench"};
  });
  std::printf("search (%zu entities, %zu calls each, closed loop from an "
              "actor through the router):\n"
              "  user.wake (request floor)  p50 %.0f us  p99 %.0f us\n"
              "  repeated query (cached)    p50 %.0f us  p99 %.0f us\n"
              "  distinct queries (computed) p50 %.0f us  p99 %.0f us\n",
              o.entities, o.searches, floor.p50, floor.p99, cached.p50,
              cached.p99, computed.p50, computed.p99);
  search_cache->stats();
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(ctx.embedder, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(setup->embedder, caf::exit_reason::user_shutdown);
  for (auto& w : setup->workers)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(*j, caf::exit_reason::user_shutdown);
  stop_cache_pool(*search_cache);
  stop_cache_pool(*embed_cache);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

latency measure_http(bench::http_client& c, std::size_t n,
                     const std::function<std::pair<std::string, std::string>(std::size_t)>& make) {
  std::vector<double> us;
  for (std::size_t i = 0; i < n; ++i) {
    auto [target, body] = make(i);
    auto t0 = clock_type::now();
    if (body.empty())
      c.get(target);
    else
      c.post(target, body);
    us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0)
                   .count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

void http_bench(const options& o) {
  bench::node_process node{o.spawn, {"--log-level", "warn"}, false};
  std::string error;
  if (!node.start(30, error)) {
    std::fprintf(stderr, "could not start %s: %s\n", o.spawn.c_str(), error.c_str());
    return;
  }
  bench::http_client c{node.where()};
  const std::string u = "/v1/users/bench";
  std::string last;
  for (std::size_t i = 0; i < o.entities; ++i)
    last = c.post(u + "/entities",
                  R"({"id":"e)" + std::to_string(i) + R"(","type":"thing","title":"Thing )"
                    + std::to_string(i) + R"(","content":"A thing numbered )"
                    + std::to_string(i) + R"( with word w)" + std::to_string(i % 500)
                    + R"(."})")
             .body;
  auto at = last.find("\"seq\":");
  auto seq = at == std::string::npos ? std::string{"0"}
                                     : last.substr(at + 6, last.find_first_of(",}", at) - at - 6);
  c.post(u + "/search", R"({"query":"thing","k":10,"min_seq":)" + seq + R"(,"wait_ms":60000})",
         std::chrono::seconds(70));
  auto floor = measure_http(c, o.searches, [](std::size_t) {
    return std::make_pair(std::string{"/healthz"}, std::string{});
  });
  auto cached = measure_http(c, o.searches, [&](std::size_t) {
    return std::make_pair(u + "/search", std::string{R"({"query":"thing numbered w7","k":10})"});
  });
  auto computed = measure_http(c, o.searches, [&](std::size_t i) {
    return std::make_pair(u + "/search",
                          R"({"query":"thing numbered w)" + std::to_string(i) + " q"
                            + std::to_string(i) + R"(","k":10})");
  });
  std::printf("http (keep-alive, %zu entities, %zu requests each):\n"
              "  GET /healthz (floor)       p50 %.0f us  p99 %.0f us\n"
              "  repeated query (cached)    p50 %.0f us  p99 %.0f us\n"
              "  distinct queries (computed) p50 %.0f us  p99 %.0f us\n",
              o.entities, o.searches, floor.p50, floor.p99, cached.p50, cached.p99,
              computed.p50, computed.p99);
  node.stop();
}

} // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"engram-bench-cache: cache shard throughput beside a "
               "mutex+unordered_map baseline, and cached vs computed search "
               "latency in process"};
  app.add_option("--shards", o.shards, "cache shard actors")->capture_default_str();
  app.add_option("--clients", o.clients, "client actors")->capture_default_str();
  app.add_option("--window", o.window, "requests in flight per client")->capture_default_str();
  app.add_option("--seconds", o.seconds, "seconds per throughput run")->capture_default_str();
  app.add_option("--threads", o.threads, "baseline threads")->capture_default_str();
  app.add_option("--entities", o.entities, "entities for the search part")->capture_default_str();
  app.add_option("--searches", o.searches, "calls per search measurement")->capture_default_str();
  app.add_option("--spawn", o.spawn, "engramd binary: also measure over HTTP");
  CLI11_PARSE(app, argc, argv);
  metrics::registry reg; // before the actor system: actors use it to the end
  caf::actor_system_config cfg;
  register_message_types(cfg);
  caf::actor_system sys{cfg};
  auto keys = make_keys();
  auto base = baseline_ops(o, keys);
  auto act = actor_ops(sys, o, keys, reg);
  std::printf("ops/s (90%% get, 10%% put, 10,000 keys, %.0f s):\n"
              "  std::mutex + unordered_map, %zu threads: %.0f\n"
              "  cache actors, %zu shards, %zu clients x %zu in flight: %.0f "
              "(%.2fx the baseline)\n",
              o.seconds, o.threads, base, o.shards, o.clients, o.window, act,
              act / base);
  std::fflush(stdout);
  search_bench(sys, o, reg);
  std::fflush(stdout);
  if (!o.spawn.empty())
    http_bench(o);
  return 0;
}
