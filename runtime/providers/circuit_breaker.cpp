#include "runtime/providers/circuit_breaker.hpp"

#include <algorithm>
#include <limits>

namespace engram::providers {

namespace {

using clock = circuit_breaker::clock;

breaker_options sanitised(breaker_options o) {
  // A year keeps opened_at + cooldown far from overflowing a time point.
  constexpr std::chrono::milliseconds year = std::chrono::hours(24 * 365);
  o.failure_threshold = std::max<uint32_t>(o.failure_threshold, 1);
  o.cooldown = std::clamp(o.cooldown, std::chrono::milliseconds::zero(), year);
  return o;
}

} // namespace

const char* to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
  }
  return "unknown";
}

circuit_breaker::circuit_breaker(breaker_options o, transition_fn on_transition)
  : options_(sanitised(o)), on_transition_(std::move(on_transition)) {
}

bool circuit_breaker::allow(clock::time_point now) {
  switch (state_) {
    case breaker_state::closed:
      return true;
    case breaker_state::half_open:
      return false; // the probe is still out
    case breaker_state::open:
      if (now < retry_at())
        return false;
      move_to(breaker_state::half_open);
      return true;
  }
  return false;
}

void circuit_breaker::on_success(clock::time_point) {
  if (state_ == breaker_state::open)
    return; // a late answer to a call from before the breaker opened
  failures_ = 0;
  opened_at_.reset();
  if (state_ == breaker_state::half_open)
    move_to(breaker_state::closed);
}

void circuit_breaker::on_failure(clock::time_point now) {
  if (state_ == breaker_state::open)
    return; // a late failure says nothing new; keep the cooldown as it is
  if (failures_ < std::numeric_limits<uint32_t>::max())
    ++failures_;
  if (state_ == breaker_state::half_open
      || failures_ >= options_.failure_threshold)
    open(now);
}

breaker_state circuit_breaker::state(clock::time_point now) const {
  if (state_ == breaker_state::open && now >= retry_at())
    return breaker_state::half_open;
  return state_;
}

uint32_t circuit_breaker::consecutive_failures() const {
  return failures_;
}

std::optional<clock::time_point> circuit_breaker::opened_at() const {
  return opened_at_;
}

clock::time_point circuit_breaker::retry_at() const {
  if (!opened_at_)
    return clock::time_point::min();
  return *opened_at_ + options_.cooldown;
}

void circuit_breaker::open(clock::time_point now) {
  opened_at_ = now;
  move_to(breaker_state::open);
}

void circuit_breaker::move_to(breaker_state next) {
  auto from = state_;
  state_ = next;
  if (on_transition_)
    on_transition_(from, next);
}

} // namespace engram::providers
