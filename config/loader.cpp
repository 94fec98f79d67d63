// Stacks the layers (defaults < file < environment < command line) and
// applies the command line, the one layer that has no file of its own.

#include "config/loader.hpp"

#include <cstdlib>

#include "config/detail/sources.hpp"
#include "config/detail/values.hpp"
#include "messages/errors.hpp"

namespace engram::config {

namespace {

caf::error apply_set_flag(const std::string& setting, options& opts) {
  auto eq = setting.find('=');
  if (eq == std::string::npos)
    return make_error(ec::invalid_config,
                      "--set: expected PATH=VALUE, got \"" + setting + "\"");
  return detail::apply_setting(std::string_view{setting}.substr(0, eq),
                               std::string_view{setting}.substr(eq + 1),
                               "--set", opts);
}

// The dedicated flags are more specific than --set, so they come last.
caf::error apply_cli(const cli_overrides& cli, options& opts) {
  for (const auto& setting : cli.settings)
    if (auto err = apply_set_flag(setting, opts))
      return err;
  struct flag {
    const std::optional<std::string>& value;
    const char* path;
    const char* name;
  };
  const flag flags[] = {{cli.data_dir, "node.data_dir", "--data-dir"},
                        {cli.listen, "http.listen", "--listen"},
                        {cli.log_level, "log.level", "--log-level"},
                        {cli.log_format, "log.format", "--log-format"}};
  for (const auto& f : flags)
    if (f.value)
      if (auto err = detail::apply_setting(f.path, *f.value, f.name, opts))
        return err;
  return caf::none;
}

} // namespace

namespace detail {

caf::error config_error(const std::string& source, const std::string& path,
                        const std::string& what) {
  auto prefix = source.empty() ? std::string{} : source + ": ";
  return make_error(ec::invalid_config, prefix + path + ": " + what, path);
}

caf::error apply_setting(std::string_view path, std::string_view text,
                         const std::string& source, options& opts) {
  const auto* f = find_field(option_fields(), path);
  if (!f)
    return config_error(source, std::string{path}, unknown_option(path));
  if (auto p = assign_text(f->access.ref(opts), f->valid, text))
    return config_error(source, std::string{path}, p->what);
  return caf::none;
}

} // namespace detail

env_lookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name.c_str()))
      return std::string{value};
    return std::nullopt;
  };
}

caf::expected<options> load_options(const cli_overrides& cli,
                                    const env_lookup& env) {
  options opts;
  if (cli.config_file)
    if (auto err = detail::apply_file(*cli.config_file, opts))
      return err;
  if (env)
    if (auto err = detail::apply_env(env, opts))
      return err;
  if (auto err = apply_cli(cli, opts))
    return err;
  if (auto err = validate(opts))
    return err;
  return opts;
}

} // namespace engram::config
