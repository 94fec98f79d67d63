// Session memory survives kill -9: every acknowledged turn is applied after
// a restart, exactly once, and no turn is ever half-applied.
//
// 20 characters with distinct one-word titles; 8 writer threads post 2,000
// turns over 4 sessions (two threads share each session, so notes of one
// session are rewritten by concurrent turns). Turn n mentions two characters
// A and B, each in a sentence of its own that no other turn repeats:
//   "A found token-n. B found token-n."
// so after recovery each note can be checked sentence by sentence.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "tests/fixtures/engramd_process.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;
namespace json = boost::json;

namespace {

constexpr int writers = 8;
constexpr int turns_each = 250;
constexpr int total_turns = writers * turns_each;
constexpr int sessions = 4;

const std::string user = "/v1/users/crash";

const std::vector<std::string> titles = {
  "Momo", "Kenta", "Rin",  "Aiko", "Haru", "Yuki", "Sora",  "Taro", "Mika", "Nori",
  "Emi",  "Kaito", "Hana", "Jun",  "Saki", "Riku", "Mei",   "Goro", "Yumi", "Ichiro"};

std::string entity_id(std::size_t e) { return "c" + std::to_string(e); }
std::string content_of(std::size_t e) {
  return titles[e] + " is character number " + std::to_string(e) + ".";
}

// Turn n: its writer, session and the two characters it mentions.
int writer_of(int n) { return n / turns_each; }
std::string session_of(int n) { return "s" + std::to_string(writer_of(n) % sessions); }
std::pair<std::size_t, std::size_t> mentioned(int n) {
  std::size_t a = static_cast<std::size_t>(n) % titles.size();
  std::size_t b = (a + 1 + static_cast<std::size_t>(n / 20) % (titles.size() - 1))
                  % titles.size();
  return {a, b};
}
std::string sentence(std::size_t e, int n) {
  return titles[e] + " found token-" + std::to_string(n) + ".";
}
std::string text_of(int n) {
  auto [a, b] = mentioned(n);
  return sentence(a, n) + " " + sentence(b, n);
}

std::string turn_url(int n) {
  return user + "/sessions/" + session_of(n) + "/turns/" + std::to_string(n);
}

/// Occurrences of `needle` as a whole sentence of `note` (sentences in a
/// note are separated by one space).
std::size_t occurrences(const std::string& note, const std::string& needle) {
  std::string hay = " " + note + " ";
  std::string pat = " " + needle + " ";
  std::size_t count = 0;
  for (auto pos = hay.find(pat); pos != std::string::npos; pos = hay.find(pat, pos + 1))
    ++count;
  return count;
}

std::size_t count_substr(const std::string& s, const std::string& needle) {
  std::size_t count = 0;
  for (auto pos = s.find(needle); pos != std::string::npos;
       pos = s.find(needle, pos + needle.size()))
    ++count;
  return count;
}

json::value parse_or_null(const http_result& r) {
  json::error_code ec;
  auto v = json::parse(r.body, ec);
  return ec ? json::value{} : v;
}

using clock_type = std::chrono::steady_clock;

} // namespace

TEST_CASE("kill -9 while 2,000 turns stream in: every acknowledged turn is "
          "applied exactly once, none half-applied", "[crash]") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  engramd_process node{data};
  REQUIRE(node.start());

  {
    http_client c{node.port()};
    for (std::size_t e = 0; e < titles.size(); ++e) {
      json::object o;
      o["id"] = entity_id(e);
      o["type"] = "character";
      o["title"] = titles[e];
      o["content"] = content_of(e);
      auto r = c.send_json("POST", user + "/entities", json::serialize(o));
      INFO(r.body);
      REQUIRE(r.status == 201);
    }
  }

  // Writers: each posts its turns in order and stops at the first failure.
  // The turn in flight at that moment may or may not have been stored.
  std::mutex mu;
  std::set<int> acknowledged;
  std::set<int> in_doubt;
  std::int64_t max_seq = 0;
  std::atomic<int> acks{0};
  std::atomic<int> bad_answers{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w, port = node.port()] {
      http_client c{port};
      struct done_guard {
        std::atomic<int>& n;
        ~done_guard() { n.fetch_add(1); }
      } done{finished};
      for (int i = 0; i < turns_each; ++i) {
        int n = w * turns_each + i;
        json::object o;
        o["turn"] = n;
        o["text"] = text_of(n);
        auto r = c.send_json("POST", user + "/sessions/" + session_of(n) + "/turns",
                             json::serialize(o));
        auto doc = parse_or_null(r);
        bool ok = r.status == 202 && doc.is_object() && doc.as_object().contains("seq")
                  && doc.at("seq").is_number();
        std::lock_guard<std::mutex> guard{mu};
        if (!ok) {
          if (r.status != 0)
            bad_answers.fetch_add(1); // an answer, but not an acknowledgement
          in_doubt.insert(n);
          return; // the node is gone
        }
        acknowledged.insert(n);
        max_seq = std::max(max_seq, doc.at("seq").to_number<std::int64_t>());
        acks.fetch_add(1);
      }
    });
  // Kill while turns stream in (and their tasks run): after half are acked
  // (or when every writer gave up, which fails below).
  auto kill_deadline = clock_type::now() + std::chrono::seconds(120);
  while (acks.load() < total_turns / 2 && finished.load() < writers
         && clock_type::now() < kill_deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  node.kill9();
  for (auto& t : threads)
    t.join();
  INFO(acknowledged.size() << " turns were acknowledged before the kill, "
       << in_doubt.size() << " were in flight");
  REQUIRE(acknowledged.size() >= static_cast<std::size_t>(total_turns / 2));
  CHECK(bad_answers.load() == 0);

  engramd_process again{data};
  REQUIRE(again.start());
  http_client c{again.port()};
  const auto deadline = clock_type::now() + std::chrono::seconds(120);

  // Let recovery finish the acknowledged work: wait for max_seq (the node's
  // seq keeps increasing across restarts, so it is still meaningful).
  const std::string wait_all = "min_seq=" + std::to_string(max_seq) + "&wait_ms=20000";
  bool caught_up = false;
  while (!caught_up && clock_type::now() < deadline) {
    auto r = c.get(user + "/sessions/s0/notes?" + wait_all);
    auto doc = parse_or_null(r);
    caught_up = r.status == 200 && doc.is_object() && doc.as_object().contains("stale")
                && doc.at("stale") == false;
    if (!caught_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(caught_up);
  // From here on reads need not wait (and must not, when recovery is stuck:
  // the checks below then fail quickly instead of waiting on every read).
  const std::string read_q = "min_seq=" + std::to_string(max_seq) + "&wait_ms=200";

  // The status of turn n once it is final (applied or failed), polling while
  // it is not; 0 when it does not exist, "" on timeout.
  auto final_status = [&](int n) -> std::string {
    for (;;) {
      auto r = c.get(turn_url(n));
      if (r.status == 404)
        return "0";
      auto doc = parse_or_null(r);
      if (r.status == 200 && doc.is_object()) {
        auto status = json::value_to<std::string>(doc.at("status"));
        if (status == "applied" || status == "failed")
          return status;
      }
      if (clock_type::now() >= deadline)
        return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };

  // Which turns are in the store: every acknowledged one, applied; each
  // in-flight one either absent or applied (then it counts in full).
  std::set<int> present;
  std::size_t not_applied = 0;
  for (int n : acknowledged) {
    auto status = final_status(n);
    if (status != "applied") {
      UNSCOPED_INFO("acknowledged turn " << n << " in " << session_of(n) << ": "
                    << (status.empty() ? "timeout" : status == "0" ? "missing" : status));
      ++not_applied;
    }
    present.insert(n);
  }
  CHECK(not_applied == 0);
  for (int n : in_doubt) {
    auto status = final_status(n);
    INFO("in-flight turn " << n);
    CHECK((status == "0" || status == "applied"));
    if (status == "applied")
      present.insert(n);
  }
  // Turns never sent are absent (spot check the first unsent of each writer).
  for (int w = 0; w < writers; ++w)
    for (int i = 0; i < turns_each; ++i) {
      int n = w * turns_each + i;
      if (!acknowledged.count(n) && !in_doubt.count(n)) {
        CHECK(c.get(turn_url(n)).status == 404);
        break;
      }
    }

  // Expected sentences per (session, entity): each present turn's two.
  std::map<std::pair<std::string, std::size_t>, std::vector<int>> expected;
  for (int n : present) {
    auto [a, b] = mentioned(n);
    expected[{session_of(n), a}].push_back(n);
    expected[{session_of(n), b}].push_back(n);
  }

  std::size_t wrong_notes = 0, wrong_sentences = 0, missing_hits = 0;
  for (int s = 0; s < sessions; ++s) {
    const std::string session = "s" + std::to_string(s);
    for (std::size_t e = 0; e < titles.size(); ++e) {
      auto key = std::make_pair(session, e);
      auto it = expected.find(key);
      auto r = c.get(user + "/sessions/" + session + "/notes/" + entity_id(e) + "?"
                     + read_q);
      if (it == expected.end()) {
        if (r.status != 404) {
          UNSCOPED_INFO(session << "/" << titles[e] << ": note without turns: " << r.body);
          ++wrong_notes;
        }
        continue;
      }
      auto doc = parse_or_null(r);
      if (r.status != 200 || !doc.is_object()) {
        UNSCOPED_INFO(session << "/" << titles[e] << ": HTTP " << r.status << " " << r.body);
        ++wrong_notes;
        continue;
      }
      auto note = json::value_to<std::string>(doc.at("note"));
      // Each present turn's sentence exactly once, and nothing else.
      for (int n : it->second) {
        auto times = occurrences(note, sentence(e, n));
        if (times != 1) {
          UNSCOPED_INFO(session << "/" << titles[e] << ": '" << sentence(e, n) << "' "
                        << times << " times");
          ++wrong_sentences;
        }
      }
      if (count_substr(note, " found token-") != it->second.size()) {
        UNSCOPED_INFO(session << "/" << titles[e] << ": " << count_substr(note, " found token-")
                      << " sentences, expected " << it->second.size() << ": " << note);
        ++wrong_notes;
      }

      // The index answers for the entity with its current composite.
      auto comp = c.get(user + "/entities/" + entity_id(e) + "/composite?session=" + session
                        + "&" + read_q);
      auto comp_doc = parse_or_null(comp);
      std::string expected_text =
        "[Base Lore]\n" + content_of(e) + "\n\n[Session-Specific Notes]\n" + note;
      if (comp.status != 200 || !comp_doc.is_object()
          || comp_doc.at("text") != expected_text.c_str()) {
        UNSCOPED_INFO(session << "/" << titles[e] << ": composite " << comp.status << " "
                      << comp.body);
        ++wrong_notes;
      }
      json::object q;
      q["query"] = titles[e];
      q["session"] = session;
      q["k"] = 3;
      q["min_seq"] = max_seq;
      q["wait_ms"] = 200;
      auto found = c.send_json("POST", user + "/search", json::serialize(q));
      auto found_doc = parse_or_null(found);
      bool hit = false;
      if (found.status == 200 && found_doc.is_object())
        for (auto& h : found_doc.at("hits").as_array())
          if (h.at("entity_id") == entity_id(e).c_str() && h.at("session") == session.c_str()
              && h.at("composite") == expected_text.c_str())
            hit = true;
      if (!hit) {
        UNSCOPED_INFO(session << "/" << titles[e] << ": search: " << found.status << " "
                      << found.body.substr(0, 2000));
        ++missing_hits;
      }
    }
  }
  CHECK(wrong_notes == 0);
  CHECK(wrong_sentences == 0);
  CHECK(missing_hits == 0);

  // Nothing is stuck or failed after recovery.
  auto queues = parse_or_null(c.get("/v1/queues"));
  REQUIRE(queues.is_object());
  for (const char* name : {"analysis", "note_update", "entity_creation", "embedding"}) {
    INFO("queue " << name);
    CHECK(queues.at("queues").at(name).at("failed") == 0);
  }
}
