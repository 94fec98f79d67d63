#include "messages/registry.hpp"

#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "messages/api_messages.hpp"
#include "messages/cache_messages.hpp"
#include "messages/errors.hpp"
#include "messages/journal_messages.hpp"
#include "messages/pipeline_messages.hpp"
#include "messages/provider_messages.hpp"

namespace engram {

namespace {

template <class T>
caf::error round_trip(caf::actor_system& sys, const char* name, T sample) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (auto err = sink(sample))
    return make_error(ec::internal, std::string("cannot serialise ") + name);
  T copy;
  caf::binary_deserializer source{sys, buf};
  if (auto err = source(copy))
    return make_error(ec::internal, std::string("cannot deserialise ") + name);
  std::vector<char> again;
  caf::binary_serializer sink2{sys, again};
  if (sink2(copy) || again != buf)
    return make_error(ec::internal, std::string("lossy round trip of ") + name);
  return caf::none;
}

} // namespace

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<storage::mutation>("engram::storage::mutation");
  cfg.add_message_type<storage::mutation_list>("engram::storage::mutation_list");
  cfg.add_message_type<write_request>("engram::write_request");
  cfg.add_message_type<commit_ack>("engram::commit_ack");
  cfg.add_message_type<api_call>("engram::api_call");
  cfg.add_message_type<api_reply>("engram::api_reply");
  cfg.add_message_type<cache_lookup>("engram::cache_lookup");
  cfg.add_message_type<providers::analysis_input>("engram::analysis_input");
  cfg.add_message_type<providers::analysis_result>("engram::analysis_result");
  cfg.add_message_type<providers::creation_input>("engram::creation_input");
  cfg.add_message_type<providers::creation_result>("engram::creation_result");
  cfg.add_message_type<rewrite_chain>("engram::rewrite_chain");
  cfg.add_message_type<vector_list>("engram::vector_list");
  cfg.add_message_type<string_list>("engram::string_list");
  cfg.add_message_type<providers::http_call>("engram::http_call");
  cfg.add_message_type<providers::http_result>("engram::http_result");
}

caf::error self_test_message_types(caf::actor_system& sys) {
  write_request wr{{storage::mutation::make_put(storage::column::entities,
                                                "k", "v")}};
  api_call call{"alice", "entity.get", {{"id", "e1"}}, {{"limit", "3"}},
                "{}", "req-1"};
  if (auto err = round_trip(sys, "write_request", wr))
    return err;
  if (auto err = round_trip(sys, "commit_ack", commit_ack{7, 3}))
    return err;
  if (auto err = round_trip(sys, "api_call", call))
    return err;
  if (auto err = round_trip(sys, "api_reply", api_reply{201, "{\"ok\":true}"}))
    return err;
  providers::analysis_input in{"alice", "s1", 3, "Momo sat.",
                               {{"momo", "character", "Momo", {"Little Cat"}}}};
  if (auto err = round_trip(sys, "analysis_input", in))
    return err;
  providers::analysis_result res{{{"momo", "Momo sat."}},
                                 {{"character", "A girl named Kenta.", "Kenta"}}};
  if (auto err = round_trip(sys, "analysis_result", res))
    return err;
  rewrite_chain chain{{"momo", "Momo", "character", "A cat.", "", "", 400},
                      {"Momo sat.", "Momo ran."}, "alice"};
  if (auto err = round_trip(sys, "rewrite_chain", chain))
    return err;
  return round_trip(sys, "vector_list", vector_list{{0.5f, -1.0f}, {}});
}

} // namespace engram
