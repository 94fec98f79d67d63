// The fake OpenAI-compatible server the pipeline tests and benchmarks talk
// to: the fake model's rules as pure functions, then every scripted
// behaviour over real loopback HTTP.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "tests/fixtures/fake_model.hpp"
#include "tests/fixtures/fake_openai.hpp"
#include "tests/fixtures/http_client.hpp"

using namespace engram::testing;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::object analysis_task() {
  return json::parse(R"({"task":"analysis",
    "known_entities":[{"id":"e1","type":"character","title":"Alice","aliases":["Al"]},
                      {"id":"e2","type":"place","title":"Old Mill","aliases":[]}],
    "items":[{"item":0,"session":"s1","turn":3,
              "text":"al met a smith named Borin near the old mill. Alice waved."},
             {"item":1,"session":"s1","turn":4,"text":"Nothing named alice here, Alfred."}]})")
    .as_object();
}

std::string chat_body(const json::value& task, const std::string& model = "fake-model") {
  json::object body{
    {"model", model},
    {"messages", json::array{
       json::object{{"role", "system"}, {"content", "answer in JSON"}},
       json::object{{"role", "user"}, {"content", json::serialize(task)}}}}};
  return json::serialize(body);
}

http_result post_chat(http_client& c, const std::string& body,
                      std::map<std::string, std::string> headers = {}) {
  return c.send_json("POST", "/v1/chat/completions", body, std::move(headers));
}

std::string content_of(const http_result& r) {
  auto doc = json::parse(r.body);
  return std::string{doc.at("choices").at(0).at("message").at("content").as_string()};
}

json::object answer_of(const http_result& r) {
  return json::parse(content_of(r)).as_object();
}

std::vector<double> vector_at(const json::value& answer, std::size_t i) {
  std::vector<double> out;
  for (auto& x : answer.at("data").at(i).at("embedding").as_array())
    out.push_back(x.to_number<double>());
  return out;
}

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v)
    s += x * x;
  return std::sqrt(s);
}

const json::value probe = json::parse(R"({"task":"probe"})");

} // namespace

// --- the fake model's rules -----------------------------------------------------------

TEST_CASE("whole words match case-insensitively, never inside a word", "[fake_openai]") {
  using fake_model::contains_word;
  CHECK(contains_word("I saw ALICE.", "alice"));
  CHECK(contains_word("near the old mill", "Old Mill"));
  CHECK_FALSE(contains_word("Alfred", "Al"));
  CHECK_FALSE(contains_word("Alice_2", "Alice"));
  CHECK_FALSE(contains_word("Zoëx", "Zo"));
  CHECK_FALSE(contains_word("anything", ""));
}

TEST_CASE("names follow the word 'named' with their sentence", "[fake_openai]") {
  auto m = fake_model::names_after_named(
    "Hi. A smith named Borin, and a cat named tom! A dog Named Rex. Named Borin.");
  REQUIRE(m.size() == 2); // tom is not capitalised; Borin only once
  CHECK(m[0].name == "Borin");
  CHECK(m[0].sentence == "A smith named Borin, and a cat named tom!");
  CHECK(m[1].name == "Rex");
  CHECK(m[1].sentence == "A dog Named Rex.");
}

TEST_CASE("UTF-8 cuts never split a character", "[fake_openai]") {
  CHECK(fake_model::utf8_prefix("aé", 2) == "a"); // é is two bytes
  CHECK(fake_model::utf8_prefix("aé", 3) == "aé");
  CHECK(fake_model::utf8_suffix("éa", 2) == "a");
  CHECK(fake_model::utf8_suffix("abc", 2) == "bc");
}

TEST_CASE("analysis: updates for mentioned entities, creations after 'named'",
          "[fake_openai]") {
  auto out = fake_model::analyze(analysis_task());
  auto& results = out.at("results").as_array();
  REQUIRE(results.size() == 2);
  auto& first = results[0].as_object();
  CHECK(first.at("item") == 0);
  auto& updates = first.at("updates").as_array();
  REQUIRE(updates.size() == 2); // Alice once although "al" and "Alice" both occur
  CHECK(updates[0].at("lore_entry_id") == "e1");
  CHECK(updates[0].at("update_summary") ==
        "model saw Alice in turn 3: al met a smith named Borin near the old "
        "mill. Alice waved.");
  CHECK(updates[1].at("lore_entry_id") == "e2");
  auto& creations = first.at("creations").as_array();
  REQUIRE(creations.size() == 1);
  CHECK(creations[0].at("name") == "Borin");
  CHECK(creations[0].at("entity_type") == "character");
  CHECK(creations[0].at("creation_summary") ==
        "model: al met a smith named Borin near the old mill.");
  auto& second = results[1].as_object();
  CHECK(second.at("item") == 1);
  CHECK(second.at("updates").as_array().size() == 1); // "alice", not "Alfred"
  CHECK(second.at("creations").as_array().empty());   // "named alice": lower case
}

TEST_CASE("analysis never creates a known title; summaries keep 80 bytes",
          "[fake_openai]") {
  auto task = json::parse(R"({"task":"analysis",
    "known_entities":[{"id":"e1","title":"Borin","aliases":[]}],
    "items":[{"item":7,"turn":1,"text":"a smith named Borin"}]})");
  std::string long_text = "Borin " + std::string(200, 'x');
  task.at("items").at(0).as_object()["text"] = long_text;
  auto out = fake_model::analyze(task.as_object());
  auto& item = out.at("results").at(0);
  CHECK(item.at("item") == 7);
  CHECK(item.at("updates").at(0).at("update_summary") ==
        json::value("model saw Borin in turn 1: " + long_text.substr(0, 80)));
  task.at("items").at(0).as_object()["text"] = "a smith named Borin";
  out = fake_model::analyze(task.as_object());
  CHECK(out.at("results").at(0).at("creations").as_array().empty());
}

TEST_CASE("rewrite appends the updates and keeps the last max_note_chars",
          "[fake_openai]") {
  auto task = json::parse(R"({"task":"rewrite","max_note_chars":4000,"items":[
    {"item":0,"entity":{"id":"e1","title":"Alice"},"previous_note":"",
     "updates":["one","two"]},
    {"item":1,"entity":{"id":"e2","title":"Bob"},"previous_note":"old note",
     "updates":["three"]}]})").as_object();
  auto out = fake_model::rewrite(task);
  CHECK(out.at("results").at(0).at("note") == "[model] one; two");
  CHECK(out.at("results").at(1).at("note") == "old note [model] three");
  task["max_note_chars"] = 13;
  task.at("items").at(1).as_object()["previous_note"] = "ééééé";
  task.at("items").at(1).as_object()["updates"] = json::array{"x"};
  out = fake_model::rewrite(task);
  CHECK(out.at("results").at(0).at("note") == "del] one; two");
  // "ééééé [model] x" is 20 bytes; the last 13 would start inside an é.
  CHECK(out.at("results").at(1).at("note") == "é [model] x");
}

TEST_CASE("creation titles the entity and tags it", "[fake_openai]") {
  auto task = json::parse(R"({"task":"creation","items":[
    {"item":0,"entity_type":"character","name":"Borin","creation_summary":"a smith"},
    {"item":1,"entity_type":"place","name":"","creation_summary":"a hill"}]})");
  auto out = fake_model::answer_task(task);
  auto& r = out.at("results").as_array();
  CHECK(r[0].at("title") == "Borin");
  CHECK(r[0].at("content") == "[model] a smith");
  CHECK(r[0].at("tags") == json::array{"model-created"});
  CHECK(r[1].at("item") == 1);
  CHECK(r[1].at("title") == "Unnamed place");
}

TEST_CASE("probe answers ok; anything unreadable answers the error document",
          "[fake_openai]") {
  const std::string unreadable = R"({"error":"fake model cannot read the request"})";
  CHECK(json::serialize(fake_model::answer_task(probe)) == R"({"ok":true})");
  CHECK(json::serialize(fake_model::answer_task(json::parse(R"({"task":"dance"})"))) ==
        unreadable);
  auto prose = json::parse(R"({"messages":[{"role":"user","content":"hello"}]})");
  CHECK(fake_model::answer_content(prose) == unreadable);
  CHECK(fake_model::answer_content(json::value{}) == unreadable);
}

TEST_CASE("the task is read from the last user message", "[fake_openai]") {
  auto req = json::parse(R"({"messages":[
    {"role":"user","content":"{\"task\":\"dance\"}"},
    {"role":"user","content":[{"type":"text","text":"{\"task\":"},
                              {"type":"text","text":"\"probe\"}"}]},
    {"role":"assistant","content":"ignored"}]})");
  CHECK(fake_model::last_user_content(req) == R"({"task":"probe"})");
  CHECK(fake_model::answer_content(req) == R"({"ok":true})");
}

TEST_CASE("embeddings are deterministic, normalised and never zero", "[fake_openai]") {
  auto a = fake_model::embed("The old mill", 64);
  CHECK(a.size() == 64);
  CHECK(a == fake_model::embed("the OLD mill", 64));
  CHECK(a != fake_model::embed("a new mill", 64));
  for (auto& v : {a, fake_model::embed("", 64), fake_model::embed("x", 1)}) {
    double s = 0;
    for (float x : v)
      s += double(x) * x;
    CHECK(std::sqrt(s) == Approx(1.0));
  }
  CHECK_FALSE(fake_model::embedding_inputs(json::parse(R"({"input":[]})")));
  CHECK_FALSE(fake_model::embedding_inputs(json::parse(R"({"input":[1]})")));
  CHECK(fake_model::embedding_inputs(json::parse(R"({"input":"t"})"))->size() == 1);
}

// --- the server ------------------------------------------------------------------------

TEST_CASE("the server answers every task like a model", "[fake_openai]") {
  fake_openai fake;
  http_client c{fake.port()};
  CHECK(fake.base_url() == "http://127.0.0.1:" + std::to_string(fake.port()) + "/v1");
  auto r = post_chat(c, chat_body(analysis_task(), "m1"));
  REQUIRE(r.status == 200);
  auto doc = json::parse(r.body);
  CHECK(doc.at("object") == "chat.completion");
  CHECK(doc.at("model") == "m1");
  CHECK(doc.at("choices").at(0).at("finish_reason") == "stop");
  CHECK(doc.at("usage").at("total_tokens").to_number<int>() ==
        doc.at("usage").at("prompt_tokens").to_number<int>() +
          doc.at("usage").at("completion_tokens").to_number<int>());
  CHECK(answer_of(r) == fake_model::analyze(analysis_task()));
  auto rewrite = json::parse(R"({"task":"rewrite","max_note_chars":12,
    "items":[{"item":0,"previous_note":"long previous note","updates":["u"]}]})");
  CHECK(answer_of(post_chat(c, chat_body(rewrite))).at("results").at(0).at("note") ==
        "te [model] u");
  auto creation = json::parse(R"({"task":"creation","items":[{"item":0,
    "entity_type":"character","name":"Borin","creation_summary":"s"}]})");
  CHECK(answer_of(post_chat(c, chat_body(creation))).at("results").at(0).at("title") ==
        "Borin");
  CHECK(content_of(post_chat(c, chat_body(probe))) == R"({"ok":true})");
  CHECK(fake.connections_accepted() == 1); // keep-alive
}

TEST_CASE("wrapped_model hides the JSON in reasoning and a fence", "[fake_openai]") {
  fake_openai fake;
  fake.script({fake_reply::wrapped_model()});
  http_client c{fake.port()};
  auto content = content_of(post_chat(c, chat_body(probe)));
  CHECK(content == "<think>\nreasoning...\n</think>\nHere you go:\n```json\n"
                   "{\"ok\":true}\n```\nDone.");
}

TEST_CASE("scripted replies are consumed in order, then the default answers",
          "[fake_openai]") {
  fake_openai fake;
  fake.script({fake_reply::content("first"), fake_reply::error(503)});
  fake.script({fake_reply::content("third")});
  http_client c{fake.port()};
  CHECK(content_of(post_chat(c, chat_body(probe))) == "first");
  CHECK(post_chat(c, chat_body(probe)).status == 503);
  CHECK(content_of(post_chat(c, chat_body(probe))) == "third");
  CHECK(content_of(post_chat(c, chat_body(probe))) == R"({"ok":true})");
  fake.set_default(fake_reply::content("fallback"));
  CHECK(content_of(post_chat(c, chat_body(probe))) == "fallback");
}

TEST_CASE("a model's own script comes before the global one", "[fake_openai]") {
  fake_openai fake;
  fake.script({fake_reply::content("global")});
  fake.script_for_model("special", {fake_reply::content("special")});
  http_client c{fake.port()};
  CHECK(content_of(post_chat(c, chat_body(probe, "other"))) == "global");
  CHECK(content_of(post_chat(c, chat_body(probe, "special"))) == "special");
  CHECK(content_of(post_chat(c, chat_body(probe, "special"))) == R"({"ok":true})");
}

TEST_CASE("errors carry an OpenAI body and Retry-After", "[fake_openai]") {
  fake_openai fake;
  fake.script({fake_reply::error(429, "2"), fake_reply::error(500)});
  http_client c{fake.port()};
  auto r = post_chat(c, chat_body(probe));
  CHECK(r.status == 429);
  CHECK(r.header("retry-after") == "2");
  CHECK(json::parse(r.body).at("error").at("type") == "rate_limit_error");
  r = post_chat(c, chat_body(probe));
  CHECK(r.status == 500);
  CHECK(r.header("retry-after").empty());
  CHECK(json::parse(r.body).at("error").at("type") == "server_error");
}

TEST_CASE("malformed and wrong_shape answers are 200 but useless", "[fake_openai]") {
  fake_openai fake;
  fake.script({fake_reply::malformed(), fake_reply::wrong_shape(),
               fake_reply::wrong_shape()});
  http_client c{fake.port()};
  auto r = post_chat(c, chat_body(probe));
  CHECK(r.status == 200);
  json::error_code ec;
  json::parse(r.body, ec);
  CHECK(ec);
  CHECK(content_of(post_chat(c, chat_body(probe))) == R"({"answer":42})");
  r = c.send_json("POST", "/v1/embeddings", R"({"model":"e","input":"x"})");
  CHECK(vector_at(json::parse(r.body), 0).size() == 385);
}

TEST_CASE("bad requests: unknown route 404, non-JSON body 400, models list",
          "[fake_openai]") {
  fake_openai fake;
  http_client c{fake.port()};
  auto r = c.get("/v1/nothing");
  CHECK(r.status == 404);
  CHECK(json::parse(r.body).at("error").at("type") == "invalid_request_error");
  CHECK(c.send_json("POST", "/v1/chat/completions", "not json").status == 400);
  CHECK(c.send_json("POST", "/v1/embeddings", R"({"input":5})").status == 400);
  r = c.get("/v1/models");
  CHECK(json::parse(r.body).at("data").at(0).at("id") == "fake-model");
}

TEST_CASE("drop closes the connection without a byte", "[fake_openai]") {
  namespace asio = boost::asio;
  fake_openai fake;
  fake.script({fake_reply::drop()});
  asio::io_context io;
  asio::ip::tcp::socket s{io};
  s.connect({asio::ip::make_address("127.0.0.1"), fake.port()});
  auto body = chat_body(probe);
  asio::write(s, asio::buffer("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: " + std::to_string(body.size()) +
                              "\r\n\r\n" + body));
  char buf[64];
  boost::system::error_code ec;
  auto n = asio::read(s, asio::buffer(buf), ec);
  CHECK(n == 0);
  CHECK(ec == asio::error::eof);
  CHECK(fake.request_count() == 1);
}

TEST_CASE("slow answers wait their delay on top of the latency", "[fake_openai]") {
  fake_openai_options opts;
  opts.latency = 20ms;
  fake_openai fake{opts};
  fake.script({fake_reply::slow(150ms)});
  http_client c{fake.port()};
  auto t0 = std::chrono::steady_clock::now();
  CHECK(post_chat(c, chat_body(probe)).status == 200);
  CHECK(std::chrono::steady_clock::now() - t0 >= 170ms);
  t0 = std::chrono::steady_clock::now();
  CHECK(post_chat(c, chat_body(probe)).status == 200);
  CHECK(std::chrono::steady_clock::now() - t0 < 150ms);
}

TEST_CASE("embeddings: dims, normalisation, determinism", "[fake_openai]") {
  fake_openai_options opts;
  opts.embedding_dim = 16;
  fake_openai fake{opts};
  http_client c{fake.port()};
  auto r = c.send_json("POST", "/v1/embeddings",
                       R"({"model":"emb","input":["the mill","a smith","the mill"]})");
  REQUIRE(r.status == 200);
  auto doc = json::parse(r.body);
  CHECK(doc.at("model") == "emb");
  CHECK(doc.at("data").at(2).at("index") == 2);
  auto v0 = vector_at(doc, 0);
  CHECK(v0.size() == 16);
  CHECK(norm(v0) == Approx(1.0));
  CHECK(v0 == vector_at(doc, 2));
  CHECK(v0 != vector_at(doc, 1));
  r = c.send_json("POST", "/v1/embeddings", R"({"input":"x","dimensions":8})");
  CHECK(vector_at(json::parse(r.body), 0).size() == 8);
}

TEST_CASE("32 keep-alive clients are served concurrently", "[fake_openai]") {
  fake_openai_options opts;
  opts.latency = 100ms;
  fake_openai fake{opts};
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 32; ++i)
    clients.emplace_back([&] {
      http_client c{fake.port()};
      for (int n = 0; n < 2; ++n)
        ok += post_chat(c, chat_body(probe)).status == 200;
    });
  for (auto& t : clients)
    t.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s); // serial: 6.4 s
  CHECK(ok == 64);
  CHECK(fake.connections_accepted() == 32);
}

TEST_CASE("requests() records path, model and authorization", "[fake_openai]") {
  fake_openai fake;
  http_client c{fake.port()};
  post_chat(c, chat_body(probe, "m7"), {{"Authorization", "Bearer k1"}});
  c.get("/v1/models");
  auto log = fake.requests();
  REQUIRE(log.size() == 2);
  CHECK(log[0].method == "POST");
  CHECK(log[0].path == "/v1/chat/completions");
  CHECK(log[0].model == "m7");
  CHECK(log[0].authorization == "Bearer k1");
  CHECK(log[0].body.at("model") == "m7");
  CHECK(log[0].at <= log[1].at);
  CHECK(log[1].path == "/v1/models");
  fake.clear_requests();
  CHECK(fake.request_count() == 0);
}

TEST_CASE("fail_every turns every Nth default chat answer into a 500", "[fake_openai]") {
  fake_openai_options opts;
  opts.fail_every = 3;
  fake_openai fake{opts};
  http_client c{fake.port()};
  std::vector<unsigned> statuses;
  for (int i = 0; i < 6; ++i)
    statuses.push_back(post_chat(c, chat_body(probe)).status);
  CHECK(statuses == std::vector<unsigned>{200, 200, 500, 200, 200, 500});
}

TEST_CASE("stop() cuts a delayed answer short and is idempotent", "[fake_openai]") {
  fake_openai fake;
  fake.set_default(fake_reply::slow(10s));
  http_result r;
  std::thread client([&] {
    http_client c{fake.port()};
    r = post_chat(c, chat_body(probe));
  });
  while (fake.request_count() == 0)
    std::this_thread::sleep_for(1ms);
  auto t0 = std::chrono::steady_clock::now();
  fake.stop();
  fake.stop();
  client.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  CHECK(r.status == 0);
}
