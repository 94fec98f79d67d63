// Specification of runtime/providers/prompts: the built-in system prompts
// and the files that replace them (llm.prompts.<task>).

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "messages/errors.hpp"
#include "runtime/providers/prompts.hpp"

using namespace engram;
using namespace engram::providers;

namespace {

class temp_dir {
public:
  temp_dir() {
    std::string tmpl = "/tmp/engram-prompts-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ignored; // best effort: a leftover dir fails no test
    std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string write(const std::string& name, const std::string& text) const {
    auto file = (path_ / name).string();
    std::ofstream out(file, std::ios::binary);
    out << text;
    REQUIRE(out.good());
    return file;
  }
  std::string path() const { return path_.string(); }

private:
  std::filesystem::path path_;
};

caf::error error_of(const caf::expected<prompt_set>& x) {
  REQUIRE_FALSE(x); // reading error() of a value is undefined in CAF 0.17
  return x.error();
}

} // namespace

TEST_CASE("the built-in prompts are present and ask for results",
          "[prompts]") {
  auto p = builtin_prompts();
  for (auto task : {llm_task::analysis, llm_task::rewrite, llm_task::creation}) {
    INFO(to_string(task));
    CHECK_FALSE(p.of(task).empty());
    CHECK_THAT(p.of(task), Catch::Contains("\"results\""));
    CHECK_THAT(p.of(task), Catch::Contains(to_string(task)));
  }
  CHECK(p.analysis != p.rewrite);
  CHECK(p.rewrite != p.creation);
}

TEST_CASE("prompt_set::of picks the task's prompt", "[prompts]") {
  prompt_set p{"A", "R", "C"};
  CHECK(p.of(llm_task::analysis) == "A");
  CHECK(p.of(llm_task::rewrite) == "R");
  CHECK(p.of(llm_task::creation) == "C");
  CHECK(std::string{to_string(llm_task::analysis)} == "analysis");
  CHECK(std::string{to_string(llm_task::rewrite)} == "rewrite");
  CHECK(std::string{to_string(llm_task::creation)} == "creation");
}

TEST_CASE("without prompt files the built-in prompts are used", "[prompts]") {
  auto p = load_prompts({});
  REQUIRE(p);
  auto b = builtin_prompts();
  CHECK(p->analysis == b.analysis);
  CHECK(p->rewrite == b.rewrite);
  CHECK(p->creation == b.creation);
}

TEST_CASE("a prompt file replaces only its task's prompt", "[prompts]") {
  temp_dir dir;
  auto text = std::string{"Rewrite the note.\nAnswer {\"results\": [...]}.\n"
                          "\xC3\xA9\n"};
  config::llm_prompts paths;
  paths.rewrite = dir.write("rewrite.txt", text);
  auto p = load_prompts(paths);
  REQUIRE(p);
  auto b = builtin_prompts();
  CHECK(p->rewrite == text); // byte for byte
  CHECK(p->analysis == b.analysis);
  CHECK(p->creation == b.creation);
}

TEST_CASE("every task can be overridden", "[prompts]") {
  temp_dir dir;
  config::llm_prompts paths;
  paths.analysis = dir.write("a.txt", "A");
  paths.rewrite = dir.write("r.txt", "R");
  paths.creation = dir.write("c.txt", "C");
  auto p = load_prompts(paths);
  REQUIRE(p);
  CHECK(p->analysis == "A");
  CHECK(p->rewrite == "R");
  CHECK(p->creation == "C");
}

TEST_CASE("a missing, empty or unreadable prompt file names the option",
          "[prompts]") {
  temp_dir dir;
  config::llm_prompts paths;
  SECTION("missing") { paths.rewrite = dir.path() + "/nope.txt"; }
  SECTION("empty") { paths.rewrite = dir.write("empty.txt", ""); }
  SECTION("only whitespace") {
    paths.rewrite = dir.write("blank.txt", " \n\t\r\n");
  }
  SECTION("a directory") { paths.rewrite = dir.path(); }
  auto err = error_of(load_prompts(paths));
  CHECK(code_of(err) == ec::invalid_config);
  CHECK(field_of(err) == "llm.prompts.rewrite");
  CHECK_THAT(message_of(err), Catch::StartsWith("llm.prompts.rewrite: "));
  CHECK_THAT(message_of(err), Catch::Contains(paths.rewrite));
}

TEST_CASE("each prompt option is named in its own error", "[prompts]") {
  for (auto [member, option] :
       {std::pair{&config::llm_prompts::analysis, "llm.prompts.analysis"},
        {&config::llm_prompts::rewrite, "llm.prompts.rewrite"},
        {&config::llm_prompts::creation, "llm.prompts.creation"}}) {
    INFO(option);
    config::llm_prompts paths;
    paths.*member = "/nonexistent/engram/prompt.txt";
    CHECK(field_of(error_of(load_prompts(paths))) == option);
  }
}
