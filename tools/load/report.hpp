#pragma once
// engram-load's results: the summary table, the JSON report, the HTML
// report (inline SVG charts, no scripts, no network) and the SLO verdict.

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "tools/load/driver.hpp"
#include "tools/load/scenario.hpp"

namespace engram::load {

/// One objective of the scenario, checked against the run.
struct slo_check {
  std::string name;
  double limit = 0;
  double actual = 0;
  bool ok = true;
};

/// Every objective of `s.slo`; latency limits are upper bounds in ms,
/// error rates upper bounds (fraction), throughput_rps a lower bound.
std::vector<slo_check> check_slos(const scenario& s, const run_result& r);

/// A fixed-width table: per operation count, req/s, errors, p50/p90/p99/
/// p99.9/max in ms; freshness; SLOs.
std::string summary_table(const scenario& s, const run_result& r,
                          const std::vector<slo_check>& slos);

boost::json::object json_report(const scenario& s, const run_result& r,
                                const std::vector<slo_check>& slos);

/// A self-contained XHTML page (well-formed XML) with the summary and, per
/// operation, throughput and p99 over time and the latency CDF, plus the
/// freshness CDF.
std::string html_report(const scenario& s, const run_result& r,
                        const std::vector<slo_check>& slos);

} // namespace engram::load
