#include "tools/load/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <boost/json/serialize.hpp>

namespace engram::load {

namespace json = boost::json;

namespace {

double ms(uint64_t us) {
  return double(us) / 1000.0;
}

double error_rate(uint64_t errors, uint64_t count) {
  return count ? double(errors) / double(count) : 0.0;
}

double latency_of(const histogram& h, const std::string& metric) {
  if (metric == "p50_ms")
    return ms(h.quantile(0.5));
  if (metric == "p90_ms")
    return ms(h.quantile(0.9));
  if (metric == "p99_ms")
    return ms(h.quantile(0.99));
  if (metric == "p999_ms")
    return ms(h.quantile(0.999));
  return ms(h.max());
}

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt(double v, int prec = 1) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

// A line chart: one polyline per series, axes with min/max labels.
struct series {
  std::string label;
  std::vector<std::pair<double, double>> points;
};

const char* colour(std::size_t i) {
  static const char* c[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return c[i % 10];
}

std::string chart(const std::string& title, const std::string& xlabel,
                  const std::string& ylabel, const std::vector<series>& all,
                  bool log_x = false) {
  const double w = 560, h = 220, l = 60, r = 10, t = 24, b = 36;
  double x0 = 1e300, x1 = -1e300, y0 = 0, y1 = 0;
  for (auto& s : all)
    for (auto [x, y] : s.points) {
      auto xx = log_x ? std::log10(std::max(x, 1e-3)) : x;
      x0 = std::min(x0, xx);
      x1 = std::max(x1, xx);
      y1 = std::max(y1, y);
    }
  if (x1 <= x0) {
    x0 = x0 > 1e299 ? 0 : x0;
    x1 = x0 + 1;
  }
  if (y1 <= y0)
    y1 = 1;
  auto px = [&](double x) {
    auto xx = log_x ? std::log10(std::max(x, 1e-3)) : x;
    return l + (xx - x0) / (x1 - x0) * (w - l - r);
  };
  auto py = [&](double y) { return h - b - (y - y0) / (y1 - y0) * (h - t - b); };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
    << "\" viewBox=\"0 0 " << w << " " << h << "\">";
  o << "<text x=\"" << l << "\" y=\"16\" font-size=\"13\" font-weight=\"bold\">"
    << esc(title) << "</text>";
  o << "<line x1=\"" << l << "\" y1=\"" << h - b << "\" x2=\"" << w - r << "\" y2=\""
    << h - b << "\" stroke=\"#333\"/>";
  o << "<line x1=\"" << l << "\" y1=\"" << t << "\" x2=\"" << l << "\" y2=\"" << h - b
    << "\" stroke=\"#333\"/>";
  auto xl = [&](double v) { return log_x ? std::pow(10.0, v) : v; };
  o << "<text x=\"" << l << "\" y=\"" << h - b + 14 << "\" font-size=\"10\">"
    << fmt(xl(x0), 1) << "</text>";
  o << "<text x=\"" << w - r - 40 << "\" y=\"" << h - b + 14 << "\" font-size=\"10\">"
    << fmt(xl(x1), 1) << "</text>";
  o << "<text x=\"" << (w / 2) << "\" y=\"" << h - 6 << "\" font-size=\"11\">"
    << esc(xlabel) << "</text>";
  o << "<text x=\"4\" y=\"" << t + 10 << "\" font-size=\"10\">" << fmt(y1, 2) << "</text>";
  o << "<text x=\"4\" y=\"" << h - b << "\" font-size=\"10\">0</text>";
  o << "<text x=\"4\" y=\"" << (h / 2) << "\" font-size=\"11\">" << esc(ylabel) << "</text>";
  for (std::size_t i = 0; i < all.size(); ++i) {
    auto& s = all[i];
    if (s.points.empty())
      continue;
    o << "<polyline fill=\"none\" stroke=\"" << colour(i) << "\" stroke-width=\"1.5\" points=\"";
    for (auto [x, y] : s.points)
      o << fmt(px(x), 1) << "," << fmt(py(y), 1) << " ";
    o << "\"/>";
    o << "<text x=\"" << w - r - 150 << "\" y=\"" << t + 12 * (i + 1) << "\" font-size=\"10\" fill=\""
      << colour(i) << "\">" << esc(s.label) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

std::vector<std::pair<double, double>> cdf_points(const histogram& h) {
  std::vector<std::pair<double, double>> out;
  for (auto [v, f] : h.cdf())
    out.emplace_back(ms(v), f);
  return out;
}

} // namespace

std::vector<slo_check> check_slos(const scenario& s, const run_result& r) {
  std::vector<slo_check> out;
  for (auto& [key, limit] : s.slo.limits) {
    slo_check c{key, limit, 0, true};
    if (key == "error_rate") {
      c.actual = error_rate(r.errors, r.requests);
      c.ok = c.actual <= limit;
    } else if (key == "throughput_rps") {
      c.actual = r.seconds > 0 ? double(r.requests) / r.seconds : 0;
      c.ok = c.actual >= limit;
    } else {
      auto dot = key.rfind('.');
      auto subject = key.substr(0, dot), metric = key.substr(dot + 1);
      if (subject == "freshness") {
        c.actual = latency_of(r.freshness, metric);
      } else if (auto it = r.ops.find(subject); it != r.ops.end()) {
        c.actual = metric == "error_rate"
                     ? error_rate(it->second.errors, it->second.count)
                     : latency_of(it->second.latency, metric);
      }
      c.ok = c.actual <= limit;
    }
    out.push_back(c);
  }
  return out;
}

std::string summary_table(const scenario& s, const run_result& r,
                          const std::vector<slo_check>& slos) {
  std::ostringstream o;
  char line[320];
  std::snprintf(line, sizeof line, "%-16s %9s %9s %7s %9s %9s %9s %9s %9s\n", "operation",
                "count", "req/s", "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
                "max ms");
  o << "scenario " << s.name << ": " << r.requests << " requests in "
    << fmt(r.seconds, 1) << " s (" << fmt(r.seconds > 0 ? r.requests / r.seconds : 0, 0)
    << "/s), " << r.errors << " errors\n" << line;
  for (auto& [op, x] : r.ops) {
    auto& h = x.latency;
    std::snprintf(line, sizeof line,
                  "%-16s %9llu %9.1f %7llu %9.2f %9.2f %9.2f %9.2f %9.2f\n", op.c_str(),
                  (unsigned long long) x.count, r.seconds > 0 ? x.count / r.seconds : 0.0,
                  (unsigned long long) x.errors, ms(h.quantile(0.5)), ms(h.quantile(0.9)),
                  ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()));
    o << line;
  }
  if (r.probes) {
    std::snprintf(line, sizeof line,
                  "freshness: %llu probes, %llu found, %llu not found; ack -> findable "
                  "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                  (unsigned long long) r.probes, (unsigned long long) r.probes_found,
                  (unsigned long long) r.probes_failed, ms(r.freshness.quantile(0.5)),
                  ms(r.freshness.quantile(0.99)), ms(r.freshness.max()));
    o << line;
  }
  for (auto& c : slos)
    o << (c.ok ? "SLO ok     " : "SLO MISSED ") << c.name << ": " << fmt(c.actual, 4)
      << " (limit " << fmt(c.limit, 4) << ")\n";
  return o.str();
}

json::object json_report(const scenario& s, const run_result& r,
                         const std::vector<slo_check>& slos) {
  json::object ops;
  for (auto& [op, x] : r.ops) {
    auto& h = x.latency;
    json::object statuses;
    for (auto [st, n] : x.statuses)
      statuses[std::to_string(st)] = n;
    json::array series;
    for (auto& p : x.series)
      series.push_back(json::array{p.t, p.count, p.errors, ms(p.p99_us)});
    ops[op] = {{"count", x.count},
               {"throughput_rps", r.seconds > 0 ? x.count / r.seconds : 0.0},
               {"errors", x.errors},
               {"statuses", std::move(statuses)},
               {"latency_ms",
                {{"p50", ms(h.quantile(0.5))},
                 {"p90", ms(h.quantile(0.9))},
                 {"p99", ms(h.quantile(0.99))},
                 {"p999", ms(h.quantile(0.999))},
                 {"max", ms(h.max())},
                 {"mean", h.mean() / 1000.0}}},
               {"series", std::move(series)}};
  }
  json::array checks;
  for (auto& c : slos)
    checks.push_back({{"name", c.name}, {"limit", c.limit}, {"actual", c.actual}, {"ok", c.ok}});
  json::array errs;
  for (auto& e : r.first_errors)
    errs.emplace_back(e);
  return {{"scenario", s.name},
          {"seconds", r.seconds},
          {"requests", r.requests},
          {"errors", r.errors},
          {"setup", {{"requests", r.setup_requests}, {"errors", r.setup_errors}}},
          {"operations", std::move(ops)},
          {"freshness",
           {{"probes", r.probes},
            {"found", r.probes_found},
            {"not_found", r.probes_failed},
            {"p50_ms", ms(r.freshness.quantile(0.5))},
            {"p99_ms", ms(r.freshness.quantile(0.99))},
            {"max_ms", ms(r.freshness.max())}}},
          {"slo", std::move(checks)},
          {"first_errors", std::move(errs)},
          {"series_columns", json::array{"t_s", "count", "errors", "p99_ms"}}};
}

std::string html_report(const scenario& s, const run_result& r,
                        const std::vector<slo_check>& slos) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head>"
    << "<meta charset=\"utf-8\"/><title>engram-load: " << esc(s.name) << "</title>"
    << "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}"
    << ".bad{color:#b00}.ok{color:#070}</style></head><body>";
  o << "<h1>engram-load: " << esc(s.name) << "</h1>";
  o << "<pre>" << esc(summary_table(s, r, slos)) << "</pre>";
  std::vector<series> rps, p99, cdf;
  for (auto& [op, x] : r.ops) {
    series a{op, {}}, b{op, {}};
    for (auto& p : x.series) {
      a.points.emplace_back(p.t, double(p.count));
      b.points.emplace_back(p.t, ms(p.p99_us));
    }
    rps.push_back(std::move(a));
    p99.push_back(std::move(b));
    cdf.push_back({op, cdf_points(x.latency)});
  }
  o << "<h2>Throughput</h2>" << chart("completed requests per second", "seconds", "req/s", rps);
  o << "<h2>p99 latency</h2>" << chart("p99 per second (ms)", "seconds", "ms", p99);
  o << "<h2>Latency CDF</h2>"
    << chart("fraction of requests at or below (log ms)", "ms", "fraction", cdf, true);
  if (r.probes)
    o << "<h2>Freshness</h2>"
      << chart("ack -> findable, CDF (log ms)", "ms", "fraction",
               {{"freshness", cdf_points(r.freshness)}}, true);
  o << "<h2>Objectives</h2><ul>";
  for (auto& c : slos)
    o << "<li class=\"" << (c.ok ? "ok" : "bad") << "\">" << esc(c.name) << ": "
      << fmt(c.actual, 4) << " (limit " << fmt(c.limit, 4) << ") "
      << (c.ok ? "ok" : "MISSED") << "</li>";
  o << "</ul>";
  o << "<h2>Raw report</h2><pre>"
    << esc(json::serialize(json_report(s, r, slos))) << "</pre>";
  o << "</body></html>\n";
  return o.str();
}

} // namespace engram::load
