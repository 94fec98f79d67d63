#include "actors/llm_worker.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/metrics.hpp"
#include "runtime/providers/task_json.hpp"

namespace engram {

namespace {

// Per task: calls, failures and latency, labelled with the provider.
struct task_metrics {
  metrics::counter* calls;
  metrics::counter* failures;
  metrics::histogram* latency;
};

task_metrics make_task_metrics(metrics::registry& reg, const std::string& task,
                               const std::string& provider) {
  metrics::labels l{{"task", task}, {"provider", provider}};
  return {&reg.get_counter("engram_llm_calls_total",
                           "Language task calls by task and provider", l),
          &reg.get_counter("engram_llm_failures_total",
                           "Language task calls that failed or were invalid",
                           l),
          &reg.get_histogram("engram_llm_latency_seconds",
                             "Language task latency", l)};
}

struct worker_state {
  std::unique_ptr<providers::llm_provider> provider;
  task_metrics analyse{}, rewrite{}, create{};
  static inline const char* name = "engram.llm_worker";
};

using worker_self = llm_worker_actor::stateful_pointer<worker_state>;

// Runs `fn`, observing latency and failures in `m`.
template <class F>
auto timed(const task_metrics& m, F fn) -> decltype(fn()) {
  auto t0 = std::chrono::steady_clock::now();
  auto res = fn();
  m.calls->inc();
  m.latency->observe(std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
  if (!res)
    m.failures->inc();
  return res;
}

caf::expected<string_list> run_chain(providers::llm_provider& p,
                                     rewrite_chain& chain) {
  string_list notes;
  auto in = chain.base;
  for (auto& summary : chain.summaries) {
    in.update_summary = summary;
    auto note = p.rewrite(in);
    if (!note)
      return note.error();
    if (note->empty() || note->size() > in.max_note_chars * 4)
      return make_error(ec::invalid_argument,
                        "rewrite produced an empty or oversized note", "note");
    in.previous_note = *note;
    notes.push_back(std::move(*note));
  }
  return notes;
}

llm_worker_actor::behavior_type worker(worker_self self,
                                       provider_factory make,
                                       metrics::registry* reg) {
  auto& st = self->state;
  st.provider = make();
  auto name = st.provider->name();
  st.analyse = make_task_metrics(*reg, "analysis", name);
  st.rewrite = make_task_metrics(*reg, "rewrite", name);
  st.create = make_task_metrics(*reg, "creation", name);
  return {
    [self](analyse_atom, providers::analysis_input& in)
      -> caf::result<providers::analysis_result> {
      auto& st = self->state;
      auto res = timed(st.analyse,
                       [&]() -> caf::expected<providers::analysis_result> {
                         auto r = st.provider->analyse(in);
                         if (!r)
                           return r;
                         if (auto err = providers::validate(*r, in.known))
                           return err;
                         return r;
                       });
      if (!res)
        return res.error();
      return std::move(*res);
    },
    [self](rewrite_atom, rewrite_chain& chain) -> caf::result<string_list> {
      auto& st = self->state;
      auto res = timed(st.rewrite, [&] { return run_chain(*st.provider, chain); });
      if (!res)
        return res.error();
      return std::move(*res);
    },
    [self](create_atom, providers::creation_input& in)
      -> caf::result<providers::creation_result> {
      auto& st = self->state;
      auto res = timed(st.create,
                       [&]() -> caf::expected<providers::creation_result> {
                         auto r = st.provider->create(in);
                         if (!r)
                           return r;
                         if (auto err = providers::validate(*r))
                           return err;
                         return r;
                       });
      if (!res)
        return res.error();
      return std::move(*res);
    },
  };
}

} // namespace

llm_worker_actor spawn_llm_worker(caf::actor_system& sys,
                                  const provider_factory& make,
                                  metrics::registry& metrics) {
  // Ask a throw-away instance whether this provider blocks.
  if (make()->blocks())
    return sys.spawn<caf::detached>(worker, make, &metrics);
  return sys.spawn(worker, make, &metrics);
}

} // namespace engram
