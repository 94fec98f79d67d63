#include "runtime/providers/rules_llm.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "messages/errors.hpp"
#include "runtime/api/entity_input.hpp"
#include "runtime/providers/text_util.hpp"

namespace engram::providers {

namespace {

using text::span;
using text::tokens;

// A new name longer than this is more likely a quoted sentence than a name.
constexpr std::size_t max_name_chars = 128;

// An unquoted name is at most this many capitalised words; longer runs are
// usually a title-cased heading, not a name.
constexpr std::size_t max_name_words = 6;

// ---------------------------------------------------------------------------
// Mentions: where known entities (and new names) occur as whole words.

// Owners number the names: known[k] is owner k, new name j is owner
// known.size() + j, so a lower owner wins ties.
struct candidate {
  std::size_t owner;
  text::phrase phrase;
};

struct mention {
  span where;
  std::size_t owner;
};

// Candidates grouped by their first word: a turn is scanned once, looking up
// each of its words, whatever the number of known entities.
using name_index = std::unordered_map<std::string, std::vector<candidate>>;

void add_name(name_index& index, std::size_t owner, std::string_view name) {
  auto p = text::make_phrase(name);
  if (p.words.empty())
    return; // a name without a word ("???") can never be mentioned
  auto first = p.words.front();
  index[first].push_back({owner, std::move(p)});
}

std::vector<mention> find_mentions(const tokens& t, const name_index& index) {
  std::vector<mention> out;
  for (std::size_t i = 0; i < t.words.size(); ++i) {
    auto it = index.find(t.folded[i]);
    if (it == index.end())
      continue;
    for (auto& c : it->second)
      if (auto n = text::match_at(t, i, c.phrase))
        out.push_back({{t.words[i].begin, t.words[i + n - 1].end}, c.owner});
  }
  return out;
}

// Leftmost-longest: in "Tokyo Tower" the entity "Tokyo Tower" is mentioned,
// the entity "Tokyo" is not. Equal spans go to the lower owner.
std::vector<mention> resolve_overlaps(std::vector<mention> all) {
  std::sort(all.begin(), all.end(), [](const mention& a, const mention& b) {
    if (a.where.begin != b.where.begin)
      return a.where.begin < b.where.begin;
    if (a.where.end != b.where.end)
      return a.where.end > b.where.end;
    return a.owner < b.owner;
  });
  std::vector<mention> out;
  std::size_t cursor = 0;
  for (auto& m : all) {
    if (m.where.begin < cursor)
      continue;
    out.push_back(m);
    cursor = m.where.end;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Summaries: the sentences that touch an entity's mentions.

// Indices of the sentences overlapping any of `spans`, ascending.
std::vector<std::size_t> sentences_touching(const std::vector<span>& sents,
                                            const std::vector<span>& spans) {
  std::vector<std::size_t> out;
  for (auto& s : spans) {
    auto it = std::upper_bound(
      sents.begin(), sents.end(), s.begin,
      [](std::size_t pos, const span& sent) { return pos < sent.end; });
    for (; it != sents.end() && it->begin < s.end; ++it)
      out.push_back(static_cast<std::size_t>(it - sents.begin()));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Joins the chosen sentences with one space, within the options' limits.
std::string join_summary(std::string_view text, const std::vector<span>& sents,
                         const std::vector<std::size_t>& chosen,
                         const rules_options& opts) {
  std::string out;
  std::size_t chars = 0;
  auto count = std::min(chosen.size(), opts.max_summary_sentences);
  for (std::size_t i = 0; i < count; ++i) {
    auto& s = sents[chosen[i]];
    auto sentence = text.substr(s.begin, s.end - s.begin);
    auto n = text::length(sentence) + (out.empty() ? 0 : 1);
    if (chars + n > opts.max_summary_chars) {
      if (out.empty()) // never return nothing for a real mention
        out = std::string{text::first_chars(sentence, opts.max_summary_chars)};
      break;
    }
    if (!out.empty())
      out += ' ';
    out += sentence;
    chars += n;
  }
  return out;
}

// ---------------------------------------------------------------------------
// New names: "a girl named Kenta", "a new location Tokyo Tower".

struct new_name {
  std::string type;
  span where; // the name in the turn text
};

struct noun_type {
  std::string_view noun;
  std::string_view type;
};

constexpr std::array<noun_type, 42> noun_types{{
  {"character", "character"}, {"person", "character"},
  {"girl", "character"},      {"boy", "character"},
  {"man", "character"},       {"woman", "character"},
  {"friend", "character"},    {"someone", "character"},
  {"somebody", "character"},  {"guy", "character"},
  {"lady", "character"},      {"child", "character"},
  {"kid", "character"},       {"stranger", "character"},
  {"location", "location"},   {"place", "location"},
  {"town", "location"},       {"city", "location"},
  {"village", "location"},    {"inn", "location"},
  {"tavern", "location"},     {"castle", "location"},
  {"kingdom", "location"},    {"forest", "location"},
  {"island", "location"},     {"shop", "location"},
  {"item", "item"},           {"object", "item"},
  {"sword", "item"},          {"ring", "item"},
  {"weapon", "item"},         {"artifact", "item"},
  {"artefact", "item"},       {"amulet", "item"},
  {"book", "item"},           {"organization", "organization"},
  {"organisation", "organization"}, {"guild", "organization"},
  {"company", "organization"},      {"clan", "organization"},
  {"faction", "organization"},      {"team", "organization"},
}};

// Words after which "named"/"called" still introduces a name although they
// are not nouns: "she was called Rin", "it is now named Kenta".
constexpr std::array<std::string_view, 10> naming_verbs{
  "is", "was", "are", "were", "be", "been", "being", "now", "also", "once"};

bool is_lower_word(std::string_view w) {
  return !w.empty() && w[0] >= 'a' && w[0] <= 'z';
}

// The entity type a (folded, lower-case) noun stands for: the table, else
// the noun itself when it is a valid type, else "character".
std::string type_of_noun(std::string_view noun) {
  for (auto& entry : noun_types)
    if (entry.noun == noun)
      return std::string{entry.type};
  return is_valid_entity_type(noun) ? std::string{noun} : "character";
}

// Index of the last word of the capitalised run starting at word `j`.
std::size_t run_end(const tokens& t, std::size_t j) {
  auto last = j;
  while (last + 1 < t.words.size() && last + 1 - j < max_name_words
         && text::is_inline_space(t.raw_gap(last))
         && text::is_capitalised(t.word(last + 1)))
    ++last;
  return last;
}

struct quote_pair {
  std::string_view open;
  std::string_view close;
  bool apostrophe; // the closer doubles as an apostrophe ("Kenta's")
};

constexpr std::array<quote_pair, 5> quote_pairs{{
  {"'", "'", true},
  {"\"", "\"", false},
  {"\xE2\x80\x98", "\xE2\x80\x99", true},   // ‘ ’
  {"\xE2\x80\x9C", "\xE2\x80\x9D", false},  // “ ”
  {"\xE3\x80\x8C", "\xE3\x80\x8D", false},  // 「 」
}};

const quote_pair* quote_at(std::string_view s, std::size_t pos) {
  for (auto& q : quote_pairs)
    if (s.compare(pos, q.open.size(), q.open) == 0)
      return &q;
  return nullptr;
}

// The trimmed inside of the quotation opening at `pos`, on the same line.
// An apostrophe-like closer counts only when no word character follows, so
// 'Kenta's sword' is one name.
std::optional<span> quoted_name(std::string_view s, std::size_t pos,
                                const quote_pair& q) {
  auto begin = pos + q.open.size();
  for (auto p = begin; p < s.size() && s[p] != '\n' && s[p] != '\r'; ++p) {
    if (s.compare(p, q.close.size(), q.close) != 0)
      continue;
    auto after = p + q.close.size();
    if (q.apostrophe && after < s.size() && text::separator_at(s, after) == 0)
      continue;
    auto inner = text::trim(s.substr(begin, p - begin));
    if (text::words(inner).empty() || text::length(inner) > max_name_chars)
      return std::nullopt;
    auto first = static_cast<std::size_t>(inner.data() - s.data());
    return span{first, first + inner.size()};
  }
  return std::nullopt;
}

// The name starting at byte `pos` (after inline whitespace): a quotation or
// a run of capitalised words.
std::optional<span> name_at(const tokens& t, std::size_t pos) {
  auto s = t.text;
  while (pos < s.size() && s[pos] != '\n' && s[pos] != '\r'
         && text::space_at(s, pos) > 0)
    pos += text::space_at(s, pos);
  if (pos >= s.size())
    return std::nullopt;
  if (auto* q = quote_at(s, pos))
    return quoted_name(s, pos, *q);
  auto it = std::lower_bound(
    t.words.begin(), t.words.end(), pos,
    [](const span& w, std::size_t p) { return w.begin < p; });
  if (it == t.words.end() || it->begin != pos)
    return std::nullopt;
  auto j = static_cast<std::size_t>(it - t.words.begin());
  if (!text::is_capitalised(t.word(j)))
    return std::nullopt;
  return span{t.words[j].begin, t.words[run_end(t, j)].end};
}

// "<noun> named X" / "<noun> called X" with the cue at word `i`.
std::optional<new_name> named_cue(const tokens& t, std::size_t i) {
  if (t.folded[i] != "named" && t.folded[i] != "called")
    return std::nullopt;
  // Without a lower-case word right before, the cue is a verb with a
  // subject ("She called Kenta", "Momo named her cat"): not a new name.
  if (i == 0 || !text::is_inline_space(t.raw_gap(i - 1))
      || !is_lower_word(t.word(i - 1)))
    return std::nullopt;
  auto& before = t.folded[i - 1];
  std::string type;
  if (std::find(naming_verbs.begin(), naming_verbs.end(), before)
      != naming_verbs.end())
    type = "character";
  else if (text::is_stopword(before))
    return std::nullopt;
  else
    type = type_of_noun(before);
  auto where = name_at(t, t.words[i].end);
  if (!where)
    return std::nullopt;
  return new_name{std::move(type), *where};
}

// "a new <type> X" (also "an", "another", "the"; optional ',' or ':' after
// the type) with "new" at word `i`.
std::optional<new_name> new_cue(const tokens& t, std::size_t i) {
  static constexpr std::array<std::string_view, 4> articles{"a", "an",
                                                            "another", "the"};
  if (t.folded[i] != "new" || i == 0 || i + 1 >= t.words.size())
    return std::nullopt;
  if (std::find(articles.begin(), articles.end(), t.folded[i - 1])
        == articles.end()
      || !text::is_inline_space(t.raw_gap(i - 1))
      || !text::is_inline_space(t.raw_gap(i)))
    return std::nullopt;
  // A capitalised word is a name ("a new York"), a stopword is no type.
  auto& noun = t.folded[i + 1];
  if (!is_lower_word(t.word(i + 1)) || text::is_stopword(noun))
    return std::nullopt;
  auto pos = t.words[i + 1].end;
  if (pos < t.text.size() && (t.text[pos] == ',' || t.text[pos] == ':'))
    ++pos;
  auto where = name_at(t, pos);
  if (!where)
    return std::nullopt;
  return new_name{type_of_noun(noun), *where};
}

// The names the turn introduces, in order, without known names and repeats.
std::vector<new_name>
find_new_names(const tokens& t, const std::unordered_set<std::string>& known) {
  std::vector<new_name> out;
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < t.words.size(); ++i) {
    auto hit = named_cue(t, i);
    if (!hit)
      hit = new_cue(t, i);
    if (!hit)
      continue;
    auto name =
      t.text.substr(hit->where.begin, hit->where.end - hit->where.begin);
    auto key = text::name_key(name);
    // A name of stray UTF-8 continuation bytes has no character to title.
    if (key.empty() || text::length(name) == 0 || known.count(key) > 0
        || !seen.insert(key).second)
      continue;
    out.push_back(std::move(*hit));
  }
  return out;
}

std::unordered_set<std::string>
known_keys(const std::vector<known_entity>& known) {
  std::unordered_set<std::string> out;
  for (auto& k : known) {
    out.insert(text::name_key(k.title));
    for (auto& alias : k.aliases)
      out.insert(text::name_key(alias));
  }
  out.erase(std::string{}); // a name without words matches nothing
  return out;
}

// Known titles and aliases, then the new names. New names join the overlap
// resolution so that "a new location Tokyo Tower" does not also count as a
// mention of a known "Tokyo".
name_index build_index(const std::vector<known_entity>& known,
                       const std::vector<new_name>& fresh,
                       std::string_view text) {
  name_index index;
  for (std::size_t k = 0; k < known.size(); ++k) {
    add_name(index, k, known[k].title);
    for (auto& alias : known[k].aliases)
      add_name(index, k, alias);
  }
  for (std::size_t j = 0; j < fresh.size(); ++j) {
    auto& w = fresh[j].where;
    add_name(index, known.size() + j, text.substr(w.begin, w.end - w.begin));
  }
  return index;
}

// ---------------------------------------------------------------------------
// Rewrite and create helpers.

// Drops whole sentences from the front until `note` fits; a last sentence
// that alone is too long keeps its end, the newest part.
std::string fit_note(std::string note, std::size_t max_chars) {
  auto total = text::length(note);
  if (total <= max_chars)
    return note;
  auto sents = text::sentences(note);
  std::string_view view{note};
  for (std::size_t k = 1; k < sents.size(); ++k) {
    total -= text::length(
      view.substr(sents[k - 1].begin, sents[k].begin - sents[k - 1].begin));
    if (total <= max_chars)
      return std::string{view.substr(sents[k].begin)};
  }
  auto last = view.substr(sents.back().begin);
  return std::string{text::trim(text::last_chars(last, max_chars))};
}

std::string_view strip_quotes(std::string_view s) {
  s = text::trim(s);
  for (auto& q : quote_pairs)
    if (s.size() >= q.open.size() + q.close.size()
        && s.compare(0, q.open.size(), q.open) == 0
        && s.compare(s.size() - q.close.size(), q.close.size(), q.close) == 0)
      return text::trim(s.substr(q.open.size(),
                                 s.size() - q.open.size() - q.close.size()));
  return s;
}

// The first run of capitalised words that is not only stopwords, without
// its leading stopwords: "The Red Dragon opened" -> "Red Dragon".
std::string title_from(std::string_view summary) {
  auto t = text::tokenize(summary);
  for (std::size_t i = 0; i < t.words.size(); ++i) {
    if (!text::is_capitalised(t.word(i)))
      continue;
    auto last = run_end(t, i);
    auto k = i;
    while (k <= last && text::is_stopword(t.folded[k]))
      ++k;
    if (k <= last)
      return std::string{
        summary.substr(t.words[k].begin, t.words[last].end - t.words[k].begin)};
    i = last;
  }
  return {};
}

bool is_number(std::string_view w) {
  return std::all_of(w.begin(), w.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// Up to `max` folded words of `summary`, most frequent first, ties by first
// occurrence; short words, stopwords, numbers and `excluded` do not count.
std::vector<std::string>
keywords(std::string_view summary,
         const std::unordered_set<std::string>& excluded, std::size_t max) {
  struct stat {
    std::size_t count = 0;
    std::size_t first = 0;
  };
  auto t = text::tokenize(summary);
  std::unordered_map<std::string, stat> stats;
  std::vector<std::string> order;
  for (std::size_t i = 0; i < t.folded.size(); ++i) {
    auto& w = t.folded[i];
    auto n = text::length(w);
    if (n < 4 || n > api::max_tag_chars || text::is_stopword(w)
        || is_number(w) || excluded.count(w) > 0)
      continue;
    auto& st = stats[w];
    if (st.count++ == 0) {
      st.first = i;
      order.push_back(w);
    }
  }
  std::sort(order.begin(), order.end(),
            [&](const std::string& a, const std::string& b) {
              auto& x = stats[a];
              auto& y = stats[b];
              return x.count != y.count ? x.count > y.count
                                        : x.first < y.first;
            });
  order.resize(std::min(order.size(), max));
  return order;
}

caf::error invalid(const std::string& field, const std::string& rule) {
  return make_error(ec::invalid_argument, field + ": " + rule, field);
}

caf::expected<std::string> title_of(const creation_input& in) {
  auto name = std::string{strip_quotes(in.name)};
  if (name.empty())
    name = title_from(in.creation_summary);
  if (name.empty())
    return invalid("name", "is empty and the summary has no capitalised "
                           "words to take a title from");
  if (text::length(name) > api::max_title_chars)
    return invalid("name", "must be at most "
                             + std::to_string(api::max_title_chars)
                             + " characters");
  return name;
}

} // namespace

rules_llm::rules_llm(rules_options opts) : opts_(opts) {
  // Zero would make every summary empty, which no caller wants.
  opts_.max_summary_sentences = std::max<std::size_t>(
    opts_.max_summary_sentences, 1);
  opts_.max_summary_chars = std::max<std::size_t>(opts_.max_summary_chars, 1);
}

std::string rules_llm::name() const {
  return "rules";
}

caf::expected<analysis_result> rules_llm::analyse(const analysis_input& in) {
  auto t = text::tokenize(in.text);
  auto sents = text::sentences(in.text);
  auto fresh = find_new_names(t, known_keys(in.known));
  auto n_known = in.known.size();
  auto mentions =
    resolve_overlaps(find_mentions(t, build_index(in.known, fresh, t.text)));
  std::vector<std::vector<span>> spans(n_known + fresh.size());
  std::vector<std::size_t> first_seen; // known owners in order of mention
  for (auto& m : mentions) {
    if (m.owner < n_known && spans[m.owner].empty())
      first_seen.push_back(m.owner);
    spans[m.owner].push_back(m.where);
  }
  analysis_result r;
  std::unordered_set<std::string_view> ids;
  for (auto k : first_seen) {
    auto& id = in.known[k].id;
    // Two entities sharing an id would make a result validate() rejects.
    if (id.empty() || !ids.insert(id).second)
      continue;
    auto chosen = sentences_touching(sents, spans[k]);
    r.updates.push_back({id, join_summary(in.text, sents, chosen, opts_)});
  }
  for (std::size_t j = 0; j < fresh.size(); ++j) {
    auto& own = spans[n_known + j];
    own.push_back(fresh[j].where); // the naming sentence always counts
    auto chosen = sentences_touching(sents, own);
    auto& w = fresh[j].where;
    r.creations.push_back({fresh[j].type,
                           join_summary(in.text, sents, chosen, opts_),
                           std::string{t.text.substr(w.begin, w.end - w.begin)}});
  }
  return r;
}

caf::expected<std::string> rules_llm::rewrite(const rewrite_input& in) {
  if (in.max_note_chars == 0)
    return invalid("max_note_chars", "must be at least 1");
  std::string note{text::trim(in.previous_note)};
  std::unordered_set<std::string> seen;
  for (auto& s : text::sentences(note))
    seen.insert(text::sentence_key(
      std::string_view{note}.substr(s.begin, s.end - s.begin)));
  std::string_view summary{in.update_summary};
  for (auto& s : text::sentences(summary)) {
    auto sentence = summary.substr(s.begin, s.end - s.begin);
    if (!seen.insert(text::sentence_key(sentence)).second)
      continue;
    if (!note.empty())
      note += ' ';
    note += sentence;
  }
  return fit_note(std::move(note), in.max_note_chars);
}

caf::expected<creation_result> rules_llm::create(const creation_input& in) {
  if (!is_valid_entity_type(in.entity_type))
    return invalid("entity_type", "must match [A-Za-z0-9_.:-]{1,64}");
  auto title = title_of(in);
  if (!title)
    return title.error();
  auto content = std::string{text::trim(in.creation_summary)};
  if (text::length(content) > api::max_content_chars)
    return invalid("creation_summary",
                   "must be at most " + std::to_string(api::max_content_chars)
                     + " characters");
  std::unordered_set<std::string> excluded{text::fold(in.entity_type)};
  for (auto& w : text::tokenize(*title).folded)
    excluded.insert(w);
  creation_result r{std::move(*title), std::move(content), {in.entity_type}};
  for (auto& k : keywords(r.content, excluded, opts_.max_keyword_tags))
    r.tags.push_back(std::move(k));
  // By construction this holds; checking keeps the API's limits the only
  // source of truth for what a created entity may look like.
  if (auto err = validate(r))
    return err;
  return r;
}

} // namespace engram::providers
