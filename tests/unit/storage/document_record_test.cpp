// Tests storage/document_record.cpp and the memory doc keys of
// storage/documents.cpp: uploaded documents and their chunks round-trip
// through JSON, damaged records name the field, keys of one document never
// fall under another's prefix, and "m/<id>/<chunk>" doc keys parse strictly
// while the existing e/ and c/ keys still parse as before.

#include "storage/document_record.hpp"

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "storage/documents.hpp"
#include "storage/key_codec.hpp"

using namespace engram::storage;
using engram::code_of;
using engram::ec;
using engram::field_of;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

document_record sample_document() {
  return document_record{"doc-1",     "Trip notes.md", "text/markdown", 12,
                         12345678901, "2026-11-22T10:00:00.000Z"};
}

} // namespace

// --- document records --------------------------------------------------------

TEST_CASE("document records round-trip through JSON", "[storage][documents]") {
  auto d = sample_document();
  auto json = to_json(d);
  CHECK(boost::json::serialize(json)
        == R"({"id":"doc-1","name":"Trip notes.md","type":"text/markdown",)"
           R"("chunks":12,"bytes":12345678901,)"
           R"("created_at":"2026-11-22T10:00:00.000Z"})");
  auto back = document_from_json(boost::json::serialize(json));
  REQUIRE(back);
  CHECK(back->id == d.id);
  CHECK(back->name == d.name);
  CHECK(back->type == d.type);
  CHECK(back->chunks == 12);
  CHECK(back->bytes == 12345678901u);
  CHECK(back->created_at == d.created_at);

  // Extremes and non-ASCII text.
  document_record big{"d", "名前 \"quoted\"\n", "t", UINT32_MAX, UINT64_MAX, ""};
  auto big_back = document_from_json(boost::json::serialize(to_json(big)));
  REQUIRE(big_back);
  CHECK(big_back->name == big.name);
  CHECK(big_back->chunks == UINT32_MAX);
  CHECK(big_back->bytes == UINT64_MAX);
  CHECK(big_back->created_at.empty());

  document_record zero{"z", "n", "t", 0, 0, "t0"};
  auto zero_back = document_from_json(boost::json::serialize(to_json(zero)));
  REQUIRE(zero_back);
  CHECK(zero_back->chunks == 0);
  CHECK(zero_back->bytes == 0);
}

TEST_CASE("damaged document records name the field", "[storage][documents]") {
  struct bad_case {
    const char* text;
    const char* field;
  };
  const bad_case bad[] = {
    {"", "json"},
    {"not json", "json"},
    {"[]", "json"},
    {"null", "json"},
    {R"({"id":"d","name":"n","type":"t","chunks":1,"bytes":2)", "json"},
    {R"({"name":"n","type":"t","chunks":1,"bytes":2,"created_at":"c"})", "id"},
    {R"({"id":5,"name":"n","type":"t","chunks":1,"bytes":2,"created_at":"c"})",
     "id"},
    {R"({"id":"d","type":"t","chunks":1,"bytes":2,"created_at":"c"})", "name"},
    {R"({"id":"d","name":null,"type":"t","chunks":1,"bytes":2,"created_at":"c"})",
     "name"},
    {R"({"id":"d","name":"n","chunks":1,"bytes":2,"created_at":"c"})", "type"},
    {R"({"id":"d","name":"n","type":"t","chunks":1,"bytes":2})", "created_at"},
    {R"({"id":"d","name":"n","type":"t","bytes":2,"created_at":"c"})", "chunks"},
    {R"({"id":"d","name":"n","type":"t","chunks":-1,"bytes":2,"created_at":"c"})",
     "chunks"},
    {R"({"id":"d","name":"n","type":"t","chunks":4294967296,"bytes":2,)"
     R"("created_at":"c"})",
     "chunks"},
    {R"({"id":"d","name":"n","type":"t","chunks":1.5,"bytes":2,"created_at":"c"})",
     "chunks"},
    {R"({"id":"d","name":"n","type":"t","chunks":"1","bytes":2,"created_at":"c"})",
     "chunks"},
    {R"({"id":"d","name":"n","type":"t","chunks":1,"created_at":"c"})", "bytes"},
    {R"({"id":"d","name":"n","type":"t","chunks":1,"bytes":-2,"created_at":"c"})",
     "bytes"},
    {R"({"id":"d","name":"n","type":"t","chunks":1,"bytes":true,"created_at":"c"})",
     "bytes"},
  };
  for (auto& b : bad) {
    INFO(b.text);
    caf::expected<document_record> r = caf::error{};
    REQUIRE_NOTHROW(r = document_from_json(b.text));
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == ec::storage_failure);
    CHECK(field_of(r.error()) == b.field);
  }
}

// --- chunk records -----------------------------------------------------------

TEST_CASE("chunk records round-trip through JSON", "[storage][documents]") {
  chunk_record c{"A chunk of text,\nwith \"quotes\" and ünïcode.", 1200, 1262};
  auto text = to_json(c);
  CHECK(text
        == R"({"text":"A chunk of text,\nwith \"quotes\" and ünïcode.",)"
           R"("begin":1200,"end":1262})");
  auto back = chunk_from_json(text);
  REQUIRE(back);
  CHECK(back->text == c.text);
  CHECK(back->begin == 1200);
  CHECK(back->end == 1262);

  // An empty range and a range at the top of uint64 are fine.
  chunk_record empty{"", 5, 5};
  auto empty_back = chunk_from_json(to_json(empty));
  REQUIRE(empty_back);
  CHECK(empty_back->text.empty());
  CHECK(empty_back->begin == 5);
  CHECK(empty_back->end == 5);
  chunk_record top{"x", UINT64_MAX - 1, UINT64_MAX};
  auto top_back = chunk_from_json(to_json(top));
  REQUIRE(top_back);
  CHECK(top_back->begin == UINT64_MAX - 1);
  CHECK(top_back->end == UINT64_MAX);
}

TEST_CASE("damaged chunk records name the field", "[storage][documents]") {
  struct bad_case {
    const char* text;
    const char* field;
  };
  const bad_case bad[] = {
    {"", "json"},
    {"{", "json"},
    {"[]", "json"},
    {R"("text")", "json"},
    {R"({"begin":0,"end":1})", "text"},
    {R"({"text":7,"begin":0,"end":1})", "text"},
    {R"({"text":"x","end":1})", "begin/end"},
    {R"({"text":"x","begin":0})", "begin/end"},
    {R"({"text":"x","begin":-1,"end":1})", "begin/end"},
    {R"({"text":"x","begin":0,"end":-1})", "begin/end"},
    {R"({"text":"x","begin":"0","end":1})", "begin/end"},
    {R"({"text":"x","begin":0.5,"end":1})", "begin/end"},
    // A range that ends before it begins.
    {R"({"text":"x","begin":10,"end":9})", "begin/end"},
  };
  for (auto& b : bad) {
    INFO(b.text);
    caf::expected<chunk_record> r = caf::error{};
    REQUIRE_NOTHROW(r = chunk_from_json(b.text));
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == ec::storage_failure);
    CHECK(field_of(r.error()) == b.field);
  }
}

// --- keys --------------------------------------------------------------------

TEST_CASE("document and chunk keys have the documented layout",
          "[storage][documents]") {
  CHECK(document_key("u", "d1") == key_builder{}.str("u").str("d").str("d1").bytes());
  CHECK(document_prefix("u") == key_builder{}.str("u").str("d").bytes());
  CHECK(chunk_key("u", "d1", 7)
        == key_builder{}.str("u").str("c").str("d1").u64(7).bytes());
  CHECK(chunk_prefix("u", "d1") == key_builder{}.str("u").str("c").str("d1").bytes());

  CHECK(starts_with(document_key("u", "d1"), document_prefix("u")));
  CHECK(starts_with(document_key("u", "d1"), user_prefix("u")));
  CHECK(starts_with(chunk_key("u", "d1", 0), chunk_prefix("u", "d1")));
  CHECK(starts_with(chunk_key("u", "d1", 0), user_prefix("u")));
  // Chunks are not documents: a scan of the documents skips them.
  CHECK_FALSE(starts_with(chunk_key("u", "d1", 0), document_prefix("u")));
  CHECK_FALSE(starts_with(document_key("u", "d1"), chunk_prefix("u", "d1")));
}

TEST_CASE("chunk keys of document a are not under the prefix of ab",
          "[storage][documents]") {
  CHECK(starts_with(chunk_key("u", "a", 0), chunk_prefix("u", "a")));
  CHECK_FALSE(starts_with(chunk_key("u", "a", 0), chunk_prefix("u", "ab")));
  CHECK_FALSE(starts_with(chunk_key("u", "ab", 0), chunk_prefix("u", "a")));
  CHECK_FALSE(starts_with(document_key("u", "ab"), document_key("u", "a")));
  // Nor across users.
  CHECK_FALSE(starts_with(chunk_key("ab", "a", 0), chunk_prefix("a", "a")));
  CHECK_FALSE(starts_with(document_key("ab", "d"), document_prefix("a")));
  CHECK_FALSE(starts_with(document_key("a", "d"), document_prefix("ab")));
}

TEST_CASE("chunk keys sort by chunk index, and read back",
          "[storage][documents]") {
  CHECK(chunk_key("u", "d", 0) < chunk_key("u", "d", 1));
  CHECK(chunk_key("u", "d", 9) < chunk_key("u", "d", 10));
  CHECK(chunk_key("u", "d", 255) < chunk_key("u", "d", 256));
  CHECK(chunk_key("u", "d", 65535) < chunk_key("u", "d", UINT32_MAX));
  CHECK(chunk_key("u", "d1", 7) < prefix_successor(chunk_prefix("u", "d1")));
  auto key = chunk_key("u", "d1", 1234); // key_reader keeps a view
  key_reader r{key};
  CHECK(r.str() == std::optional<std::string>{"u"});
  CHECK(r.str() == std::optional<std::string>{"c"});
  CHECK(r.str() == std::optional<std::string>{"d1"});
  CHECK(r.u64() == std::optional<uint64_t>{1234});
  CHECK(r.done());
}

// --- memory doc keys ---------------------------------------------------------

TEST_CASE("memory doc keys have the documented shape and parse back",
          "[storage][documents]") {
  CHECK(memory_doc_key("doc1", 0) == "m/doc1/0");
  CHECK(memory_doc_key("doc1", 12) == "m/doc1/12");
  CHECK(memory_doc_key("d.1:x-y_z", 999999999) == "m/d.1:x-y_z/999999999");

  struct ok_case {
    const char* key;
    const char* id;
    uint32_t chunk;
  };
  const ok_case ok[] = {
    {"m/doc1/0", "doc1", 0},
    {"m/doc1/12", "doc1", 12},
    {"m/d/7", "d", 7},
    {"m/doc1/999999999", "doc1", 999999999},
    {"m/d.1:x-y_z/3", "d.1:x-y_z", 3},
  };
  for (auto& c : ok) {
    INFO(c.key);
    auto ref = parse_doc_key(c.key);
    REQUIRE(ref);
    CHECK(ref->is_memory());
    CHECK(ref->memory_id == c.id);
    CHECK(ref->chunk == c.chunk);
    CHECK(ref->session.empty());
    CHECK(ref->entity_id.empty());
  }
  for (uint32_t i : {0u, 1u, 9u, 10u, 99u, 100u, 123456u, 999999999u}) {
    auto ref = parse_doc_key(memory_doc_key("doc", i));
    REQUIRE(ref);
    CHECK(ref->memory_id == "doc");
    CHECK(ref->chunk == i);
  }
}

TEST_CASE("malformed memory doc keys do not parse", "[storage][documents]") {
  for (auto key : {"m/doc1/", "m/doc1/01", "m/doc1/00", "m//3", "m/doc1/x",
                   "m/doc1/1234567890", "m/doc1/-1", "m/doc1/+1", "m/doc1/1x",
                   "m/doc1/ 1", "m/doc1", "m/", "m", "m//", "m/a/b/3",
                   "m/doc1/1/", "M/doc1/1", "/doc1/1", "mm/doc1/1"}) {
    INFO("'" << key << "'");
    CHECK_FALSE(parse_doc_key(key));
  }
}

TEST_CASE("entity and composite doc keys still parse, and are not memories",
          "[storage][documents]") {
  auto base = parse_doc_key("e/e7");
  REQUIRE(base);
  CHECK_FALSE(base->is_memory());
  CHECK(base->entity_id == "e7");
  CHECK(base->session.empty());
  CHECK(base->memory_id.empty());
  CHECK(base->chunk == 0);

  auto comp = parse_doc_key("c/s1/e7");
  REQUIRE(comp);
  CHECK_FALSE(comp->is_memory());
  CHECK(comp->session == "s1");
  CHECK(comp->entity_id == "e7");
  CHECK(comp->memory_id.empty());

  // An entity or session that happens to be called "m" is not a memory.
  auto m_entity = parse_doc_key("e/m");
  REQUIRE(m_entity);
  CHECK_FALSE(m_entity->is_memory());
  CHECK(m_entity->entity_id == "m");
  auto m_session = parse_doc_key(composite_doc_key("m", "0"));
  REQUIRE(m_session);
  CHECK_FALSE(m_session->is_memory());
  CHECK(m_session->session == "m");
  CHECK(m_session->entity_id == "0");
}

TEST_CASE("memory doc keys live in a user's vector keys like any other",
          "[storage][documents]") {
  auto doc = memory_doc_key("doc1", 3);
  auto key = vector_key("alice", doc);
  CHECK(starts_with(key, vector_user_prefix("alice")));
  CHECK(doc_key_of_vector("alice", key) == std::optional<std::string>{doc});
  CHECK_FALSE(doc_key_of_vector("alic", key));
}
