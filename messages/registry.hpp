#pragma once
// The one place that registers every message type with the actor system, so
// any of them can cross nodes, and a startup self-test proving each one
// survives serialisation (CAF 0.17 only notices a missing registration at
// run time, as an empty message on the peer).

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>

namespace engram {

void register_message_types(caf::actor_system_config& cfg);

/// Serialises and deserialises a sample of every registered type;
/// ec::internal naming the first type that does not round-trip.
caf::error self_test_message_types(caf::actor_system& sys);

} // namespace engram
