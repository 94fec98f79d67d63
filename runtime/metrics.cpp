#include "runtime/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace engram::metrics {

namespace {

// std::atomic<double> has no fetch_add before C++20; a CAS loop keeps
// updates lock-free and never loses a concurrent addition.
void atomic_add(std::atomic<double>& target, double d) {
  double cur = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(cur, cur + d,
                                       std::memory_order_relaxed)) {
    // `cur` now holds the value another thread stored; retry with it.
  }
}

// Shortest text that parses back to the same double; Prometheus spells the
// infinities and NaN its own way.
std::string format_double(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

// Label values may hold any text; the exposition format escapes these three.
std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

// HELP text escapes backslash and newline only (quotes stay literal).
std::string escape_help(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// `{a="1",b="2"}`, or nothing for an empty label set. `extra` (the `le` of a
// histogram bucket) goes last, as Prometheus clients print it.
std::string format_labels(const labels& l, const std::string& extra = {}) {
  if (l.empty() && extra.empty())
    return {};
  std::string out = "{";
  for (const auto& [k, v] : l) {
    if (out.size() > 1)
      out += ',';
    out += k + "=\"" + escape_label_value(v) + '"';
  }
  if (!extra.empty()) {
    if (out.size() > 1)
      out += ',';
    out += extra;
  }
  out += '}';
  return out;
}

} // namespace

// -- gauge ---------------------------------------------------------------------

void gauge::add(double d) {
  atomic_add(v_, d);
}

// -- histogram -----------------------------------------------------------------

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  // +Inf is implicit and NaN cannot be ordered; both would break the binary
  // search in observe(), as would unsorted or repeated bounds.
  bounds_.erase(std::remove_if(bounds_.begin(), bounds_.end(),
                               [](double b) { return !std::isfinite(b); }),
                bounds_.end());
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) {
  // A NaN would poison the sum forever and belongs to no bucket: drop it.
  if (std::isnan(v))
    return;
  // `le` is inclusive: v lands in the first bucket whose bound is >= v.
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  buckets_[static_cast<size_t>(it - bounds_.begin())].fetch_add(
    1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

uint64_t histogram::count() const {
  return count_.load(std::memory_order_relaxed);
}

double histogram::sum() const {
  return sum_.load(std::memory_order_relaxed);
}

std::vector<uint64_t> histogram::cumulative() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

double histogram::quantile(double q) const {
  auto cum = cumulative();
  uint64_t total = cum.back();
  if (total == 0)
    return 0;
  q = std::clamp(q, 0.0, 1.0);
  double rank = q * static_cast<double>(total);
  // First non-empty bucket whose cumulative count reaches the rank.
  size_t i = 0;
  while (i < cum.size() && (cum[i] == 0 || static_cast<double>(cum[i]) < rank))
    ++i;
  if (i >= bounds_.size()) // the +Inf bucket has no upper edge to aim at
    return bounds_.empty() ? 0 : bounds_.back();
  double upper = bounds_[i];
  double lower = i == 0 ? std::min(0.0, upper) : bounds_[i - 1];
  uint64_t below = i == 0 ? 0 : cum[i - 1];
  double in_bucket = static_cast<double>(cum[i] - below);
  double frac = (rank - static_cast<double>(below)) / in_bucket;
  return lower + (upper - lower) * std::clamp(frac, 0.0, 1.0);
}

std::vector<double> latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

std::vector<double> size_buckets() {
  std::vector<double> out;
  for (double b = 1; b <= 4096; b *= 2)
    out.push_back(b);
  return out;
}

// -- registry ------------------------------------------------------------------

// All series of one metric name. Only the map matching `type` is used; the
// instruments are heap-allocated so references stay valid as maps grow.
struct registry::family {
  enum class kind { counter, gauge, histogram };
  kind type;
  std::string help;
  std::map<labels, std::unique_ptr<counter>> counters;
  std::map<labels, std::unique_ptr<gauge>> gauges;
  std::map<labels, std::unique_ptr<histogram>> histograms;
};

namespace {

const char* type_name(int k) {
  static const char* names[] = {"counter", "gauge", "histogram"};
  return names[k];
}

// Finds or creates `name`'s family, insisting on one type per name: two
// types under one name would render an invalid exposition.
template <class Families, class Kind>
auto& family_of(Families& fams, const std::string& name,
                const std::string& help, Kind k) {
  auto& slot = fams[name];
  if (!slot) {
    slot = std::make_unique<typename Families::mapped_type::element_type>();
    slot->type = k;
    slot->help = help;
  } else if (slot->type != k) {
    throw std::logic_error("metric " + name + " registered as "
                           + type_name(static_cast<int>(slot->type))
                           + " and as " + type_name(static_cast<int>(k)));
  }
  return *slot;
}

template <class T, class... Args>
T& series_of(std::map<labels, std::unique_ptr<T>>& m, const labels& l,
             Args&&... args) {
  auto& slot = m[l];
  if (!slot)
    slot = std::make_unique<T>(std::forward<Args>(args)...);
  return *slot;
}

} // namespace

registry::registry() = default;
registry::~registry() = default;

counter& registry::get_counter(const std::string& name,
                               const std::string& help, const labels& l) {
  std::lock_guard<std::mutex> guard{mu_};
  auto& fam = family_of(families_, name, help, family::kind::counter);
  return series_of(fam.counters, l);
}

gauge& registry::get_gauge(const std::string& name, const std::string& help,
                           const labels& l) {
  std::lock_guard<std::mutex> guard{mu_};
  auto& fam = family_of(families_, name, help, family::kind::gauge);
  return series_of(fam.gauges, l);
}

histogram& registry::get_histogram(const std::string& name,
                                   const std::string& help, const labels& l,
                                   std::vector<double> bounds) {
  std::lock_guard<std::mutex> guard{mu_};
  auto& fam = family_of(families_, name, help, family::kind::histogram);
  return series_of(fam.histograms, l, std::move(bounds));
}

void registry::add_collector(std::function<void()> fn) {
  std::lock_guard<std::mutex> guard{mu_};
  collectors_.push_back(std::move(fn));
}

namespace {

void render_histogram(std::string& out, const std::string& name,
                      const labels& l, const histogram& h) {
  auto cum = h.cumulative();
  const auto& bounds = h.bounds();
  for (size_t i = 0; i < cum.size(); ++i) {
    auto le = i < bounds.size() ? format_double(bounds[i]) : "+Inf";
    out += name + "_bucket" + format_labels(l, "le=\"" + le + '"') + ' '
           + std::to_string(cum[i]) + '\n';
  }
  out += name + "_sum" + format_labels(l) + ' ' + format_double(h.sum())
         + '\n';
  // _count is taken from the +Inf bucket, not count(), so the two always
  // agree even while other threads observe during the render.
  out += name + "_count" + format_labels(l) + ' ' + std::to_string(cum.back())
         + '\n';
}

} // namespace

std::string registry::render() const {
  // Collectors typically set gauges, and may register them: run them without
  // the lock (a copy keeps the list stable) so they can call get_gauge().
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard<std::mutex> guard{mu_};
    collectors = collectors_;
  }
  for (auto& fn : collectors)
    fn();
  std::lock_guard<std::mutex> guard{mu_};
  std::string out;
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + ' ' + escape_help(fam->help) + '\n';
    out += "# TYPE " + name + ' ' + type_name(static_cast<int>(fam->type))
           + '\n';
    for (const auto& [l, c] : fam->counters)
      out += name + format_labels(l) + ' ' + std::to_string(c->value()) + '\n';
    for (const auto& [l, g] : fam->gauges)
      out += name + format_labels(l) + ' ' + format_double(g->value()) + '\n';
    for (const auto& [l, h] : fam->histograms)
      render_histogram(out, name, l, *h);
  }
  return out;
}

} // namespace engram::metrics
