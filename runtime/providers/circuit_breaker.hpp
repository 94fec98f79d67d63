#pragma once
// One circuit breaker per model: after a run of failures the client stops
// calling a model that is down, instead of spending every request's timeout
// on it, and sends a single probe once a cooldown has passed.
//
//   closed    -- failure_threshold consecutive failures -->  open
//   open      -- cooldown over, allow() lets a probe out -->  half_open
//   half_open -- probe succeeds -->  closed
//   half_open -- probe fails    -->  open (cooldown restarts)
//
// The caller must report the outcome of every call allow() let through,
// counting a cancelled or timed-out call as a failure: a half-open breaker
// lets nothing else out until its probe is reported. Outcomes reported
// while open (calls let out before the breaker opened that finish late)
// change nothing, so they neither close the breaker nor extend the cooldown.
//
// Time is passed in, never read. Not thread-safe; the owning actor
// serialises calls. on_transition runs synchronously inside the call that
// changes the state, exactly once per change.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

namespace engram::providers {

enum class breaker_state { closed, open, half_open };

/// "closed", "open" or "half_open".
const char* to_string(breaker_state s);

struct breaker_options {
  // Consecutive failures that open the breaker; 0 counts as 1. Lower values
  // give up on a flaky model sooner. Default: 5.
  uint32_t failure_threshold = 5;
  // How long an open breaker refuses calls before it lets one probe through;
  // negative counts as 0, more than a year as a year. Longer cooldowns spare
  // a struggling model but keep a recovered one unused longer. Default: 30 s.
  std::chrono::milliseconds cooldown{30000};
};

class circuit_breaker {
public:
  using clock = std::chrono::steady_clock;
  using transition_fn =
    std::function<void(breaker_state from, breaker_state to)>;

  explicit circuit_breaker(breaker_options o, transition_fn on_transition = {});

  /// Whether a call may go out at `now`. When the cooldown of an open
  /// breaker is over this moves it to half_open and returns true once; the
  /// next true comes only after that probe's outcome is reported.
  bool allow(clock::time_point now);

  /// Reports a call that succeeded: resets the failure count; closes a
  /// half-open breaker.
  void on_success(clock::time_point now);

  /// Reports a call that failed: may open a closed breaker; reopens a
  /// half-open one.
  void on_failure(clock::time_point now);

  /// The state at `now`; an open breaker whose cooldown is over reports
  /// half_open (allow() would let a probe through) without changing.
  breaker_state state(clock::time_point now) const;

  /// Failures since the last success (or since construction).
  uint32_t consecutive_failures() const;

  /// When the breaker last opened; empty unless open or half_open.
  std::optional<clock::time_point> opened_at() const;

  /// When an open breaker lets a probe through. For a closed breaker
  /// clock::time_point::min() (calls go out now); for a half-open one the
  /// moment its probe became due, which has passed.
  clock::time_point retry_at() const;

private:
  void move_to(breaker_state next);
  void open(clock::time_point now);

  breaker_options options_;
  transition_fn on_transition_;
  breaker_state state_ = breaker_state::closed;
  uint32_t failures_ = 0;
  std::optional<clock::time_point> opened_at_;
};

} // namespace engram::providers
