// engramd: the engram node. Parses flags, loads the configuration, starts
// the node and stops it gracefully on SIGINT/SIGTERM (a second signal forces
// an immediate exit).

#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <engram/build_info.hpp>

#include "config/loader.hpp"
#include "messages/errors.hpp"
#include "runtime/provider_setup.hpp"
#include "runtime/logging.hpp"
#include "runtime/node.hpp"

namespace {

constexpr int exit_config_error = 2;
constexpr int exit_start_failure = 1;

struct flags {
  engram::config::cli_overrides cli;
  bool print_config = false;
  bool config_reference = false;
  bool version = false;
  bool check_providers = false;
};

void add_flags(CLI::App& app, flags& f) {
  app.add_option("-c,--config", f.cli.config_file,
                 "JSON config file (comments and trailing commas allowed)");
  app.add_option("--data-dir", f.cli.data_dir,
                 "data directory (node.data_dir, default ./data)");
  app.add_option("--listen", f.cli.listen,
                 "HTTP listen address HOST:PORT (http.listen, default "
                 "127.0.0.1:8700; port 0 picks a free port)");
  app.add_option("--log-level", f.cli.log_level,
                 "trace|debug|info|warn|error|critical|off (log.level)");
  app.add_option("--log-format", f.cli.log_format, "text|json (log.format)");
  app.add_option("--set", f.cli.settings,
                 "set any option: --set storage.sync=false (repeatable)");
  app.add_flag("--print-config", f.print_config,
               "print the effective configuration (secrets redacted) and exit");
  app.add_flag("--config-reference", f.config_reference,
               "print every option (path, environment variable, default, "
               "meaning) as a Markdown table and exit");
  app.add_flag("--check-providers", f.check_providers,
               "make one tiny call to every configured model (llm.* and "
               "embedder.*), print a table of what works and exit (0 = all "
               "work, 1 = some failed)");
  app.add_flag("-V,--version", f.version, "print version and build info and exit");
  app.footer("Configuration precedence: defaults < --config file < ENGRAM_* "
             "environment < flags.\nEvery option: config/engram.example.json "
             "and docs/OPERATIONS.md.");
}

// Blocks SIGINT/SIGTERM in this thread before any other thread exists, so
// every thread inherits the mask and only sigwait() sees the signals.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int wait_for_signal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

int run(const engram::config::options& opts) {
  auto signals = block_stop_signals();
  engram::node node{opts};
  if (auto err = node.start()) {
    spdlog::critical("engramd failed to start error=\"{}\" field={}",
                     engram::message_of(err), engram::field_of(err));
    return engram::code_of(err) == engram::ec::invalid_config
             ? exit_config_error
             : exit_start_failure;
  }
  int sig = wait_for_signal(signals);
  spdlog::info("engramd stopping signal={}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // A second signal, or a stop that overruns its budget, ends the process.
  std::thread watchdog([signals, budget = opts.node.shutdown_timeout_ms] {
    struct timespec ts {static_cast<time_t>(budget / 1000 + 1), 0};
    int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig > 0)
      spdlog::warn("second signal: exiting immediately");
    else
      spdlog::error("shutdown overran its budget; exiting");
    std::fflush(nullptr);
    std::_Exit(sig > 0 ? 130 : 1);
  });
  watchdog.detach();
  node.stop();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"engramd: the engram node, the live memory of AI applications"};
  flags f;
  add_flags(app, f);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) { // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "engramd: " << e.what() << "\nRun with --help for usage.\n";
    return exit_config_error;
  }
  if (f.version) {
    std::cout << "engramd " << engram::build_info::version << " ("
              << engram::build_info::git_rev << ", "
              << engram::build_info::build_type << ", "
              << engram::build_info::compiler << ")\n";
    return 0;
  }
  if (f.config_reference) {
    std::cout << engram::config::reference_markdown();
    return 0;
  }
  auto opts = engram::config::load_options(f.cli, engram::config::process_env());
  if (!opts) {
    std::cerr << "engramd: configuration error: "
              << engram::message_of(opts.error()) << "\n";
    return exit_config_error;
  }
  if (f.print_config) {
    std::cout << engram::config::to_json(*opts, true);
    return 0;
  }
  if (f.check_providers)
    return engram::check_providers(*opts, std::cout);
  if (auto err = engram::logging::setup(opts->log)) {
    std::cerr << "engramd: " << engram::message_of(err) << "\n";
    return exit_config_error;
  }
  return run(*opts);
}
