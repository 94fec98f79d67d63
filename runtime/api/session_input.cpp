#include "runtime/api/session_input.hpp"

#include <cmath>

#include <boost/json.hpp>

#include "messages/errors.hpp"
#include "runtime/api/json_input.hpp"
#include "runtime/http/router.hpp"
#include "runtime/providers/task_json.hpp"

namespace engram::api {

namespace {

caf::error invalid(const std::string& field, const std::string& rule) {
  return make_error(ec::invalid_argument, field + ": " + rule, field);
}

// An error of the analysis parser, moved under "analysis".
caf::error under_analysis(const caf::error& err) {
  auto field = field_of(err);
  auto path = field.empty() ? std::string{"analysis"} : "analysis." + field;
  auto msg = message_of(err);
  if (!field.empty() && msg.rfind(field, 0) == 0)
    msg = "analysis." + msg;
  return make_error(ec::invalid_argument, msg, path);
}

caf::expected<int64_t> read_turn(const boost::json::object& obj) {
  auto it = obj.find("turn");
  if (it == obj.end())
    return invalid("turn", "required");
  auto& v = it->value();
  int64_t n = 0;
  if (v.is_int64())
    n = v.get_int64();
  else if (v.is_uint64() && v.get_uint64() <= uint64_t(max_turn_number))
    n = static_cast<int64_t>(v.get_uint64());
  else if (v.is_double() && v.get_double() >= 0
           && v.get_double() <= double(max_turn_number)
           && v.get_double() == std::floor(v.get_double()))
    n = static_cast<int64_t>(v.get_double()); // range checked first
  else
    return invalid("turn", "must be an integer 0..9007199254740992");
  if (n < 0 || n > max_turn_number)
    return invalid("turn", "must be an integer 0..9007199254740992, got "
                             + std::to_string(n));
  return n;
}

caf::expected<std::optional<uint64_t>>
query_number(const std::map<std::string, std::string>& query,
             const char* name, uint64_t max) {
  auto it = query.find(name);
  if (it == query.end())
    return std::optional<uint64_t>{};
  auto n = query_uint(&it->second, name, 0, max, 0);
  if (!n)
    return n.error();
  return std::optional<uint64_t>{*n};
}

} // namespace

caf::expected<turn_fields> parse_turn(std::string_view body,
                                      std::size_t max_text_chars) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"turn", "text", "analysis"}))
    return err;
  turn_fields f;
  auto turn = read_turn(*obj);
  if (!turn)
    return turn.error();
  f.turn = *turn;
  auto text = read_string(*obj, "text", {1, max_text_chars}, true);
  if (!text)
    return text.error();
  f.text = std::move(**text);
  if (auto it = obj->find("analysis"); it != obj->end()) {
    if (!it->value().is_object())
      return invalid("analysis", "must be an object");
    auto a = providers::analysis_from_json(it->value());
    if (!a)
      return under_analysis(a.error());
    f.analysis = std::move(*a);
  }
  return f;
}

caf::expected<int64_t> parse_turn_param(const std::string& text) {
  auto n = query_uint(&text, "turn", 0, uint64_t(max_turn_number), 0);
  if (!n)
    return make_error(ec::invalid_argument,
                      "path.turn: must be an integer 0..9007199254740992",
                      "path.turn");
  return static_cast<int64_t>(*n);
}

caf::expected<read_wait>
parse_read_wait(const std::map<std::string, std::string>& query) {
  read_wait w;
  auto min_seq = query_number(query, "min_seq", UINT64_MAX);
  if (!min_seq)
    return min_seq.error();
  auto wait = query_number(query, "wait_ms", max_wait_ms);
  if (!wait)
    return wait.error();
  w.min_seq = *min_seq;
  if (*wait)
    w.wait_ms = **wait;
  return w;
}

caf::expected<search_fields> parse_search(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"query", "k", "session", "min_seq",
                                       "wait_ms"}))
    return err;
  search_fields f;
  auto query = read_string(*obj, "query", {1, max_query_chars}, true);
  if (!query)
    return query.error();
  f.query = std::move(**query);
  auto k = read_uint(*obj, "k", 1, 100);
  if (!k)
    return k.error();
  if (*k)
    f.k = static_cast<std::size_t>(**k);
  auto session = read_string(*obj, "session", {1, 128}, false);
  if (!session)
    return session.error();
  if (*session && !http::is_valid_id(**session))
    return invalid("session", "must match [A-Za-z0-9_.:-]{1,128}");
  f.session = std::move(*session);
  auto min_seq = read_uint(*obj, "min_seq", 0, UINT64_MAX);
  if (!min_seq)
    return min_seq.error();
  f.wait.min_seq = *min_seq;
  auto wait = read_uint(*obj, "wait_ms", 0, max_wait_ms);
  if (!wait)
    return wait.error();
  if (*wait)
    f.wait.wait_ms = **wait;
  return f;
}

caf::expected<uint64_t> parse_restore(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj)
    return obj.error();
  if (auto err = reject_unknown(*obj, {"version"}))
    return err;
  auto v = read_uint(*obj, "version", 1, UINT64_MAX);
  if (!v)
    return v.error();
  if (!*v)
    return invalid("version", "required");
  return **v;
}

} // namespace engram::api
