// `engramd --check-providers`: one tiny call per configured model, so an
// operator sees at once which model names, keys and URLs work.

#include <cstdlib>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include "messages/errors.hpp"
#include "runtime/provider_setup.hpp"
#include "runtime/providers/curl_client.hpp"
#include "runtime/providers/json_extract.hpp"
#include "runtime/providers/openai_wire.hpp"

namespace engram {

namespace {

namespace wire = providers::wire;

struct check_row {
  std::string kind, model, tasks, result;
  double ms = 0;
  bool ok = false;
};

std::string env_or_empty(const std::string& var) {
  auto v = var.empty() ? nullptr : std::getenv(var.c_str());
  return v ? v : "";
}

std::string trimmed(std::string url) {
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  return url;
}

check_row check_chat(const config::options& o, const std::string& model,
                     const std::string& tasks) {
  providers::curl_client http;
  wire::chat_params p;
  p.model = model;
  p.temperature = 0;
  p.max_tokens = 32;
  p.mode = wire::json_mode::off;
  providers::http_call call;
  call.url = trimmed(o.llm.base_url) + "/chat/completions";
  if (auto key = env_or_empty(o.llm.api_key_env); !key.empty())
    call.headers.push_back("Authorization: Bearer " + key);
  call.body = wire::chat_request(
    p, providers::llm_task::analysis,
    "Answer with exactly this JSON object and nothing else: {\"ok\": true}",
    "{\"task\":\"probe\"}");
  call.timeout_ms = o.llm.timeout_ms;
  auto r = http.post(call);
  check_row row{"llm", model, tasks, "", r.seconds * 1000, false};
  if (r.transport_failed())
    row.result = r.error;
  else if (r.status != 200)
    row.result = "HTTP " + std::to_string(r.status) + ": "
                 + wire::error_summary(r.body);
  else if (auto a = wire::parse_chat_response(r.body); !a)
    row.result = "not a chat completion: " + message_of(a.error());
  else if (auto doc = providers::extract_json(a->content); !doc)
    row.result = "answered, but no JSON in it: " + message_of(doc.error());
  else {
    row.ok = true;
    row.result = "ok (" + std::to_string(a->prompt_tokens + a->completion_tokens)
                 + " tokens)";
  }
  return row;
}

check_row check_embedder(const config::options& o) {
  providers::curl_client http;
  providers::http_call call;
  call.url = trimmed(o.embedder.base_url) + "/embeddings";
  if (auto key = env_or_empty(o.embedder.api_key_env); !key.empty())
    call.headers.push_back("Authorization: Bearer " + key);
  call.body = wire::embeddings_request(
    o.embedder.model, {"engram provider check"},
    o.embedder.send_dimensions ? std::optional<std::size_t>{o.embedder.dim}
                               : std::nullopt);
  call.timeout_ms = o.embedder.timeout_ms;
  auto r = http.post(call);
  check_row row{"embedder", o.embedder.model, "embeddings", "",
                r.seconds * 1000, false};
  if (r.transport_failed())
    row.result = r.error;
  else if (r.status != 200)
    row.result = "HTTP " + std::to_string(r.status) + ": "
                 + wire::error_summary(r.body);
  else if (auto v = wire::parse_embeddings_response(r.body, 1, o.embedder.dim); !v)
    row.result = message_of(v.error());
  else {
    row.ok = true;
    row.result = "ok (" + std::to_string(o.embedder.dim) + " dimensions)";
  }
  return row;
}

void print(std::ostream& out, const std::vector<check_row>& rows) {
  out << std::left << std::setw(9) << "kind" << std::setw(28) << "model"
      << std::setw(28) << "tasks" << std::setw(10) << "ms" << "result\n";
  for (auto& r : rows) {
    std::ostringstream ms;
    ms << std::fixed << std::setprecision(0) << r.ms;
    out << std::left << std::setw(9) << r.kind << std::setw(28) << r.model
        << std::setw(28) << r.tasks << std::setw(10) << ms.str()
        << (r.ok ? "" : "FAIL ") << r.result << "\n";
  }
}

} // namespace

int check_providers(const config::options& o, std::ostream& out) {
  providers::curl_global_setup();
  std::vector<check_row> rows;
  if (o.llm.provider == "openai") {
    std::map<std::string, std::string> tasks; // model -> tasks, in order
    std::vector<std::string> order;
    auto add = [&](const std::string& model, const std::string& task) {
      if (!tasks.count(model))
        order.push_back(model);
      auto& t = tasks[model];
      t += (t.empty() ? "" : ",") + task;
    };
    add(o.llm.models.analysis, "analysis");
    add(o.llm.models.rewrite, "rewrite");
    add(o.llm.models.creation, "creation");
    for (auto& m : o.llm.fallback_models)
      add(m, "fallback");
    for (auto& m : order)
      rows.push_back(check_chat(o, m, tasks[m]));
  } else {
    rows.push_back({"llm", "rules", "analysis,rewrite,creation",
                    "ok (offline, nothing to call)", 0, true});
  }
  if (o.embedder.provider == "openai")
    rows.push_back(check_embedder(o));
  else
    rows.push_back({"embedder", "hash", "embeddings",
                    "ok (offline, nothing to call)", 0, true});
  print(out, rows);
  for (auto& r : rows)
    if (!r.ok)
      return 1;
  return 0;
}

} // namespace engram
