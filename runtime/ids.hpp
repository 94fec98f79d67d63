#pragma once
// Identifiers and timestamps made by the node.

#include <cstdint>
#include <string>

namespace engram {

/// A time-ordered unique id: 26 Crockford base32 characters encoding 48 bits
/// of Unix milliseconds then 80 random bits (ULID layout). Ids made later
/// sort after earlier ones, so key order is creation order.
std::string make_time_id();

/// Milliseconds since the Unix epoch (system clock).
int64_t now_unix_ms();

/// UTC ISO-8601 with milliseconds, e.g. "2026-11-22T03:50:00.123Z".
std::string iso8601_ms(int64_t unix_ms);

/// A random 16-hex-character id (request ids).
std::string make_request_id();

} // namespace engram
