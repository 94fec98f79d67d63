// Specification of the live export settings (runtime/exports/export_settings):
// the nightly time of day and its next occurrence, the PUT
// /v1/exports/config body, its stored form, and the snapshots exporters
// read. Time is a parameter, so nothing here sleeps.

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "config/options.hpp"
#include "messages/errors.hpp"
#include "runtime/exports/debounce_policy.hpp"
#include "runtime/exports/export_settings.hpp"

using namespace engram;
using namespace engram::exports;

namespace {

constexpr int64_t day_ms = 86400000;

// 2026-11-22T10:00:00Z, and the same day's / next day's times used below.
constexpr int64_t nov22_10h = 1795341600000;
constexpr int64_t nov22_235959 = 1795391999000;
constexpr int64_t nov23_03h = 1795402800000;

template <class T>
ec code(const caf::expected<T>& x) {
  return x ? ec::none : code_of(x.error());
}

template <class T>
std::string field(const caf::expected<T>& x) {
  return x ? std::string{} : field_of(x.error());
}

} // namespace

// --- time of day -------------------------------------------------------------

TEST_CASE("parse_time_of_day reads HH:MM and HH:MM:SS", "[exports][settings]") {
  CHECK(parse_time_of_day("03:00") == std::optional<int32_t>{3 * 3600});
  CHECK(parse_time_of_day("00:00") == std::optional<int32_t>{0});
  CHECK(parse_time_of_day("00:00:00") == std::optional<int32_t>{0});
  CHECK(parse_time_of_day("23:59") == std::optional<int32_t>{23 * 3600 + 59 * 60});
  CHECK(parse_time_of_day("23:59:59") == std::optional<int32_t>{86399});
  CHECK(parse_time_of_day("12:34:56")
        == std::optional<int32_t>{12 * 3600 + 34 * 60 + 56});
  CHECK(parse_time_of_day("09:05:07") == std::optional<int32_t>{9 * 3600 + 5 * 60 + 7});
}

TEST_CASE("parse_time_of_day refuses everything else", "[exports][settings]") {
  for (auto s : {"24:00", "3:00", "03:60", "03:00:60", "", "03-00", "0300",
                 "03:0", "03:000", "03:00:", "03:00:0", "03:00:000", "03:00-00",
                 "25:00", "99:99", "-3:00", "+3:00", "03 00", " 03:00",
                 "03:00 ", "0x:00", "03:0x", "03:00:5x", "ab:cd", ":03:00",
                 "24:00:00", "23:59:60", "03:00:00:00"}) {
    INFO("'" << s << "'");
    CHECK_FALSE(parse_time_of_day(s));
  }
}

TEST_CASE("next_daily_ms: the same day when still ahead, else the next day",
          "[exports][settings]") {
  // 10:00 -> 03:00 has passed today: tomorrow 03:00.
  CHECK(next_daily_ms(nov22_10h, 3 * 3600) == nov23_03h);
  // 10:00 -> 23:59:59 is still ahead today.
  CHECK(next_daily_ms(nov22_10h, 86399) == nov22_235959);
  // 10:00 -> 10:00:01 is one second ahead.
  CHECK(next_daily_ms(nov22_10h, 10 * 3600 + 1) == nov22_10h + 1000);
  // Exactly at the time: strictly after, so the next day.
  CHECK(next_daily_ms(nov22_10h, 10 * 3600) == nov22_10h + day_ms);
  CHECK(next_daily_ms(nov23_03h, 3 * 3600) == nov23_03h + day_ms);
  // One ms before the time: that same instant.
  CHECK(next_daily_ms(nov23_03h - 1, 3 * 3600) == nov23_03h);
  // Midnight as the time of day.
  CHECK(next_daily_ms(nov22_10h, 0) == nov23_03h - 3 * 3600 * 1000);
}

TEST_CASE("next_daily_ms at and around the epoch, also before it",
          "[exports][settings]") {
  CHECK(next_daily_ms(0, 0) == day_ms);
  CHECK(next_daily_ms(0, 3 * 3600) == 3 * 3600 * 1000);
  CHECK(next_daily_ms(-1, 0) == 0);
  CHECK(next_daily_ms(-1, 3 * 3600) == 3 * 3600 * 1000);
  // 1969-12-31T00:00:00Z exactly: the next midnight is the epoch.
  CHECK(next_daily_ms(-day_ms, 0) == 0);
  // 1969-12-31T00:00:00Z -> 23:59:59 the same (negative) day.
  CHECK(next_daily_ms(-day_ms, 86399) == -1000);
  // 1969-12-30T23:59:59.995Z -> 23:59:59 has passed: next day at 23:59:59.
  CHECK(next_daily_ms(-day_ms - 5, 86399) == -1000);
  CHECK(next_daily_ms(-day_ms - 1001, 86399) == -day_ms - 1000);
  CHECK(next_daily_ms(-3 * day_ms + 1, 0) == -2 * day_ms);
}

TEST_CASE("next_daily_ms is strictly after now, within a day, at the time",
          "[exports][settings]") {
  std::mt19937_64 rng(20261122);
  std::uniform_int_distribution<int64_t> now_dist(-5 * day_ms, 4102444800000);
  std::uniform_int_distribution<int32_t> sec_dist(0, 86399);
  for (int i = 0; i < 5000; ++i) {
    auto now = now_dist(rng);
    auto sec = sec_dist(rng);
    auto next = next_daily_ms(now, sec);
    INFO("now " << now << " seconds " << sec);
    REQUIRE(next > now);
    REQUIRE(next - now <= day_ms);
    REQUIRE(((next % day_ms) + day_ms) % day_ms == int64_t{sec} * 1000);
  }
}

// --- the PUT body ------------------------------------------------------------

TEST_CASE("parse_settings_patch reads each field alone and together",
          "[exports][settings]") {
  auto mode = parse_settings_patch(R"({"mode":"event"})");
  REQUIRE(mode);
  CHECK(mode->mode == std::optional<export_mode>{export_mode::event});
  CHECK_FALSE(mode->debounce_ms);
  CHECK_FALSE(mode->nightly_at);

  for (auto [text, m] : {std::pair{"event", export_mode::event},
                         std::pair{"nightly", export_mode::nightly},
                         std::pair{"hybrid", export_mode::hybrid}}) {
    auto p = parse_settings_patch(std::string{R"({"mode":")"} + text + "\"}");
    REQUIRE(p);
    CHECK(p->mode == std::optional<export_mode>{m});
  }

  auto deb = parse_settings_patch(R"({"debounce_ms":1500})");
  REQUIRE(deb);
  CHECK_FALSE(deb->mode);
  CHECK(deb->debounce_ms == std::optional<int64_t>{1500});
  CHECK_FALSE(deb->nightly_at);

  auto zero = parse_settings_patch(R"({"debounce_ms":0})");
  REQUIRE(zero);
  CHECK(zero->debounce_ms == std::optional<int64_t>{0});
  auto year = parse_settings_patch(R"({"debounce_ms":31536000000})");
  REQUIRE(year);
  CHECK(year->debounce_ms == std::optional<int64_t>{31536000000});

  auto at = parse_settings_patch(R"({"nightly_at":"23:59:59"})");
  REQUIRE(at);
  CHECK_FALSE(at->mode);
  CHECK_FALSE(at->debounce_ms);
  CHECK(at->nightly_at == std::optional<std::string>{"23:59:59"});

  auto all = parse_settings_patch(
    R"({"nightly_at":"04:30","debounce_ms":60000,"mode":"nightly"})");
  REQUIRE(all);
  CHECK(all->mode == std::optional<export_mode>{export_mode::nightly});
  CHECK(all->debounce_ms == std::optional<int64_t>{60000});
  CHECK(all->nightly_at == std::optional<std::string>{"04:30"});
}

TEST_CASE("parse_settings_patch refuses bad bodies, naming the field",
          "[exports][settings]") {
  struct bad_case {
    const char* body;
    ec code;
    const char* field;
  };
  const bad_case bad[] = {
    // Nothing to change.
    {R"({})", ec::invalid_argument, ""},
    // null counts as not given, so these change nothing either.
    {R"({"mode":null})", ec::invalid_argument, ""},
    {R"({"mode":null,"debounce_ms":null,"nightly_at":null})",
     ec::invalid_argument, ""},
    // Unknown fields, named.
    {R"({"debounce":5})", ec::invalid_argument, "debounce"},
    {R"({"mode":"event","max_pending":3})", ec::invalid_argument, "max_pending"},
    // mode
    {R"({"mode":"sometimes"})", ec::invalid_argument, "mode"},
    {R"({"mode":"Event"})", ec::invalid_argument, "mode"},
    {R"({"mode":""})", ec::invalid_argument, "mode"},
    {R"({"mode":3})", ec::invalid_argument, "mode"},
    {R"({"mode":["event"]})", ec::invalid_argument, "mode"},
    // debounce_ms
    {R"({"debounce_ms":31536000001})", ec::invalid_argument, "debounce_ms"},
    {R"({"debounce_ms":-1})", ec::invalid_argument, "debounce_ms"},
    {R"({"debounce_ms":"600"})", ec::invalid_argument, "debounce_ms"},
    {R"({"debounce_ms":1.5})", ec::invalid_argument, "debounce_ms"},
    {R"({"debounce_ms":1e20})", ec::invalid_argument, "debounce_ms"},
    {R"({"debounce_ms":true})", ec::invalid_argument, "debounce_ms"},
    {R"({"mode":"event","debounce_ms":-5})", ec::invalid_argument,
     "debounce_ms"},
    // nightly_at
    {R"({"nightly_at":"24:00"})", ec::invalid_argument, "nightly_at"},
    {R"({"nightly_at":"3:00"})", ec::invalid_argument, "nightly_at"},
    {R"({"nightly_at":"03:60"})", ec::invalid_argument, "nightly_at"},
    {R"({"nightly_at":"03:00:60"})", ec::invalid_argument, "nightly_at"},
    {R"({"nightly_at":""})", ec::invalid_argument, "nightly_at"},
    {R"({"nightly_at":"03-00"})", ec::invalid_argument, "nightly_at"},
    {R"({"nightly_at":300})", ec::invalid_argument, "nightly_at"},
    // Not an object at all.
    {R"([{"mode":"event"}])", ec::malformed_request, "body"},
    {R"("event")", ec::malformed_request, "body"},
    {R"({"mode":"event")", ec::malformed_request, ""},
    {"", ec::malformed_request, "body"},
  };
  for (auto& b : bad) {
    INFO(b.body);
    auto r = parse_settings_patch(b.body);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == b.code);
    CHECK(field_of(r.error()) == b.field);
  }
}

TEST_CASE("a bad mode is reported with the value given", "[exports][settings]") {
  auto r = parse_settings_patch(R"({"mode":"sometimes"})");
  REQUIRE_FALSE(r);
  CHECK(message_of(r.error())
        == "mode: must be one of event, nightly, hybrid, got \"sometimes\"");
  auto t = parse_settings_patch(R"({"nightly_at":"25:00"})");
  REQUIRE_FALSE(t);
  CHECK(message_of(t.error())
        == "nightly_at: must be HH:MM or HH:MM:SS (UTC), got \"25:00\"");
}

// --- the stored form ---------------------------------------------------------

TEST_CASE("a stored patch is exactly its given fields and reads back",
          "[exports][settings]") {
  settings_patch p;
  p.mode = export_mode::event;
  p.debounce_ms = 1000;
  p.nightly_at = "04:30";
  auto text = to_json(p);
  CHECK(text == R"({"mode":"event","debounce_ms":1000,"nightly_at":"04:30"})");
  auto back = settings_patch_from_json(text);
  REQUIRE(back);
  CHECK(back->mode == p.mode);
  CHECK(back->debounce_ms == p.debounce_ms);
  CHECK(back->nightly_at == p.nightly_at);

  settings_patch only_at;
  only_at.nightly_at = "00:00:01";
  CHECK(to_json(only_at) == R"({"nightly_at":"00:00:01"})");
  auto at_back = settings_patch_from_json(to_json(only_at));
  REQUIRE(at_back);
  CHECK_FALSE(at_back->mode);
  CHECK_FALSE(at_back->debounce_ms);
  CHECK(at_back->nightly_at == std::optional<std::string>{"00:00:01"});

  settings_patch only_deb;
  only_deb.debounce_ms = 0;
  CHECK(to_json(only_deb) == R"({"debounce_ms":0})");
  auto deb_back = settings_patch_from_json(to_json(only_deb));
  REQUIRE(deb_back);
  CHECK(deb_back->debounce_ms == std::optional<int64_t>{0});
  CHECK_FALSE(deb_back->mode);

  for (auto m : {export_mode::event, export_mode::nightly, export_mode::hybrid}) {
    settings_patch mp;
    mp.mode = m;
    auto mb = settings_patch_from_json(to_json(mp));
    REQUIRE(mb);
    CHECK(mb->mode == std::optional<export_mode>{m});
  }
  CHECK(exports_config_key() == "exports_config");
}

TEST_CASE("a damaged stored patch is a storage failure", "[exports][settings]") {
  for (auto text : {"", "not json", "{}", "[]", R"({"mode":"sometimes"})",
                    R"({"debounce_ms":-1})", R"({"nightly_at":"24:00"})",
                    R"({"mode":"event","extra":1})", R"({"mode":"event")"}) {
    INFO("'" << text << "'");
    auto r = settings_patch_from_json(text);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == ec::storage_failure);
    CHECK(message_of(r.error()).rfind("stored exports config is damaged: ", 0)
          == 0);
  }
}

TEST_CASE("a patch that parses is stored in a form that parses again",
          "[exports][settings][fuzz]") {
  // Whatever PUT accepts must load at the next start (load_export_config
  // refuses a damaged stored patch).
  std::mt19937 rng(4231);
  const std::string seeds[] = {
    R"({"mode":"event","debounce_ms":1000,"nightly_at":"04:30"})",
    R"({"mode":null,"debounce_ms":0})",
    R"({"nightly_at":"23:59:59","mode":null})",
  };
  int accepted = 0, refused = 0;
  for (int i = 0; i < 6000; ++i) {
    auto body = seeds[i % 3];
    auto flips = 1 + rng() % 3;
    for (std::size_t f = 0; f < flips; ++f)
      body[rng() % body.size()] ^= static_cast<char>(1 + rng() % 255);
    INFO(body);
    caf::expected<settings_patch> p = caf::error{};
    REQUIRE_NOTHROW(p = parse_settings_patch(body));
    if (!p) {
      ++refused;
      auto c = code_of(p.error());
      CHECK((c == ec::malformed_request || c == ec::invalid_argument));
      continue;
    }
    ++accepted;
    auto back = settings_patch_from_json(to_json(*p));
    REQUIRE(back);
    CHECK(back->mode == p->mode);
    CHECK(back->debounce_ms == p->debounce_ms);
    CHECK(back->nightly_at == p->nightly_at);
  }
  CHECK(accepted > 0);
  CHECK(refused > 0);
}

TEST_CASE("a snapshot renders every policy field", "[exports][settings]") {
  settings_snapshot s;
  s.policy.mode = export_mode::event;
  s.policy.debounce_ms = 1234;
  s.policy.concept_change_threshold = 3;
  s.policy.session_end_min_turns = 4;
  s.policy.high_priority = {trigger_kind::session_end,
                            trigger_kind::intent_closed};
  s.policy.max_pending = 9;
  s.nightly_at = "04:15";
  s.nightly_at_s = 4 * 3600 + 15 * 60;
  CHECK(boost::json::serialize(to_json(s))
        == R"({"mode":"event","debounce_ms":1234,"nightly_at":"04:15",)"
           R"("concept_change_threshold":3,"session_end_min_turns":4,)"
           R"("high_priority":["intent_closed","session_end"],"max_pending":9})");
}

// --- export_settings -----------------------------------------------------------

TEST_CASE("export_settings starts from the config file's values",
          "[exports][settings]") {
  config::export_options opts;
  opts.mode = "event";
  opts.debounce_ms = 1234;
  opts.nightly_at = "04:15:30";
  opts.concept_change_threshold = 2;
  opts.session_end_min_turns = 3;
  opts.high_priority = {"session_end", "intent_closed", "bogus"};
  opts.max_pending = 7;
  export_settings settings{opts};
  auto s = settings.get();
  REQUIRE(s);
  CHECK(s->policy.mode == export_mode::event);
  CHECK(s->policy.debounce_ms == 1234);
  CHECK(s->policy.concept_change_threshold == 2);
  CHECK(s->policy.session_end_min_turns == 3);
  CHECK(s->policy.high_priority
        == std::set<trigger_kind>{trigger_kind::intent_closed,
                                  trigger_kind::session_end});
  CHECK(s->policy.max_pending == 7);
  CHECK(s->nightly_at == "04:15:30");
  CHECK(s->nightly_at_s == 4 * 3600 + 15 * 60 + 30);
  CHECK(s->generation == 0);
  // get() hands out the same snapshot until something changes.
  CHECK(settings.get() == s);
}

TEST_CASE("export_settings defaults match the config defaults",
          "[exports][settings]") {
  export_settings settings{config::export_options{}};
  auto s = settings.get();
  CHECK(s->policy.mode == export_mode::hybrid);
  CHECK(s->policy.debounce_ms == 600000);
  CHECK(s->policy.concept_change_threshold == 5);
  CHECK(s->policy.session_end_min_turns == 10);
  CHECK(s->policy.high_priority.empty());
  CHECK(s->policy.max_pending == 100);
  CHECK(s->nightly_at == "03:00");
  CHECK(s->nightly_at_s == 3 * 3600);
  CHECK(s->generation == 0);
}

TEST_CASE("unparsable config values fall back to the defaults",
          "[exports][settings]") {
  config::export_options opts;
  opts.mode = "weird";
  opts.nightly_at = "25:00";
  export_settings settings{opts};
  auto s = settings.get();
  CHECK(s->policy.mode == export_mode::hybrid);
  CHECK(s->nightly_at == "03:00");
  CHECK(s->nightly_at_s == 3 * 3600);
}

TEST_CASE("apply changes only the given fields and bumps the generation",
          "[exports][settings]") {
  config::export_options opts;
  opts.mode = "event";
  opts.debounce_ms = 5000;
  opts.nightly_at = "02:00";
  opts.high_priority = {"manual"};
  export_settings settings{opts};
  auto first = settings.get();

  settings_patch deb;
  deb.debounce_ms = 250;
  auto second = settings.apply(deb);
  REQUIRE(second);
  CHECK(second->generation == 1);
  CHECK(second->policy.debounce_ms == 250);
  CHECK(second->policy.mode == export_mode::event);
  CHECK(second->nightly_at == "02:00");
  CHECK(second->nightly_at_s == 2 * 3600);
  CHECK(second->policy.high_priority
        == std::set<trigger_kind>{trigger_kind::manual});
  CHECK(settings.get() == second);
  // Snapshots are immutable: the one handed out before is unchanged.
  CHECK(first->generation == 0);
  CHECK(first->policy.debounce_ms == 5000);

  settings_patch at;
  at.nightly_at = "22:30:15";
  auto third = settings.apply(at);
  CHECK(third->generation == 2);
  CHECK(third->nightly_at == "22:30:15");
  CHECK(third->nightly_at_s == 22 * 3600 + 30 * 60 + 15);
  CHECK(third->policy.debounce_ms == 250);
  CHECK(third->policy.mode == export_mode::event);

  settings_patch mode;
  mode.mode = export_mode::nightly;
  auto fourth = settings.apply(mode);
  CHECK(fourth->generation == 3);
  CHECK(fourth->policy.mode == export_mode::nightly);
  CHECK(fourth->policy.debounce_ms == 250);
  CHECK(fourth->nightly_at == "22:30:15");
  CHECK(fourth->nightly_at_s == 22 * 3600 + 30 * 60 + 15);

  // A parsed body applies the same way.
  auto parsed = parse_settings_patch(
    R"({"mode":"hybrid","debounce_ms":0,"nightly_at":"00:00"})");
  REQUIRE(parsed);
  auto fifth = settings.apply(*parsed);
  CHECK(fifth->generation == 4);
  CHECK(fifth->policy.mode == export_mode::hybrid);
  CHECK(fifth->policy.debounce_ms == 0);
  CHECK(fifth->nightly_at == "00:00");
  CHECK(fifth->nightly_at_s == 0);
  CHECK(settings.get()->generation == 4);
}
