// engram-load against a real engramd: the bundled smoke scenario passes
// its objectives, and the JSON and HTML reports are produced and valid.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/fixtures/engramd_process.hpp"

using namespace engram::testing;
namespace json = boost::json;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Well-formed XML: every tag closed in order. Returns the number of <svg>
// elements, -1 when malformed.
int check_xhtml(const std::string& doc) {
  std::vector<std::string> open;
  int svgs = 0;
  std::size_t i = 0;
  while ((i = doc.find('<', i)) != std::string::npos) {
    auto end = doc.find('>', i);
    if (end == std::string::npos)
      return -1;
    auto tag = doc.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty())
      return -1;
    if (tag[0] == '?' || tag[0] == '!')
      continue;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1))
        return -1;
      open.pop_back();
      continue;
    }
    auto name = tag.substr(0, tag.find_first_of(" \t\n/"));
    if (name == "svg")
      ++svgs;
    if (tag.back() != '/')
      open.push_back(name);
  }
  return open.empty() ? svgs : -1;
}

} // namespace

TEST_CASE("the smoke scenario runs against engramd and reports", "[load]") {
  temp_dir dir;
  engramd_process node{dir.path() + "/data"};
  REQUIRE(node.start());
  auto report = dir.path() + "/report.json";
  auto html = dir.path() + "/report.html";
  auto out = dir.path() + "/out.txt";
  std::string cmd = std::string{ENGRAM_LOAD_PATH} + " --scenario " + ENGRAM_SOURCE_DIR
                    + "/tools/scenarios/smoke.json --target http://127.0.0.1:"
                    + std::to_string(node.port()) + " --report " + report + " --html "
                    + html + " --quiet > " + out + " 2>&1";
  auto rc = std::system(cmd.c_str());
  INFO(read_all(out));
  REQUIRE(WIFEXITED(rc));
  CHECK(WEXITSTATUS(rc) == 0);
  auto r = json::parse(read_all(report)).as_object();
  CHECK(r.at("scenario") == "smoke");
  CHECK(r.at("requests").to_number<int64_t>() > 300);
  CHECK(r.at("errors").to_number<int64_t>() == 0);
  auto& ops = r.at("operations").as_object();
  for (auto op : {"turn", "search", "intent.close", "document.upload", "export.trigger"}) {
    INFO(op);
    REQUIRE(ops.contains(op));
    CHECK(ops.at(op).at("count").to_number<int64_t>() > 0);
    auto& lat = ops.at(op).at("latency_ms").as_object();
    CHECK(lat.at("p50").to_number<double>() <= lat.at("p99").to_number<double>());
    CHECK(lat.at("p99").to_number<double>() <= lat.at("max").to_number<double>());
  }
  CHECK(r.at("freshness").at("found").to_number<int64_t>() > 0);
  for (auto& c : r.at("slo").as_array())
    CHECK(c.at("ok") == true);
  auto page = read_all(html);
  CHECK(check_xhtml(page) >= 4); // throughput, p99, CDF, freshness
  CHECK(page.find("<polyline") != std::string::npos);
  // An objective nobody can meet makes the exit code 3.
  auto strict = dir.path() + "/strict.json";
  std::ofstream{strict} << R"({"phases":[{"duration_s":1,"rate":20,"mix":{"healthz":1}}],
                              "slo":{"healthz.p50_ms":0}})";
  auto rc2 = std::system((std::string{ENGRAM_LOAD_PATH} + " --scenario " + strict
                          + " --quiet --target http://127.0.0.1:"
                          + std::to_string(node.port()) + " > " + out + " 2>&1")
                           .c_str());
  REQUIRE(WIFEXITED(rc2));
  CHECK(WEXITSTATUS(rc2) == 3);
  // A bad scenario names the field.
  std::ofstream{strict} << R"({"phases":[{"duration_s":1,"rate":20,"mix":{"tunr":1}}]})";
  auto rc3 = std::system((std::string{ENGRAM_LOAD_PATH} + " --scenario " + strict + " > "
                          + out + " 2>&1")
                           .c_str());
  CHECK(WEXITSTATUS(rc3) == 1);
  CHECK(read_all(out).find("phases[0].mix.tunr") != std::string::npos);
}
