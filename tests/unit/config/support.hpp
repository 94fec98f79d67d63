#pragma once
// Helpers for the config tests: a fake environment, a private temporary
// directory per test, and option equality spelled out field by field. The
// equality deliberately does not use the field table, so a field missing
// from the table shows up as a failed round trip.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "messages/errors.hpp"

namespace engram::config::test {

inline env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name)
           -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end())
      return std::nullopt;
    return it->second;
  };
}

inline env_lookup no_env() { return env_of({}); }

/// A fresh directory under the system temp dir, removed with its contents.
class temp_dir {
public:
  temp_dir() {
    auto pattern = (std::filesystem::temp_directory_path()
                    / "engram-config-test-XXXXXX")
                     .string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ignored; // best effort: a leftover temp dir is harmless
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Writes `text` to `name` inside the directory; returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    auto file = (path_ / name).string();
    std::ofstream out(file, std::ios::binary);
    out << text;
    REQUIRE(out.good());
    return file;
  }

  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

/// Loads `json` as the config file, with `env` and `cli` layered on top.
inline caf::expected<options> load_json(const std::string& json,
                                        const env_lookup& env = no_env(),
                                        cli_overrides cli = {}) {
  temp_dir dir;
  cli.config_file = dir.write("engram.json", json);
  return load_options(cli, env);
}

/// The error of a load that must fail.
inline caf::error error_of(const caf::expected<options>& result) {
  REQUIRE_FALSE(result);
  CHECK(code_of(result.error()) == ec::invalid_config);
  return result.error();
}

inline auto tie_all(const node_options& x) {
  return std::tie(x.id, x.data_dir, x.scheduler_threads,
                  x.shutdown_timeout_ms);
}
inline auto tie_all(const http_options& x) {
  return std::tie(x.listen, x.io_threads, x.max_body_bytes,
                  x.header_timeout_ms, x.idle_timeout_ms, x.max_connections,
                  x.max_inflight_requests, x.request_timeout_ms);
}
inline auto tie_all(const storage_options& x) {
  return std::tie(x.sync, x.max_batch, x.max_wait_us, x.block_cache_bytes,
                  x.write_buffer_bytes);
}
inline auto tie_all(const log_options& x) {
  return std::tie(x.level, x.format, x.file);
}
inline auto tie_all(const api_key_options& x) {
  return std::tie(x.name, x.role, x.users, x.key_sha256, x.key_env);
}

inline bool same_keys(const std::vector<api_key_options>& a,
                      const std::vector<api_key_options>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (tie_all(a[i]) != tie_all(b[i]))
      return false;
  return true;
}

inline bool same_options(const options& a, const options& b) {
  return tie_all(a.node) == tie_all(b.node)
         && tie_all(a.http) == tie_all(b.http)
         && tie_all(a.storage) == tie_all(b.storage)
         && tie_all(a.log) == tie_all(b.log)
         && same_keys(a.auth.keys, b.auth.keys);
}

/// Asserts equality; the printed forms make a failure readable.
inline void require_same(const options& actual, const options& expected) {
  CHECK(to_json(actual, false) == to_json(expected, false));
  REQUIRE(same_options(actual, expected));
}

inline const std::string& some_sha256() {
  static const std::string digest
    = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  return digest;
}

/// Valid options with every field different from its default.
inline options non_default_options() {
  options o;
  o.node = {"node-7", "/var/lib/engram", 8, 5000};
  o.http = {"0.0.0.0:9000", 4, 2 * 1024 * 1024, 5000, 30000, 10, 20, 3000};
  o.storage = {false, 64, 250, 256ull << 20, 32ull << 20};
  o.log = {"debug", "json", "/tmp/engram \"quoted\" \\ log.txt"};
  o.auth.keys = {{"ops", "admin", {}, some_sha256(), ""},
                 {"app", "user", {"alice", "bob"}, "", "ENGRAM_KEY_APP"}};
  return o;
}

} // namespace engram::config::test
