#include "runtime/health.hpp"

#include <chrono>

namespace engram {

namespace {

int severity(const std::string& status) {
  return status == "ok" ? 0 : status == "degraded" ? 1 : 2;
}

} // namespace

void health_checks::add(std::string name, std::function<check_result()> check) {
  std::lock_guard<std::mutex> guard{mu_};
  checks_.emplace_back(std::move(name), std::move(check));
}

boost::json::object health_checks::run() const {
  std::lock_guard<std::mutex> guard{mu_};
  boost::json::object checks;
  std::string worst = "ok";
  for (auto& [name, fn] : checks_) {
    auto t0 = std::chrono::steady_clock::now();
    check_result r;
    try {
      r = fn();
    } catch (const std::exception& e) {
      r = {"failing", e.what()};
    }
    std::chrono::duration<double, std::milli> took
      = std::chrono::steady_clock::now() - t0;
    boost::json::object c{{"status", r.status}, {"latency_ms", took.count()}};
    if (!r.detail.empty())
      c["detail"] = r.detail;
    checks[name] = std::move(c);
    if (severity(r.status) > severity(worst))
      worst = r.status;
  }
  return {{"status", worst}, {"checks", std::move(checks)}};
}

} // namespace engram
