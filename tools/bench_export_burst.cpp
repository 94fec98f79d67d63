// engram-bench-export-burst: the mesh-context exporter under bursty
// triggers from many users, against a real engramd it spawns.
//
// Phase 1 (baseline): GET /healthz, the node's cheapest request: engramd
// CPU per request is the HTTP floor every trigger pays too.
// Phase 2 (memory): one trigger per user that the policy ignores
// (concept_change below the threshold) spawns every user's exporter and
// nothing else; the node's RSS before and after, divided by the users, is
// the memory of a live exporter (router entry included). Then, after
// exports.exporter_idle_ms, the live exporter gauge shows they passivated:
// an idle user's exporter lives only in RocksDB.
// Phase 3 (bursts): each user sends --burst triggers back to back at a
// random moment within --spread-s, and changes something (creates an
// intent) after the first. The first trigger exports at once (leading
// edge); the others fall into the window and give one trailing export at
// its end, which writes the change. Reports: trailing timer lateness
// p50/p99 (node histogram), due -> file durable p50/p99/max (client side,
// from the event log), outcomes, triggers/s.
// Phase 4 (debounced CPU): the window is made long (PUT /v1/exports/config)
// and every user sends --burst more triggers, all debounced or coalesced:
// node CPU per trigger next to the baseline's per request; the difference
// is what the debounce path costs (router, exporter, policy, state write,
// event log).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>
#include <CLI/CLI.hpp>

#include "tools/bench_pipeline/http_client.hpp"
#include "tools/bench_pipeline/node_process.hpp"

namespace {

using namespace engram::bench;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string spawn = "build/release/engramd";
  int users = 10000;
  int burst = 5;
  double spread_s = 20;
  int debounce_ms = 1000;
  int threads = 16;
  std::vector<std::string> node_args;
  bool keep_data = false;
};

long rss_kb(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string all((std::istreambuf_iterator<char>(in)), {});
  auto close = all.rfind(')');
  std::istringstream rest{all.substr(close + 2)};
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stol(field);
    if (i == 15)
      stime = std::stol(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

int64_t parse_iso_ms(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                  &ms) != 7)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t{timegm(&tm)} * 1000 + ms;
}

double pct(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = std::min(v.size() - 1, size_t(q * double(v.size())));
  return v[i];
}

std::string user_of(int i) {
  return "u" + std::to_string(i);
}

// Runs `fn(user)` for every user index on `threads` threads, user i at
// start + offset[i] (users of one thread in time order).
template <class Fn>
void run_scheduled(const options& o, const std::vector<double>& offset,
                   clock_type::time_point start, Fn fn) {
  std::vector<std::thread> pool;
  for (int t = 0; t < o.threads; ++t)
    pool.emplace_back([&, t] {
      std::vector<int> mine;
      for (int i = t; i < o.users; i += o.threads)
        mine.push_back(i);
      std::sort(mine.begin(), mine.end(),
                [&](int a, int b) { return offset[a] < offset[b]; });
      for (int i : mine) {
        std::this_thread::sleep_until(
          start + std::chrono::microseconds(int64_t(offset[i] * 1e6)));
        fn(i);
      }
    });
  for (auto& th : pool)
    th.join();
}

struct burst_result {
  std::atomic<long> sent{0}, errors{0};
  std::vector<int64_t> due_ms; // per user, 0 if no trailing export scheduled
};

// Node CPU seconds used while `fn` runs.
template <class Fn>
double node_cpu(node_process& node, Fn fn) {
  auto c0 = cpu_seconds(node.pid());
  fn();
  return cpu_seconds(node.pid()) - c0;
}

double baseline_phase(const options& o, node_process& node) {
  long n = 0;
  std::vector<double> offsets(o.users, 0.0);
  auto cpu = node_cpu(node, [&] {
    run_scheduled(o, offsets, clock_type::now(), [&](int) {
      thread_local http_client c{node.where()};
      for (int k = 0; k < o.burst; ++k)
        c.get("/healthz");
    });
  });
  n = long(o.users) * o.burst;
  auto per = cpu * 1e6 / double(n);
  std::printf("baseline: %ld GET /healthz, node CPU %.1f us per request\n", n, per);
  return per;
}

double metric(node_process& node, const std::string& name) {
  http_client c{node.where()};
  auto text = c.get("/metrics").body;
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

void memory_phase(const options& o, node_process& node) {
  auto ep = node.where();
  auto before = rss_kb(node.pid());
  std::vector<double> offsets(o.users, 0.0);
  std::atomic<long> errors{0};
  run_scheduled(o, offsets, clock_type::now(), [&](int i) {
    thread_local http_client c{ep};
    auto r = c.post("/v1/users/" + user_of(i) + "/exports/triggers",
                    R"({"trigger":"concept_change","concept_count":1})");
    if (r.status != 200)
      ++errors;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1200)); // a sweep
  auto after = rss_kb(node.pid());
  std::printf("memory: %d live exporters: RSS %ld -> %ld KiB, %.0f bytes per "
              "exporter (errors %ld); live exporters %.0f\n",
              o.users, before, after,
              double(after - before) * 1024.0 / o.users, errors.load(),
              metric(node, "engram_live_exporters"));
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(4000));
  std::printf("memory: after 4 s idle: live exporters %.0f (passivated: state "
              "in RocksDB only)\n",
              metric(node, "engram_live_exporters"));
}

void burst_phase(const options& o, node_process& node, burst_result& res) {
  auto ep = node.where();
  std::mt19937_64 rng{42};
  std::uniform_real_distribution<double> when(0, o.spread_s);
  std::vector<double> offsets(o.users);
  for (auto& x : offsets)
    x = when(rng);
  res.due_ms.assign(o.users, 0);
  auto cpu0 = cpu_seconds(node.pid());
  auto t0 = clock_type::now();
  run_scheduled(o, offsets, t0, [&](int i) {
    thread_local http_client c{ep};
    for (int k = 0; k < o.burst; ++k) {
      if (k == 1)
        c.post("/v1/users/" + user_of(i) + "/intents",
               R"({"description":"something changed"})");
      auto r = c.post("/v1/users/" + user_of(i) + "/exports/triggers",
                      R"({"trigger":"intent_closed"})");
      ++res.sent;
      if (r.status != 202) {
        ++res.errors;
        continue;
      }
      auto b = json::parse(r.body).as_object();
      if (auto d = b.if_contains("due_at"))
        res.due_ms[i] = parse_iso_ms(std::string{d->as_string()});
    }
  });
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  auto cpu = cpu_seconds(node.pid()) - cpu0;
  std::printf("bursts: %ld triggers (+%d intents) in %.1f s (%.0f/s), errors "
              "%ld; node CPU %.2f s (exports, user actors and intents "
              "included)\n",
              res.sent.load(), o.users, secs, double(res.sent) / secs,
              res.errors.load(), cpu);
}

void debounced_phase(const options& o, node_process& node, double floor_us) {
  http_client c{node.where()};
  c.request(boost::beast::http::verb::put, "/v1/exports/config",
            R"({"debounce_ms":600000})");
  std::atomic<long> other{0};
  std::vector<double> offsets(o.users, 0.0);
  auto cpu = node_cpu(node, [&] {
    run_scheduled(o, offsets, clock_type::now(), [&](int i) {
      thread_local http_client t{node.where()};
      for (int k = 0; k < o.burst; ++k) {
        auto r = t.post("/v1/users/" + user_of(i) + "/exports/triggers",
                        R"({"trigger":"intent_closed"})");
        if (r.status != 202 || r.body.find("exported") != std::string::npos)
          ++other;
      }
    });
  });
  auto n = double(o.users) * o.burst;
  auto per = cpu * 1e6 / n;
  std::printf("debounced: %.0f triggers (not debounced/coalesced: %ld), node "
              "CPU %.1f us per trigger = %.2fx the /healthz floor; the "
              "debounce path adds %.1f us\n",
              n, other.load(), per, per / floor_us, per - floor_us);
}

void report(const options& o, node_process& node, const burst_result& res) {
  http_client c{node.where()};
  // Wait until every trailing export is done (or 30 s pass).
  json::object stats;
  auto want = uint64_t(2) * o.users;
  for (auto until = clock_type::now() + std::chrono::seconds(30);
       clock_type::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(200))) {
    stats = json::parse(c.get("/v1/exports/stats").body).as_object();
    auto& out = stats.at("outcomes").as_object();
    if (out.at("exported").to_number<uint64_t>()
          + out.at("unchanged").to_number<uint64_t>() + out.at("failed").to_number<uint64_t>()
        >= want)
      break;
  }
  std::printf("outcomes: %s\n", json::serialize(stats.at("outcomes")).c_str());
  auto& late = stats.at("timer_lateness_seconds").as_object();
  std::printf("trailing timer lateness (node histogram, %lld timers): p50 "
              "%.1f ms, p99 %.1f ms\n",
              (long long)late.at("count").to_number<int64_t>(),
              late.at("p50").to_number<double>() * 1e3,
              late.at("p99").to_number<double>() * 1e3);
  auto& dur = stats.at("duration_seconds").as_object();
  std::printf("export duration (decision -> durable file): p50 %.1f ms, p99 "
              "%.1f ms\n",
              dur.at("p50").to_number<double>() * 1e3,
              dur.at("p99").to_number<double>() * 1e3);
  // Client side: due -> trailing export's file durable, from the event log.
  std::map<std::string, int64_t> done;
  std::ifstream in{node.data_dir() + "/data/logs/export_events.jsonl"};
  std::string line;
  while (std::getline(in, line)) {
    json::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || v.at("outcome") != "exported"
        || v.at("triggers").as_array().size() < 2)
      continue;
    done[std::string{v.at("user_id").as_string()}] =
      parse_iso_ms(std::string{v.at("timestamp").as_string()});
  }
  std::vector<double> lag;
  for (int i = 0; i < o.users; ++i)
    if (res.due_ms[i])
      if (auto it = done.find(user_of(i)); it != done.end())
        lag.push_back(double(it->second - res.due_ms[i]));
  std::printf("due -> trailing file durable (%zu users): p50 %.0f ms, p99 %.0f "
              "ms, max %.0f ms\n",
              lag.size(), pct(lag, 0.5), pct(lag, 0.99), pct(lag, 1.0));
}

} // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"engram-bench-export-burst: the mesh-context exporter under "
               "bursty triggers from many users (spawns engramd)"};
  app.add_option("--spawn", o.spawn, "engramd binary to start")->capture_default_str();
  app.add_option("--users", o.users, "users")->capture_default_str();
  app.add_option("--burst", o.burst, "triggers per user, back to back")->capture_default_str();
  app.add_option("--spread-s", o.spread_s, "bursts start uniformly within this many seconds")
    ->capture_default_str();
  app.add_option("--debounce-ms", o.debounce_ms, "exports.debounce_ms of the node")
    ->capture_default_str();
  app.add_option("--threads", o.threads, "client threads (one keep-alive connection each)")
    ->capture_default_str();
  app.add_option("--node-arg", o.node_args, "extra engramd argument (repeatable)");
  app.add_flag("--keep-data", o.keep_data, "keep the node's data dir");
  app.footer("Example:\n  engram-bench-export-burst --spawn build/release/engramd "
             "--users 10000 --burst 5 --spread-s 20");
  CLI11_PARSE(app, argc, argv);
  auto args = o.node_args;
  args.insert(args.end(), {"--set", "exports.debounce_ms=" + std::to_string(o.debounce_ms),
                           "--log-level", "warn"});
  node_process node{o.spawn, args, o.keep_data};
  std::string error;
  if (!node.start(30, error)) {
    std::fprintf(stderr, "could not start %s: %s\n", o.spawn.c_str(), error.c_str());
    return 1;
  }
  std::printf("engramd pid %d, %d users, burst %d, spread %.0f s, debounce %d ms, "
              "%d client threads\n",
              node.pid(), o.users, o.burst, o.spread_s, o.debounce_ms, o.threads);
  std::fflush(stdout);
  auto floor_us = baseline_phase(o, node);
  std::fflush(stdout);
  memory_phase(o, node);
  std::fflush(stdout);
  burst_result res;
  burst_phase(o, node, res);
  std::fflush(stdout);
  report(o, node, res);
  std::fflush(stdout);
  debounced_phase(o, node, floor_us);
  node.stop();
  return 0;
}
