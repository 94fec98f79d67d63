#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

#include "tools/bench_pipeline/load.hpp"
#include "tools/bench_pipeline/scenarios.hpp"

namespace engram::bench {

namespace {

struct creation_counts {
  std::atomic<uint64_t> created{0};
  std::atomic<uint64_t> existed{0};
  std::atomic<uint64_t> failed{0};
};

void create_range(const options& o, const workload& w, std::size_t first,
                  std::size_t step, creation_counts& n, error_log& errs) {
  http_client client(o.ep);
  auto target = w.entities_target();
  for (std::size_t i = first; i < w.titles().size(); i += step) {
    auto r = client.post(target, w.entity_body(i), std::chrono::seconds(30));
    if (r.status == 201) {
      ++n.created;
    } else if (r.status == 409) {
      ++n.existed;
    } else {
      ++n.failed;
      errs.add(workload::entity_id(i) + ": " +
               (r.status ? "HTTP " + std::to_string(r.status) + " " + r.body : r.error));
    }
  }
}

} // namespace

bool create_entities(const options& o, const workload& w, report& rep) {
  auto t0 = steady::now();
  creation_counts n;
  error_log errs;
  std::size_t par = std::max<std::size_t>(1, std::min<std::size_t>(16, o.connections));
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < par; ++p)
    threads.emplace_back([&, p] { create_range(o, w, p, par, n, errs); });
  for (auto& t : threads)
    t.join();
  double s = seconds_between(t0, steady::now());
  rep.add("entities_created", "entities created", n.created.load());
  rep.add("entities_existing", "entities already present", n.existed.load());
  if (!o.quiet)
    std::fprintf(stderr, "entities: %llu created, %llu already present in %.2fs\n",
                 static_cast<unsigned long long>(n.created.load()),
                 static_cast<unsigned long long>(n.existed.load()), s);
  if (n.failed == 0)
    return true;
  std::fprintf(stderr, "entity creation failed for %llu entities, first errors:\n",
               static_cast<unsigned long long>(n.failed.load()));
  for (auto& e : errs.first())
    std::fprintf(stderr, "  %s\n", e.c_str());
  return false;
}

progress_printer::progress_printer(bool enabled, std::function<std::string(double)> line) {
  if (!enabled)
    return;
  thread_ = std::thread([this, line = std::move(line)] {
    auto t0 = steady::now();
    auto next = t0 + std::chrono::seconds(1);
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (steady::now() < next)
        continue;
      next += std::chrono::seconds(1);
      auto text = line(seconds_between(t0, steady::now()));
      std::fprintf(stderr, "%s\n", text.c_str());
    }
  });
}

progress_printer::~progress_printer() {
  stop();
}

void progress_printer::stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

} // namespace engram::bench
