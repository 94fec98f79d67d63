#pragma once
// Latency samples, percentiles and the result report (a readable table on
// stdout, or one JSON object).

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace engram::bench {

/// Latencies in microseconds; one instance per thread, merged at the end.
class latency_samples {
public:
  void add(double micros) { v_.push_back(micros); }
  void merge(const latency_samples& other);
  std::size_t count() const { return v_.size(); }
  /// p in [0,100]; 0 when empty. Sorts lazily.
  double percentile(double p);
  double max();
  double mean() const;

private:
  std::vector<double> v_;
  bool sorted_ = false;
};

/// One result: a JSON key, a human label, a value and its unit.
struct report_row {
  std::string key;
  std::string label;
  boost::json::value value;
  std::string unit;
};

/// A goal from the issue and whether this run met it.
struct report_goal {
  std::string key;
  std::string text;
  bool met;
};

class report {
public:
  explicit report(std::string scenario) : scenario_(std::move(scenario)) {}

  void add(std::string key, std::string label, boost::json::value value,
           std::string unit = {});
  /// Adds `<prefix>_p50_ms`, `_p99_ms`, `_max_ms` (and the count) rows.
  void add_latency(const std::string& prefix, const std::string& label,
                   latency_samples& s);
  void goal(std::string key, std::string text, bool met);
  /// Free-form notes (first error bodies, warnings), listed after the table.
  void note(std::string text) { notes_.push_back(std::move(text)); }
  void set_config(boost::json::object cfg) { config_ = std::move(cfg); }

  void print_table(std::FILE* out) const;
  void print_json() const;

private:
  std::string scenario_;
  boost::json::object config_;
  std::vector<report_row> rows_;
  std::vector<report_goal> goals_;
  std::vector<std::string> notes_;
};

} // namespace engram::bench
