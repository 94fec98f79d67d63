#include "actors/llm_client.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/detail/llm_client_state.hpp"
#include "runtime/metrics.hpp"
#include "runtime/providers/provider_stats.hpp"

namespace engram {

namespace detail {

namespace {

providers::usage_budget& budget_of(llm_client_self self,
                                   const std::string& user) {
  auto& st = self->state;
  auto it = st.budgets.find(user);
  if (it == st.budgets.end()) {
    // Forget users who used nothing in their current window, so the map
    // does not grow with every user the node has ever seen.
    if (st.budgets.size() > 10000) {
      auto now = llm_clock::now();
      for (auto b = st.budgets.begin(); b != st.budgets.end();)
        b = b->second.idle(now) ? st.budgets.erase(b) : std::next(b);
    }
    it = st.budgets.emplace(user, providers::usage_budget{st.opts.budget})
           .first;
  }
  return it->second;
}

// A user who used up the minute waits (tasks stay queued, here and in the
// user actor's durable queue) and is served again when the window ends.
void park_over_budget(llm_client_self self, const std::string& user,
                      llm_clock::time_point until) {
  auto& st = self->state;
  if (!st.over_budget.insert(user).second)
    return;
  st.reg->get_counter("engram_llm_budget_waits_total",
                      "Times a user's tasks waited for their model budget")
    .inc();
  auto wait = std::max(until - llm_clock::now(), llm_clock::duration{1});
  self->delayed_send(self, wait, pump_atom::value, user);
}

// The first model of the job's chain, from its current position, whose
// breaker lets a call through; none: every breaker is open.
std::optional<std::size_t> pick_model(llm_client_self self, llm_job& j,
                                      llm_clock::time_point now) {
  auto& st = self->state;
  auto& chain = st.chains[static_cast<int>(j.task)];
  for (auto i = j.model; i < chain.size(); ++i) {
    if (!st.models.at(chain[i]).breaker->allow(now))
      continue;
    if (i != j.model) {
      st.stats->count_fallback(chain[j.model]);
      st.reg->get_counter("engram_llm_fallbacks_total",
                          "Task items passed on to the next model or rules",
                          {{"from", chain[j.model]}, {"to", chain[i]},
                           {"reason", "breaker_open"}})
        .inc();
      j.model = i;
      j.tries = 0;
    }
    return i;
  }
  return std::nullopt;
}

// Up to batch_size jobs from the head of `user`'s queue that share a task
// and a model; jobs whose every breaker is open go to rules on the way.
llm_batch take_batch(llm_client_self self, const std::string& user,
                     llm_clock::time_point now) {
  auto& st = self->state;
  auto& q = st.ready[user];
  llm_batch b;
  b.user = user;
  bool first_alone = false;
  while (!q.empty() && b.ids.empty()) {
    auto id = q.front();
    q.pop_front();
    auto& j = st.jobs.at(id);
    auto m = pick_model(self, j, now);
    if (!m) {
      to_rules(self, id, "every model's breaker is open");
      continue;
    }
    b.task = j.task;
    b.model = st.chains[static_cast<int>(j.task)][*m];
    b.ids.push_back(id);
    first_alone = j.alone;
  }
  // Companions: later jobs of the same task and model, wherever they are in
  // the queue (a user's analyses and rewrites interleave). The scan is
  // bounded so a long queue costs no more than a few batches' worth.
  constexpr std::size_t max_scan = 1024;
  for (auto it = q.begin(); !first_alone && it != q.end()
                            && b.ids.size() < st.opts.batch_size;) {
    if (static_cast<std::size_t>(std::distance(q.begin(), it)) >= max_scan)
      break;
    auto& j = st.jobs.at(*it);
    auto& chain = st.chains[static_cast<int>(j.task)];
    if (j.task != b.task || j.alone || chain[j.model] != b.model) {
      ++it;
      continue;
    }
    b.ids.push_back(*it);
    it = q.erase(it);
  }
  return b;
}

void send_batch(llm_client_self self, llm_batch batch) {
  auto& st = self->state;
  auto worker = st.idle.back();
  st.idle.pop_back();
  ++st.in_flight;
  auto mode = st.models.at(batch.model).mode;
  st.batch_items[static_cast<int>(batch.task)]->observe(
    static_cast<double>(batch.ids.size()));
  auto call = make_call(self, batch, mode);
  self->request(worker, caf::infinite, http_atom::value, std::move(call))
    .then(
      [self, worker, batch, mode](providers::http_result& r) {
        auto& st = self->state;
        st.idle.push_back(worker);
        --st.in_flight;
        on_http_answer(self, batch, mode, r);
        pump_llm(self);
      },
      [self, batch, mode](caf::error& err) {
        // The worker is gone (it never fails a call otherwise): replace it.
        auto& st = self->state;
        st.idle.push_back(spawn_http_worker(self->system()));
        --st.in_flight;
        providers::http_result r;
        r.error = "HTTP worker failed: " + self->system().render(err);
        on_http_answer(self, batch, mode, r);
        pump_llm(self);
      });
}

void publish_gauges(llm_client_self self) {
  auto& st = self->state;
  uint64_t queued = 0;
  for (auto& [user, q] : st.ready)
    queued += q.size();
  st.stats->gauges(queued, st.in_flight, st.over_budget.size());
  st.queued_gauge->set(static_cast<double>(queued));
  st.in_flight_gauge->set(static_cast<double>(st.in_flight));
  st.over_budget_gauge->set(static_cast<double>(st.over_budget.size()));
}

} // namespace

void enqueue_job(llm_client_self self, llm_job job) {
  auto& st = self->state;
  job.id = st.next_id++;
  auto id = job.id;
  auto user = job.user;
  st.jobs.emplace(id, std::move(job));
  auto& q = st.ready[user];
  q.push_back(id);
  if (q.size() == 1 && !st.over_budget.count(user))
    st.rr.push_back(user);
  pump_llm(self);
}

void requeue_front(llm_client_self self, uint64_t id) {
  auto& st = self->state;
  auto& j = st.jobs.at(id);
  auto& q = st.ready[j.user];
  q.push_front(id);
  if (q.size() == 1 && !st.over_budget.count(j.user))
    st.rr.push_back(j.user);
}

void pump_llm(llm_client_self self) {
  auto& st = self->state;
  auto now = llm_clock::now();
  while (!st.idle.empty() && !st.rr.empty()) {
    auto user = st.rr.front();
    auto& budget = budget_of(self, user);
    if (!budget.allows(now)) {
      st.rr.pop_front();
      park_over_budget(self, user, budget.window_end(now));
      continue;
    }
    if (!st.bucket->unlimited() && !st.bucket->try_take(now)) {
      if (!st.tick_pending) {
        st.tick_pending = true;
        self->delayed_send(self,
                           std::max(st.bucket->wait_time(now),
                                    llm_clock::duration{std::chrono::microseconds(100)}),
                           pump_atom::value);
      }
      break;
    }
    st.rr.pop_front();
    auto batch = take_batch(self, user, now);
    if (st.ready[user].empty())
      st.ready.erase(user);
    else
      st.rr.push_back(user);
    if (batch.ids.empty())
      continue;
    budget.record_call(now);
    send_batch(self, std::move(batch));
  }
  publish_gauges(self);
}

namespace {

llm_job job_of(llm_task task, std::string user) {
  llm_job j;
  j.task = task;
  j.user = std::move(user);
  return j;
}

llm_client_actor::behavior_type
llm_client(llm_client_self self, llm_client_options opts,
           std::vector<llm_worker_actor> rules, metrics::registry* reg,
           std::shared_ptr<providers::provider_stats> stats) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.rules = std::move(rules);
  st.reg = reg;
  st.stats = std::move(stats);
  st.bucket = std::make_unique<providers::token_bucket>(
    st.opts.rate_limit_rps, std::max(1.0, double(st.opts.rate_limit_rps)));
  for (int t = 0; t < 3; ++t) {
    auto& chain = st.chains[t];
    chain.push_back(st.opts.models[t]);
    for (auto& m : st.opts.fallback_models)
      if (std::find(chain.begin(), chain.end(), m) == chain.end())
        chain.push_back(m);
  }
  std::map<std::string, std::vector<std::string>> tasks_of;
  for (int t = 0; t < 3; ++t)
    for (auto& m : st.chains[t])
      tasks_of[m].push_back(providers::to_string(static_cast<llm_task>(t)));
  for (auto& [name, tasks] : tasks_of) {
    providers::breaker_options bo;
    bo.failure_threshold = st.opts.breaker_failures;
    bo.cooldown = std::chrono::milliseconds(st.opts.breaker_cooldown_ms);
    auto model = name;
    auto on_change = [reg, stats = st.stats, model](auto from, auto to) {
      spdlog::warn("event=llm_breaker model={} from={} to={}", model,
                   providers::to_string(from), providers::to_string(to));
      stats->breaker_transition(model, providers::to_string(to));
      reg->get_counter("engram_llm_breaker_transitions_total",
                       "Circuit breaker state changes per model",
                       {{"model", model}, {"to", providers::to_string(to)}})
        .inc();
    };
    auto& ms = st.models[name];
    ms.breaker = std::make_unique<providers::circuit_breaker>(bo, on_change);
    ms.mode = st.opts.mode;
    st.stats->set_tasks(name, tasks);
    st.stats->breaker(name, "closed", 0);
  }
  st.queued_gauge = &reg->get_gauge("engram_llm_queued",
                                    "Tasks waiting for a model call");
  st.in_flight_gauge = &reg->get_gauge("engram_llm_in_flight",
                                       "Model calls in flight");
  st.over_budget_gauge = &reg->get_gauge(
    "engram_llm_users_over_budget", "Users waiting for their model budget window");
  for (int t = 0; t < 3; ++t) {
    st.batch_items[t] = &reg->get_histogram(
      "engram_llm_batch_items", "Task items per model call",
      {{"task", providers::to_string(static_cast<llm_task>(t))}},
      metrics::size_buckets());
    st.cache.system_json[t] = providers::wire::json_quoted(
      st.opts.prompts.of(static_cast<llm_task>(t)));
  }
  for (uint32_t i = 0; i < std::max(1u, st.opts.max_concurrency); ++i)
    st.idle.push_back(spawn_http_worker(self->system()));
  // Detached workers do not stop with us on their own.
  self->attach_functor([workers = st.idle, rules = st.rules](const caf::error&) {
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    for (auto& w : rules)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  });
  return {
    [self](analyse_atom, providers::analysis_input& in)
      -> caf::result<providers::analysis_result> {
      auto j = job_of(llm_task::analysis, in.user);
      j.p_analysis = self->make_response_promise<providers::analysis_result>();
      auto rp = j.p_analysis;
      j.analysis = std::move(in);
      admit(self, std::move(j));
      return rp;
    },
    [self](rewrite_atom, rewrite_chain& chain) -> caf::result<string_list> {
      auto j = job_of(llm_task::rewrite, chain.user);
      j.p_rewrite = self->make_response_promise<string_list>();
      auto rp = j.p_rewrite;
      j.rewrite = std::move(chain);
      admit(self, std::move(j));
      return rp;
    },
    [self](create_atom, providers::creation_input& in)
      -> caf::result<providers::creation_result> {
      auto j = job_of(llm_task::creation, in.user);
      j.p_creation = self->make_response_promise<providers::creation_result>();
      auto rp = j.p_creation;
      j.creation = std::move(in);
      admit(self, std::move(j));
      return rp;
    },
    [self](retry_atom, uint64_t id) {
      if (self->state.jobs.count(id)) {
        requeue_front(self, id);
        pump_llm(self);
      }
    },
    [self](pump_atom) {
      self->state.tick_pending = false;
      pump_llm(self);
    },
    [self](pump_atom, std::string& user) {
      auto& st = self->state;
      st.over_budget.erase(user);
      if (auto it = st.ready.find(user); it != st.ready.end() && !it->second.empty())
        st.rr.push_back(user);
      pump_llm(self);
    },
  };
}

} // namespace

} // namespace detail

std::chrono::milliseconds worst_case_latency(const llm_client_options& o,
                                             uint32_t tasks_per_user) {
  auto models = 1 + o.fallback_models.size();
  auto per_model = uint64_t(o.max_retries + 1) * (o.timeout_ms + o.retry_max_ms);
  // A user's queued tasks may need several budget windows: each call takes
  // up to batch_size of them, calls_per_minute calls per window.
  uint64_t windows = 1;
  if (o.budget.calls_per_minute > 0) {
    uint64_t per_window = o.budget.calls_per_minute * std::max(1u, o.batch_size);
    windows += (tasks_per_user + per_window - 1) / per_window;
  }
  if (o.budget.tokens_per_minute > 0)
    windows += tasks_per_user; // one call per window, at worst
  // Plus a margin for the rules fallback.
  return std::chrono::milliseconds(models * per_model + windows * 60000 + 10000);
}

llm_worker_actor spawn_llm_client(caf::actor_system& sys,
                                  llm_client_options opts,
                                  std::vector<llm_worker_actor> rules,
                                  metrics::registry& metrics,
                                  std::shared_ptr<providers::provider_stats> stats) {
  auto client = sys.spawn(detail::llm_client, std::move(opts), std::move(rules),
                          &metrics, std::move(stats));
  return caf::actor_cast<llm_worker_actor>(client);
}

} // namespace engram
