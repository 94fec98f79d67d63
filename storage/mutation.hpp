#pragma once
// A change to one record, as carried in messages to the journal. Plain data
// with inspect() so a write can cross actor (and later node) boundaries; the
// journal turns a list of them into one atomic rocksdb::WriteBatch.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "storage/columns.hpp"

namespace engram::storage {

struct mutation {
  enum kind_t : uint8_t { put = 0, erase = 1 };
  uint8_t kind = put;
  uint8_t col = 0; // storage::column
  std::string key;
  std::string value; // empty for erase

  static mutation make_put(column c, std::string k, std::string v) {
    return {put, static_cast<uint8_t>(c), std::move(k), std::move(v)};
  }
  static mutation make_erase(column c, std::string k) {
    return {erase, static_cast<uint8_t>(c), std::move(k), {}};
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mutation& x) {
  return f(caf::meta::type_name("engram::storage::mutation"), x.kind, x.col,
           x.key, x.value);
}

/// Records that must change together (applied atomically, or not at all).
using mutation_list = std::vector<mutation>;

} // namespace engram::storage
