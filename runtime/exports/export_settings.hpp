#pragma once
// The node's live export policy: the debounce policy's configuration plus
// the nightly schedule. Built from the config file, overridden by the
// stored result of PUT /v1/exports/config, read by every exporter on every
// decision. Immutable snapshots behind a mutex: readers copy a shared_ptr
// (no torn reads, no lock held while deciding).

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <caf/expected.hpp>

#include "config/options.hpp"
#include "runtime/exports/debounce_policy.hpp"

namespace engram::exports {

struct settings_snapshot {
  policy_config policy;
  // Nightly export time as written ("03:00") and in seconds after midnight.
  std::string nightly_at = "03:00";
  int32_t nightly_at_s = 3 * 3600;
  // Bumped by every change, so a scheduler can tell its timer is stale.
  uint64_t generation = 0;
};

/// {mode?, debounce_ms?, nightly_at?}: the fields an operator may change
/// at run time.
struct settings_patch {
  std::optional<export_mode> mode;
  std::optional<int64_t> debounce_ms;
  std::optional<std::string> nightly_at;
};

/// Seconds after midnight of "HH:MM" or "HH:MM:SS"; nullopt when invalid.
std::optional<int32_t> parse_time_of_day(std::string_view s);

/// The first unix ms strictly after `now_ms` at `seconds_of_day` UTC.
int64_t next_daily_ms(int64_t now_ms, int32_t seconds_of_day);

/// Parses a PUT /v1/exports/config body: at least one field; unknown
/// fields, a bad mode, debounce_ms outside 0..31536000000 or a bad time
/// are ec::invalid_argument naming the field.
caf::expected<settings_patch> parse_settings_patch(std::string_view body);

/// The stored form of a patch (meta key exports_config_key()).
std::string to_json(const settings_patch& p);
caf::expected<settings_patch> settings_patch_from_json(std::string_view text);

/// Meta key of the stored run-time change.
std::string exports_config_key();

/// {mode, debounce_ms, nightly_at, concept_change_threshold,
///  session_end_min_turns, high_priority: [...], max_pending}.
boost::json::object to_json(const settings_snapshot& s);

class export_settings {
public:
  /// From the config file's values (already validated).
  explicit export_settings(const config::export_options& opts);

  std::shared_ptr<const settings_snapshot> get() const;

  /// Applies `p` over the current values; returns the new snapshot.
  std::shared_ptr<const settings_snapshot> apply(const settings_patch& p);

private:
  mutable std::mutex mtx_;
  std::shared_ptr<const settings_snapshot> cur_;
};

} // namespace engram::exports
