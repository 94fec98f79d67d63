#pragma once
// --spawn: runs an engramd child on a fresh temporary data directory and a
// free loopback port, waits until it is ready, and stops it at the end.

#include <string>
#include <sys/types.h>
#include <vector>

#include "tools/bench_pipeline/http_client.hpp"

namespace engram::bench {

class node_process {
public:
  /// `binary` is the engramd path; `extra` are appended to its arguments.
  node_process(std::string binary, std::vector<std::string> extra, bool keep_data);
  ~node_process();
  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  /// Starts the node and waits (up to `timeout_s`) for /readyz == 200;
  /// false with `error` set otherwise (the log tail is included).
  bool start(double timeout_s, std::string& error);

  /// SIGTERM, wait up to 15 s, then SIGKILL; removes the data directory
  /// unless keep_data. Idempotent.
  void stop();

  endpoint where() const { return ep_; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return dir_; }

private:
  bool wait_for_port(double deadline_s, std::string& error);
  bool wait_for_ready(double deadline_s, std::string& error);
  bool exited(std::string& why);
  std::string log_tail() const;

  std::string binary_;
  std::vector<std::string> extra_;
  bool keep_data_;
  std::string dir_;
  pid_t pid_ = -1;
  endpoint ep_;
};

} // namespace engram::bench
