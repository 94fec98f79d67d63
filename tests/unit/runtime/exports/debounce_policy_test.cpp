// Specification of the mesh-context export debounce policy
// (runtime/exports/debounce_policy): which trigger exports now, which waits
// for the window's trailing export, which is ignored, and how the state
// survives a restart. Time is a parameter, so nothing here sleeps.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "messages/errors.hpp"
#include "runtime/exports/debounce_policy.hpp"

using namespace engram;
using namespace engram::exports;

namespace {

constexpr trigger_kind all_kinds[] = {
  trigger_kind::intent_closed, trigger_kind::document_upload,
  trigger_kind::concept_change, trigger_kind::session_end,
  trigger_kind::manual, trigger_kind::nightly};

constexpr export_mode all_modes[] = {export_mode::event, export_mode::nightly,
                                     export_mode::hybrid};

// A trigger that passes every threshold, labelled "<kind>@<at>" unless told.
trigger make(trigger_kind kind, int64_t at, std::string label = {}) {
  trigger t;
  t.kind = kind;
  t.at_ms = at;
  t.concept_count = 50;
  t.session_turns = 50;
  t.label = label.empty() ? std::string{to_string(kind)} + "@"
                              + std::to_string(at)
                          : std::move(label);
  return t;
}

trigger forced(trigger t) {
  t.force = true;
  return t;
}

trigger concepts(int64_t at, uint32_t n) {
  auto t = make(trigger_kind::concept_change, at);
  t.concept_count = n;
  return t;
}

trigger session_end(int64_t at, uint32_t turns, bool high_impact = false) {
  auto t = make(trigger_kind::session_end, at);
  t.session_turns = turns;
  t.high_impact = high_impact;
  return t;
}

trigger nightly(int64_t at, bool changed) {
  auto t = make(trigger_kind::nightly, at);
  t.changed_since_last_export = changed;
  return t;
}

policy_config config(export_mode mode = export_mode::hybrid,
                     int64_t debounce_ms = 300) {
  policy_config c;
  c.mode = mode;
  c.debounce_ms = debounce_ms;
  return c;
}

policy_config high(trigger_kind k) {
  auto c = config();
  c.high_priority.insert(k);
  return c;
}

carried_trigger carried(std::string label, int64_t at = 1100,
                        trigger_kind kind = trigger_kind::intent_closed) {
  return {kind, at, std::move(label)};
}

debounce_state exported_at(int64_t at) {
  debounce_state s;
  s.last_export_ms = at;
  return s;
}

// Exported at `at`, trailing export due at `due` under `generation`.
debounce_state waiting(int64_t at, int64_t due, uint64_t generation,
                       std::vector<carried_trigger> pending) {
  auto s = exported_at(at);
  s.trailing_due_ms = due;
  s.timer_generation = generation;
  s.pending = std::move(pending);
  return s;
}

std::vector<std::string> labels(const std::vector<carried_trigger>& xs) {
  std::vector<std::string> out;
  for (auto& x : xs)
    out.push_back(x.label);
  return out;
}

// No trailing export waits and the window started at `at`.
bool idle_since(const debounce_state& s, int64_t at) {
  return s.last_export_ms == at && !s.trailing_due_ms && s.pending.empty()
         && s.pending_dropped == 0;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// What a decision must look like; the timer fields are checked only when
// `due` is set.
struct expected {
  outcome what;
  std::vector<std::string> carried = {};
  bool cancel = false;
  std::optional<int64_t> due = {};
  uint64_t generation = 0;
  bool schedule = false;
  std::string reason = {};
};

void check(const decision& d, const expected& e) {
  CHECK(to_string(d.what) == std::string{to_string(e.what)});
  CHECK(d.export_now == (e.what == outcome::exported));
  CHECK(labels(d.carried) == e.carried);
  CHECK(d.carried_dropped == 0);
  CHECK(d.cancel_timer == e.cancel);
  CHECK(d.schedule_timer == e.schedule);
  if (e.due) {
    CHECK(d.timer_due_ms == *e.due);
    CHECK(d.timer_generation == e.generation);
  }
  CHECK_FALSE(d.reason.empty());
  if (!e.reason.empty())
    CHECK(contains(d.reason, e.reason));
}

// The exporter actor in miniature: feeds triggers, arms the one timer the
// policy asks for, fires it when time passes its due time, and records
// every export.
struct exporter_sim {
  policy_config cfg;
  debounce_state state = {};
  std::vector<decision> exports = {};
  std::vector<outcome> outcomes = {};
  std::optional<std::pair<uint64_t, int64_t>> timer = {}; // generation, due

  // Exports finish the moment they are decided.
  void take(const decision& d, int64_t now) {
    outcomes.push_back(d.what);
    if (d.schedule_timer)
      timer = std::make_pair(d.timer_generation, d.timer_due_ms);
    if (d.cancel_timer)
      timer.reset();
    if (d.export_now) {
      exports.push_back(d);
      on_exported(state, now);
    }
  }

  void advance_to(int64_t now) {
    if (!timer || timer->second > now)
      return;
    auto [generation, due] = *timer;
    timer.reset();
    if (auto d = on_timer(cfg, state, generation, due))
      take(*d, due);
  }

  void fire(trigger t) {
    advance_to(t.at_ms);
    take(on_trigger(cfg, state, t), t.at_ms);
  }

  std::size_t count(outcome o) const {
    return static_cast<std::size_t>(
      std::count(outcomes.begin(), outcomes.end(), o));
  }
};

} // namespace

// --- names -------------------------------------------------------------------

TEST_CASE("trigger kinds, modes and outcomes have stable names that parse "
          "back",
          "[debounce]") {
  for (auto k : all_kinds)
    CHECK(parse_trigger(to_string(k)) == k);
  for (auto m : all_modes)
    CHECK(parse_mode(to_string(m)) == m);
  CHECK(std::string{to_string(trigger_kind::intent_closed)} == "intent_closed");
  CHECK(std::string{to_string(trigger_kind::document_upload)}
        == "document_upload");
  CHECK(std::string{to_string(export_mode::hybrid)} == "hybrid");
  CHECK(std::string{to_string(outcome::coalesced)} == "coalesced");
  CHECK(std::string{to_string(outcome::unchanged)} == "unchanged");
  CHECK(std::string{to_string(outcome::failed)} == "failed");
  CHECK_FALSE(parse_trigger("Manual"));
  CHECK_FALSE(parse_trigger(""));
  CHECK_FALSE(parse_mode("both"));
}

TEST_CASE("the defaults are those of the product issue", "[debounce]") {
  policy_config c;
  CHECK(c.mode == export_mode::hybrid);
  CHECK(c.debounce_ms == 600000);
  CHECK(c.concept_change_threshold == 5);
  CHECK(c.session_end_min_turns == 10);
  CHECK(c.high_priority.empty());
  CHECK(c.max_pending == 100);
}

// --- the decision table -------------------------------------------------------

TEST_CASE("every mode takes or ignores every trigger kind as documented",
          "[debounce]") {
  for (auto mode : all_modes) {
    for (auto kind : all_kinds) {
      INFO("mode " << to_string(mode) << ", trigger " << to_string(kind));
      bool taken = mode == export_mode::hybrid || kind == trigger_kind::manual
                   || (mode == export_mode::event)
                        == (kind != trigger_kind::nightly);
      debounce_state s;
      auto before = s;
      auto d = on_trigger(config(mode), s, make(kind, 1000));
      if (taken) {
        check(d, {outcome::exported, {std::string{to_string(kind)} + "@1000"}});
        CHECK(s.last_export_ms == 1000);
      } else {
        check(d, {outcome::ignored, {}, false, {}, 0, false, "mode"});
        CHECK(s == before);
      }
    }
  }
}

TEST_CASE("decision table: (config, state, trigger) -> decision",
          "[debounce]") {
  struct row {
    const char* name;
    policy_config cfg;
    debounce_state state;
    trigger t;
    expected want;
  };
  using tk = trigger_kind;
  const auto in_window = exported_at(1000); // window 1000..1300
  const auto pending2 = waiting(1000, 1300, 4, {carried("a"), carried("b")});
  const std::vector<row> rows = {
    // force and priority
    {"force exports inside the window", config(), in_window,
     forced(make(tk::intent_closed, 1100, "x")),
     {outcome::exported, {"x"}, false, {}, 0, false, "forced"}},
    {"a high-priority kind exports inside the window",
     high(tk::document_upload), in_window,
     make(tk::document_upload, 1100, "x"),
     {outcome::exported, {"x"}, false, {}, 0, false, "high priority"}},
    {"other kinds stay debounced under a high-priority config",
     high(tk::document_upload), in_window, make(tk::intent_closed, 1100),
     {outcome::debounced, {}, false, 1300, 1, true}},
    {"force does not override the mode", config(export_mode::nightly),
     exported_at(0), forced(make(tk::intent_closed, 5000)),
     {outcome::ignored, {}, false, {}, 0, false, "mode nightly"}},
    {"high priority does not override a threshold", high(tk::concept_change),
     debounce_state{}, concepts(1000, 1),
     {outcome::ignored, {}, false, {}, 0, false, "threshold 5"}},

    // concept_change threshold
    {"concept_change below the threshold is ignored", config(),
     debounce_state{}, concepts(1000, 4),
     {outcome::ignored, {}, false, {}, 0, false, "4 concepts, threshold 5"}},
    {"concept_change at the threshold counts", config(), debounce_state{},
     concepts(1000, 5), {outcome::exported, {"concept_change@1000"}}},
    {"force bypasses the concept_change threshold", config(), in_window,
     forced(concepts(1100, 0)),
     {outcome::exported, {"concept_change@1100"}, false, {}, 0, false,
      "forced"}},
    {"threshold 0 takes every concept_change",
     [] { auto c = config(); c.concept_change_threshold = 0; return c; }(),
     debounce_state{}, concepts(1000, 0),
     {outcome::exported, {"concept_change@1000"}}},
    {"a mode refusal wins over a threshold refusal",
     config(export_mode::nightly), debounce_state{}, concepts(1000, 1),
     {outcome::ignored, {}, false, {}, 0, false, "mode nightly"}},

    // session_end rules
    {"session_end with few turns and no high impact is ignored", config(),
     debounce_state{}, session_end(1000, 9),
     {outcome::ignored, {}, false, {}, 0, false, "9 turns, minimum 10"}},
    {"session_end with enough turns counts", config(), debounce_state{},
     session_end(1000, 10), {outcome::exported, {"session_end@1000"}}},
    {"a high-impact session_end counts whatever its length", config(),
     debounce_state{}, session_end(1000, 0, true),
     {outcome::exported, {"session_end@1000"}}},
    {"force bypasses the session_end rules", config(), debounce_state{},
     forced(session_end(1000, 1)), {outcome::exported, {"session_end@1000"}}},
    {"an accepted session_end inside the window is debounced", config(),
     in_window, session_end(1100, 12),
     {outcome::debounced, {}, false, 1300, 1, true}},

    // leading edge, debounced, coalesced
    {"the first export ever is a leading edge", config(), debounce_state{},
     make(tk::intent_closed, 5, "x"),
     {outcome::exported, {"x"}, false, {}, 0, false, "first export"}},
    {"a trigger a full window after the last export is a leading edge",
     config(), in_window, make(tk::intent_closed, 1300, "x"),
     {outcome::exported, {"x"}, false, {}, 0, false, "leading edge"}},
    {"the first trigger inside the window schedules the trailing export",
     config(), in_window, make(tk::intent_closed, 1299),
     {outcome::debounced, {}, false, 1300, 1, true, "trailing"}},
    {"later triggers join the scheduled trailing export", config(), pending2,
     make(tk::manual, 1200),
     {outcome::coalesced, {}, false, 1300, 4, false, "joins"}},
    {"manual is debounced like any event when not forced",
     config(export_mode::nightly), in_window, make(tk::manual, 1100),
     {outcome::debounced, {}, false, 1300, 1, true}},
    {"a negative window counts as none", config(export_mode::hybrid, -5),
     in_window, make(tk::intent_closed, 1000, "x"),
     {outcome::exported, {"x"}, false, {}, 0, false, "leading edge"}},

    // an export now absorbs the trailing export
    {"a forced export carries the pending triggers and cancels the timer",
     config(), pending2, forced(make(tk::intent_closed, 1200, "x")),
     {outcome::exported, {"a", "b", "x"}, true, {}, 0, false, "forced"}},
    {"a high-priority export absorbs the pending triggers",
     high(tk::manual), pending2, make(tk::manual, 1200, "x"),
     {outcome::exported, {"a", "b", "x"}, true}},
    {"a leading edge after an overdue timer absorbs its triggers", config(),
     pending2, make(tk::intent_closed, 1300, "x"),
     {outcome::exported, {"a", "b", "x"}, true, {}, 0, false, "leading edge"}},

    // nightly
    {"nightly with changes exports inside the window (its own schedule)",
     config(), in_window, nightly(1100, true),
     {outcome::exported, {"nightly@1100"}, false, {}, 0, false, "nightly"}},
    {"nightly without changes is unchanged (hybrid)", config(), in_window,
     nightly(5000, false),
     {outcome::unchanged, {}, false, {}, 0, false, "no changes"}},
    {"nightly without changes is unchanged (nightly mode)",
     config(export_mode::nightly), in_window, nightly(5000, false),
     {outcome::unchanged}},
    {"nightly with changes exports in nightly mode",
     config(export_mode::nightly), in_window, nightly(5000, true),
     {outcome::exported, {"nightly@5000"}}},
    {"nightly is ignored in event mode even with changes",
     config(export_mode::event), in_window, nightly(5000, true),
     {outcome::ignored, {}, false, {}, 0, false, "mode event"}},
    {"forced nightly is still ignored in event mode",
     config(export_mode::event), in_window, forced(nightly(5000, true)),
     {outcome::ignored}},
    {"pending triggers are changes even if the caller saw none", config(),
     pending2, nightly(1200, false),
     {outcome::exported, {"a", "b", "nightly@1200"}, true}},
    {"forced nightly exports without changes", config(), in_window,
     forced(nightly(5000, false)), {outcome::exported, {"nightly@5000"}}},
  };

  for (auto& r : rows) {
    INFO(r.name);
    auto s = r.state;
    auto d = on_trigger(r.cfg, s, r.t);
    check(d, r.want);
    if (d.what == outcome::ignored || d.what == outcome::unchanged)
      CHECK(s == r.state); // nothing refused leaves a trace
    if (d.export_now) {
      CHECK(s.last_export_ms == r.t.at_ms); // the new window starts now
      CHECK_FALSE(s.trailing_due_ms);
      CHECK(s.pending.empty());
    }
    if (d.what == outcome::debounced || d.what == outcome::coalesced) {
      CHECK(s.trailing_due_ms == d.timer_due_ms);
      CHECK(s.timer_generation == d.timer_generation);
      REQUIRE_FALSE(s.pending.empty());
      CHECK(s.pending.back().label == r.t.label);
    }
  }
}

// --- the trailing export -------------------------------------------------------

TEST_CASE("the trailing timer exports every coalesced trigger in order and "
          "opens a new window",
          "[debounce]") {
  auto cfg = config();
  auto s = exported_at(1000);
  auto d1 = on_trigger(cfg, s, make(trigger_kind::intent_closed, 1010, "a"));
  auto d2 = on_trigger(cfg, s, make(trigger_kind::document_upload, 1020, "b"));
  auto d3 = on_trigger(cfg, s, concepts(1030, 7));
  CHECK(d1.what == outcome::debounced);
  CHECK(d2.what == outcome::coalesced);
  CHECK(d3.what == outcome::coalesced);
  REQUIRE(d1.schedule_timer);

  auto fired = on_timer(cfg, s, d1.timer_generation, 1300);
  REQUIRE(fired);
  check(*fired, {outcome::exported, {"a", "b", "concept_change@1030"}, false,
                 {}, 0, false, "trailing"});
  CHECK(fired->carried[2].kind == trigger_kind::concept_change);
  CHECK(fired->carried[2].at_ms == 1030);
  CHECK(idle_since(s, 1300));

  // The trailing export opened a window: the next trigger waits for 1600.
  auto next = on_trigger(cfg, s, make(trigger_kind::manual, 1400));
  check(next, {outcome::debounced, {}, false, 1600, 2, true});
}

TEST_CASE("a stale timer is ignored", "[debounce]") {
  auto cfg = config();
  auto s = exported_at(1000);
  auto first = on_trigger(cfg, s, make(trigger_kind::intent_closed, 1100));
  REQUIRE(first.schedule_timer);
  auto gen = first.timer_generation;

  SECTION("a generation that was never scheduled") {
    auto before = s;
    CHECK_FALSE(on_timer(cfg, s, gen + 1, 1300));
    CHECK_FALSE(on_timer(cfg, s, gen - 1, 1300));
    CHECK(s == before);
  }
  SECTION("a timer cancelled by an export now") {
    auto now = on_trigger(cfg, s, forced(make(trigger_kind::manual, 1200)));
    CHECK(now.cancel_timer);
    CHECK_FALSE(on_timer(cfg, s, gen, 1300));
    CHECK(idle_since(s, 1200));
  }
  SECTION("a cancelled timer arriving after a new one was scheduled") {
    (void) on_trigger(cfg, s, forced(make(trigger_kind::manual, 1200)));
    auto again = on_trigger(cfg, s, make(trigger_kind::intent_closed, 1250,
                                         "late"));
    REQUIRE(again.schedule_timer);
    CHECK(again.timer_due_ms == 1500);
    CHECK(again.timer_generation != gen);
    CHECK_FALSE(on_timer(cfg, s, gen, 1300));
    auto fired = on_timer(cfg, s, again.timer_generation, 1500);
    REQUIRE(fired);
    CHECK(labels(fired->carried) == std::vector<std::string>{"late"});
  }
  SECTION("a timer firing twice exports once") {
    CHECK(on_timer(cfg, s, gen, 1300));
    CHECK_FALSE(on_timer(cfg, s, gen, 1301));
  }
}

TEST_CASE("on_exported moves the window to the completion, never back",
          "[debounce]") {
  debounce_state s;
  on_exported(s, 500);
  CHECK(s.last_export_ms == 500);
  on_exported(s, 800);
  CHECK(s.last_export_ms == 800);
  on_exported(s, 700); // a late report of an older export
  CHECK(s.last_export_ms == 800);

  SECTION("a trailing export stays scheduled") {
    auto w = waiting(1000, 1300, 3, {carried("a")});
    on_exported(w, 1005);
    CHECK(w.last_export_ms == 1005);
    CHECK(w.trailing_due_ms == 1300);
    CHECK(labels(w.pending) == std::vector<std::string>{"a"});
  }
}

TEST_CASE("triggers arriving while an export is still being written are "
          "debounced",
          "[debounce]") {
  auto cfg = config();
  debounce_state s;
  auto lead = on_trigger(cfg, s, make(trigger_kind::intent_closed, 1000));
  REQUIRE(lead.export_now);
  // No on_exported yet: the window already runs from the decision.
  auto during = on_trigger(cfg, s, make(trigger_kind::intent_closed, 1002));
  check(during, {outcome::debounced, {}, false, 1300, 1, true});
  on_exported(s, 1004); // the file is written
  CHECK(s.trailing_due_ms == 1300);
}

// --- bursts ----------------------------------------------------------------------

TEST_CASE("a burst of 50 triggers within one window gives exactly 2 exports",
          "[debounce]") {
  exporter_sim sim{config(export_mode::hybrid, 300)};
  std::vector<std::string> sent;
  for (int64_t i = 0; i < 50; ++i) {
    auto t = make(trigger_kind::intent_closed, 1000 + i,
                  "intent_closed:i" + std::to_string(i));
    sent.push_back(t.label);
    sim.fire(t);
  }
  CHECK(sim.exports.size() == 1); // the leading edge
  CHECK(sim.count(outcome::exported) == 1);
  CHECK(sim.count(outcome::debounced) == 1);
  CHECK(sim.count(outcome::coalesced) == 48);
  REQUIRE(sim.timer);
  CHECK(sim.timer->second == 1300);

  sim.advance_to(1299);
  CHECK(sim.exports.size() == 1);
  sim.advance_to(1300);
  REQUIRE(sim.exports.size() == 2);
  CHECK(labels(sim.exports[0].carried)
        == std::vector<std::string>{"intent_closed:i0"});
  auto& trailing = sim.exports[1];
  CHECK(trailing.carried_count() == 49);
  CHECK(labels(trailing.carried)
        == std::vector<std::string>(sent.begin() + 1, sent.end()));
  CHECK(idle_since(sim.state, 1300));

  SECTION("a second burst after the window again gives 2 exports") {
    for (int64_t i = 0; i < 50; ++i)
      sim.fire(make(trigger_kind::document_upload, 2000 + i));
    sim.advance_to(10000);
    REQUIRE(sim.exports.size() == 4);
    CHECK(sim.exports[2].carried_count() == 1);
    CHECK(sim.exports[2].carried[0].at_ms == 2000);
    CHECK(sim.exports[3].carried_count() == 49);
    CHECK(sim.exports[3].carried.back().at_ms == 2049);
    CHECK(idle_since(sim.state, 2300));
  }
  SECTION("a burst inside the window the trailing export opened waits for "
          "its end") {
    for (int64_t i = 0; i < 50; ++i)
      sim.fire(make(trigger_kind::document_upload, 1400 + i));
    CHECK(sim.exports.size() == 2);
    REQUIRE(sim.timer);
    CHECK(sim.timer->second == 1600);
    sim.advance_to(1600);
    REQUIRE(sim.exports.size() == 3);
    CHECK(sim.exports[2].carried_count() == 50);
  }
}

TEST_CASE("a long burst keeps the state bounded: max_pending listed, the "
          "rest counted",
          "[debounce]") {
  auto cfg = config();
  cfg.max_pending = 100;
  auto s = exported_at(1000);
  for (int64_t i = 0; i < 250; ++i)
    (void) on_trigger(cfg, s, make(trigger_kind::intent_closed, 1001 + i / 10));
  CHECK(s.pending.size() == 100);
  CHECK(s.pending_dropped == 150);
  CHECK(s.pending.front().at_ms == 1001); // the first ones are kept

  auto fired = on_timer(cfg, s, s.timer_generation, 1300);
  REQUIRE(fired);
  CHECK(fired->carried.size() == 100);
  CHECK(fired->carried_dropped == 150);
  CHECK(fired->carried_count() == 250);
  CHECK(s.pending_dropped == 0);

  SECTION("an export now still lists the trigger that caused it") {
    auto w = exported_at(1000);
    for (int64_t i = 0; i < 120; ++i)
      (void) on_trigger(cfg, w, make(trigger_kind::intent_closed, 1001));
    auto d = on_trigger(cfg, w, forced(make(trigger_kind::manual, 1002, "m")));
    CHECK(d.carried.size() == 101);
    CHECK(d.carried.back().label == "m");
    CHECK(d.carried_dropped == 20);
    CHECK(d.carried_count() == 121);
  }
}

TEST_CASE("long labels are cut at a character boundary", "[debounce]") {
  auto s = exported_at(1000);
  std::string label(max_label_bytes - 1, 'x');
  label += "\xC3\xA9\xC3\xA9"; // "éé" straddles the limit
  (void) on_trigger(config(), s,
                    make(trigger_kind::intent_closed, 1001, label));
  REQUIRE(s.pending.size() == 1);
  CHECK(s.pending[0].label == std::string(max_label_bytes - 1, 'x'));
  auto back = debounce_state_from_json(to_json(s));
  REQUIRE(back);
  CHECK(*back == s);
}

// --- persistence and restart ---------------------------------------------------

TEST_CASE("the state serialises compactly and round-trips", "[debounce]") {
  SECTION("never exported") {
    debounce_state s;
    CHECK(to_json(s)
          == R"({"last_export_ms":null,"trailing_due_ms":null,)"
             R"("timer_generation":0,"pending":[],"pending_dropped":0})");
    auto back = debounce_state_from_json(to_json(s));
    REQUIRE(back);
    CHECK(*back == s);
  }
  SECTION("idle after an export: small enough for 10,000 users") {
    auto s = exported_at(1'700'000'000'000);
    s.timer_generation = 12345;
    CHECK(to_json(s).size() <= 120);
    CHECK(sizeof(debounce_state) <= 72);
    auto back = debounce_state_from_json(to_json(s));
    REQUIRE(back);
    CHECK(*back == s);
  }
  SECTION("a scheduled trailing export with odd labels and extremes") {
    auto s = waiting(std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max(),
                     std::numeric_limits<uint64_t>::max(),
                     {carried("quote\" back\\slash", -5, trigger_kind::nightly),
                      carried("", 0, trigger_kind::session_end),
                      carried("\xE2\x9C\x93 \n", 7, trigger_kind::manual)});
    s.pending_dropped = 4;
    auto text = to_json(s);
    CHECK(contains(text, R"(["nightly",-5,"quote\" back\\slash"])"));
    auto back = debounce_state_from_json(text);
    REQUIRE(back);
    CHECK(*back == s);
  }
}

TEST_CASE("a damaged state is refused naming the field", "[debounce]") {
  const std::string ok_pending = R"("pending":[["manual",1,"m"]])";
  struct row {
    std::string text;
    std::string field;
  };
  const std::vector<row> rows = {
    {"not json", "state"},
    {"[1,2]", "state"},
    {R"({"trailing_due_ms":null,"timer_generation":0,"pending":[],)"
     R"("pending_dropped":0})",
     "last_export_ms"},
    {R"({"last_export_ms":"1","trailing_due_ms":null,"timer_generation":0,)"
     R"("pending":[],"pending_dropped":0})",
     "last_export_ms"},
    {R"({"last_export_ms":1.5,"trailing_due_ms":null,"timer_generation":0,)"
     R"("pending":[],"pending_dropped":0})",
     "last_export_ms"},
    {R"({"last_export_ms":1,"trailing_due_ms":null,"timer_generation":-1,)"
     R"("pending":[],"pending_dropped":0})",
     "timer_generation"},
    {R"({"last_export_ms":1,"trailing_due_ms":9,"timer_generation":1,)"
     R"("pending":[["lunch",1,"m"]],"pending_dropped":0})",
     "pending"},
    {R"({"last_export_ms":1,"trailing_due_ms":9,"timer_generation":1,)"
     R"("pending":[["manual",1]],"pending_dropped":0})",
     "pending"},
    {R"({"last_export_ms":1,"trailing_due_ms":9,"timer_generation":1,)"
     + ok_pending + R"(,"pending_dropped":4294967296})",
     "pending_dropped"},
    // the invariant: a trailing export exactly when triggers wait for it
    {R"({"last_export_ms":1,"trailing_due_ms":null,"timer_generation":1,)"
     + ok_pending + R"(,"pending_dropped":0})",
     "trailing_due_ms"},
    {R"({"last_export_ms":1,"trailing_due_ms":9,"timer_generation":1,)"
     R"("pending":[],"pending_dropped":0})",
     "trailing_due_ms"},
  };
  for (auto& r : rows) {
    INFO(r.text);
    auto s = debounce_state_from_json(r.text);
    REQUIRE_FALSE(s);
    CHECK(code_of(s.error()) == ec::storage_failure);
    CHECK(field_of(s.error()) == r.field);
    CHECK(contains(message_of(s.error()), "damaged export debounce state"));
  }
}

TEST_CASE("resume after a restart fires an overdue trailing export at once "
          "and re-arms a future one",
          "[debounce]") {
  auto cfg = config();
  // Before the restart: an export at 1000, two triggers waiting for 1300.
  auto before = exported_at(1000);
  auto d1 = on_trigger(cfg, before, make(trigger_kind::intent_closed, 1010, "a"));
  (void) on_trigger(cfg, before, make(trigger_kind::intent_closed, 1020, "b"));
  auto saved = to_json(before);
  auto loaded = debounce_state_from_json(saved);
  REQUIRE(loaded);
  auto s = *loaded;

  SECTION("due in the past: export now") {
    auto d = resume(cfg, s, 5000);
    REQUIRE(d);
    check(*d, {outcome::exported, {"a", "b"}, false, {}, 0, false, "restart"});
    CHECK(idle_since(s, 5000));
    CHECK_FALSE(on_timer(cfg, s, d1.timer_generation, 5000));
  }
  SECTION("due exactly now: export now") {
    auto d = resume(cfg, s, 1300);
    REQUIRE(d);
    CHECK(d->export_now);
  }
  SECTION("due in the future: re-armed under a new generation") {
    auto d = resume(cfg, s, 1100);
    REQUIRE(d);
    check(*d, {outcome::debounced, {}, false, 1300, d1.timer_generation + 1,
               true, "restart"});
    // A timer from before the restart cannot fire the export.
    CHECK_FALSE(on_timer(cfg, s, d1.timer_generation, 1300));
    (void) on_trigger(cfg, s, make(trigger_kind::manual, 1200, "c"));
    auto fired = on_timer(cfg, s, d->timer_generation, 1300);
    REQUIRE(fired);
    CHECK(labels(fired->carried) == std::vector<std::string>{"a", "b", "c"});
  }
  SECTION("nothing scheduled: nothing to do, and the window survives") {
    auto idle = *debounce_state_from_json(to_json(exported_at(1000)));
    CHECK_FALSE(resume(cfg, idle, 1100));
    CHECK(idle == exported_at(1000));
    auto d = on_trigger(cfg, idle, make(trigger_kind::intent_closed, 1100));
    CHECK(d.what == outcome::debounced); // not a fresh leading edge
  }
}
