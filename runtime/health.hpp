#pragma once
// Named dependency checks behind GET /healthz. Each feature registers the
// checks of what it depends on (storage now; model providers later); a
// check must be fast and must not block for long (it runs on an IO thread).

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace engram {

struct check_result {
  // "ok", "degraded" (works, but something is wrong) or "failing".
  std::string status = "ok";
  std::string detail;
};

class health_checks {
public:
  void add(std::string name, std::function<check_result()> check);

  /// Runs every check: {"status": worst, "checks": {name: {status, detail,
  /// latency_ms}}}.
  boost::json::object run() const;

private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::function<check_result()>>> checks_;
};

} // namespace engram
