#include "runtime/exports/exporter_record.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "messages/errors.hpp"
#include "storage/key_codec.hpp"

namespace engram::exports {

namespace {

caf::error damaged(const std::string& what) {
  return make_error(ec::storage_failure,
                    "stored exporter state is damaged: " + what);
}

} // namespace

std::string to_json(const exporter_record& r) {
  boost::json::object o{
    {"debounce", boost::json::parse(to_json(r.debounce))},
    {"version", r.version},
    {"last_hash", r.last_hash},
    {"stats", to_json(r.stats)}};
  return boost::json::serialize(o);
}

caf::expected<exporter_record> exporter_record_from_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object())
    return damaged("not a JSON object");
  auto& o = v.as_object();
  exporter_record r;
  auto deb = o.if_contains("debounce");
  if (!deb)
    return damaged("debounce missing");
  auto d = debounce_state_from_json(boost::json::serialize(*deb));
  if (!d)
    return d.error();
  r.debounce = std::move(*d);
  auto ver = o.if_contains("version");
  // to_number<uint64_t>() would throw on a negative int64: check the sign.
  if (!ver || !(ver->is_uint64() || (ver->is_int64() && ver->as_int64() >= 0)))
    return damaged("version");
  r.version = ver->to_number<uint64_t>();
  if (auto h = o.if_contains("last_hash"); h && h->is_string())
    r.last_hash = std::string{h->as_string()};
  if (auto s = o.if_contains("stats")) {
    auto st = user_stats_from_json(*s);
    if (!st)
      return st.error();
    r.stats = *st;
  }
  return r;
}

std::string exporter_state_key(std::string_view user) {
  return storage::key_builder{}.str(user).str("state").bytes();
}

std::string export_dirty_key(std::string_view user) {
  return storage::key_builder{}.str(user).str("dirty").bytes();
}

std::optional<std::pair<std::string, export_key_kind>>
parse_export_key(std::string_view key) {
  storage::key_reader r{key};
  auto user = r.str();
  auto kind = r.str();
  if (!user || !kind || !r.done())
    return std::nullopt;
  if (*kind == "state")
    return std::make_pair(std::move(*user), export_key_kind::state);
  if (*kind == "dirty")
    return std::make_pair(std::move(*user), export_key_kind::dirty);
  return std::nullopt;
}

std::string user_dir_name(std::string_view user) {
  if (!user.empty() && user.front() == '.')
    return "%2E" + std::string{user.substr(1)};
  return std::string{user};
}

} // namespace engram::exports
