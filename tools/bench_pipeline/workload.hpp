#pragma once
// What the benchmark writes: entity titles, session names and turn texts.
//
// Titles are pronounceable, capitalised single words made of syllables
// ("Kavoren", "Miraldi"), distinct once case-folded, so no title can match
// inside another and none equals a filler word. Every turn text mentions two
// distinct entities in its first sentence together with a unique marker
// word ("zq" + letters, never a title nor a filler word), so a search for the
// marker scoped to the session should find the mentioned entities once the
// turn is applied. Texts contain no other capitalised word and never
// "named"/"called", so the rules analyser introduces no new entities.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace engram::bench {

struct turn_text {
  std::string text;
  std::string marker;     // the unique word of this turn
  std::size_t entity_a;   // indices into workload::titles()
  std::size_t entity_b;
};

class workload {
public:
  workload(std::size_t entities, uint32_t seed, std::string user);

  const std::vector<std::string>& titles() const { return titles_; }
  const std::string& user() const { return user_; }
  const std::string& run_id() const { return run_id_; }

  static std::string entity_id(std::size_t i) { return "e" + std::to_string(i); }

  /// Session used by connection `conn` (unique per run: "bp-RUNID-CONN").
  std::string session(std::size_t conn) const;

  std::string turns_target(std::size_t conn) const;
  std::string entities_target() const;
  std::string search_target() const;

  /// JSON body creating entity `i`.
  std::string entity_body(std::size_t i) const;

  /// Text of turn `turn` of connection `conn`; `rng` picks the entities.
  turn_text make_turn(std::size_t conn, uint64_t turn, std::mt19937_64& rng) const;

  /// Body of POST .../turns for `t`.
  static std::string turn_body(uint64_t turn, const turn_text& t);

  /// A filler phrase of `words` words (for search queries).
  std::string filler(std::size_t words, std::mt19937_64& rng) const;

private:
  std::vector<std::string> titles_;
  std::string user_;
  std::string run_id_;
};

/// The unique marker word for (conn, turn): "zq" followed by letters.
std::string marker_word(std::size_t conn, uint64_t turn);

} // namespace engram::bench
