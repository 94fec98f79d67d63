// The llm_client's side of a finished call: reading the answer, checking
// every item, and deciding what happens to each one that failed (retry,
// next model, rules). See actors/llm_client.hpp for the whole flow.

#include <functional>

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/llm_client_state.hpp"
#include "messages/errors.hpp"
#include "runtime/metrics.hpp"
#include "runtime/providers/backoff.hpp"
#include "runtime/providers/json_extract.hpp"
#include "runtime/providers/provider_stats.hpp"
#include "runtime/providers/task_json.hpp"

namespace engram::detail {

namespace wire = providers::wire;
namespace json = boost::json;

namespace {

const std::string& model_of(llm_client_self self, const llm_job& j) {
  return self->state.chains[static_cast<int>(j.task)][j.model];
}

void count_fallback(llm_client_self self, const std::string& from,
                    const std::string& to, const char* reason) {
  auto& st = self->state;
  st.stats->count_fallback(from);
  st.reg->get_counter("engram_llm_fallbacks_total",
                      "Task items passed on to the next model or rules",
                      {{"from", from}, {"to", to}, {"reason", reason}})
    .inc();
}

// The job leaves the client: its promise gets the value, the job is gone.
void finish(llm_client_self self, uint64_t id) {
  self->state.jobs.erase(id);
}

// Tries, then the next model, then rules.
void fail_item(llm_client_self self, uint64_t id, const std::string& why,
               bool retryable, std::optional<std::chrono::milliseconds> wait) {
  auto& st = self->state;
  auto& j = st.jobs.at(id);
  auto& model = model_of(self, j);
  ++j.tries;
  if (retryable && j.tries <= st.opts.max_retries) {
    st.stats->count_retry(model);
    metrics_of(self, model).retries->inc();
    providers::backoff_policy p{std::chrono::milliseconds(st.opts.retry_base_ms),
                                std::chrono::milliseconds(st.opts.retry_max_ms)};
    std::uniform_real_distribution<double> u(0.0, 1.0);
    auto delay = providers::next_wait(p, j.tries, u(st.rng), wait);
    self->delayed_send(self, delay, retry_atom::value, id);
    return;
  }
  auto& chain = st.chains[static_cast<int>(j.task)];
  if (j.model + 1 < chain.size()) {
    count_fallback(self, model, chain[j.model + 1], "failed");
    ++j.model;
    j.tries = 0;
    requeue_front(self, id);
    return;
  }
  count_fallback(self, model, "rules", "failed");
  to_rules(self, id, why);
}

} // namespace

void to_rules(llm_client_self self, uint64_t id, const std::string& why) {
  auto& st = self->state;
  auto& j = st.jobs.at(id);
  st.stats->rules_fallbacks(1);
  st.reg->get_counter("engram_llm_rules_fallbacks_total",
                      "Tasks answered by the rules provider because no "
                      "model could",
                      {{"task", providers::to_string(j.task)}})
    .inc();
  spdlog::warn("event=llm_rules_fallback task={} user={} reason=\"{}\"",
               providers::to_string(j.task), j.user, why);
  auto w = st.rules[st.next_rules++ % st.rules.size()];
  // The rules worker answers the task's caller directly.
  switch (j.task) {
    case llm_task::analysis:
      j.p_analysis.delegate(w, analyse_atom::value, std::move(j.analysis));
      break;
    case llm_task::rewrite:
      j.p_rewrite.delegate(w, rewrite_atom::value, std::move(j.rewrite));
      break;
    case llm_task::creation:
      j.p_creation.delegate(w, create_atom::value, std::move(j.creation));
      break;
  }
  finish(self, id);
}

model_metrics& metrics_of(llm_client_self self, const std::string& model) {
  auto& st = self->state;
  auto [it, fresh] = st.model_metrics_.try_emplace(model);
  auto& m = it->second;
  if (fresh) {
    m.seconds = &st.reg->get_histogram("engram_llm_request_seconds",
                                       "Model call latency (network + model)",
                                       {{"model", model}});
    m.tokens = &st.reg->get_counter(
      "engram_llm_tokens_total",
      "Tokens reported by the server (prompt + completion)", {{"model", model}});
    m.retries = &st.reg->get_counter("engram_llm_retries_total",
                                     "Task items sent again to the same model",
                                     {{"model", model}});
  }
  return m;
}

namespace {

// The response_format of a call, built once per (task, mode) and, for an
// analysis schema, once per list of entity ids.
const std::string& format_of(llm_client_self self, llm_task task,
                             const wire::chat_params& p) {
  auto& c = self->state.cache;
  if (task == llm_task::analysis && p.mode == wire::json_mode::schema) {
    if (c.analysis_mode != static_cast<int>(p.mode) || c.analysis_ids != p.entity_ids) {
      c.analysis_format = wire::response_format_json(p, task);
      c.analysis_ids = p.entity_ids;
      c.analysis_mode = static_cast<int>(p.mode);
    }
    return c.analysis_format;
  }
  auto key = std::make_pair(static_cast<int>(task), static_cast<int>(p.mode));
  auto it = c.format.find(key);
  if (it == c.format.end())
    it = c.format.emplace(key, wire::response_format_json(p, task)).first;
  return it->second;
}

} // namespace

providers::http_call make_call(llm_client_self self, const llm_batch& batch,
                               wire::json_mode mode) {
  auto& st = self->state;
  auto task = static_cast<int>(batch.task);
  wire::chat_params p;
  p.model = batch.model;
  p.temperature = st.opts.temperatures[task];
  p.max_tokens = st.opts.max_tokens;
  p.mode = mode;
  std::string doc;
  if (batch.task == llm_task::analysis) {
    std::vector<const providers::analysis_input*> items;
    for (auto id : batch.ids)
      items.push_back(&st.jobs.at(id).analysis);
    for (auto& k : items.back()->known)
      p.entity_ids.push_back(k.id);
    doc = wire::analysis_input_json(items);
  } else if (batch.task == llm_task::rewrite) {
    std::vector<wire::rewrite_item> items;
    for (auto id : batch.ids) {
      auto& c = st.jobs.at(id).rewrite;
      items.push_back({&c.base, &c.summaries});
    }
    doc = wire::rewrite_input_json(items);
  } else {
    std::vector<const providers::creation_input*> items;
    for (auto id : batch.ids)
      items.push_back(&st.jobs.at(id).creation);
    doc = wire::creation_input_json(items);
  }
  providers::http_call call;
  call.url = st.opts.base_url + "/chat/completions";
  if (!st.opts.api_key.empty())
    call.headers.push_back("Authorization: Bearer " + st.opts.api_key);
  call.body = wire::chat_request_from(p, st.cache.system_json[task],
                                      format_of(self, batch.task, p), doc);
  call.timeout_ms = st.opts.timeout_ms;
  return call;
}

namespace {

// What became of one item of an answer: usable (and how to hand it to its
// caller) or why not.
struct item_outcome {
  bool ok = false;
  std::string why;
  std::function<void()> deliver;
};

std::string describe(const caf::error& err) {
  auto field = field_of(err);
  return message_of(err) + (field.empty() ? "" : " (" + field + ")");
}

// Reads every item of the answer once and checks it against its task.
std::vector<item_outcome> read_items(llm_client_self self, const llm_batch& b,
                                     const json::value& doc) {
  auto& st = self->state;
  auto n = b.ids.size();
  std::vector<item_outcome> out(n);
  if (b.task == llm_task::analysis) {
    auto rs = wire::analysis_results(doc, n);
    for (std::size_t i = 0; i < n; ++i) {
      auto& j = st.jobs.at(b.ids[i]);
      caf::error err = rs[i] ? providers::validate(*rs[i], j.analysis.known)
                             : rs[i].error();
      if (err) {
        out[i].why = describe(err);
        continue;
      }
      remember(self, j, b.model, *rs[i]);
      out[i] = {true, {}, [p = j.p_analysis, r = std::move(*rs[i])]() mutable {
                  p.deliver(std::move(r));
                }};
    }
  } else if (b.task == llm_task::rewrite) {
    for (std::size_t i = 0; i < n; ++i) {
      auto& j = st.jobs.at(b.ids[i]);
      auto r = std::move(
        wire::rewrite_results(doc, n, j.rewrite.base.max_note_chars)[i]);
      if (!r) {
        out[i].why = describe(r.error());
        continue;
      }
      remember(self, j, b.model, string_list{*r});
      out[i] = {true, {}, [p = j.p_rewrite, note = std::move(*r)]() mutable {
                  p.deliver(string_list{std::move(note)});
                }};
    }
  } else {
    auto rs = wire::creation_results(doc, n);
    for (std::size_t i = 0; i < n; ++i) {
      auto& j = st.jobs.at(b.ids[i]);
      caf::error err = rs[i] ? providers::validate(*rs[i]) : rs[i].error();
      if (err) {
        out[i].why = describe(err);
        continue;
      }
      remember(self, j, b.model, *rs[i]);
      out[i] = {true, {}, [p = j.p_creation, r = std::move(*rs[i])]() mutable {
                  p.deliver(std::move(r));
                }};
    }
  }
  return out;
}

void record_call(llm_client_self self, const llm_batch& b, double seconds,
                 const char* outcome, bool ok, bool timed_out,
                 uint64_t tokens) {
  auto& st = self->state;
  st.stats->call_done(b.model, seconds, ok, timed_out, b.ids.size(), tokens);
  auto& m = metrics_of(self, b.model);
  auto& c = m.requests[outcome];
  if (!c)
    c = &st.reg->get_counter("engram_llm_requests_total",
                             "Model calls by model and outcome",
                             {{"model", b.model}, {"outcome", outcome}});
  c->inc();
  m.seconds->observe(seconds);
  if (tokens)
    m.tokens->inc(tokens);
}

void publish_breaker(llm_client_self self, const std::string& model) {
  auto& b = *self->state.models.at(model).breaker;
  self->state.stats->breaker(
    model, providers::to_string(b.state(llm_clock::now())),
    b.consecutive_failures());
}

// A transport failure or a non-200 status: the whole batch failed.
void on_http_failure(llm_client_self self, const llm_batch& b,
                     wire::json_mode mode, const providers::http_result& r) {
  auto& st = self->state;
  auto& ms = st.models.at(b.model);
  // The server cannot do the response format we asked for: ask again with
  // a weaker one. Not the model's fault, so no breaker or retry counted.
  if (r.status == 400 && mode != wire::json_mode::off
      && wire::blames_response_format(r.body)) {
    ms.mode = wire::weaker(mode);
    spdlog::warn("event=llm_json_mode_downgrade model={} from={} to={}",
                 b.model, wire::to_string(mode), wire::to_string(ms.mode));
    record_call(self, b, r.seconds, "format_refused", false, false, 0);
    // The server answered, so it is up (and a half-open probe is over).
    ms.breaker->on_success(llm_clock::now());
    publish_breaker(self, b.model);
    for (auto it = b.ids.rbegin(); it != b.ids.rend(); ++it)
      requeue_front(self, *it);
    return;
  }
  std::string why;
  if (r.transport_failed())
    why = r.timed_out ? "timed out after " + std::to_string(st.opts.timeout_ms)
                          + " ms"
                      : r.error;
  else
    why = "HTTP " + std::to_string(r.status) + ": " + wire::error_summary(r.body);
  bool retryable = r.transport_failed() || r.status == 408 || r.status == 409
                   || r.status == 429 || r.status >= 500;
  std::optional<std::chrono::milliseconds> wait;
  if (r.status == 429) {
    st.stats->count_rate_limited(b.model);
    wait = providers::parse_retry_after(r.retry_after,
                                        std::chrono::system_clock::now());
  }
  auto outcome = r.timed_out ? "timeout"
                 : r.transport_failed() ? "transport_error"
                 : r.status == 429       ? "rate_limited"
                                         : "http_error";
  record_call(self, b, r.seconds, outcome, false, r.timed_out, 0);
  st.stats->error(b.model, why);
  ms.breaker->on_failure(llm_clock::now());
  publish_breaker(self, b.model);
  spdlog::warn("event=llm_call_failed model={} items={} error=\"{}\"", b.model,
               b.ids.size(), why);
  for (auto id : b.ids)
    fail_item(self, id, why, retryable, wait);
}

} // namespace

void on_http_answer(llm_client_self self, const llm_batch& b,
                    wire::json_mode mode, const providers::http_result& r) {
  auto& st = self->state;
  if (r.transport_failed() || r.status != 200)
    return on_http_failure(self, b, mode, r);
  auto ans = wire::parse_chat_response(r.body);
  uint64_t tokens = ans ? ans->prompt_tokens + ans->completion_tokens
                        : r.body.size() / 4;
  if (auto it = st.budgets.find(b.user); it != st.budgets.end())
    it->second.record_tokens(llm_clock::now(), tokens);
  auto doc = ans ? providers::extract_json(ans->content)
                 : caf::expected<json::value>{ans.error()};
  auto& ms = st.models.at(b.model);
  if (!doc) {
    auto why = "unusable answer: " + message_of(doc.error());
    record_call(self, b, r.seconds, "invalid", false, false, tokens);
    st.stats->error(b.model, why);
    ms.breaker->on_failure(llm_clock::now());
    publish_breaker(self, b.model);
    for (auto id : b.ids)
      fail_item(self, id, why, true, std::nullopt);
    return;
  }
  auto items = read_items(self, b, *doc);
  std::size_t ok = 0;
  std::string last_why;
  for (auto& it : items)
    if (it.ok)
      ++ok;
    else
      last_why = it.why;
  // Breaker and stats first: whoever the answers wake sees them current.
  record_call(self, b, r.seconds, ok == b.ids.size() ? "ok" : "invalid",
              ok == b.ids.size(), false, tokens);
  if (ok > 0) {
    ms.breaker->on_success(llm_clock::now());
  } else {
    st.stats->error(b.model, "unusable answer: " + last_why);
    ms.breaker->on_failure(llm_clock::now());
  }
  publish_breaker(self, b.model);
  for (std::size_t i = 0; i < b.ids.size(); ++i) {
    auto id = b.ids[i];
    if (items[i].ok) {
      items[i].deliver();
      finish(self, id);
      continue;
    }
    auto& j = st.jobs.at(id);
    if (b.ids.size() > 1 && !j.alone) {
      // Part of a batch answer that did not fit: try it on its own first.
      j.alone = true;
      requeue_front(self, id);
      continue;
    }
    fail_item(self, id, "unusable answer: " + items[i].why, true, std::nullopt);
  }
}

} // namespace engram::detail
