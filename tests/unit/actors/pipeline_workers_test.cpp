// The pipeline's worker actors: LLM workers answer the three language tasks
// and validate every answer; the embedder micro-batches texts and maps each
// vector back to the request that asked for it.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/embedder.hpp"
#include "actors/llm_worker.hpp"
#include "messages/errors.hpp"
#include "messages/registry.hpp"
#include "runtime/metrics.hpp"
#include "runtime/providers/embedder.hpp"
#include "runtime/providers/rules_llm.hpp"

using namespace engram;
using namespace std::chrono_literals;

namespace {

struct system_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  system_fixture() {
    register_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

template <class Handle>
void stop(caf::actor_system& sys, const Handle& h) {
  caf::scoped_actor self{sys};
  self->send_exit(h, caf::exit_reason::user_shutdown);
  self->wait_for(h);
}

using clock_type = std::chrono::steady_clock;

// What a result holds before an answer arrives.
caf::error no_answer() {
  return make_error(ec::internal, "no answer");
}

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0)
    .count();
}

// --- LLM workers ---------------------------------------------------------------

std::vector<providers::known_entity> cast() {
  return {{"e-momo", "character", "Momo", {"Little Cat"}},
          {"e-inn", "location", "Red Dragon Inn", {}}};
}

providers::analysis_input turn_input(std::string text) {
  return {"alice", "s1", 4, std::move(text), cast()};
}

provider_factory rules_factory() {
  return [] { return std::make_unique<providers::rules_llm>(); };
}

// A provider whose answers the test scripts; counts its calls.
struct scripted_llm : providers::llm_provider {
  caf::expected<providers::analysis_result> analysis;
  caf::expected<providers::creation_result> creation;
  std::shared_ptr<std::atomic<int>> rewrites;
  int fail_rewrite_at; // 1-based call that fails; 0: never

  scripted_llm(caf::expected<providers::analysis_result> a,
               caf::expected<providers::creation_result> c,
               std::shared_ptr<std::atomic<int>> counter, int fail_at)
    : analysis(std::move(a)),
      creation(std::move(c)),
      rewrites(std::move(counter)),
      fail_rewrite_at(fail_at) {}

  std::string name() const override { return "scripted"; }
  caf::expected<providers::analysis_result>
  analyse(const providers::analysis_input&) override {
    return analysis;
  }
  caf::expected<std::string>
  rewrite(const providers::rewrite_input& in) override {
    auto n = ++*rewrites;
    if (n == fail_rewrite_at)
      return make_error(ec::unavailable, "model is down");
    return in.previous_note + "+" + in.update_summary;
  }
  caf::expected<providers::creation_result>
  create(const providers::creation_input&) override {
    return creation;
  }
};

provider_factory
scripted_factory(caf::expected<providers::analysis_result> a,
                 caf::expected<providers::creation_result> c = no_answer(),
                 std::shared_ptr<std::atomic<int>> counter = nullptr,
                 int fail_at = 0) {
  if (!counter)
    counter = std::make_shared<std::atomic<int>>(0);
  return [=] {
    return std::make_unique<scripted_llm>(a, c, counter, fail_at);
  };
}

caf::expected<providers::analysis_result>
ask_analyse(caf::actor_system& sys, const llm_worker_actor& w,
            const providers::analysis_input& in) {
  caf::scoped_actor self{sys};
  caf::expected<providers::analysis_result> out{no_answer()};
  bool answered = false;
  self->request(w, 5s, analyse_atom::value, in)
    .receive(
      [&](providers::analysis_result& r) {
        out = std::move(r);
        answered = true;
      },
      [&](caf::error& e) {
        out = std::move(e);
        answered = true;
      });
  REQUIRE(answered);
  return out;
}

caf::expected<string_list> ask_rewrite(caf::actor_system& sys,
                                       const llm_worker_actor& w,
                                       const rewrite_chain& chain) {
  caf::scoped_actor self{sys};
  caf::expected<string_list> out{no_answer()};
  self->request(w, 5s, rewrite_atom::value, chain)
    .receive([&](string_list& r) { out = std::move(r); },
             [&](caf::error& e) { out = std::move(e); });
  return out;
}

caf::expected<providers::creation_result>
ask_create(caf::actor_system& sys, const llm_worker_actor& w,
           const providers::creation_input& in) {
  caf::scoped_actor self{sys};
  caf::expected<providers::creation_result> out{no_answer()};
  self->request(w, 5s, create_atom::value, in)
    .receive([&](providers::creation_result& r) { out = std::move(r); },
             [&](caf::error& e) { out = std::move(e); });
  return out;
}

template <class T>
caf::error error_of(const caf::expected<T>& x) {
  REQUIRE_FALSE(x);
  return x.error();
}

rewrite_chain momo_chain(std::vector<std::string> summaries,
                         std::string previous = {}) {
  rewrite_chain c;
  c.base.entity_id = "e-momo";
  c.base.entity_title = "Momo";
  c.base.entity_type = "character";
  c.base.base_content = "A cat.";
  c.base.previous_note = std::move(previous);
  c.base.update_summary = "ignored: the chain's summaries are used";
  c.base.max_note_chars = 4000;
  c.summaries = std::move(summaries);
  return c;
}

uint64_t llm_counter(metrics::registry& reg, const char* name,
                     const char* task, const char* provider) {
  return reg.get_counter(name, "", {{"task", task}, {"provider", provider}})
    .value();
}

} // namespace

TEST_CASE("an llm worker answers an analysis exactly as its provider does",
          "[pipeline][llm_worker]") {
  system_fixture f;
  metrics::registry reg;
  auto w = spawn_llm_worker(*f.sys, rules_factory(), reg);
  auto in = turn_input("Momo sat down. She met a girl named 'Kenta'.");
  auto r = ask_analyse(*f.sys, w, in);
  REQUIRE(r);
  auto direct = providers::rules_llm{}.analyse(in);
  REQUIRE(direct);
  CHECK(providers::to_json(*r) == providers::to_json(*direct));
  REQUIRE(r->updates.size() == 1);
  CHECK(r->updates[0].lore_entry_id == "e-momo");
  REQUIRE(r->creations.size() == 1);
  CHECK(r->creations[0].name == "Kenta");
  CHECK(r->creations[0].entity_type == "character");

  auto none = ask_analyse(*f.sys, w, turn_input("It rained all day."));
  REQUIRE(none);
  CHECK(none->updates.empty());
  CHECK(none->creations.empty());
  CHECK(llm_counter(reg, "engram_llm_calls_total", "analysis", "rules") == 2);
  CHECK(llm_counter(reg, "engram_llm_failures_total", "analysis", "rules")
        == 0);
  stop(*f.sys, w);
}

TEST_CASE("an llm worker rewrites a chain, each note building on the last",
          "[pipeline][llm_worker]") {
  system_fixture f;
  metrics::registry reg;
  auto w = spawn_llm_worker(*f.sys, rules_factory(), reg);
  auto notes = ask_rewrite(
    *f.sys, w, momo_chain({"Momo ran.", "Momo slept.", "Momo ate fish."}));
  REQUIRE(notes);
  CHECK(*notes
        == string_list{"Momo ran.", "Momo ran. Momo slept.",
                       "Momo ran. Momo slept. Momo ate fish."});

  // The chain starts from the previous note; a repeated sentence is no news.
  auto more = ask_rewrite(*f.sys, w,
                          momo_chain({"Momo purred.", "Momo purred.",
                                      "Momo left."},
                                     "Momo was found."));
  REQUIRE(more);
  CHECK(*more
        == string_list{"Momo was found. Momo purred.",
                       "Momo was found. Momo purred.",
                       "Momo was found. Momo purred. Momo left."});

  auto empty = ask_rewrite(*f.sys, w, momo_chain({}));
  REQUIRE(empty);
  CHECK(empty->empty());
  stop(*f.sys, w);
}

TEST_CASE("an llm worker passes each note of a chain to the next step and "
          "stops at the first failure",
          "[pipeline][llm_worker]") {
  system_fixture f;
  metrics::registry reg;
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto w = spawn_llm_worker(
    *f.sys, scripted_factory(providers::analysis_result{}, no_answer(), calls, 2),
    reg);
  auto bad = ask_rewrite(*f.sys, w, momo_chain({"a", "b", "c"}, "n"));
  CHECK(code_of(error_of(bad)) == ec::unavailable);
  CHECK(calls->load() == 2); // "c" was never tried
  // Call 3 onwards succeed: each step sees the note of the step before.
  auto good = ask_rewrite(*f.sys, w, momo_chain({"a", "b", "c"}, "n"));
  REQUIRE(good);
  CHECK(*good == string_list{"n+a", "n+a+b", "n+a+b+c"});
  CHECK(llm_counter(reg, "engram_llm_calls_total", "rewrite", "scripted") == 2);
  CHECK(llm_counter(reg, "engram_llm_failures_total", "rewrite", "scripted")
        == 1);
  stop(*f.sys, w);
}

TEST_CASE("an llm worker refuses a rewrite that produces an empty note",
          "[pipeline][llm_worker]") {
  system_fixture f;
  metrics::registry reg;
  auto w = spawn_llm_worker(*f.sys, rules_factory(), reg);
  auto r = ask_rewrite(*f.sys, w, momo_chain({""}));
  auto err = error_of(r);
  CHECK(code_of(err) == ec::invalid_argument);
  CHECK(field_of(err) == "note");
  stop(*f.sys, w);
}

TEST_CASE("an llm worker creates entities and passes on provider errors",
          "[pipeline][llm_worker]") {
  system_fixture f;
  metrics::registry reg;
  auto w = spawn_llm_worker(*f.sys, rules_factory(), reg);
  auto r = ask_create(*f.sys, w,
                      {"character",
                       "A girl named Kenta arrived at the village. Kenta "
                       "carried a lantern. The lantern glowed.",
                       "Kenta", "u"});
  REQUIRE(r);
  CHECK(r->title == "Kenta");
  CHECK(r->content == "A girl named Kenta arrived at the village. Kenta "
                      "carried a lantern. The lantern glowed.");
  CHECK(r->tags
        == std::vector<std::string>{"character", "lantern", "girl", "arrived",
                                    "village", "carried", "glowed"});
  auto bad = ask_create(*f.sys, w, {"not a type", "Kenta.", "Kenta", "u"});
  auto err = error_of(bad);
  CHECK(code_of(err) == ec::invalid_argument);
  CHECK(field_of(err) == "entity_type");
  CHECK(llm_counter(reg, "engram_llm_failures_total", "creation", "rules")
        == 1);
  stop(*f.sys, w);
}

TEST_CASE("an llm worker refuses an analysis naming an entity it was not "
          "shown",
          "[pipeline][llm_worker]") {
  system_fixture f;
  metrics::registry reg;
  providers::analysis_result ghost{{{"e-ghost", "Boo."}}, {}};
  auto w = spawn_llm_worker(*f.sys, scripted_factory(ghost), reg);
  auto err = error_of(ask_analyse(*f.sys, w, turn_input("Boo.")));
  CHECK(code_of(err) == ec::invalid_argument);
  CHECK(field_of(err) == "updates[0].lore_entry_id");
  CHECK(message_of(err).find("e-ghost") != std::string::npos);
  CHECK(llm_counter(reg, "engram_llm_calls_total", "analysis", "scripted")
        == 1);
  CHECK(llm_counter(reg, "engram_llm_failures_total", "analysis", "scripted")
        == 1);
  stop(*f.sys, w);
}

TEST_CASE("an llm worker validates every part of an analysis",
          "[pipeline][llm_worker]") {
  system_fixture f;
  metrics::registry reg;
  struct bad_case {
    const char* what;
    providers::analysis_result result;
    const char* field;
  };
  std::vector<bad_case> cases{
    {"duplicate update",
     {{{"e-momo", "Momo sat."}, {"e-momo", "Momo ran."}}, {}},
     "updates[1].lore_entry_id"},
    {"blank summary", {{{"e-momo", "   "}}, {}}, "updates[0].update_summary"},
    {"invalid type", {{}, {{"a b", "Kenta came.", "Kenta"}}},
     "creations[0].entity_type"},
    {"empty creation summary", {{}, {{"character", "", "Kenta"}}},
     "creations[0].creation_summary"},
  };
  for (auto& c : cases) {
    INFO(c.what);
    auto w = spawn_llm_worker(*f.sys, scripted_factory(c.result), reg);
    auto err = error_of(ask_analyse(*f.sys, w, turn_input("Momo sat.")));
    CHECK(code_of(err) == ec::invalid_argument);
    CHECK(field_of(err) == c.field);
    stop(*f.sys, w);
  }
  // A valid scripted answer goes through untouched.
  providers::analysis_result ok{{{"e-inn", "The inn burned."}},
                                {{"character", "Kenta came.", ""}}};
  auto w = spawn_llm_worker(*f.sys, scripted_factory(ok), reg);
  auto r = ask_analyse(*f.sys, w, turn_input("The inn burned."));
  REQUIRE(r);
  CHECK(providers::to_json(*r) == providers::to_json(ok));
  stop(*f.sys, w);
}

TEST_CASE("an llm worker refuses a creation the entity API would reject",
          "[pipeline][llm_worker]") {
  system_fixture f;
  metrics::registry reg;
  providers::creation_result blank{"  ", "content", {"character"}};
  auto w = spawn_llm_worker(
    *f.sys, scripted_factory(providers::analysis_result{}, blank), reg);
  auto err = error_of(ask_create(*f.sys, w, {"character", "x", "y", "u"}));
  CHECK(code_of(err) == ec::invalid_argument);
  CHECK(field_of(err) == "title");
  stop(*f.sys, w);

  auto down = spawn_llm_worker(
    *f.sys,
    scripted_factory(make_error(ec::unavailable, "model is down"),
                     make_error(ec::unavailable, "model is down")),
    reg);
  CHECK(code_of(error_of(ask_analyse(*f.sys, down, turn_input("x"))))
        == ec::unavailable);
  CHECK(code_of(error_of(ask_create(*f.sys, down, {"character", "x", "y", "u"})))
        == ec::unavailable);
  stop(*f.sys, down);
}

// --- the embedder actor --------------------------------------------------------

namespace {

// Embeds "12" as {12, 2}: the number and the text's length, so a test can
// tell which vector belongs to which text. Records every batch it is given.
struct recording_embedder : providers::embedder {
  std::mutex mu;
  std::vector<std::size_t> batches;
  std::atomic<bool> fail{false};         // every call fails
  std::atomic<int> fail_call{0};         // 1-based call that fails; 0: none
  std::atomic<bool> short_answer{false}; // one vector too few

  std::string name() const override { return "recording"; }
  std::size_t dim() const override { return 2; }
  caf::expected<std::vector<providers::vector>>
  embed(const std::vector<std::string>& texts) override {
    std::lock_guard<std::mutex> guard{mu};
    batches.push_back(texts.size());
    if (fail || static_cast<int>(batches.size()) == fail_call)
      return make_error(ec::unavailable, "embedding model is down");
    std::vector<providers::vector> out;
    for (auto& t : texts)
      out.push_back({std::stof(t), static_cast<float>(t.size())});
    if (short_answer && !out.empty())
      out.pop_back();
    return out;
  }
  std::vector<std::size_t> seen() {
    std::lock_guard<std::mutex> guard{mu};
    return batches;
  }
};

vector_list expected_vectors(const string_list& texts) {
  vector_list out;
  for (auto& t : texts)
    out.push_back({std::stof(t), static_cast<float>(t.size())});
  return out;
}

using embed_result = caf::expected<vector_list>;

template <class Handle>
embed_result take(Handle& h) {
  embed_result out{no_answer()};
  bool answered = false;
  h.receive(
    [&](vector_list& v) {
      out = std::move(v);
      answered = true;
    },
    [&](caf::error& e) {
      out = std::move(e);
      answered = true;
    });
  REQUIRE(answered);
  return out;
}

struct embedder_fixture : system_fixture {
  metrics::registry reg;
  std::shared_ptr<recording_embedder> impl
    = std::make_shared<recording_embedder>();
  embedder_actor e;

  explicit embedder_fixture(std::size_t batch_size,
                            std::chrono::microseconds max_wait) {
    e = spawn_embedder(*sys, impl, {batch_size, max_wait}, reg);
  }
  ~embedder_fixture() { stop(*sys, e); }

  uint64_t counter(const char* name) {
    return reg.get_counter(name, "", {{"provider", "recording"}}).value();
  }
};

} // namespace

TEST_CASE("a full batch is embedded at once, without waiting for the timer",
          "[pipeline][embedder]") {
  embedder_fixture f{4, std::chrono::seconds(10)};
  caf::scoped_actor self{*f.sys};
  auto t0 = clock_type::now();
  auto a = self->request(f.e, 5s, embed_atom::value, string_list{"1", "22"});
  auto b = self->request(f.e, 5s, embed_atom::value, string_list{"333"});
  auto c = self->request(f.e, 5s, embed_atom::value,
                         string_list{"4444", "55555"});
  auto ra = take(a);
  auto rb = take(b);
  auto rc = take(c);
  CHECK(ms_since(t0) < 2000); // far below the 10 s window
  REQUIRE(ra);
  REQUIRE(rb);
  REQUIRE(rc);
  CHECK(*ra == expected_vectors({"1", "22"}));
  CHECK(*rb == expected_vectors({"333"}));
  CHECK(*rc == expected_vectors({"4444", "55555"}));
  // Five texts, at most four per call.
  CHECK(f.impl->seen() == std::vector<std::size_t>{4, 1});
  CHECK(f.counter("engram_embed_texts_total") == 5);
  CHECK(f.counter("engram_embed_calls_total") == 2);
}

TEST_CASE("a big request is split into calls of batch_size texts",
          "[pipeline][embedder]") {
  embedder_fixture f{4, std::chrono::seconds(10)};
  caf::scoped_actor self{*f.sys};
  string_list texts;
  for (int i = 0; i < 10; ++i)
    texts.push_back(std::to_string(100 + i));
  auto h = self->request(f.e, 5s, embed_atom::value, texts);
  auto r = take(h);
  REQUIRE(r);
  CHECK(*r == expected_vectors(texts));
  CHECK(f.impl->seen() == std::vector<std::size_t>{4, 4, 2});
}

TEST_CASE("with max_wait 0 a single request is embedded promptly",
          "[pipeline][embedder]") {
  embedder_fixture f{64, std::chrono::microseconds(0)};
  caf::scoped_actor self{*f.sys};
  auto t0 = clock_type::now();
  auto h = self->request(f.e, 5s, embed_atom::value, string_list{"7"});
  auto r = take(h);
  CHECK(ms_since(t0) < 1000);
  REQUIRE(r);
  CHECK(*r == expected_vectors({"7"}));
  CHECK(f.impl->seen() == std::vector<std::size_t>{1});

  // An empty request is answered with no vectors and no call.
  auto none = self->request(f.e, 5s, embed_atom::value, string_list{});
  auto rn = take(none);
  REQUIRE(rn);
  CHECK(rn->empty());
  CHECK(f.impl->seen() == std::vector<std::size_t>{1});
}

TEST_CASE("a partial batch is embedded when its window ends",
          "[pipeline][embedder]") {
  embedder_fixture f{64, std::chrono::milliseconds(30)};
  caf::scoped_actor self{*f.sys};
  auto t0 = clock_type::now();
  auto a = self->request(f.e, 5s, embed_atom::value, string_list{"1"});
  auto b = self->request(f.e, 5s, embed_atom::value, string_list{"2", "3"});
  auto ra = take(a);
  auto rb = take(b);
  auto waited = ms_since(t0);
  CHECK(waited >= 25);
  CHECK(waited < 2000);
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(*ra == expected_vectors({"1"}));
  CHECK(*rb == expected_vectors({"2", "3"}));
  // Both arrived within one window: one call.
  CHECK(f.impl->seen() == std::vector<std::size_t>{3});

  // The next window starts with the next request.
  auto c = self->request(f.e, 5s, embed_atom::value, string_list{"4"});
  auto rc = take(c);
  REQUIRE(rc);
  CHECK(*rc == expected_vectors({"4"}));
  CHECK(f.impl->seen() == std::vector<std::size_t>{3, 1});
}

TEST_CASE("a query is embedded at once and never joins a batch",
          "[pipeline][embedder]") {
  embedder_fixture f{4, std::chrono::seconds(10)};
  caf::scoped_actor self{*f.sys};
  auto t0 = clock_type::now();
  // A document text waits for company in a 10 s window...
  auto doc = self->request(f.e, 5s, embed_atom::value, string_list{"1"});
  // ...while a query goes straight through.
  auto q = self->request(f.e, 5s, query_atom::value, string_list{"9", "88"});
  auto rq = take(q);
  CHECK(ms_since(t0) < 2000);
  REQUIRE(rq);
  CHECK(*rq == expected_vectors({"9", "88"}));
  CHECK(f.impl->seen() == std::vector<std::size_t>{2});
  // Filling the batch releases the waiting document text.
  auto fill = self->request(f.e, 5s, embed_atom::value,
                            string_list{"2", "3", "4"});
  auto rd = take(doc);
  auto rf = take(fill);
  CHECK(ms_since(t0) < 2000);
  REQUIRE(rd);
  REQUIRE(rf);
  CHECK(*rd == expected_vectors({"1"}));
  CHECK(*rf == expected_vectors({"2", "3", "4"}));
  CHECK(f.impl->seen() == std::vector<std::size_t>{2, 4});
}

TEST_CASE("when the embedder fails every waiting request gets the error",
          "[pipeline][embedder]") {
  embedder_fixture f{4, std::chrono::seconds(10)};
  f.impl->fail = true;
  caf::scoped_actor self{*f.sys};
  auto a = self->request(f.e, 5s, embed_atom::value, string_list{"1"});
  auto b = self->request(f.e, 5s, embed_atom::value, string_list{"2", "3"});
  auto c = self->request(f.e, 5s, embed_atom::value, string_list{"4"});
  for (auto* h : {&a, &b, &c}) {
    auto r = take(*h);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == ec::unavailable);
    CHECK(message_of(r.error()) == "embedding model is down");
  }
  auto q = self->request(f.e, 5s, query_atom::value, string_list{"5"});
  auto rq = take(q);
  REQUIRE_FALSE(rq);
  CHECK(code_of(rq.error()) == ec::unavailable);
  CHECK(f.counter("engram_embed_failures_total") == 2);

  // The actor survives a failure and serves the next batch.
  f.impl->fail = false;
  auto d = self->request(f.e, 5s, embed_atom::value,
                         string_list{"6", "7", "8", "9"});
  auto rd = take(d);
  REQUIRE(rd);
  CHECK(*rd == expected_vectors({"6", "7", "8", "9"}));
}

TEST_CASE("a failure in a later call fails the whole flush",
          "[pipeline][embedder]") {
  embedder_fixture f{4, std::chrono::seconds(10)};
  f.impl->fail_call = 2;
  caf::scoped_actor self{*f.sys};
  // Six texts: the first call (texts of a and one of b) succeeds, the second
  // fails, and a is refused too: it was flushed with b.
  auto a = self->request(f.e, 5s, embed_atom::value,
                         string_list{"1", "2", "3"});
  auto b = self->request(f.e, 5s, embed_atom::value,
                         string_list{"4", "5", "6"});
  auto ra = take(a);
  auto rb = take(b);
  REQUIRE_FALSE(ra);
  REQUIRE_FALSE(rb);
  CHECK(code_of(ra.error()) == ec::unavailable);
  CHECK(code_of(rb.error()) == ec::unavailable);
  CHECK(f.impl->seen() == std::vector<std::size_t>{4, 2});
}

TEST_CASE("an embedder answering with too few vectors is an internal error",
          "[pipeline][embedder]") {
  embedder_fixture f{2, std::chrono::seconds(10)};
  f.impl->short_answer = true;
  caf::scoped_actor self{*f.sys};
  auto h = self->request(f.e, 5s, embed_atom::value, string_list{"1", "2"});
  auto r = take(h);
  REQUIRE_FALSE(r);
  CHECK(code_of(r.error()) == ec::internal);
  CHECK(message_of(r.error()) == "embedder returned 1 vectors for 2 texts");
}

TEST_CASE("many concurrent requesters each get their own vectors",
          "[pipeline][embedder]") {
  embedder_fixture f{8, std::chrono::milliseconds(5)};
  caf::scoped_actor self{*f.sys};
  using handle = decltype(self->request(f.e, 5s, embed_atom::value,
                                        string_list{}));
  std::vector<handle> handles;
  std::vector<string_list> sent;
  for (int i = 0; i < 30; ++i) {
    string_list texts;
    for (int j = 0; j <= i % 3; ++j)
      texts.push_back(std::to_string(i * 10 + j));
    sent.push_back(texts);
    handles.push_back(self->request(f.e, 5s, embed_atom::value, texts));
  }
  for (std::size_t i = 0; i < handles.size(); ++i) {
    INFO(i);
    auto r = take(handles[i]);
    REQUIRE(r);
    CHECK(*r == expected_vectors(sent[i]));
  }
  std::size_t total = 0;
  for (auto n : f.impl->seen()) {
    CHECK(n <= 8);
    total += n;
  }
  CHECK(total == 60); // 30 requests of 1, 2 or 3 texts
}
