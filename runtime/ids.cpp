#include "runtime/ids.hpp"

#include <chrono>
#include <ctime>

#include <sodium.h>

namespace engram {

namespace {
constexpr char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
} // namespace

int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

std::string make_time_id() {
  unsigned char bytes[16];
  auto ms = static_cast<uint64_t>(now_unix_ms());
  for (int i = 5; i >= 0; --i, ms >>= 8)
    bytes[i] = static_cast<unsigned char>(ms & 0xFF);
  randombytes_buf(bytes + 6, 10);
  // 128 bits -> 26 base32 digits (the first digit carries 3 bits).
  std::string out(26, '0');
  unsigned __int128 v = 0;
  for (auto b : bytes)
    v = (v << 8) | b;
  for (int i = 25; i >= 0; --i, v >>= 5)
    out[static_cast<size_t>(i)] = crockford[static_cast<int>(v & 31)];
  return out;
}

std::string iso8601_ms(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ",
                static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string make_request_id() {
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof(bytes));
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

} // namespace engram
