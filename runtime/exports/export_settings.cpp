#include "runtime/exports/export_settings.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "messages/errors.hpp"
#include "runtime/api/json_input.hpp"

namespace engram::exports {

namespace {

constexpr int64_t max_debounce_ms = 31536000000; // a year
constexpr int64_t day_ms = 86400000;

caf::error bad(const char* field, const std::string& what) {
  return make_error(ec::invalid_argument, std::string{field} + ": " + what,
                    field);
}

} // namespace

std::optional<int32_t> parse_time_of_day(std::string_view s) {
  auto two = [&](std::size_t at) -> int {
    if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0'
        || s[at + 1] > '9')
      return -1;
    return (s[at] - '0') * 10 + (s[at + 1] - '0');
  };
  if ((s.size() != 5 && s.size() != 8) || s[2] != ':'
      || (s.size() == 8 && s[5] != ':'))
    return std::nullopt;
  int h = two(0), m = two(3), sec = s.size() == 8 ? two(6) : 0;
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
    return std::nullopt;
  return h * 3600 + m * 60 + sec;
}

int64_t next_daily_ms(int64_t now_ms, int32_t seconds_of_day) {
  auto day_start = now_ms - ((now_ms % day_ms) + day_ms) % day_ms;
  auto at = day_start + int64_t{seconds_of_day} * 1000;
  return at > now_ms ? at : at + day_ms;
}

caf::expected<settings_patch> parse_settings_patch(std::string_view body) {
  auto obj = api::parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = api::reject_unknown(*obj, {"mode", "debounce_ms", "nightly_at"}))
    return err;
  settings_patch p;
  if (auto m = api::read_string(*obj, "mode", {1, 16}, false); !m)
    return m.error();
  else if (*m) {
    p.mode = parse_mode(**m);
    if (!p.mode)
      return bad("mode", "must be one of event, nightly, hybrid, got \"" + **m
                           + "\"");
  }
  auto d = api::read_uint(*obj, "debounce_ms", 0, max_debounce_ms);
  if (!d)
    return d.error();
  if (*d)
    p.debounce_ms = static_cast<int64_t>(**d);
  if (auto n = api::read_string(*obj, "nightly_at", {1, 16}, false); !n)
    return n.error();
  else if (*n) {
    if (!parse_time_of_day(**n))
      return bad("nightly_at", "must be HH:MM or HH:MM:SS (UTC), got \""
                                 + **n + "\"");
    p.nightly_at = **n;
  }
  // Checked after reading, so {"mode":null} (null counts as not given) is
  // refused too: an empty patch would be stored as "{}", which
  // settings_patch_from_json then refuses at the next start.
  if (!p.mode && !p.debounce_ms && !p.nightly_at)
    return make_error(ec::invalid_argument,
                      "body: give at least one of mode, debounce_ms, "
                      "nightly_at");
  return p;
}

std::string to_json(const settings_patch& p) {
  boost::json::object o;
  if (p.mode)
    o["mode"] = to_string(*p.mode);
  if (p.debounce_ms)
    o["debounce_ms"] = *p.debounce_ms;
  if (p.nightly_at)
    o["nightly_at"] = *p.nightly_at;
  return boost::json::serialize(o);
}

caf::expected<settings_patch> settings_patch_from_json(std::string_view text) {
  auto p = parse_settings_patch(text);
  if (!p)
    return make_error(ec::storage_failure,
                      "stored exports config is damaged: " + message_of(p.error()));
  return p;
}

std::string exports_config_key() {
  return "exports_config";
}

boost::json::object to_json(const settings_snapshot& s) {
  boost::json::array high;
  for (auto k : s.policy.high_priority)
    high.emplace_back(to_string(k));
  return {{"mode", to_string(s.policy.mode)},
          {"debounce_ms", s.policy.debounce_ms},
          {"nightly_at", s.nightly_at},
          {"concept_change_threshold", s.policy.concept_change_threshold},
          {"session_end_min_turns", s.policy.session_end_min_turns},
          {"high_priority", std::move(high)},
          {"max_pending", s.policy.max_pending}};
}

export_settings::export_settings(const config::export_options& opts) {
  auto s = std::make_shared<settings_snapshot>();
  s->policy.mode = parse_mode(opts.mode).value_or(export_mode::hybrid);
  s->policy.debounce_ms = static_cast<int64_t>(opts.debounce_ms);
  s->policy.concept_change_threshold = opts.concept_change_threshold;
  s->policy.session_end_min_turns = opts.session_end_min_turns;
  for (auto& name : opts.high_priority)
    if (auto k = parse_trigger(name))
      s->policy.high_priority.insert(*k);
  s->policy.max_pending = opts.max_pending;
  if (auto t = parse_time_of_day(opts.nightly_at)) {
    s->nightly_at = opts.nightly_at;
    s->nightly_at_s = *t;
  }
  cur_ = std::move(s);
}

std::shared_ptr<const settings_snapshot> export_settings::get() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return cur_;
}

std::shared_ptr<const settings_snapshot>
export_settings::apply(const settings_patch& p) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto next = std::make_shared<settings_snapshot>(*cur_);
  if (p.mode)
    next->policy.mode = *p.mode;
  if (p.debounce_ms)
    next->policy.debounce_ms = *p.debounce_ms;
  if (p.nightly_at) {
    next->nightly_at = *p.nightly_at;
    next->nightly_at_s = parse_time_of_day(*p.nightly_at).value_or(0);
  }
  ++next->generation;
  cur_ = next;
  return next;
}

} // namespace engram::exports
