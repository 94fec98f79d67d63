#include "runtime/providers/json_extract.hpp"

#include <exception>
#include <optional>
#include <string>

#include <boost/json/parser.hpp>

#include "messages/errors.hpp"
#include "runtime/providers/text_util.hpp"

namespace engram::providers {

namespace {

using boost::json::value;

constexpr auto npos = std::string_view::npos;
constexpr std::string_view think_open = "<think>";
constexpr std::string_view think_close = "</think>";
constexpr std::string_view fence = "```";

// Step 1 of the header: the reply without its reasoning.
std::string strip_think(std::string_view s) {
  auto first_close = s.find(think_close);
  if (first_close != npos && first_close < s.find(think_open))
    s.remove_prefix(first_close + think_close.size());
  std::string out;
  for (;;) {
    auto open = s.find(think_open);
    out.append(s.substr(0, open));
    if (open == npos)
      return out;
    auto close = s.find(think_close, open + think_open.size());
    if (close == npos)
      return out;
    s.remove_prefix(close + think_close.size());
  }
}

// Length of the info string after an opening fence ("json", "jsonc").
std::size_t language_tag_length(std::string_view s) {
  std::size_t n = 0;
  auto tag_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+'
           || c == '.';
  };
  while (n < s.size() && tag_char(s[n]))
    ++n;
  return n;
}

// How a parse of one candidate ended.
enum class outcome { found, not_json, cut_off };

struct attempt {
  outcome result = outcome::not_json;
  std::size_t consumed = 0; // bytes read before success or the error
  value doc;
};

// One Boost.JSON parser reused for every candidate: its temporary storage
// survives reset(), so trying many candidates allocates little.
class reader {
public:
  reader() : parser_(boost::json::storage_ptr{}, options()) {
  }

  // `text` must be a single JSON value plus whitespace.
  attempt whole(std::string_view text) {
    parser_.reset();
    boost::json::error_code err;
    auto n = parser_.write(text.data(), text.size(), err);
    return finish(err, n);
  }

  // A JSON value must start `text`; whatever follows it is ignored.
  attempt prefix(std::string_view text) {
    parser_.reset();
    boost::json::error_code err;
    auto n = parser_.write_some(text.data(), text.size(), err);
    return finish(err, n);
  }

private:
  // Models often leave a trailing comma or a // remark in otherwise good
  // JSON; accepting both costs nothing and saves a failed task.
  static boost::json::parse_options options() {
    boost::json::parse_options o;
    o.max_depth = max_json_depth;
    o.allow_comments = true;
    o.allow_trailing_commas = true;
    return o;
  }

  attempt finish(const boost::json::error_code& err, std::size_t n) {
    attempt a;
    a.consumed = n;
    if (err) {
      a.result = err == boost::json::error::incomplete ? outcome::cut_off
                                                       : outcome::not_json;
      return a;
    }
    a.doc = parser_.release();
    if (a.doc.is_object() || a.doc.is_array())
      a.result = outcome::found;
    return a;
  }

  boost::json::parser parser_;
};

// Step 3: the contents of each fence, from after the opening ``` and its
// language tag up to the closing ``` (or the end of the text).
std::optional<value> from_fences(reader& r, std::string_view s) {
  for (auto open = s.find(fence); open != npos; open = s.find(fence)) {
    s.remove_prefix(open + fence.size());
    s.remove_prefix(language_tag_length(s));
    auto close = s.find(fence);
    auto a = r.whole(text::trim(s.substr(0, close)));
    if (a.result == outcome::found)
      return std::move(a.doc);
    if (close == npos)
      return std::nullopt;
    s.remove_prefix(close + fence.size());
  }
  return std::nullopt;
}

// Step 4. After a failed start the scan resumes past the byte where that
// parse stopped: the brackets up to there belong to the broken value, and a
// fragment of a broken answer is not the answer. A value cut off by the end
// of the text ends the scan for the same reason (every later bracket lies
// inside it); `cut_off` tells the caller so it can say why.
std::optional<value> from_scan(reader& r, std::string_view s, bool& cut_off) {
  auto pos = s.find_first_of("{[");
  for (std::size_t tried = 0; pos != npos && tried < max_scan_starts;
       ++tried) {
    auto a = r.prefix(s.substr(pos));
    if (a.result == outcome::found)
      return std::move(a.doc);
    if (a.result == outcome::cut_off) {
      cut_off = true;
      return std::nullopt;
    }
    pos = s.find_first_of("{[", pos + a.consumed + 1);
  }
  return std::nullopt;
}

caf::error no_json(const char* why) {
  return make_error(ec::invalid_argument, why, "");
}

caf::expected<value> extract(std::string_view reply) {
  if (text::trim(reply).empty())
    return no_json("the model's reply is empty");
  auto stripped = strip_think(reply);
  auto body = text::trim(stripped);
  if (body.empty())
    return no_json("the model's reply holds nothing but <think> reasoning");
  reader r;
  if (auto a = r.whole(body); a.result == outcome::found)
    return std::move(a.doc);
  if (auto v = from_fences(r, body))
    return std::move(*v);
  bool cut_off = false;
  if (auto v = from_scan(r, body, cut_off))
    return std::move(*v);
  if (cut_off)
    return no_json("the JSON in the model's reply is cut off before its end");
  return no_json("no JSON object or array in the model's reply");
}

} // namespace

caf::expected<value> extract_json(std::string_view reply) {
  try {
    return extract(reply);
  } catch (const std::exception& e) {
    // Only allocation can throw here; report it rather than unwind.
    return make_error(ec::internal,
                      std::string{"cannot extract JSON: "} + e.what());
  }
}

} // namespace engram::providers
