#include "runtime/cache/cache_keys.hpp"

#include <sodium.h>

namespace engram::cache {

std::string make_key(std::initializer_list<std::string_view> parts) {
  std::size_t n = parts.size();
  for (auto p : parts)
    n += p.size();
  std::string out;
  out.reserve(n);
  bool first = true;
  for (auto p : parts) {
    if (!first)
      out += key_sep;
    first = false;
    out.append(p);
  }
  return out;
}

std::string digest(std::string_view data) {
  if (sodium_init() < 0) // idempotent
    return {};
  unsigned char out[16];
  crypto_generichash(out, sizeof(out),
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), nullptr, 0);
  char hex[2 * sizeof(out) + 1];
  sodium_bin2hex(hex, sizeof(hex), out, sizeof(out));
  return hex;
}

std::string search_key(std::string_view user, uint64_t gen,
                       std::string_view query, uint32_t k,
                       std::string_view session) {
  auto g = std::to_string(gen);
  auto kk = std::to_string(k);
  return make_key({user, g, kk, session, query});
}

std::string search_user_prefix(std::string_view user) {
  std::string out{user};
  out += key_sep;
  return out;
}

} // namespace engram::cache
