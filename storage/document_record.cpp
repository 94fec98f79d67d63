#include "storage/document_record.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "messages/errors.hpp"
#include "storage/key_codec.hpp"

namespace engram::storage {

namespace {

caf::error damaged(const char* what, const char* field) {
  return make_error(ec::storage_failure,
                    std::string{"stored "} + what + " is damaged: " + field,
                    field);
}

const boost::json::string* str_of(const boost::json::object& o,
                                  const char* key) {
  auto v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

std::optional<uint64_t> uint_of(const boost::json::object& o, const char* key) {
  auto v = o.if_contains(key);
  if (!v || !(v->is_int64() || v->is_uint64()))
    return std::nullopt;
  if (v->is_int64() && v->as_int64() < 0)
    return std::nullopt;
  return v->to_number<uint64_t>();
}

} // namespace

boost::json::object to_json(const document_record& d) {
  return {{"id", d.id},           {"name", d.name},
          {"type", d.type},       {"chunks", d.chunks},
          {"bytes", d.bytes},     {"created_at", d.created_at}};
}

caf::expected<document_record> document_from_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object())
    return damaged("document", "json");
  auto& o = v.as_object();
  document_record d;
  const char* fields[] = {"id", "name", "type", "created_at"};
  std::string* into[] = {&d.id, &d.name, &d.type, &d.created_at};
  for (int i = 0; i < 4; ++i) {
    auto s = str_of(o, fields[i]);
    if (!s)
      return damaged("document", fields[i]);
    *into[i] = std::string{*s};
  }
  auto chunks = uint_of(o, "chunks");
  auto bytes = uint_of(o, "bytes");
  if (!chunks || *chunks > UINT32_MAX)
    return damaged("document", "chunks");
  if (!bytes)
    return damaged("document", "bytes");
  d.chunks = static_cast<uint32_t>(*chunks);
  d.bytes = *bytes;
  return d;
}

std::string to_json(const chunk_record& c) {
  return boost::json::serialize(boost::json::object{
    {"text", c.text}, {"begin", c.begin}, {"end", c.end}});
}

caf::expected<chunk_record> chunk_from_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object())
    return damaged("chunk", "json");
  auto& o = v.as_object();
  chunk_record c;
  auto t = str_of(o, "text");
  auto b = uint_of(o, "begin");
  auto e = uint_of(o, "end");
  if (!t)
    return damaged("chunk", "text");
  if (!b || !e || *e < *b)
    return damaged("chunk", "begin/end");
  c.text = std::string{*t};
  c.begin = *b;
  c.end = *e;
  return c;
}

std::string document_key(std::string_view user, std::string_view id) {
  return key_builder{}.str(user).str("d").str(id).bytes();
}

std::string document_prefix(std::string_view user) {
  return key_builder{}.str(user).str("d").bytes();
}

std::string chunk_key(std::string_view user, std::string_view id, uint32_t i) {
  return key_builder{}.str(user).str("c").str(id).u64(i).bytes();
}

std::string chunk_prefix(std::string_view user, std::string_view id) {
  return key_builder{}.str(user).str("c").str(id).bytes();
}

} // namespace engram::storage
