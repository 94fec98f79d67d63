#pragma once
// What engram-load sends: for each operation of a scenario's mix, the HTTP
// request against one user, built from that user's simulated state (known
// entities, sessions and their turn numbers, open intents). Turns mention
// two known entities and, now and then, introduce a new one ("... met a
// traveller named Kovari"), as real conversations do.

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "tools/bench_pipeline/workload.hpp"
#include "tools/load/scenario.hpp"

namespace engram::load {

struct request_spec {
  std::string op;
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;
  std::string body;
  // Turns carrying a freshness marker: the word and the session.
  std::string marker;
  std::string session;
};

class user_model {
public:
  user_model(const setup_spec& setup, uint32_t index, uint32_t seed,
             const std::string& run_id);

  const std::string& id() const { return id_; }
  const bench::workload& words() const { return words_; }

  /// POST .../entities bodies creating the user's initial entities.
  std::vector<std::string> setup_bodies() const;

  /// The request for `op`; `marked` turns carry a unique marker.
  request_spec make(const std::string& op, bool marked, std::mt19937_64& rng);

  /// The answer to a request that changes what later requests can use
  /// (created intents, entities).
  void observe(const request_spec& r, int status, const std::string& body);

private:
  std::string base() const { return "/v1/users/" + id_; }

  const setup_spec* setup_;
  std::string id_;
  std::string run_id_;
  bench::workload words_;
  uint64_t next_turn_ = 0;
  uint64_t next_id_ = 0;
  uint32_t sessions_ = 4;
  std::vector<std::string> open_intents_;
  std::vector<std::string> extra_entities_;
};

} // namespace engram::load
