// engram-bench-pipeline: load benchmark of the live session memory
// pipeline over HTTP. Talks HTTP/1.1 keep-alive to a running engramd
// (--url) or to one it starts on a fresh data directory (--spawn), creates
// E entities, then runs one scenario:
//   ack        closed-loop turn posting: acked turns/s and ack latency;
//   pipeline   turn posting plus /v1/queues sampling: backlog, drain,
//              end-to-end and applied turns/s;
//   freshness  open-loop turns + read-your-writes searches (min_seq):
//              ack -> fresh answer latency;
//   search     load, wait until applied, then random search latency;
//   baseline   GET /healthz and GET of an entity: the node's request ceiling.
// The helpers live in tools/bench_pipeline/.

#include <csignal>
#include <cstdio>
#include <memory>

#include <boost/json/object.hpp>
#include <CLI/CLI.hpp>

#include "tools/bench_pipeline/load.hpp"
#include "tools/bench_pipeline/node_process.hpp"
#include "tools/bench_pipeline/scenarios.hpp"

namespace {

using namespace engram::bench;
namespace json = boost::json;

constexpr const char* description = R"(engram-bench-pipeline: benchmark of the live session memory pipeline.

Talks HTTP/1.1 keep-alive to an engramd, either a running one (--url) or one
it starts (--spawn: fresh temporary --data-dir, --listen 127.0.0.1:0, the port
read from <data_dir>/engramd.port, ready when GET /readyz answers 200; stopped
with SIGTERM and its directory removed at the end).

Before every scenario it creates --entities entities e0..e<E-1> for --user
(POST /v1/users/{user}/entities, type "character", pronounceable single-word
titles such as "Kavoren"; 409 = already there is fine). Every turn text
mentions two distinct of those titles (whole words) plus a unique marker word
("zq..."), in a session of its own per connection ("bp-<run id>-<conn>",
turn numbers 1, 2, ...).

All turn writers (and the baseline's GETs) are async connections multiplexed
on --client-threads io threads (default 1), so the client needs little CPU
next to the node it measures; every report shows the client's own CPU time
(user+sys) per wall second as "client CPU ... cores" (2.0 = two cores busy).

Scenarios (--scenario):
  ack        C connections, one request outstanding each, post turns as fast
             as the node acknowledges them for --seconds after --warmup.
             Reports acked turns/s (202 only; any other status or transport
             failure is an error, the first bodies are printed) and ack
             latency p50/p99/max. Goal: >= 20,000 turns/s with 64 connections.
  pipeline   same load (or open loop at --rate); samples GET /v1/queues every
             500 ms; after the load waits until every queue is empty and the
             analysis queue has completed every acked turn (--drain-timeout).
             Reports max backlog (total and per queue), whether it stays
             bounded (over the 2nd half of the window the backlog grows by at
             most 100 tasks, or its least-squares slope is at most 5% of the
             tasks completed per second over all queues), per-queue tasks
             done/s during the window, sustained applied turns/s
             (min(analysis done/s, note_update done/s / 2)) and end-to-end
             turns/s = acked turns / (first post -> drained).
             Goal: >= 1,000 turns/s end to end, queues bounded.
  freshness  open loop at --rate (default 500/s). Every --sample-every'th
             acked turn is searched on a separate pool of
             --search-connections: POST /v1/users/{user}/search
             {query: marker, session, min_seq: seq, wait_ms}. Reports
             freshness = 202 ack -> search answer (p50/p99/max), stale
             answers, and how many answers list a mentioned entity.
             Goal: p99 <= 200 ms at 500 turns/s with nothing stale.
  search     posts --load-turns turns, waits until applied, then --connections
             closed-loop searchers send random queries (a title; a turn's
             marker in its session; filler words in a session) for --seconds
             after --warmup: searches/s and latency (one thread per searcher).
  baseline   the node's own request ceiling, to compare acked turns/s with:
             closed loop on C connections, --warmup + --seconds each, first
             GET /healthz (answered by the gateway, no actors), then
             GET /v1/users/{user}/entities/e0 (gateway -> bridge -> router ->
             user actor and back, no disk write), one after the other in the
             same process against the same node. Reports requests/s, latency
             p50/p99/max, errors and client CPU per phase. --rate is ignored.

Progress goes to stderr once a second (rate so far, queue backlog). The
results are a table on stdout; with --json the table goes to stderr and stdout
holds one JSON object {scenario, config, results, goals, notes}.
Exit codes: 0 run completed (goals met or not; see the table), 1 run failed
(e.g. no turn acknowledged),
2 bad usage or the node/route is unavailable. Ctrl-C stops the load early and
still prints the results so far.

Examples:
  engram-bench-pipeline --spawn build/release/engramd --scenario ack
  engram-bench-pipeline --spawn build/release/engramd --scenario baseline --seconds 8
  engram-bench-pipeline --url http://127.0.0.1:8700 --scenario pipeline --seconds 30
  engram-bench-pipeline --spawn build/release/engramd --scenario freshness --rate 500 \
      --node-arg=--set --node-arg=storage.sync=false --json
)";

void on_sigint(int) {
  interrupted() = true;
}

void add_flags(CLI::App& app, options& o) {
  app.add_option("--scenario", o.scenario,
                 "ack | pipeline | freshness | search | baseline")
    ->check(CLI::IsMember({"ack", "pipeline", "freshness", "search", "baseline"}))
    ->capture_default_str();
  auto url = app.add_option("--url", o.url, "a running node, http://HOST:PORT");
  auto spawn = app.add_option("--spawn", o.spawn,
                              "path of an engramd to start on a fresh temporary data dir");
  url->excludes(spawn);
  app.add_option("--node-arg", o.node_args,
                 "extra argument for the spawned engramd (repeatable; "
                 "use --node-arg=--set --node-arg=KEY=VALUE)")
    ->allow_extra_args(false);
  app.add_flag("--keep-data", o.keep_data, "keep the spawned node's data dir and log");
  app.add_option("--api-key", o.ep.api_key, "bearer key sent with every request");
  app.add_option("--user", o.user, "user id the load runs under")->capture_default_str();
  app.add_option("--entities", o.entities, "entities created before the run (>= 2)")
    ->check(CLI::Range(2, 1000000))->capture_default_str();
  app.add_option("-c,--connections", o.connections,
                 "keep-alive connections posting turns "
                 "(search: searching, baseline: sending GETs)")
    ->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--client-threads", o.client_threads,
                 "io threads multiplexing the load connections")
    ->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--seconds", o.seconds, "measured duration after the warm-up")
    ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--warmup", o.warmup, "warm-up before measuring, seconds")
    ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--rate", o.rate,
                 "open-loop turns/s over all connections (0 = closed loop; "
                 "freshness defaults to 500)")
    ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--seed", o.seed, "seed for titles and texts")->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "per-request timeout, seconds")
    ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--drain-timeout", o.drain_timeout_s,
                 "pipeline: longest wait for the queues to drain, seconds")
    ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--sample-every", o.sample_every,
                 "freshness: search after every Nth acked turn")
    ->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--search-connections", o.search_connections,
                 "freshness: connections sending the searches")
    ->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--wait-ms", o.wait_ms, "freshness: wait_ms of each search (0..60000)")
    ->check(CLI::Range(0, 60000))->capture_default_str();
  app.add_option("--load-turns", o.load_turns, "search: turns posted before searching")
    ->capture_default_str();
  app.add_option("-k", o.k, "k of each search (1..100)")
    ->check(CLI::Range(1, 100))->capture_default_str();
  app.add_flag("--json", o.json, "one JSON object on stdout (table on stderr)");
  app.add_flag("-q,--quiet", o.quiet, "no progress lines");
}

json::object config_of(const options& o) {
  json::object c{{"scenario", o.scenario}, {"user", o.user},
                 {"entities", o.entities}, {"connections", o.connections},
                 {"seconds", o.seconds},   {"warmup", o.warmup},
                 {"rate", o.rate},         {"seed", o.seed},
                 {"client_threads", o.client_threads},
                 {"node", o.spawn.empty() ? o.url : "spawned " + o.spawn}};
  if (o.scenario == "freshness") {
    c["sample_every"] = o.sample_every;
    c["search_connections"] = o.search_connections;
    c["wait_ms"] = o.wait_ms;
  }
  if (o.scenario == "search")
    c["load_turns"] = o.load_turns;
  return c;
}

int run_scenario(const options& o) {
  workload w(o.entities, o.seed, o.user);
  report rep(o.scenario);
  rep.set_config(config_of(o));
  if (!o.quiet)
    std::fprintf(stderr, "node %s:%u, run id %s, scenario %s\n", o.ep.host.c_str(),
                 unsigned(o.ep.port), w.run_id().c_str(), o.scenario.c_str());
  if (!create_entities(o, w, rep))
    return 1;
  int rc = o.scenario == "ack"        ? run_ack(o, w, rep)
           : o.scenario == "baseline" ? run_baseline(o, w, rep)
           : o.scenario == "pipeline" ? run_pipeline(o, w, rep)
           : o.scenario == "freshness" ? run_freshness(o, w, rep)
                                       : run_search(o, w, rep);
  if (rc == 2)
    return rc;
  if (interrupted())
    rep.note("interrupted: results cover the run so far");
  rep.print_table(o.json ? stderr : stdout);
  if (o.json)
    rep.print_json();
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{description, "engram-bench-pipeline"};
  add_flags(app, o);
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<node_process> node;
  if (!o.spawn.empty()) {
    node = std::make_unique<node_process>(o.spawn, o.node_args, o.keep_data);
    std::string error;
    if (!node->start(60, error)) {
      std::fprintf(stderr, "could not start %s: %s\n", o.spawn.c_str(), error.c_str());
      return 2;
    }
    o.ep.host = node->where().host;
    o.ep.port = node->where().port;
  } else if (!o.url.empty() && !parse_url(o.url, o.ep)) {
    std::fprintf(stderr, "--url: expected http://HOST:PORT, got %s\n", o.url.c_str());
    return 2;
  } else if (o.url.empty()) {
    std::fprintf(stderr, "one of --url or --spawn is required (see --help)\n");
    return 2;
  }
  std::signal(SIGINT, on_sigint);
  std::signal(SIGPIPE, SIG_IGN);
  int rc = run_scenario(o);
  if (node)
    node->stop();
  return rc;
}
