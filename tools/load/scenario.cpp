#include "tools/load/scenario.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>

#include "messages/errors.hpp"

namespace engram::load {

namespace json = boost::json;

namespace {

caf::error bad(const std::string& path, const std::string& what) {
  return make_error(ec::invalid_argument, path + ": " + what, path);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (auto& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

caf::error reject_unknown(const json::object& o, const std::string& path,
                          std::initializer_list<const char*> known) {
  for (auto& kv : o) {
    bool ok = false;
    for (auto k : known)
      ok = ok || kv.key() == k;
    if (!ok) {
      std::vector<std::string> names(known.begin(), known.end());
      return bad(path + (path.empty() ? "" : ".") + std::string{kv.key()},
                 "unknown field (known: " + join(names) + ")");
    }
  }
  return caf::none;
}

caf::expected<double> number(const json::value& v, const std::string& path,
                             double lo, double hi) {
  double d = 0;
  if (v.is_int64())
    d = double(v.as_int64());
  else if (v.is_uint64())
    d = double(v.as_uint64());
  else if (v.is_double())
    d = v.as_double();
  else
    return bad(path, "must be a number");
  if (!std::isfinite(d) || d < lo || d > hi) {
    std::ostringstream os;
    os << "must be between " << lo << " and " << hi;
    return bad(path, os.str());
  }
  return d;
}

caf::error read_setup(const json::value& v, setup_spec& s) {
  if (!v.is_object())
    return bad("setup", "must be an object");
  auto& o = v.as_object();
  if (auto err = reject_unknown(o, "setup", {"users", "entities_per_user",
                                             "entity_types", "user_prefix"}))
    return err;
  if (auto u = o.if_contains("users")) {
    auto n = number(*u, "setup.users", 1, 10000000);
    if (!n)
      return n.error();
    s.users = uint32_t(*n);
  }
  if (auto e = o.if_contains("entities_per_user")) {
    auto n = number(*e, "setup.entities_per_user", 0, 100000);
    if (!n)
      return n.error();
    s.entities_per_user = uint32_t(*n);
  }
  if (auto t = o.if_contains("entity_types")) {
    if (!t->is_array() || t->as_array().empty())
      return bad("setup.entity_types", "must be a non-empty array of strings");
    s.entity_types.clear();
    for (std::size_t i = 0; i < t->as_array().size(); ++i) {
      auto& x = t->as_array()[i];
      if (!x.is_string() || x.as_string().empty())
        return bad("setup.entity_types[" + std::to_string(i) + "]",
                   "must be a non-empty string");
      s.entity_types.emplace_back(x.as_string());
    }
  }
  if (auto p = o.if_contains("user_prefix")) {
    if (!p->is_string() || p->as_string().empty())
      return bad("setup.user_prefix", "must be a non-empty string");
    s.user_prefix = std::string{p->as_string()};
  }
  return caf::none;
}

caf::error read_users(const json::value& v, const std::string& path,
                      user_dist& d) {
  if (v.is_string() && v.as_string() == "uniform")
    return caf::none;
  if (v.is_object() && v.as_object().size() == 1
      && v.as_object().contains("zipf")) {
    auto e = number(v.as_object().at("zipf"), path + ".zipf", 0.01, 10);
    if (!e)
      return e.error();
    d.zipf = true;
    d.exponent = *e;
    return caf::none;
  }
  return bad(path, "must be \"uniform\" or {\"zipf\": exponent}");
}

caf::error read_phase(const json::value& v, const std::string& path,
                      phase_spec& p) {
  if (!v.is_object())
    return bad(path, "must be an object");
  auto& o = v.as_object();
  if (auto err = reject_unknown(o, path, {"name", "duration_s", "rate",
                                          "concurrency", "users", "mix"}))
    return err;
  if (auto n = o.if_contains("name")) {
    if (!n->is_string())
      return bad(path + ".name", "must be a string");
    p.name = std::string{n->as_string()};
  }
  auto d = o.if_contains("duration_s");
  if (!d)
    return bad(path + ".duration_s", "is required");
  auto dur = number(*d, path + ".duration_s", 0.1, 86400 * 7);
  if (!dur)
    return dur.error();
  p.duration_s = *dur;
  auto rate = o.if_contains("rate");
  auto conc = o.if_contains("concurrency");
  if (!rate == !conc)
    return bad(path, "give exactly one of rate (open loop) and concurrency "
                     "(closed loop)");
  if (rate) {
    auto r = number(*rate, path + ".rate", 0.001, 10000000);
    if (!r)
      return r.error();
    p.rate = *r;
  } else {
    auto c = number(*conc, path + ".concurrency", 1, 100000);
    if (!c)
      return c.error();
    p.concurrency = uint32_t(*c);
  }
  if (auto u = o.if_contains("users"))
    if (auto err = read_users(*u, path + ".users", p.users))
      return err;
  auto mix = o.if_contains("mix");
  if (!mix || !mix->is_object() || mix->as_object().empty())
    return bad(path + ".mix", "must be an object of operation: weight");
  auto& known = operation_names();
  for (auto& kv : mix->as_object()) {
    std::string op{kv.key()};
    auto at = path + ".mix." + op;
    if (std::find(known.begin(), known.end(), op) == known.end())
      return bad(at, "unknown operation (known: " + join(known) + ")");
    auto w = number(kv.value(), at, 0, 1e9);
    if (!w)
      return w.error();
    if (*w > 0)
      p.mix[op] = *w;
  }
  if (p.mix.empty())
    return bad(path + ".mix", "needs at least one weight above 0");
  return caf::none;
}

caf::error read_freshness(const json::value& v, freshness_spec& f) {
  if (!v.is_object())
    return bad("freshness", "must be an object");
  auto& o = v.as_object();
  if (auto err = reject_unknown(o, "freshness", {"fraction", "timeout_ms"}))
    return err;
  if (auto x = o.if_contains("fraction")) {
    auto n = number(*x, "freshness.fraction", 0, 1);
    if (!n)
      return n.error();
    f.fraction = *n;
  }
  if (auto x = o.if_contains("timeout_ms")) {
    auto n = number(*x, "freshness.timeout_ms", 1, 600000);
    if (!n)
      return n.error();
    f.timeout_ms = uint32_t(*n);
  }
  return caf::none;
}

// "turn.p99_ms", "error_rate", "search.error_rate", "freshness.p99_ms",
// "throughput_rps".
bool valid_slo_key(const std::string& key) {
  if (key == "error_rate" || key == "throughput_rps")
    return true;
  auto dot = key.rfind('.');
  if (dot == std::string::npos)
    return false;
  auto subject = key.substr(0, dot);
  auto metric = key.substr(dot + 1);
  auto& ops = operation_names();
  bool op = std::find(ops.begin(), ops.end(), subject) != ops.end();
  bool latency = metric == "p50_ms" || metric == "p90_ms" || metric == "p99_ms"
                 || metric == "p999_ms" || metric == "max_ms";
  if (subject == "freshness")
    return latency;
  return op && (latency || metric == "error_rate");
}

caf::error read_slo(const json::value& v, slo_spec& s) {
  if (!v.is_object())
    return bad("slo", "must be an object");
  for (auto& kv : v.as_object()) {
    std::string key{kv.key()};
    if (!valid_slo_key(key))
      return bad("slo." + key,
                 "unknown objective (use <operation>.p50_ms|p90_ms|p99_ms|"
                 "p999_ms|max_ms|error_rate, freshness.<pXX>_ms, error_rate "
                 "or throughput_rps)");
    auto n = number(kv.value(), "slo." + key, 0, 1e12);
    if (!n)
      return n.error();
    s.limits[key] = *n;
  }
  return caf::none;
}

} // namespace

const std::vector<std::string>& operation_names() {
  static const std::vector<std::string> names{
    "turn",          "search",        "entity.create", "entity.get",
    "entity.update", "entity.delete", "entity.list",   "intent.create",
    "intent.close",  "document.upload", "export.manual", "export.trigger",
    "healthz"};
  return names;
}

double scenario::total_seconds() const {
  double t = 0;
  for (auto& p : phases)
    t += p.duration_s;
  return t;
}

caf::expected<scenario> parse_scenario(std::string_view text) {
  json::parse_options opts;
  opts.allow_comments = true;
  opts.allow_trailing_commas = true;
  json::error_code ec;
  auto v = json::parse(text, ec, {}, opts);
  if (ec)
    return make_error(ec::malformed_request,
                      "scenario is not valid JSON: " + ec.message());
  if (!v.is_object())
    return bad("(root)", "must be an object");
  auto& o = v.as_object();
  if (auto err = reject_unknown(o, "", {"name", "setup", "phases",
                                        "freshness", "slo"}))
    return err;
  scenario s;
  if (auto n = o.if_contains("name")) {
    if (!n->is_string())
      return bad("name", "must be a string");
    s.name = std::string{n->as_string()};
  }
  if (auto x = o.if_contains("setup"))
    if (auto err = read_setup(*x, s.setup))
      return err;
  auto phases = o.if_contains("phases");
  if (!phases || !phases->is_array() || phases->as_array().empty())
    return bad("phases", "must be a non-empty array");
  for (std::size_t i = 0; i < phases->as_array().size(); ++i) {
    phase_spec p;
    p.name = "phase" + std::to_string(i + 1);
    if (auto err = read_phase(phases->as_array()[i],
                              "phases[" + std::to_string(i) + "]", p))
      return err;
    s.phases.push_back(std::move(p));
  }
  if (auto x = o.if_contains("freshness"))
    if (auto err = read_freshness(*x, s.freshness))
      return err;
  if (auto x = o.if_contains("slo"))
    if (auto err = read_slo(*x, s.slo))
      return err;
  return s;
}

caf::expected<scenario> load_scenario(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(ec::not_found, path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = parse_scenario(ss.str());
  if (!s)
    return make_error(code_of(s.error()), path + ": " + message_of(s.error()),
                      field_of(s.error()));
  return s;
}

} // namespace engram::load
