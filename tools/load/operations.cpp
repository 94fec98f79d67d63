#include "tools/load/operations.hpp"

#include <boost/json.hpp>

namespace engram::load {

namespace json = boost::json;
using verb = boost::beast::http::verb;

namespace {

std::string quoted(const json::object& o) {
  return json::serialize(o);
}

} // namespace

user_model::user_model(const setup_spec& setup, uint32_t index, uint32_t seed,
                       const std::string& run_id)
  : setup_(&setup), id_(setup.user_prefix + "-" + std::to_string(index)),
    run_id_(run_id),
    words_(std::max<uint32_t>(2, setup.entities_per_user), seed + index, id_) {}

std::vector<std::string> user_model::setup_bodies() const {
  std::vector<std::string> out;
  auto& types = setup_->entity_types;
  for (uint32_t i = 0; i < setup_->entities_per_user; ++i) {
    auto& title = words_.titles()[i];
    out.push_back(quoted({{"id", bench::workload::entity_id(i)},
                          {"type", types[i % types.size()]},
                          {"title", title},
                          {"content", title + " is part of the load test."},
                          {"tags", json::array{"load"}}}));
  }
  return out;
}

request_spec user_model::make(const std::string& op, bool marked,
                              std::mt19937_64& rng) {
  request_spec r;
  r.op = op;
  auto n = std::max<uint32_t>(1, setup_->entities_per_user);
  auto entity = bench::workload::entity_id(rng() % n);
  if (op == "turn") {
    auto turn = ++next_turn_;
    auto conn = std::size_t(rng() % sessions_);
    auto t = words_.make_turn(conn, turn, rng);
    // Now and then someone new appears (the analyser creates an entity).
    if (rng() % 10 == 0)
      t.text += " They met a traveller named " + words_.titles()[rng() % n] + "son.";
    r.session = "load-" + run_id_ + "-" + std::to_string(conn);
    r.method = verb::post;
    r.target = base() + "/sessions/" + r.session + "/turns";
    r.body = quoted({{"turn", turn}, {"text", t.text}});
    if (marked)
      r.marker = t.marker;
  } else if (op == "search") {
    r.method = verb::post;
    r.target = base() + "/search";
    r.body = quoted({{"query", words_.titles()[rng() % n] + " " + words_.filler(2, rng)},
                     {"k", 10}});
  } else if (op == "entity.create") {
    auto id = "x" + std::to_string(++next_id_) + "-" + run_id_;
    r.method = verb::post;
    r.target = base() + "/entities";
    r.body = quoted({{"id", id},
                     {"type", setup_->entity_types[rng() % setup_->entity_types.size()]},
                     {"title", "Extra " + std::to_string(next_id_)},
                     {"content", "Created during the load run."}});
  } else if (op == "entity.get") {
    r.target = base() + "/entities/" + entity;
  } else if (op == "entity.update") {
    r.method = verb::patch;
    r.target = base() + "/entities/" + entity;
    r.body = quoted({{"content", words_.titles()[rng() % n] + " changed: "
                                   + words_.filler(6, rng) + "."}});
  } else if (op == "entity.delete") {
    r.method = verb::delete_;
    if (extra_entities_.empty()) { // never the setup entities
      r.method = verb::get;
      r.target = base() + "/entities/" + entity;
    } else {
      r.target = base() + "/entities/" + extra_entities_.back();
      extra_entities_.pop_back();
    }
  } else if (op == "entity.list") {
    r.target = base() + "/entities?limit=20";
  } else if (op == "intent.create") {
    r.method = verb::post;
    r.target = base() + "/intents";
    r.body = quoted({{"description", "Plan " + words_.filler(3, rng)}});
  } else if (op == "intent.close") {
    if (open_intents_.empty()) {
      r.method = verb::post;
      r.target = base() + "/intents";
      r.body = quoted({{"description", "Plan " + words_.filler(3, rng)}});
    } else {
      auto id = open_intents_.back();
      open_intents_.pop_back();
      r.method = verb::post;
      r.target = base() + "/intents/" + id + "/close";
      r.body = quoted({{"resolution", "Done: " + words_.filler(3, rng)}});
    }
  } else if (op == "document.upload") {
    r.method = verb::post;
    r.target = base() + "/documents";
    std::string text;
    for (int p = 0; p < 3; ++p)
      text += words_.titles()[rng() % n] + " " + words_.filler(40, rng) + ".\n\n";
    r.body = quoted({{"name", "notes-" + std::to_string(++next_id_) + ".md"},
                     {"type", "markdown"},
                     {"text", text}});
  } else if (op == "export.manual") {
    r.method = verb::post;
    r.target = base() + "/exports";
    r.body = quoted({{"reason", "load test"}});
  } else if (op == "export.trigger") {
    static const char* kinds[] = {"intent_closed", "document_upload", "manual"};
    r.method = verb::post;
    r.target = base() + "/exports/triggers";
    r.body = quoted({{"trigger", kinds[rng() % 3]}});
  } else {
    r.target = "/healthz";
  }
  return r;
}

void user_model::observe(const request_spec& r, int status,
                         const std::string& body) {
  if (status != 201 && status != 200)
    return;
  bool created_intent = r.method == verb::post && status == 201
                        && r.target == base() + "/intents";
  bool created_entity = r.op == "entity.create" && status == 201;
  if (!created_intent && !created_entity)
    return;
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("id"))
    return;
  std::string id{v.at("id").as_string()};
  (created_intent ? open_intents_ : extra_entities_).push_back(std::move(id));
}

} // namespace engram::load
