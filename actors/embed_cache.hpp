#pragma once
// A caching front for the embedding actor, with the same interface: texts
// whose vectors are in the "embed" cache (key: the embedder's identity and
// a digest of the text) are answered from it, only the others go to the
// embedder, and their vectors are stored. Identical texts are embedded once
// per TTL, for every user of the node. Scheduled (never blocks): it waits
// for the cache and the embedder with asynchronous requests.

#include <memory>
#include <string>

#include "actors/cache.hpp"
#include "actors/embedder.hpp"

namespace engram {

/// `identity` names what produces the vectors (provider, model, dimension):
/// changing any of them must not find old vectors.
embedder_actor spawn_embed_cache(caf::actor_system& sys, embedder_actor inner,
                                 std::shared_ptr<const cache_pool> pool,
                                 std::string identity);

} // namespace engram
