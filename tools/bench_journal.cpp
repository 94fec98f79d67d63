// engram-bench-journal: durable acknowledged writes per second through the
// journal actor, for 1, 16 and 64 concurrent writers, with group commit
// against one synced WriteBatch per write (max_batch = 1), in the same run
// and on the same disk, so the ratio is meaningful on a noisy machine.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/journal.hpp"
#include "messages/registry.hpp"
#include "runtime/metrics.hpp"
#include "storage/key_codec.hpp"
#include "storage/store.hpp"

namespace {

using namespace engram;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct run_result {
  uint64_t acks = 0;
  double seconds = 0;
  double mean_batch = 0;
  double rate() const { return static_cast<double>(acks) / seconds; }
};

// One writer: appends a record, waits for its ack, repeats until `until`.
// Each ack re-triggers the writer with a message to itself (no callback that
// owns itself, so nothing keeps the journal handle alive after the run).
caf::behavior writer(caf::event_based_actor* self, journal_actor journal,
                     uint32_t id, clock_type::time_point until,
                     std::shared_ptr<std::atomic<uint64_t>> acks,
                     caf::actor done) {
  auto seq = std::make_shared<uint64_t>(0);
  std::string value(200, 'x');
  return {[=](caf::ok_atom) {
    if (clock_type::now() >= until) {
      self->send(done, caf::ok_atom::value);
      self->quit();
      return;
    }
    auto key = storage::key_builder{}.u64(id).u64((*seq)++).bytes();
    write_request req{{storage::mutation::make_put(storage::column::turns,
                                                   key, value)}};
    self->request(journal, std::chrono::seconds(30), append_atom::value, req)
      .then(
        [=](commit_ack&) {
          acks->fetch_add(1);
          self->send(self, caf::ok_atom::value);
        },
        [=](caf::error& err) {
          std::cerr << "write failed: " << caf::to_string(err) << "\n";
          self->send(done, caf::ok_atom::value);
          self->quit();
        });
  }};
}

run_result run(caf::actor_system& sys, const fs::path& dir, uint32_t writers,
               uint32_t max_batch, double seconds) {
  fs::remove_all(dir);
  auto db = storage::store::open({dir.string()});
  if (!db) {
    std::cerr << "cannot open store: " << caf::to_string(db.error()) << "\n";
    std::exit(1);
  }
  std::shared_ptr<storage::store> shared{std::move(*db)};
  metrics::registry reg;
  auto journal = *spawn_journal(sys, shared, {true, max_batch, 0}, reg);
  auto acks = std::make_shared<std::atomic<uint64_t>>(0);
  caf::scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto until = t0 + std::chrono::duration_cast<clock_type::duration>(
                      std::chrono::duration<double>(seconds));
  for (uint32_t i = 0; i < writers; ++i)
    self->send(sys.spawn(writer, journal, i, until, acks, caf::actor{self}),
               caf::ok_atom::value);
  for (uint32_t i = 0; i < writers; ++i)
    self->receive([](caf::ok_atom) {});
  std::chrono::duration<double> took = clock_type::now() - t0;
  auto& batches = reg.get_counter("engram_journal_batches_total", "");
  run_result r{acks->load(), took.count(), 0};
  r.mean_batch = batches.value() ? static_cast<double>(r.acks) / batches.value() : 0;
  self->send_exit(journal, caf::exit_reason::user_shutdown);
  self->wait_for(journal);
  return r;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"engram-bench-journal: durable acknowledged writes/s through "
               "the journal, group commit vs one fsync per write"};
  double seconds = 2.0;
  std::string dir = (fs::temp_directory_path() / "engram-bench-journal").string();
  std::vector<uint32_t> writer_counts{1, 16, 64};
  app.add_option("--seconds", seconds, "duration of each measurement")
    ->capture_default_str();
  app.add_option("--dir", dir, "scratch directory (wiped)")->capture_default_str();
  app.add_option("--writers", writer_counts, "concurrent writer counts")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  caf::actor_system_config cfg;
  register_message_types(cfg);
  caf::actor_system sys{cfg};
  std::printf("%-8s %16s %16s %8s %12s\n", "writers", "group acks/s",
              "1-fsync acks/s", "ratio", "mean batch");
  for (auto n : writer_counts) {
    std::fprintf(stderr, "measuring %u writer(s)...\n", n);
    auto group = run(sys, dir, n, 1024, seconds);
    auto single = run(sys, dir, n, 1, seconds);
    std::printf("%-8u %16.0f %16.0f %7.1fx %12.1f\n", n, group.rate(),
                single.rate(), group.rate() / single.rate(), group.mean_batch);
    std::fflush(stdout);
  }
  fs::remove_all(dir);
  return 0;
}
