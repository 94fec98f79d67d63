#pragma once
// Per-user budget of model calls and tokens per minute, so one busy user
// cannot spend the whole deployment's model quota.
//
// Fixed windows: a window opens at the first use (a recorded call or
// tokens) after the previous window ended and lasts `window`; counts start
// again from zero in each. Fixed windows are cheap (three numbers per user)
// and easy to explain in an error ("try again after <window_end>"); the price
// is that up to twice a limit can pass around a window boundary.
//
// Tokens are known only when a call returns, so allows() judges by the
// tokens of calls that have finished: the window in which the limit is
// reached may overshoot it by the calls still out (one per caller that
// serialises its calls). Tokens count in the window that is current when
// they are recorded, not in the one their call started in.
//
// Time is passed in, never read. Not thread-safe; the owning actor
// serialises calls.

#include <chrono>
#include <cstdint>
#include <optional>

namespace engram::providers {

struct budget_limits {
  // Calls a user may start per window; 0 means unlimited. Default: 0.
  uint64_t calls_per_minute = 0;
  // Prompt plus completion tokens per window; 0 means unlimited. Default: 0.
  uint64_t tokens_per_minute = 0;
};

class usage_budget {
public:
  using clock = std::chrono::steady_clock;

  /// `window` below 1 ms counts as 1 ms; despite the limits' names it sets
  /// the window length (tests and operators may shorten it).
  explicit usage_budget(budget_limits l, std::chrono::milliseconds window =
                                            std::chrono::minutes(1));

  /// True when both the calls and the tokens used in the window current at
  /// `now` are below their limits. Forgets a window that has ended.
  bool allows(clock::time_point now);

  /// Counts one call, opening a window if none is current.
  void record_call(clock::time_point now);

  /// Counts `tokens` (saturating), opening a window if none is current.
  void record_tokens(clock::time_point now, uint64_t tokens);

  /// When the window current at `now` ends (allows() may turn true again
  /// then); `now` itself when no window is current.
  clock::time_point window_end(clock::time_point now) const;

  /// Calls and tokens counted in the window current at `now`.
  uint64_t calls_used(clock::time_point now) const;
  uint64_t tokens_used(clock::time_point now) const;

  /// True when nothing is counted in the window current at `now`: the owner
  /// may drop this budget and create a fresh one later with no change in
  /// behaviour.
  bool idle(clock::time_point now) const;

private:
  bool current(clock::time_point now) const;
  void open_if_needed(clock::time_point now);

  budget_limits limits_;
  clock::duration window_;
  std::optional<clock::time_point> start_; // of the last window opened
  uint64_t calls_ = 0;
  uint64_t tokens_ = 0;
};

} // namespace engram::providers
