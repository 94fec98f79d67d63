// engram-fake-llm: the fake OpenAI-compatible server of the integration
// tests (tests/fixtures/fake_openai.hpp) as a standalone process, so
// benchmarks can run engramd against a model with known latency and cost.

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "tests/fixtures/fake_openai.hpp"

namespace {

constexpr const char* description = R"(engram-fake-llm: a fake OpenAI-compatible model server on 127.0.0.1.

Routes:
  POST /v1/chat/completions  answered by the fake model (below)
  POST /v1/embeddings        {"input": "text" | ["t1", ...], "dimensions"?: n}:
                             deterministic hashed bag-of-words vectors,
                             L2-normalised, --dim floats unless "dimensions"
  GET  /v1/models            one model, "fake-model"
  anything else: 404; a POST body that is not JSON: 400.
HTTP/1.1 keep-alive, one thread per connection.

Fake model: the content of the LAST "user" message is a JSON document whose
"task" selects the answer (the assistant content, serialized JSON):
  analysis  {"known_entities":[{id,title,aliases}],"items":[{item,session,turn,text}]}
            -> {"results":[{item,updates:[{lore_entry_id,update_summary}],
                            creations:[{entity_type,name,creation_summary}]}]}
            an update per known title/alias found as a whole word; a creation
            per capitalised word after "named" that is not a known title.
  rewrite   {"max_note_chars":N,"items":[{item,entity,previous_note,updates}]}
            -> {"results":[{item,note}]}: previous note + "[model] " + updates
            joined by "; ", keeping the last N bytes.
  creation  {"items":[{item,entity_type,name,creation_summary}]}
            -> {"results":[{item,title,content,tags:["model-created"]}]}
  probe     -> {"ok":true}
  other     -> {"error":"fake model cannot read the request"} (still 200).

Prints "engram-fake-llm listening on http://127.0.0.1:<port>/v1" once ready;
serves until SIGINT or SIGTERM, then exits 0.)";

struct flags {
  uint16_t port = 0;
  int latency_ms = 0;
  std::size_t dim = 384;
  std::size_t fail_every = 0;
  std::string port_file;
};

void add_flags(CLI::App& app, flags& f) {
  app.add_option("--port", f.port, "port to listen on; 0 picks a free one")
    ->capture_default_str();
  app.add_option("--latency-ms", f.latency_ms,
                 "milliseconds added before every answer")
    ->check(CLI::NonNegativeNumber)
    ->capture_default_str();
  app.add_option("--dim", f.dim, "embedding dimensions (unless the request "
                                 "asks for \"dimensions\")")
    ->check(CLI::PositiveNumber)
    ->capture_default_str();
  app.add_option("--fail-every", f.fail_every,
                 "N > 0: every Nth chat completion request answers 500 with "
                 "an OpenAI-style error body; 0 never")
    ->capture_default_str();
  app.add_option("--port-file", f.port_file,
                 "once listening, write the port number to this file (written "
                 "to F.tmp, then renamed, so readers never see half of it)");
}

bool write_port_file(const std::string& path, uint16_t port) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    out << port << '\n';
    if (!out.flush())
      return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Blocks SIGINT/SIGTERM before the server starts its threads, so they all
// inherit the mask and only sigwait() in main sees the signals.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int serve(const flags& f) {
  auto signals = block_stop_signals();
  engram::testing::fake_openai_options opts;
  opts.port = f.port;
  opts.latency = std::chrono::milliseconds(f.latency_ms);
  opts.embedding_dim = f.dim;
  opts.fail_every = f.fail_every;
  engram::testing::fake_openai server{opts};
  std::cout << "engram-fake-llm listening on " << server.base_url() << std::endl;
  if (!f.port_file.empty() && !write_port_file(f.port_file, server.port())) {
    std::cerr << "engram-fake-llm: cannot write " << f.port_file << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  server.stop();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{description};
  flags f;
  add_flags(app, f);
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return serve(f);
  } catch (const std::exception& e) { // e.g. the port is taken
    std::cerr << "engram-fake-llm: " << e.what() << "\n";
    return 1;
  }
}
