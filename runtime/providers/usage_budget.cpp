#include "runtime/providers/usage_budget.hpp"

#include <algorithm>
#include <limits>

namespace engram::providers {

namespace {

using clock = usage_budget::clock;

bool below(uint64_t used, uint64_t limit) {
  return limit == 0 || used < limit;
}

} // namespace

usage_budget::usage_budget(budget_limits l, std::chrono::milliseconds window)
  : limits_(l), window_(std::max(window, std::chrono::milliseconds{1})) {
}

// A time before the window's start (a caller passing an older time point)
// still counts as inside it: windows never move backwards.
bool usage_budget::current(clock::time_point now) const {
  return start_ && now - *start_ < window_;
}

void usage_budget::open_if_needed(clock::time_point now) {
  if (current(now))
    return;
  start_ = now;
  calls_ = 0;
  tokens_ = 0;
}

bool usage_budget::allows(clock::time_point now) {
  if (!current(now))
    start_.reset();
  return below(calls_used(now), limits_.calls_per_minute)
         && below(tokens_used(now), limits_.tokens_per_minute);
}

void usage_budget::record_call(clock::time_point now) {
  open_if_needed(now);
  if (calls_ < std::numeric_limits<uint64_t>::max())
    ++calls_;
}

void usage_budget::record_tokens(clock::time_point now, uint64_t tokens) {
  open_if_needed(now);
  tokens_ = std::min(tokens, std::numeric_limits<uint64_t>::max() - tokens_)
            + tokens_;
}

clock::time_point usage_budget::window_end(clock::time_point now) const {
  return current(now) ? *start_ + window_ : now;
}

uint64_t usage_budget::calls_used(clock::time_point now) const {
  return current(now) ? calls_ : 0;
}

uint64_t usage_budget::tokens_used(clock::time_point now) const {
  return current(now) ? tokens_ : 0;
}

bool usage_budget::idle(clock::time_point now) const {
  return calls_used(now) == 0 && tokens_used(now) == 0;
}

} // namespace engram::providers
