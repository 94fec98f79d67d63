#include "runtime/exports/debounce_policy.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "messages/errors.hpp"
#include "storage/json_codec.hpp"

namespace engram::exports {

namespace {

constexpr trigger_kind all_kinds[] = {
  trigger_kind::intent_closed, trigger_kind::document_upload,
  trigger_kind::concept_change, trigger_kind::session_end,
  trigger_kind::manual, trigger_kind::nightly};

// Times come from callers and from persisted JSON, so any int64 may show
// up: saturate instead of overflowing.
int64_t add_sat(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out))
    return b > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  return out;
}

int64_t sub_sat(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_sub_overflow(a, b, &out))
    return b < 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  return out;
}

int64_t window_ms(const policy_config& cfg) {
  constexpr int64_t year = int64_t{365} * 24 * 3600 * 1000;
  return std::clamp<int64_t>(cfg.debounce_ms, 0, year);
}

// Cut at max_label_bytes, backing off UTF-8 continuation bytes so the cut
// never splits a character (the JSON parser would refuse the state).
std::string bounded_label(std::string_view label) {
  if (label.size() <= max_label_bytes)
    return std::string{label};
  auto n = max_label_bytes;
  while (n > 0 && (static_cast<unsigned char>(label[n]) & 0xC0) == 0x80)
    --n;
  return std::string{label.substr(0, n)};
}

carried_trigger carried_of(const trigger& t) {
  return {t.kind, t.at_ms, bounded_label(t.label)};
}

bool is_event_trigger(trigger_kind k) {
  return k != trigger_kind::manual && k != trigger_kind::nightly;
}

bool has_waiting(const debounce_state& s) {
  return !s.pending.empty() || s.pending_dropped > 0;
}

decision ignore(outcome what, std::string reason) {
  decision d;
  d.what = what;
  d.reason = std::move(reason);
  return d;
}

// Step 1: the mode. Empty when the mode lets the trigger through.
std::optional<std::string> mode_refusal(export_mode mode, trigger_kind k) {
  if (mode == export_mode::event && k == trigger_kind::nightly)
    return std::string{"mode event ignores nightly"};
  if (mode == export_mode::nightly && is_event_trigger(k))
    return std::string{"mode nightly ignores "} + to_string(k);
  return std::nullopt;
}

// Step 3: the thresholds. Empty when the trigger is significant enough.
std::optional<std::string> threshold_refusal(const policy_config& cfg,
                                             const trigger& t) {
  if (t.kind == trigger_kind::concept_change
      && t.concept_count < cfg.concept_change_threshold)
    return "concept_change: " + std::to_string(t.concept_count)
           + " concepts, threshold " + std::to_string(cfg.concept_change_threshold);
  if (t.kind == trigger_kind::session_end && !t.high_impact
      && t.session_turns < cfg.session_end_min_turns)
    return "session_end: not high impact and " + std::to_string(t.session_turns)
           + " turns, minimum " + std::to_string(cfg.session_end_min_turns);
  return std::nullopt;
}

// An export at `now` answering everything waiting and then `self`: the
// trailing export (if any) is absorbed and a new window starts.
decision export_now(debounce_state& s, int64_t now, std::string reason,
                    std::optional<carried_trigger> self) {
  decision d;
  d.what = outcome::exported;
  d.reason = std::move(reason);
  d.export_now = true;
  d.cancel_timer = s.trailing_due_ms.has_value() && self.has_value();
  d.carried = std::move(s.pending);
  d.carried_dropped = s.pending_dropped;
  if (self)
    d.carried.push_back(std::move(*self));
  s.pending.clear();
  s.pending_dropped = 0;
  s.trailing_due_ms.reset();
  s.last_export_ms = now;
  return d;
}

void add_pending(const policy_config& cfg, debounce_state& s,
                 const trigger& t) {
  if (s.pending.size() < cfg.max_pending)
    s.pending.push_back(carried_of(t));
  else if (s.pending_dropped < std::numeric_limits<uint32_t>::max())
    ++s.pending_dropped;
}

// Step 6: wait for the trailing export at the end of the current window.
decision defer(const policy_config& cfg, debounce_state& s, const trigger& t) {
  decision d;
  if (s.trailing_due_ms) {
    d.what = outcome::coalesced;
    d.reason = "joins the trailing export";
  } else {
    s.trailing_due_ms = add_sat(*s.last_export_ms, window_ms(cfg));
    ++s.timer_generation;
    d.what = outcome::debounced;
    d.reason = "within the debounce window: trailing export scheduled";
    d.schedule_timer = true;
  }
  add_pending(cfg, s, t);
  d.timer_due_ms = *s.trailing_due_ms;
  d.timer_generation = s.timer_generation;
  return d;
}

// Why `t` exports now (steps 4 and 5), or empty when it waits.
std::optional<std::string> immediate_reason(const policy_config& cfg,
                                            const debounce_state& s,
                                            const trigger& t) {
  if (t.force)
    return std::string{"forced"};
  if (cfg.high_priority.count(t.kind) > 0)
    return std::string{"high priority"};
  if (!s.last_export_ms)
    return std::string{"leading edge: first export"};
  if (sub_sat(t.at_ms, *s.last_export_ms) >= window_ms(cfg))
    return std::string{"leading edge: no export within the window"};
  return std::nullopt;
}

decision on_nightly(debounce_state& s, const trigger& t) {
  // Triggers waiting for a trailing export are changes too, whatever the
  // caller's flag says.
  if (!t.force && !t.changed_since_last_export && !has_waiting(s))
    return ignore(outcome::unchanged, "nightly: no changes since the last export");
  return export_now(s, t.at_ms, t.force ? "forced" : "nightly schedule",
                    carried_of(t));
}

// --- JSON --------------------------------------------------------------------

using boost::json::array;
using boost::json::object;
using boost::json::value;

caf::error damaged(std::string_view field, std::string_view what) {
  return make_error(ec::storage_failure,
                    "damaged export debounce state: " + std::string{field}
                      + " " + std::string{what},
                    std::string{field});
}

value optional_ms(const std::optional<int64_t>& x) {
  if (x)
    return *x;
  return nullptr;
}

std::optional<int64_t> as_int64(const value& v) {
  if (v.is_int64())
    return v.get_int64();
  if (v.is_uint64()
      && v.get_uint64()
           <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(v.get_uint64());
  return std::nullopt;
}

std::optional<uint64_t> as_uint64(const value& v) {
  if (v.is_uint64())
    return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0)
    return static_cast<uint64_t>(v.get_int64());
  return std::nullopt;
}

caf::expected<std::optional<int64_t>> read_optional_ms(const object& o,
                                                        std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v)
    return damaged(key, "is missing");
  if (v->is_null())
    return std::optional<int64_t>{};
  if (auto x = as_int64(*v))
    return std::optional<int64_t>{*x};
  return damaged(key, "must be an integer or null");
}

caf::expected<uint64_t> read_uint(const object& o, std::string_view key,
                                  uint64_t max) {
  auto* v = o.if_contains(key);
  if (!v)
    return damaged(key, "is missing");
  if (auto x = as_uint64(*v); x && *x <= max)
    return *x;
  return damaged(key, "must be an unsigned integer in range");
}

std::optional<carried_trigger> read_carried(const value& v) {
  if (!v.is_array() || v.get_array().size() != 3)
    return std::nullopt;
  auto& a = v.get_array();
  if (!a[0].is_string() || !a[2].is_string())
    return std::nullopt;
  auto kind = parse_trigger(a[0].get_string());
  auto at = as_int64(a[1]);
  if (!kind || !at)
    return std::nullopt;
  return carried_trigger{*kind, *at, bounded_label(a[2].get_string())};
}

caf::expected<std::vector<carried_trigger>> read_pending(const object& o) {
  auto* v = o.if_contains("pending");
  if (!v)
    return damaged("pending", "is missing");
  if (!v->is_array())
    return damaged("pending", "must be an array");
  std::vector<carried_trigger> out;
  out.reserve(v->get_array().size());
  for (auto& item : v->get_array()) {
    auto c = read_carried(item);
    if (!c)
      return damaged("pending", "must hold [kind, at_ms, label] triples");
    out.push_back(std::move(*c));
  }
  return out;
}

} // namespace

// --- names -------------------------------------------------------------------

const char* to_string(trigger_kind k) {
  switch (k) {
    case trigger_kind::intent_closed: return "intent_closed";
    case trigger_kind::document_upload: return "document_upload";
    case trigger_kind::concept_change: return "concept_change";
    case trigger_kind::session_end: return "session_end";
    case trigger_kind::manual: return "manual";
    case trigger_kind::nightly: return "nightly";
  }
  return "unknown";
}

std::optional<trigger_kind> parse_trigger(std::string_view s) {
  for (auto k : all_kinds)
    if (s == to_string(k))
      return k;
  return std::nullopt;
}

const char* to_string(export_mode m) {
  switch (m) {
    case export_mode::event: return "event";
    case export_mode::nightly: return "nightly";
    case export_mode::hybrid: return "hybrid";
  }
  return "unknown";
}

std::optional<export_mode> parse_mode(std::string_view s) {
  for (auto m : {export_mode::event, export_mode::nightly, export_mode::hybrid})
    if (s == to_string(m))
      return m;
  return std::nullopt;
}

const char* to_string(outcome o) {
  switch (o) {
    case outcome::exported: return "exported";
    case outcome::debounced: return "debounced";
    case outcome::coalesced: return "coalesced";
    case outcome::ignored: return "ignored";
    case outcome::unchanged: return "unchanged";
    case outcome::failed: return "failed";
  }
  return "unknown";
}

bool operator==(const carried_trigger& a, const carried_trigger& b) {
  return a.kind == b.kind && a.at_ms == b.at_ms && a.label == b.label;
}

bool operator==(const debounce_state& a, const debounce_state& b) {
  return a.last_export_ms == b.last_export_ms
         && a.trailing_due_ms == b.trailing_due_ms
         && a.timer_generation == b.timer_generation && a.pending == b.pending
         && a.pending_dropped == b.pending_dropped;
}

// --- policy ------------------------------------------------------------------

decision on_trigger(const policy_config& cfg, debounce_state& state,
                    const trigger& t) {
  if (auto why = mode_refusal(cfg.mode, t.kind))
    return ignore(outcome::ignored, std::move(*why));
  if (t.kind == trigger_kind::nightly)
    return on_nightly(state, t);
  if (!t.force)
    if (auto why = threshold_refusal(cfg, t))
      return ignore(outcome::ignored, std::move(*why));
  if (auto why = immediate_reason(cfg, state, t))
    return export_now(state, t.at_ms, std::move(*why), carried_of(t));
  return defer(cfg, state, t);
}

std::optional<decision> on_timer(const policy_config&, debounce_state& state,
                                 uint64_t generation, int64_t now_ms) {
  if (!state.trailing_due_ms || generation != state.timer_generation)
    return std::nullopt;
  return export_now(state, now_ms, "trailing export", std::nullopt);
}

void on_exported(debounce_state& state, int64_t at_ms) {
  if (!state.last_export_ms || *state.last_export_ms < at_ms)
    state.last_export_ms = at_ms;
}

std::optional<decision> resume(const policy_config&, debounce_state& state,
                               int64_t now_ms) {
  if (!state.trailing_due_ms)
    return std::nullopt;
  if (*state.trailing_due_ms <= now_ms)
    return export_now(state, now_ms, "trailing export overdue after restart",
                      std::nullopt);
  decision d;
  d.what = outcome::debounced;
  d.reason = "trailing export re-armed after restart";
  d.schedule_timer = true;
  d.timer_due_ms = *state.trailing_due_ms;
  d.timer_generation = ++state.timer_generation;
  return d;
}

// --- persistence -------------------------------------------------------------

std::string to_json(const debounce_state& state) {
  array pending;
  pending.reserve(state.pending.size());
  for (auto& c : state.pending)
    pending.push_back(array{to_string(c.kind), c.at_ms, c.label});
  object o{{"last_export_ms", optional_ms(state.last_export_ms)},
           {"trailing_due_ms", optional_ms(state.trailing_due_ms)},
           {"timer_generation", state.timer_generation},
           {"pending", std::move(pending)},
           {"pending_dropped", state.pending_dropped}};
  return storage::encode_json(o);
}

caf::expected<debounce_state> debounce_state_from_json(std::string_view text) {
  auto v = storage::decode_json(text);
  if (!v)
    return damaged("state", "is not valid JSON (" + message_of(v.error()) + ")");
  if (!v->is_object())
    return damaged("state", "is not a JSON object");
  auto& o = v->get_object();
  auto last = read_optional_ms(o, "last_export_ms");
  if (!last)
    return last.error();
  auto due = read_optional_ms(o, "trailing_due_ms");
  if (!due)
    return due.error();
  auto gen = read_uint(o, "timer_generation",
                       std::numeric_limits<uint64_t>::max());
  if (!gen)
    return gen.error();
  auto pending = read_pending(o);
  if (!pending)
    return pending.error();
  auto dropped = read_uint(o, "pending_dropped",
                           std::numeric_limits<uint32_t>::max());
  if (!dropped)
    return dropped.error();
  debounce_state s;
  s.last_export_ms = *last;
  s.trailing_due_ms = *due;
  s.timer_generation = *gen;
  s.pending = std::move(*pending);
  s.pending_dropped = static_cast<uint32_t>(*dropped);
  if (s.trailing_due_ms.has_value() != has_waiting(s))
    return damaged("trailing_due_ms",
                   "must be set exactly when triggers are pending");
  return s;
}

} // namespace engram::exports
