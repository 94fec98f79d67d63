#pragma once
// When to export a user's mesh context file: the pure policy behind the
// per-user exporter actor. High-impact events (a closed intent, an uploaded
// document, ...) each ask for an export; the policy debounces them so a
// burst never causes an export storm and the last change of a burst is
// always exported.
//
// For each trigger, in this order:
//   1. mode      event ignores nightly; nightly ignores every event trigger
//                except manual; hybrid takes all               -> ignored
//   2. nightly   exports now if there were changes since the last export
//                (caller's flag, or triggers waiting for a trailing export),
//                else                                          -> unchanged
//   3. threshold concept_change below concept_change_threshold concepts,
//                session_end neither high_impact nor with enough turns
//                                                              -> ignored
//   4. force or a high-priority kind                           -> exported
//   5. no export within debounce_ms (or never one)             -> exported
//                                                      (the leading edge)
//   6. otherwise a trailing export is scheduled for the end of the window
//      (last export + debounce_ms) and carries this trigger    -> debounced
//      or, when one is already scheduled, the trigger joins it -> coalesced
// `force` skips steps 2 (the change check) and 3 to 6, never step 1: the
// mode is the operator's choice; manual is allowed in every mode.
//
// An export decided now answers every coalesced trigger too: they move into
// the decision's `carried` list and the trailing timer is cancelled. So a
// burst of N triggers within one window gives exactly two exports, the
// leading one and a trailing one carrying the other N - 1.
//
// Windows start when an export is decided (on_trigger or on_timer returning
// export_now), so triggers arriving while the file is still being written
// are debounced rather than starting a second export. on_exported() then
// moves the start to when the export actually finished.
//
// Timers: the actor owns the real timer and sends itself a message carrying
// the decision's timer_generation; on_timer() ignores a timer whose
// generation is not the scheduled one (cancelled, or replaced), so the actor
// never has to cancel a timer for correctness (cancel_timer is a hint).
//
// Time is passed in (unix ms), never read. Not thread-safe; the owning actor
// serialises calls. No function here throws except on allocation failure.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace engram::exports {

enum class trigger_kind : uint8_t {
  intent_closed,
  document_upload,
  concept_change,
  session_end,
  manual,
  nightly,
};

/// "intent_closed", "document_upload", "concept_change", "session_end",
/// "manual", "nightly".
const char* to_string(trigger_kind k);
std::optional<trigger_kind> parse_trigger(std::string_view s);

/// event: triggers only (nightly ignored). nightly: the nightly schedule and
/// manual exports only. hybrid: both.
enum class export_mode : uint8_t { event, nightly, hybrid };

/// "event", "nightly", "hybrid".
const char* to_string(export_mode m);
std::optional<export_mode> parse_mode(std::string_view s);

/// What happened to a trigger; also what the exporter logs per trigger.
/// The policy never returns `failed`: the exporter uses it to log an export
/// whose file could not be written.
enum class outcome : uint8_t {
  exported,  // an export happens now and answers this trigger
  debounced, // this trigger scheduled the window's trailing export
  coalesced, // this trigger joined an already scheduled trailing export
  ignored,   // by mode or threshold; `reason` says which
  unchanged, // nightly, but nothing changed since the last export
  failed,    // (exporter only) the export was attempted and failed
};

/// "exported", "debounced", "coalesced", "ignored", "unchanged", "failed".
const char* to_string(outcome o);

/// Labels kept in the state are cut to this many bytes (at a UTF-8
/// character boundary), so a caller's long label cannot bloat the state.
constexpr std::size_t max_label_bytes = 64;

struct policy_config {
  // Which triggers export (see export_mode). Default: hybrid.
  export_mode mode = export_mode::hybrid;
  // Window after an export within which further triggers wait for one
  // trailing export at its end. Longer windows mean fewer exports but a
  // file that lags changes by up to this long. Negative counts as 0 (every
  // trigger exports at once); more than a year counts as a year.
  // Default: 600000 (10 minutes).
  int64_t debounce_ms = 600000;
  // concept_change triggers with fewer concepts are ignored; 0 takes all.
  // Default: 5.
  uint32_t concept_change_threshold = 5;
  // session_end triggers export only when high_impact or with at least this
  // many turns; 0 takes all. Default: 10.
  uint32_t session_end_min_turns = 10;
  // Kinds that export at once, skipping the debounce window (thresholds and
  // mode still apply). Default: none.
  std::set<trigger_kind> high_priority;
  // Coalesced triggers listed by a trailing export; further ones are only
  // counted (debounce_state::pending_dropped), which bounds a user's state
  // whatever the burst. Default: 100.
  std::size_t max_pending = 100;
};

/// One request for an export, as the exporter receives it.
struct trigger {
  trigger_kind kind = trigger_kind::manual;
  // When it happened (unix ms); the policy's "now" for this call.
  int64_t at_ms = 0;
  // Export now, skipping thresholds, the change check and the window.
  bool force = false;
  // concept_change: how many concepts changed.
  uint32_t concept_count = 0;
  // session_end: the session had a high-impact event.
  bool high_impact = false;
  // session_end: turns in the session.
  uint32_t session_turns = 0;
  // nightly: whether the user changed anything since their last export.
  bool changed_since_last_export = true;
  // For logs and the export's trigger list, e.g. "intent_closed:i42".
  std::string label;
};

/// What an export remembers of a trigger it answers: the fields above only
/// matter to the decision, so they are not kept.
struct carried_trigger {
  trigger_kind kind = trigger_kind::manual;
  int64_t at_ms = 0;
  std::string label; // at most max_label_bytes
};

bool operator==(const carried_trigger& a, const carried_trigger& b);

/// One user's debounce state; the exporter keeps one per user and persists
/// it (to_json) so a restart does not reset it.
///
/// Size: 72 bytes on 64-bit Linux while no trailing export is scheduled
/// (the usual case), about 110 bytes as JSON. A scheduled trailing export
/// adds per listed trigger 48 bytes plus a heap block for labels over 15
/// bytes, at most max_pending of them: under 16 KB with the defaults,
/// however long the burst.
/// 10,000 idle users take under 1 MB.
///
/// Invariant: trailing_due_ms is set exactly when something waits for it
/// (pending non-empty or pending_dropped > 0).
struct debounce_state {
  // When the current window started: the last export decided or finished.
  // Empty until the first export.
  std::optional<int64_t> last_export_ms;
  // When the scheduled trailing export is due; empty when none is.
  std::optional<int64_t> trailing_due_ms;
  // Generation of the scheduled timer; bumped each time one is scheduled.
  uint64_t timer_generation = 0;
  // Triggers waiting for the trailing export, oldest first, at most
  // policy_config::max_pending of them.
  std::vector<carried_trigger> pending;
  // Further waiting triggers that are counted but not listed.
  uint32_t pending_dropped = 0;
};

bool operator==(const debounce_state& a, const debounce_state& b);

/// The policy's answer. When export_now is set the caller exports now,
/// answering `carried` (and `carried_dropped` unlisted triggers); when
/// schedule_timer is set it arms a timer for timer_due_ms that calls
/// on_timer(timer_generation).
struct decision {
  outcome what = outcome::ignored;
  // Why, for logs: "leading edge", "mode event ignores nightly", ...
  std::string reason;
  bool export_now = false;
  // Triggers the export answers, oldest first: the coalesced ones it
  // absorbs and then the one that caused it (on_trigger). Empty unless
  // export_now.
  std::vector<carried_trigger> carried;
  // Triggers the export answers beyond those listed (the max_pending cap).
  uint32_t carried_dropped = 0;
  // Arm a timer (first debounced trigger of a window, or resume()).
  bool schedule_timer = false;
  // When the trailing export is due and its generation: set whenever one is
  // scheduled after this call (also for coalesced), else 0.
  int64_t timer_due_ms = 0;
  uint64_t timer_generation = 0;
  // An export now absorbed a scheduled trailing export; its timer may be
  // dropped (on_timer would ignore it anyway).
  bool cancel_timer = false;

  /// Every trigger the export answers, listed or not.
  std::size_t carried_count() const { return carried.size() + carried_dropped; }
};

/// Decides what to do about `t` at t.at_ms and updates `state` to match
/// (ignored and unchanged triggers leave it as it was).
[[nodiscard]] decision on_trigger(const policy_config& cfg,
                                  debounce_state& state, const trigger& t);

/// The trailing-export timer of `generation` fired at `now_ms`. Returns the
/// export to do (what = exported, carrying every coalesced trigger) and
/// starts a new window at now_ms; nothing if that timer is stale (cancelled
/// by an export now, or not the scheduled one).
[[nodiscard]] std::optional<decision>
on_timer(const policy_config& cfg, debounce_state& state, uint64_t generation,
         int64_t now_ms);

/// Records an export that finished at `at_ms`: the window now starts there.
/// Never moves the window start back (an older completion changes nothing).
/// Leaves a scheduled trailing export alone.
void on_exported(debounce_state& state, int64_t at_ms);

/// After a restart, with `state` as loaded: no timers survive a restart, so
/// a scheduled trailing export is either due (`now_ms` >= its due time: the
/// export to do now, as on_timer would return it) or re-armed under a new
/// generation (schedule_timer at the stored due time, what = debounced).
/// Nothing when no trailing export was scheduled.
[[nodiscard]] std::optional<decision>
resume(const policy_config& cfg, debounce_state& state, int64_t now_ms);

/// Compact JSON:
/// {"last_export_ms":<int|null>,"trailing_due_ms":<int|null>,
///  "timer_generation":<uint>,"pending":[[<kind>,<at_ms>,<label>],...],
///  "pending_dropped":<uint>}
std::string to_json(const debounce_state& state);

/// Parses to_json's output. ec::storage_failure naming the bad field when
/// the text is damaged (bad JSON, a missing or mistyped field, an unknown
/// trigger kind, or a state breaking the invariant above).
caf::expected<debounce_state> debounce_state_from_json(std::string_view text);

} // namespace engram::exports
