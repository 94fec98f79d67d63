#pragma once
// Builds a node's options from four layers, each overriding the one before:
//   in-class defaults < JSON config file < ENGRAM_* environment < command line
// Every value is checked as it is read, so an error names its source (file,
// variable, flag); the merged result is then checked as a whole. Errors are
// ec::invalid_config; their `field` is the dotted option path
// ("http.max_body_bytes", "auth.keys[1].role") and their message reads
// "<source>: <path>: <what was expected>, got <what was found>".
//
// Environment: every scalar option has a variable named ENGRAM_ + its path in
// upper case with '.' -> '_' (ENGRAM_HTTP_LISTEN, ENGRAM_STORAGE_SYNC), and
// ENGRAM_DATA_DIR / ENGRAM_LISTEN are short aliases. Booleans take
// true/false/1/0. ENGRAM_* names that are not options are ignored (other
// features keep secrets there). auth.keys is only settable in the file.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "config/endpoint.hpp"
#include "config/options.hpp"

namespace engram::config {

/// What engramd's command line may set; main() fills it from argv (CLI11).
struct cli_overrides {
  // --config: JSON file to load; without it only defaults, environment and
  // flags apply. A given file that cannot be read is an error.
  std::optional<std::string> config_file;
  std::optional<std::string> data_dir;   // --data-dir   -> node.data_dir
  std::optional<std::string> listen;     // --listen     -> http.listen
  std::optional<std::string> log_level;  // --log-level  -> log.level
  std::optional<std::string> log_format; // --log-format -> log.format
  // Repeated --set PATH=VALUE for any scalar option ("storage.sync=false"),
  // applied in order, before the dedicated flags above.
  std::vector<std::string> settings;
};

/// Looks up one environment variable; nullopt when it is not set. Injected
/// so tests never touch the real environment.
using env_lookup
  = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment via std::getenv (not safe against a concurrent
/// setenv, which engram never does after startup).
env_lookup process_env();

/// Defaults, then `cli.config_file`, then `env`, then the flags in `cli`,
/// then validate(). An empty `env` function means "no environment".
caf::expected<options> load_options(const cli_overrides& cli,
                                    const env_lookup& env);

/// Every per-option check plus the rules between options (auth may only be
/// off on a loopback listen address). load_options() already calls it; use
/// it for options built in code.
caf::error validate(const options& opts);

/// The options as pretty JSON in the config file's shape, every field, in a
/// stable order; loading the output gives the same options back. With
/// `redact`, key_sha256 values print as "<redacted>" (and then no longer
/// load). Backs `engramd --print-config`.
std::string to_json(const options& opts, bool redact = true);

/// A Markdown table of every option: path, environment variable, default
/// and meaning. Source for docs/configuration.md.
std::string reference_markdown();

} // namespace engram::config
