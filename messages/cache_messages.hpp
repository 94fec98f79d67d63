#pragma once
// Messages of the cache shard actors (actors/cache.hpp).

#include <string>

#include <caf/meta/type_name.hpp>

namespace engram {

/// The answer to a cache get: `value` is meaningful only when `hit`.
struct cache_lookup {
  bool hit = false;
  std::string value;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cache_lookup& x) {
  return f(caf::meta::type_name("engram::cache_lookup"), x.hit, x.value);
}

} // namespace engram
