// The journal group-commits writes and acknowledges only durable ones.

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include <caf/all.hpp>

#include "actors/journal.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "runtime/metrics.hpp"
#include "storage/key_codec.hpp"
#include "storage/store.hpp"

using namespace engram;
namespace fs = std::filesystem;

namespace {

struct scratch {
  fs::path dir;
  scratch() {
    std::string tmpl = (fs::temp_directory_path() / "journal-test-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
  }
  ~scratch() { fs::remove_all(dir); }
  std::shared_ptr<storage::store> open() const {
    auto db = storage::store::open({(dir / "db").string()});
    REQUIRE(db);
    return std::shared_ptr<storage::store>(std::move(*db));
  }
};

write_request put(uint64_t i) {
  return {{storage::mutation::make_put(storage::column::turns,
                                       storage::key_builder{}.u64(i).bytes(),
                                       "value-" + std::to_string(i))}};
}

struct system_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  system_fixture() {
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

// Appends `w` from a fresh actor that forwards the journal's answer (a
// commit_ack or an error) to `collector` as an ordinary message, so a test
// can have many writes in flight at once.
// (Arguments are passed to spawn rather than captured: CAF 0.17's spawn of
// a function without arguments trips UBSan inside CAF's own header.)
void append_from(caf::event_based_actor* self, journal_actor j,
                 write_request w, caf::actor collector) {
  self->request(j, std::chrono::seconds(10), append_atom::value, w)
    .then([=](commit_ack& a) { self->send(collector, a); },
          [=](caf::error& e) { self->send(collector, e); });
}

void append_async(caf::actor_system& sys, journal_actor j, write_request w,
                  caf::actor collector) {
  sys.spawn(append_from, j, std::move(w), collector);
}

// Sends `n` appends one after another and collects every answer.
std::vector<commit_ack> append_many(caf::actor_system& sys, journal_actor j,
                                    uint64_t first, uint64_t n) {
  caf::scoped_actor self{sys};
  std::vector<commit_ack> acks;
  for (uint64_t i = first; i < first + n; ++i)
    self->request(j, std::chrono::seconds(10), append_atom::value, put(i))
      .receive([&](commit_ack& a) { acks.push_back(a); },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
  return acks;
}

void stop(caf::actor_system& sys, journal_actor j) {
  caf::scoped_actor self{sys};
  self->send_exit(j, caf::exit_reason::user_shutdown);
  self->wait_for(j);
}

} // namespace

TEST_CASE("concurrent appends share batches and every ack has a unique seq",
          "[journal]") {
  scratch s;
  system_fixture f;
  metrics::registry reg;
  auto db = s.open();
  auto j = *spawn_journal(*f.sys, db, {true, 1024, 0}, reg);
  // 64 client actors with one write each in flight at once.
  caf::scoped_actor self{*f.sys};
  constexpr int n = 64 * 8;
  std::set<uint64_t> seqs;
  uint32_t max_batch = 0;
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 64; ++i)
      append_async(*f.sys, j, put(static_cast<uint64_t>(round * 64 + i)),
                   caf::actor{self});
    for (int i = 0; i < 64; ++i)
      self->receive([&](commit_ack& a) {
                      seqs.insert(a.seq);
                      max_batch = std::max(max_batch, a.batch_size);
                    },
                    [&](caf::error& e) { FAIL(caf::to_string(e)); });
  }
  CHECK(seqs.size() == n);
  CHECK(*seqs.begin() == 1);
  CHECK(*seqs.rbegin() == n);
  CHECK(max_batch > 1); // writes that arrive together commit together
  CHECK(reg.get_counter("engram_journal_batches_total", "").value() < n);
  stop(*f.sys, j);
}

TEST_CASE("acknowledged writes are readable after reopening the store, and "
          "seqs continue where they stopped", "[journal]") {
  scratch s;
  {
    system_fixture f;
    metrics::registry reg;
    auto j = *spawn_journal(*f.sys, s.open(), {true, 16, 0}, reg);
    auto acks = append_many(*f.sys, j, 0, 100);
    REQUIRE(acks.size() == 100);
    CHECK(acks.back().seq == 100);
    stop(*f.sys, j);
  }
  auto db = s.open();
  for (uint64_t i = 0; i < 100; ++i) {
    auto v = db->get(storage::column::turns, storage::key_builder{}.u64(i).bytes());
    REQUIRE(v);
    CHECK(*v == "value-" + std::to_string(i));
  }
  system_fixture f;
  metrics::registry reg;
  auto j = *spawn_journal(*f.sys, db, {true, 16, 0}, reg);
  auto more = append_many(*f.sys, j, 100, 1);
  REQUIRE(more.size() == 1);
  CHECK(more[0].seq == 101);
  stop(*f.sys, j);
}

TEST_CASE("a bad write is refused alone; the writes beside it still commit",
          "[journal]") {
  scratch s;
  system_fixture f;
  metrics::registry reg;
  auto db = s.open();
  auto j = *spawn_journal(*f.sys, db, {true, 1024, 500}, reg);
  caf::scoped_actor self{*f.sys};
  write_request bad{{storage::mutation{0, 200, "k", "v"}}};
  append_async(*f.sys, j, put(1), caf::actor{self});
  append_async(*f.sys, j, bad, caf::actor{self});
  append_async(*f.sys, j, put(2), caf::actor{self});
  int ok = 0, refused = 0;
  for (int i = 0; i < 3; ++i)
    self->receive([&](commit_ack&) { ++ok; },
                  [&](caf::error& e) {
                    CHECK(code_of(e) == ec::invalid_argument);
                    ++refused;
                  });
  CHECK(ok == 2);
  CHECK(refused == 1);
  CHECK(db->get(storage::column::turns, storage::key_builder{}.u64(2).bytes()));
  stop(*f.sys, j);
}

TEST_CASE("with max_wait_us the journal waits for company, and flush commits "
          "at once", "[journal]") {
  scratch s;
  system_fixture f;
  metrics::registry reg;
  auto db = s.open();
  // A one-minute window: only an explicit flush can commit in time.
  auto j = *spawn_journal(*f.sys, db, {true, 1024, 60'000'000}, reg);
  caf::scoped_actor self{*f.sys};
  // A plain send: the ack comes back as an ordinary message, and the flush
  // (same sender, same receiver) is guaranteed to arrive after the append.
  self->send(j, append_atom::value, put(7));
  uint64_t flushed = 0;
  self->request(j, std::chrono::seconds(10), flush_atom::value)
    .receive([&](uint64_t seq) { flushed = seq; },
             [&](caf::error& e) { FAIL(caf::to_string(e)); });
  CHECK(flushed == 1);
  self->receive([](commit_ack& a) { CHECK(a.seq == 1); },
                [&](caf::error& e) { FAIL(caf::to_string(e)); });
  stop(*f.sys, j);
}
