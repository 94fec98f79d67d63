// engram-load: the bundled scripted load driver. See docs/LOAD.md.

#include <cstdio>
#include <fstream>

#include <boost/json/serialize.hpp>
#include <CLI/CLI.hpp>

#include "messages/errors.hpp"
#include "tools/load/driver.hpp"
#include "tools/load/report.hpp"
#include "tools/load/scenario.hpp"

namespace {

constexpr const char* description =
  R"(engram-load: runs a scripted load scenario against one or more engramd
nodes and reports per-operation throughput, errors and latency percentiles
(p50/p90/p99/p99.9/max, log-linear histogram, <= 1% error), freshness (turn
ack -> findable by search), and SLO verdicts.

Open-loop phases send each request at its scheduled time and measure from
that time (no coordinated omission); closed-loop phases keep a fixed number
of requests in flight. One io thread with keep-alive connection pools.

Scenario files are JSON with comments (docs/LOAD.md; bundled ones in
tools/scenarios/): setup (users, entities), phases (duration_s, rate or
concurrency, users uniform|{zipf: s}, mix of operations with weights:
turn, search, entity.create|get|update|delete|list, intent.create|close,
document.upload, export.manual, export.trigger, healthz), freshness
{fraction, timeout_ms}, slo {"turn.p99_ms": 50, "error_rate": 0.001, ...}.

Exit codes: 0 all objectives met, 1 usage or scenario error, 2 the node
could not be reached, 3 an objective was missed.)";

} // namespace

int main(int argc, char** argv) {
  using namespace engram;
  std::string scenario_path, report_path, html_path;
  std::vector<std::string> targets;
  double duration = 0, rate = 0;
  uint64_t seed = 1;
  bool quiet = false;
  uint32_t timeout_ms = 10000;
  CLI::App app{description};
  app.add_option("--scenario", scenario_path, "scenario file (JSON with comments)")
    ->required();
  app.add_option("--target", targets,
                 "engramd base URL, repeatable (users are spread over targets); "
                 "default http://127.0.0.1:8700");
  app.add_option("--duration", duration,
                 "seconds: scale every phase so the phases take this long in total");
  app.add_option("--rate", rate, "requests/s for every open-loop phase (overrides)");
  app.add_option("--report", report_path, "write the JSON report here");
  app.add_option("--html", html_path, "write the HTML report (inline SVG charts) here");
  app.add_option("--seed", seed, "random seed (payloads, users, mix)")->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "per-request timeout")->capture_default_str();
  app.add_flag("--quiet", quiet, "no progress lines");
  CLI11_PARSE(app, argc, argv);

  auto sc = load::load_scenario(scenario_path);
  if (!sc) {
    std::fprintf(stderr, "engram-load: %s\n", message_of(sc.error()).c_str());
    return 1;
  }
  if (duration > 0) {
    auto f = duration / sc->total_seconds();
    for (auto& p : sc->phases)
      p.duration_s *= f;
  }
  if (rate > 0)
    for (auto& p : sc->phases)
      if (p.rate > 0)
        p.rate = rate;
  if (targets.empty())
    targets.push_back("http://127.0.0.1:8700");
  load::driver_options o;
  for (auto& t : targets) {
    bench::endpoint ep;
    if (!bench::parse_url(t, ep)) {
      std::fprintf(stderr, "engram-load: --target %s: expected http://HOST:PORT\n", t.c_str());
      return 1;
    }
    bench::http_client probe{ep};
    auto r = probe.get("/readyz", std::chrono::seconds(5));
    if (r.status != 200) {
      std::fprintf(stderr, "engram-load: %s is not ready (%s)\n", t.c_str(),
                   r.status ? std::to_string(r.status).c_str() : r.error.c_str());
      return 2;
    }
    o.targets.push_back(ep);
  }
  o.seed = seed;
  o.quiet = quiet;
  o.timeout_ms = timeout_ms;
  o.progress = [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  };
  auto result = load::run_scenario(*sc, o);
  auto slos = load::check_slos(*sc, result);
  std::printf("%s", load::summary_table(*sc, result, slos).c_str());
  if (!result.first_errors.empty()) {
    std::printf("first errors:\n");
    for (auto& e : result.first_errors)
      std::printf("  %s\n", e.c_str());
  }
  if (!report_path.empty())
    std::ofstream(report_path)
      << boost::json::serialize(load::json_report(*sc, result, slos)) << "\n";
  if (!html_path.empty())
    std::ofstream(html_path) << load::html_report(*sc, result, slos);
  for (auto& c : slos)
    if (!c.ok)
      return 3;
  return 0;
}
