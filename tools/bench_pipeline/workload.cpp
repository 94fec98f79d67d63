#include "tools/bench_pipeline/workload.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <unordered_set>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <unistd.h>

namespace engram::bench {

namespace json = boost::json;

namespace {

constexpr std::array<const char*, 16> onsets{
  "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "th", "br", "dr"};
constexpr std::array<const char*, 5> vowels{"a", "e", "i", "o", "u"};
constexpr std::array<const char*, 6> codas{"", "n", "r", "l", "s", "th"};

// Lower-case filler: no title can equal one (titles have 3+ syllables and
// are checked against this list), none is "named"/"called".
constexpr std::array<const char*, 24> filler_words{
  "river", "lantern", "harvest", "bridge", "market", "winter", "storm",
  "letter", "garden", "window", "mountain", "candle", "journey", "bread",
  "music", "silver", "morning", "shadow", "ledger", "orchard", "compass",
  "harbor", "meadow", "kettle"};

constexpr std::array<const char*, 8> verbs{
  "walked along", "argued beside", "waited near", "rested by",
  "searched behind", "laughed at", "worked in", "talked under"};

std::string make_title(std::mt19937_64& rng) {
  std::string t;
  std::uniform_int_distribution<std::size_t> syl(3, 4);
  auto n = syl(rng);
  for (std::size_t i = 0; i < n; ++i) {
    t += onsets[rng() % onsets.size()];
    t += vowels[rng() % vowels.size()];
  }
  t += codas[rng() % codas.size()];
  t[0] = static_cast<char>(t[0] - 'a' + 'A');
  return t;
}

std::string folded(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string make_run_id() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx%x", static_cast<unsigned long long>(ms),
                static_cast<unsigned>(::getpid() & 0xfff));
  return buf;
}

} // namespace

std::string marker_word(std::size_t conn, uint64_t turn) {
  // Letters only, so the analyser and the embedder see one word.
  uint64_t v = (static_cast<uint64_t>(conn) << 40) ^ turn;
  std::string out = "zq";
  do {
    out += static_cast<char>('a' + v % 26);
    v /= 26;
  } while (v);
  return out;
}

workload::workload(std::size_t entities, uint32_t seed, std::string user)
  : user_(std::move(user)), run_id_(make_run_id()) {
  std::mt19937_64 rng(seed);
  std::unordered_set<std::string> seen;
  for (auto w : filler_words)
    seen.insert(w);
  while (titles_.size() < entities) {
    auto t = make_title(rng);
    if (seen.insert(folded(t)).second)
      titles_.push_back(std::move(t));
  }
}

std::string workload::session(std::size_t conn) const {
  return "bp-" + run_id_ + "-" + std::to_string(conn);
}

std::string workload::turns_target(std::size_t conn) const {
  return "/v1/users/" + user_ + "/sessions/" + session(conn) + "/turns";
}

std::string workload::entities_target() const {
  return "/v1/users/" + user_ + "/entities";
}

std::string workload::search_target() const {
  return "/v1/users/" + user_ + "/search";
}

std::string workload::entity_body(std::size_t i) const {
  json::object o{{"id", entity_id(i)},
                 {"type", "character"},
                 {"title", titles_[i]},
                 {"content", titles_[i] + " is a traveller from the " +
                               filler_words[i % filler_words.size()] + " country."},
                 {"tags", json::array{"bench"}}};
  return json::serialize(o);
}

turn_text workload::make_turn(std::size_t conn, uint64_t turn,
                              std::mt19937_64& rng) const {
  turn_text t;
  auto n = titles_.size();
  t.entity_a = rng() % n;
  t.entity_b = n > 1 ? (t.entity_a + 1 + rng() % (n - 1)) % n : t.entity_a;
  t.marker = marker_word(conn, turn);
  t.text = titles_[t.entity_a] + " and " + titles_[t.entity_b] + " " +
           verbs[rng() % verbs.size()] + " the " + filler_words[rng() % filler_words.size()] +
           " while talking about the " + t.marker + " " +
           filler_words[rng() % filler_words.size()] + ". later the " +
           filler(5, rng) + " grew quiet.";
  return t;
}

std::string workload::turn_body(uint64_t turn, const turn_text& t) {
  json::object o{{"turn", turn}, {"text", t.text}};
  return json::serialize(o);
}

std::string workload::filler(std::size_t words, std::mt19937_64& rng) const {
  std::string out;
  for (std::size_t i = 0; i < words; ++i) {
    if (i)
      out += ' ';
    out += filler_words[rng() % filler_words.size()];
  }
  return out;
}

} // namespace engram::bench
