// Model completions in the "llm" cache: a task whose input (without the
// user, session and turn, which the model never sees as such) was answered
// by its task's first model at the same temperature and prompt gets that
// answer again without a call. Only answers that passed validation from the
// first model are stored: fallback and rules answers never are.

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/cache.hpp"
#include "actors/detail/llm_client_state.hpp"
#include "runtime/cache/cache_keys.hpp"

namespace engram::detail {

namespace {

template <class T>
std::string to_bytes(caf::actor_system& sys, T value) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (sink(value))
    return {};
  return std::string{buf.begin(), buf.end()};
}

template <class T>
std::optional<T> from_bytes(caf::actor_system& sys, const std::string& bytes) {
  std::vector<char> buf{bytes.begin(), bytes.end()};
  caf::binary_deserializer source{sys, buf};
  T value;
  if (source(value))
    return std::nullopt;
  return value;
}

// What determines the answer: the input as the model sees it.
std::string input_bytes(caf::actor_system& sys, const llm_job& j) {
  switch (j.task) {
    case llm_task::analysis: {
      auto in = j.analysis;
      in.user.clear();
      in.session.clear();
      in.turn = 0;
      return to_bytes(sys, std::move(in));
    }
    case llm_task::rewrite: {
      auto in = j.rewrite;
      in.user.clear();
      return to_bytes(sys, std::move(in));
    }
    default: {
      auto in = j.creation;
      in.user.clear();
      return to_bytes(sys, std::move(in));
    }
  }
}

template <class T>
void deliver_cached(llm_client_self self, llm_job& j, const std::string& v) {
  auto r = from_bytes<T>(self->system(), v);
  if (!r) {
    enqueue_job(self, std::move(j));
    return;
  }
  if constexpr (std::is_same_v<T, providers::analysis_result>)
    j.p_analysis.deliver(std::move(*r));
  else if constexpr (std::is_same_v<T, string_list>)
    j.p_rewrite.deliver(std::move(*r));
  else
    j.p_creation.deliver(std::move(*r));
}

} // namespace

void admit(llm_client_self self, llm_job job) {
  auto& st = self->state;
  if (!st.opts.cache)
    return enqueue_job(self, std::move(job));
  auto t = static_cast<int>(job.task);
  auto bytes = input_bytes(self->system(), job);
  job.cache_key = cache::make_key(
    {"llm", providers::to_string(job.task), st.chains[t].front(),
     std::to_string(st.opts.temperatures[t]),
     cache::digest(st.cache.system_json[t] + '\0' + bytes)});
  auto key = job.cache_key;
  self
    ->request(st.opts.cache->shard_of(key), caf::infinite, cget_atom::value,
              key)
    .then(
      [self, job](cache_lookup& found) mutable {
        if (!found.hit)
          return enqueue_job(self, std::move(job));
        if (job.task == llm_task::analysis)
          deliver_cached<providers::analysis_result>(self, job, found.value);
        else if (job.task == llm_task::rewrite)
          deliver_cached<string_list>(self, job, found.value);
        else
          deliver_cached<providers::creation_result>(self, job, found.value);
      },
      [self, job](caf::error&) mutable { enqueue_job(self, std::move(job)); });
}

template <class T>
void remember(llm_client_self self, const llm_job& j, const std::string& model,
              const T& answer) {
  auto& st = self->state;
  if (!st.opts.cache || j.cache_key.empty()
      || model != st.chains[static_cast<int>(j.task)].front())
    return;
  auto bytes = to_bytes(self->system(), answer);
  if (bytes.empty())
    return;
  self->send(st.opts.cache->shard_of(j.cache_key), cput_atom::value,
             j.cache_key, std::move(bytes), st.opts.cache->opts.ttl_ms);
}

template void remember(llm_client_self, const llm_job&, const std::string&,
                       const providers::analysis_result&);
template void remember(llm_client_self, const llm_job&, const std::string&,
                       const string_list&);
template void remember(llm_client_self, const llm_job&, const std::string&,
                       const providers::creation_result&);

} // namespace engram::detail
