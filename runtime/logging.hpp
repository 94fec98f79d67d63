#pragma once
// Process-wide logging on spdlog. Messages are written as an event name
// followed by key=value pairs ("journal started last_seq=4 sync=true"); the
// json format turns each pair into a field of a one-line JSON object, so logs
// stay greppable as text and machine-readable as JSON.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <caf/error.hpp>

#include "config/options.hpp"

namespace engram::logging {

/// Installs the default logger for `opts` (level, text|json, file or
/// stderr). ec::invalid_config if the level is unknown or the file cannot be
/// opened.
caf::error setup(const config::log_options& opts);

/// Splits "event k=v k2=\"quoted v\"" into {"msg":"event","k":"v",...}.
/// Tokens that are not key=value stay part of msg.
boost::json::object split_fields(std::string_view message);

/// Quotes a value for key=value logging when it has spaces, quotes or '='.
std::string quote(std::string_view value);

} // namespace engram::logging
