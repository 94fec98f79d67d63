#include <boost/json/serialize.hpp>

#include "actors/cache.hpp"
#include "messages/errors.hpp"
#include "runtime/api/forwarder.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/api/routes.hpp"
#include "runtime/cache/cache_keys.hpp"
#include "runtime/http/error_body.hpp"
#include "runtime/http/router.hpp"

namespace engram::api {

namespace {

http::response json_ok(const boost::json::object& obj) {
  http::response res;
  res.status = 200;
  res.body = boost::json::serialize(obj);
  return res;
}

struct invalidation {
  std::string prefix;
  std::vector<std::shared_ptr<const cache_pool>> pools;
};

// {prefix?, user?, use?}: exactly one of prefix and user; use one of the
// enabled uses (default: all).
caf::expected<invalidation> parse_invalidation(std::string_view body,
                                               const cache_deps& deps) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"prefix", "user", "use"}))
    return err;
  auto prefix = read_string(*obj, "prefix", {0, 1024}, false);
  if (!prefix)
    return prefix.error();
  auto user = read_string(*obj, "user", {1, 128}, false);
  if (!user)
    return user.error();
  auto use = read_string(*obj, "use", {1, 16}, false);
  if (!use)
    return use.error();
  if (prefix->has_value() == user->has_value())
    return make_error(ec::invalid_argument,
                      "body: give exactly one of prefix, user", "prefix");
  if (*user && !http::is_valid_id(**user))
    return make_error(ec::invalid_argument,
                      "user: must match [A-Za-z0-9_.:-]{1,128}", "user");
  invalidation inv;
  // A user's search answers start with its id; model and embedding keys
  // hold no user.
  inv.prefix = *user ? cache::search_user_prefix(**user) : **prefix;
  for (auto& p : deps.pools)
    if (!*use || p->opts.use == **use)
      inv.pools.push_back(p);
  if (*use && inv.pools.empty())
    return make_error(ec::invalid_argument,
                      "use: must be an enabled cache use (search, llm, embed), "
                      "got \"" + **use + "\"",
                      "use");
  return inv;
}

} // namespace

void add_cache_routes(gateway& gw, cache_deps deps) {
  gw.add_route("GET", "/v1/cache/stats", access::any_key,
               [deps](http::request, http::path_params, http::responder done) {
                 boost::json::object uses;
                 for (auto& p : deps.pools)
                   uses[p->opts.use] = p->stats();
                 done(json_ok({{"uses", std::move(uses)}}));
               });
  gw.add_route("POST", "/v1/cache/invalidate", access::admin,
               [deps](http::request req, http::path_params,
                      http::responder done) {
                 if (auto bad = require_json(req.content_type))
                   return done(std::move(*bad));
                 auto inv = parse_invalidation(req.body, deps);
                 if (!inv)
                   return done(http::error_response(inv.error()));
                 auto prefix = inv->prefix;
                 invalidate_prefix(*deps.sys, std::move(inv->pools), prefix,
                                   [done](uint64_t n) {
                                     done(json_ok({{"invalidated", n}}));
                                   });
               });
}

} // namespace engram::api
