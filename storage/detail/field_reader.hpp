#pragma once
// Reads the fields of a stored JSON record (turns, tasks, notes). The first
// bad field wins and later reads are skipped, so the error names the field
// that broke: ec::storage_failure "damaged <record>: <field> <what>". Never
// throws (Boost.JSON's as_*() would on a wrong kind).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <caf/error.hpp>

#include "messages/errors.hpp"

namespace engram::storage::detail {

using boost::json::object;
using boost::json::value;

class field_reader {
public:
  field_reader(const object& o, std::string_view record)
    : o_(o), record_(record) {}

  void str(std::string_view key, std::string& out) {
    auto* v = find(key);
    if (!v)
      return;
    if (!v->is_string())
      return fail(key, "must be a string");
    out.assign(v->get_string().data(), v->get_string().size());
  }

  // A string or null; null reads as empty.
  void nullable_str(std::string_view key, std::string& out) {
    auto* v = find(key);
    if (v && v->is_null())
      out.clear();
    else if (v)
      str(key, out);
  }

  template <class T>
  void integer(std::string_view key, T& out) {
    auto* v = find(key);
    if (!v)
      return;
    if (auto x = as_integer<T>(*v))
      out = *x;
    else
      fail(key, "must be an integer in range");
  }

  void strings(std::string_view key, std::vector<std::string>& out) {
    auto* v = find(key);
    if (!v)
      return;
    if (!v->is_array())
      return fail(key, "must be an array of strings");
    for (auto& item : v->get_array()) {
      if (!item.is_string())
        return fail(key, "must be an array of strings");
      out.emplace_back(item.get_string().data(), item.get_string().size());
    }
  }

  // A string that `from` maps to an enum value.
  template <class Enum, class From>
  void name(std::string_view key, From from, Enum& out) {
    std::string s;
    str(key, s);
    if (err_)
      return;
    if (std::optional<Enum> x = from(s))
      out = *x;
    else
      fail(key, "has unknown value '" + s + "'");
  }

  caf::error error() && { return std::move(err_); }

private:
  // Boost.JSON holds integers as int64 or uint64; doubles are refused.
  template <class T>
  static std::optional<T> as_integer(const value& v) {
    using limits = std::numeric_limits<T>;
    if (v.is_int64()) {
      auto x = v.get_int64();
      if constexpr (std::is_signed_v<T>) {
        if (x >= int64_t{limits::min()} && x <= int64_t{limits::max()})
          return static_cast<T>(x);
      } else if (x >= 0 && static_cast<uint64_t>(x) <= limits::max()) {
        return static_cast<T>(x);
      }
    } else if (v.is_uint64()) {
      if (v.get_uint64() <= static_cast<uint64_t>(limits::max()))
        return static_cast<T>(v.get_uint64());
    }
    return std::nullopt;
  }

  const value* find(std::string_view key) {
    if (err_)
      return nullptr;
    auto* v = o_.if_contains(key);
    if (!v)
      fail(key, "is missing");
    return v;
  }

  void fail(std::string_view key, const std::string& what) {
    err_ = make_error(ec::storage_failure,
                      "damaged " + std::string{record_} + ": "
                        + std::string{key} + " " + what,
                      std::string{key});
  }

  const object& o_;
  std::string_view record_;
  caf::error err_;
};

} // namespace engram::storage::detail
