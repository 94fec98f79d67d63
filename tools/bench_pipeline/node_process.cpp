#include "tools/bench_pipeline/node_process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace engram::bench {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

double now_s() {
  return std::chrono::duration<double>(steady::now().time_since_epoch()).count();
}

void nap() {
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

std::string make_temp_dir() {
  auto pattern = (fs::temp_directory_path() / "engram-bench-pipeline-XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()))
    return {};
  return buf.data();
}

// In the child: stdout/stderr to the log file, then exec. Never returns.
[[noreturn]] void exec_child(const std::vector<std::string>& args,
                             const std::string& log) {
  ::setpgid(0, 0); // Ctrl-C reaches only the benchmark, which stops the node
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
  }
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
  ::_exit(127);
}

} // namespace

node_process::node_process(std::string binary, std::vector<std::string> extra,
                           bool keep_data)
  : binary_(std::move(binary)), extra_(std::move(extra)), keep_data_(keep_data) {}

node_process::~node_process() {
  stop();
}

bool node_process::start(double timeout_s, std::string& error) {
  dir_ = make_temp_dir();
  if (dir_.empty()) {
    error = std::string("mkdtemp: ") + std::strerror(errno);
    return false;
  }
  std::vector<std::string> args{binary_, "--data-dir", dir_ + "/data",
                                "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_.begin(), extra_.end());
  auto log = dir_ + "/engramd.log";
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid_ == 0)
    exec_child(args, log);
  double deadline = now_s() + timeout_s;
  return wait_for_port(deadline, error) && wait_for_ready(deadline, error);
}

bool node_process::exited(std::string& why) {
  if (pid_ <= 0)
    return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_)
    return false;
  pid_ = -1;
  std::ostringstream os;
  if (WIFEXITED(status))
    os << "engramd exited with code " << WEXITSTATUS(status);
  else
    os << "engramd killed by signal " << WTERMSIG(status);
  why = os.str() + "\n" + log_tail();
  return true;
}

bool node_process::wait_for_port(double deadline, std::string& error) {
  auto path = dir_ + "/data/engramd.port";
  while (now_s() < deadline) {
    if (exited(error))
      return false;
    std::ifstream in(path);
    std::string line;
    // The node writes "PORT\n": wait for the newline so a half-written
    // file is never read.
    if (in && std::getline(in, line) && !in.eof() && !line.empty()) {
      ep_.port = static_cast<uint16_t>(std::stoul(line));
      return true;
    }
    nap();
  }
  error = "no " + path + " before the deadline\n" + log_tail();
  return false;
}

bool node_process::wait_for_ready(double deadline, std::string& error) {
  http_client client(ep_);
  while (now_s() < deadline) {
    if (exited(error))
      return false;
    auto r = client.get("/readyz", std::chrono::seconds(2));
    if (r.status == 200)
      return true;
    nap();
  }
  error = "engramd not ready before the deadline\n" + log_tail();
  return false;
}

std::string node_process::log_tail() const {
  std::ifstream in(dir_ + "/engramd.log");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > 20)
      lines.erase(lines.begin());
  }
  std::string out = "--- last lines of " + dir_ + "/engramd.log:\n";
  for (auto& l : lines)
    out += l + "\n";
  return out;
}

void node_process::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    auto deadline = now_s() + 15;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (now_s() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      nap();
    }
    pid_ = -1;
  }
  if (!dir_.empty() && !keep_data_) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  if (!dir_.empty() && keep_data_)
    std::fprintf(stderr, "kept node data and log in %s\n", dir_.c_str());
  dir_.clear();
}

} // namespace engram::bench
