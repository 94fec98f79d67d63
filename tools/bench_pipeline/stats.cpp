#include "tools/bench_pipeline/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <boost/json/serialize.hpp>

namespace engram::bench {

namespace json = boost::json;

void latency_samples::merge(const latency_samples& other) {
  v_.insert(v_.end(), other.v_.begin(), other.v_.end());
  sorted_ = false;
}

double latency_samples::percentile(double p) {
  if (v_.empty())
    return 0;
  if (!sorted_) {
    std::sort(v_.begin(), v_.end());
    sorted_ = true;
  }
  // Nearest rank: the smallest sample with at least p% of samples <= it.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(v_.size())));
  rank = std::clamp<std::size_t>(rank, 1, v_.size());
  return v_[rank - 1];
}

double latency_samples::max() {
  return percentile(100);
}

double latency_samples::mean() const {
  if (v_.empty())
    return 0;
  return std::accumulate(v_.begin(), v_.end(), 0.0) / double(v_.size());
}

void report::add(std::string key, std::string label, json::value value,
                 std::string unit) {
  if (value.is_double())
    value = std::round(value.get_double() * 1000.0) / 1000.0;
  rows_.push_back({std::move(key), std::move(label), std::move(value),
                   std::move(unit)});
}

namespace {

double round3(double x) {
  return std::round(x * 1000.0) / 1000.0;
}

std::string format_value(const json::value& v) {
  char buf[64];
  if (v.is_double()) {
    double d = v.get_double();
    std::snprintf(buf, sizeof buf, std::fabs(d) >= 100 ? "%.0f" : "%.2f", d);
    return buf;
  }
  if (v.is_string())
    return std::string(v.get_string());
  return json::serialize(v);
}

} // namespace

void report::add_latency(const std::string& prefix, const std::string& label,
                         latency_samples& s) {
  add(prefix + "_count", label + " samples", json::value(s.count()));
  add(prefix + "_p50_ms", label + " p50", round3(s.percentile(50) / 1000.0), "ms");
  add(prefix + "_p99_ms", label + " p99", round3(s.percentile(99) / 1000.0), "ms");
  add(prefix + "_max_ms", label + " max", round3(s.max() / 1000.0), "ms");
}

void report::goal(std::string key, std::string text, bool met) {
  goals_.push_back({std::move(key), std::move(text), met});
}

void report::print_table(std::FILE* out) const {
  std::size_t width = 10;
  for (auto& r : rows_)
    width = std::max(width, r.label.size());
  std::fprintf(out, "\nengram-bench-pipeline: scenario %s\n", scenario_.c_str());
  std::fprintf(out, "%s\n", std::string(width + 24, '-').c_str());
  for (auto& r : rows_)
    std::fprintf(out, "%-*s  %14s %s\n", int(width), r.label.c_str(),
                format_value(r.value).c_str(), r.unit.c_str());
  if (!goals_.empty()) {
    std::fprintf(out, "%s\n", std::string(width + 24, '-').c_str());
    for (auto& g : goals_)
      std::fprintf(out, "goal %-4s %s\n", g.met ? "MET" : "MISS", g.text.c_str());
  }
  for (auto& n : notes_)
    std::fprintf(out, "note: %s\n", n.c_str());
  std::fflush(out);
}

void report::print_json() const {
  json::object out;
  out["scenario"] = scenario_;
  out["config"] = config_;
  json::object results;
  for (auto& r : rows_)
    results[r.key] = r.value;
  out["results"] = std::move(results);
  json::object goals;
  for (auto& g : goals_)
    goals[g.key] = json::object{{"text", g.text}, {"met", g.met}};
  out["goals"] = std::move(goals);
  json::array notes;
  for (auto& n : notes_)
    notes.emplace_back(n);
  out["notes"] = std::move(notes);
  std::printf("%s\n", json::serialize(out).c_str());
  std::fflush(stdout);
}

} // namespace engram::bench
