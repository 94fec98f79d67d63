#pragma once
// The layers load_options() stacks on the defaults: the config file, the
// environment and single "path=value" settings (--set and the dedicated
// flags). Each reports errors as ec::invalid_config naming its source and
// the option path. Internal to config/.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse_options.hpp>

#include <caf/error.hpp>

#include "config/loader.hpp"

namespace engram::config::detail {

/// Reads the JSON file at `path` (comments and trailing commas allowed) and
/// applies every member to `opts`. Parse errors carry line and column.
caf::error apply_file(const std::string& path, options& opts);

/// A key given twice in one JSON object, and the offset in the text where
/// the second one ends.
struct duplicate_key {
  std::string key;
  size_t offset;
};

/// The first repeated key in `text`, which must parse with `syntax`.
std::optional<duplicate_key>
find_duplicate_key(std::string_view text,
                   const boost::json::parse_options& syntax);

/// Applies every ENGRAM_* variable that names a scalar option.
caf::error apply_env(const env_lookup& env, options& opts);

/// Applies one textual value to the scalar option at `path`; `source` names
/// where it came from ("--set", "--listen") for the error message.
caf::error apply_setting(std::string_view path, std::string_view text,
                         const std::string& source, options& opts);

/// ENGRAM_ + upper-case path with '.' -> '_' (http.listen -> ENGRAM_HTTP_LISTEN).
std::string env_name(std::string_view path);

/// Extra, shorter variable names for some options.
struct env_alias {
  std::string_view variable;
  std::string_view path;
};
const std::vector<env_alias>& env_aliases();

/// The message shape every layer uses: "<source>: <path>: <what>", with
/// `field` = path.
caf::error config_error(const std::string& source, const std::string& path,
                        const std::string& what);

} // namespace engram::config::detail
