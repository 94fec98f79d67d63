#pragma once
// The field table: one entry per option (path, accessor, validation rule,
// doc line). The file loader, the environment and --set, validate(), the
// printer and the reference docs all walk these tables, so adding an option
// is one line in config/fields.cpp. Internal to config/.

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/options.hpp"

namespace engram::config::detail {

/// Where a field's value lives. The alternative tells the field's type.
using value_ref
  = std::variant<bool*, uint32_t*, uint64_t*, double*, std::string*,
                 std::vector<std::string>*, std::vector<api_key_options>*>;
using value_cref
  = std::variant<const bool*, const uint32_t*, const uint64_t*,
                 const double*, const std::string*,
                 const std::vector<std::string>*,
                 const std::vector<api_key_options>*>;

/// Judges a string (or each string of a list): empty when acceptable,
/// otherwise what was expected and what was found ("must be ..., got ...").
using string_check = std::string (*)(std::string_view value);

/// What values a field accepts beyond its type.
struct rule {
  // Integer fields: inclusive bounds (also capped by the field's own type).
  uint64_t min = 0;
  uint64_t max = std::numeric_limits<uint64_t>::max();
  // String and string-list fields; null accepts anything.
  string_check check = nullptr;
  // Real-valued fields (temperatures): inclusive bounds.
  double real_min = 0.0;
  double real_max = std::numeric_limits<double>::max();
};

inline rule between(uint64_t lo, uint64_t hi) { return {lo, hi, nullptr}; }
inline rule at_least(uint64_t lo) {
  return {lo, std::numeric_limits<uint64_t>::max(), nullptr};
}
inline rule checked_by(string_check check) {
  return {0, std::numeric_limits<uint64_t>::max(), check};
}
inline rule anything() { return {}; }
inline rule real_between(double lo, double hi) {
  rule r;
  r.real_min = lo;
  r.real_max = hi;
  return r;
}

/// Reads and writes one field of a `Root` (options or api_key_options).
template <class Root>
struct accessor {
  std::function<value_ref(Root&)> ref;
  std::function<value_cref(const Root&)> cref;
};

/// A field nested one level down, e.g. options::http -> http_options::listen.
template <class Root, class Section, class T>
accessor<Root> at(Section Root::*section, T Section::*member) {
  return {[=](Root& r) -> value_ref { return &(r.*section.*member); },
          [=](const Root& r) -> value_cref { return &(r.*section.*member); }};
}

/// A field nested two levels down, e.g. llm -> models -> analysis.
template <class Root, class Section, class Sub, class T>
accessor<Root> at(Section Root::*section, Sub Section::*sub, T Sub::*member) {
  return {[=](Root& r) -> value_ref { return &(r.*section.*sub.*member); },
          [=](const Root& r) -> value_cref {
            return &(r.*section.*sub.*member);
          }};
}

/// A direct member, e.g. api_key_options::role.
template <class Root, class T>
accessor<Root> at(T Root::*member) {
  return {[=](Root& r) -> value_ref { return &(r.*member); },
          [=](const Root& r) -> value_cref { return &(r.*member); }};
}

template <class Root>
struct field {
  // Dotted path below Root, exactly as in the JSON file ("http.listen").
  std::string_view path;
  accessor<Root> access;
  rule valid;
  // One line for the reference docs; options.hpp holds the long form.
  std::string_view doc;
  // Printed as "<redacted>" by to_json(opts, /*redact=*/true).
  bool secret = false;
};

/// Every option, in the order the printer and the docs show them.
const std::vector<field<options>>& option_fields();

/// The fields of one auth.keys element.
const std::vector<field<api_key_options>>& api_key_fields();

/// The field at `path`, or null.
template <class Root>
const field<Root>* find_field(const std::vector<field<Root>>& table,
                              std::string_view path) {
  for (const auto& f : table)
    if (f.path == path)
      return &f;
  return nullptr;
}

/// True when `path` names an object holding fields ("http", "auth").
template <class Root>
bool is_section(const std::vector<field<Root>>& table, std::string_view path) {
  for (const auto& f : table)
    if (f.path.size() > path.size() && f.path.substr(0, path.size()) == path
        && f.path[path.size()] == '.')
      return true;
  return false;
}

/// The field's value in a default-constructed Root: its documented default,
/// and (through the variant alternative) its type.
template <class Root>
value_cref default_of(const field<Root>& f) {
  static const Root defaults{};
  return f.access.cref(defaults);
}

/// Booleans, numbers and strings: settable from the environment and --set.
inline bool is_scalar(const value_cref& v) { return v.index() <= 4; }

} // namespace engram::config::detail
