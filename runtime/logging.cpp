#include "runtime/logging.hpp"

#include <chrono>
#include <ctime>

#include <boost/json/serialize.hpp>
#include <spdlog/formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "messages/errors.hpp"
#include "runtime/ids.hpp"

namespace engram::logging {

namespace {

std::string iso_time(spdlog::log_clock::time_point tp) {
  return iso8601_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                      tp.time_since_epoch()).count());
}

// Text: "2026-11-22T03:50:00.123Z INFO  journal started last_seq=0".
class text_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    auto line = iso_time(msg.time);
    line += ' ';
    auto lvl = spdlog::level::to_string_view(msg.level);
    line.append(lvl.data(), lvl.size());
    line.append(lvl.size() < 5 ? 6 - lvl.size() : 1, ' ');
    line.append(msg.payload.data(), msg.payload.size());
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<text_formatter>();
  }
};

// JSON: {"ts":...,"level":"info","msg":"journal started","last_seq":"0"}.
class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    boost::json::object obj;
    obj["ts"] = iso_time(msg.time);
    auto lvl = spdlog::level::to_string_view(msg.level);
    obj["level"] = std::string_view{lvl.data(), lvl.size()};
    for (auto& kv : split_fields({msg.payload.data(), msg.payload.size()}))
      obj[kv.key()] = kv.value();
    auto line = boost::json::serialize(obj);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

// Reads one token: bare up to a space, or key="quoted \" value".
std::string next_token(std::string_view s, std::size_t& i) {
  std::string out;
  bool quoted = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (!quoted && c == ' ')
      break;
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted && c == '\\' && i + 1 < s.size()) {
      out += s[++i];
      continue;
    }
    out += c;
  }
  return out;
}

bool is_key(std::string_view k) {
  if (k.empty())
    return false;
  for (char c : k)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'))
      return false;
  return true;
}

} // namespace

boost::json::object split_fields(std::string_view message) {
  boost::json::object obj;
  std::string msg;
  std::size_t i = 0;
  while (i < message.size()) {
    if (message[i] == ' ') {
      ++i;
      continue;
    }
    auto start = i;
    auto eq = message.find('=', i);
    auto sp = message.find(' ', i);
    auto tok = next_token(message, i);
    if (eq != std::string_view::npos && (sp == std::string_view::npos || eq < sp)
        && is_key(message.substr(start, eq - start))) {
      auto key = std::string(message.substr(start, eq - start));
      obj[key] = tok.substr(key.size() + 1);
    } else {
      msg += msg.empty() ? "" : " ";
      msg += tok;
    }
  }
  obj["msg"] = msg;
  return obj;
}

std::string quote(std::string_view value) {
  bool plain = !value.empty();
  for (char c : value)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || c == '\n')
      plain = false;
  if (plain)
    return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + '"';
}

caf::error setup(const config::log_options& opts) {
  auto lvl = spdlog::level::from_str(opts.level);
  if (lvl == spdlog::level::off && opts.level != "off")
    return make_error(ec::invalid_config, "unknown log level " + opts.level,
                      "log.level");
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (opts.file.empty())
      logger = std::make_shared<spdlog::logger>(
        "engram", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    else
      logger = std::make_shared<spdlog::logger>(
        "engram",
        std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.file));
  } catch (const std::exception& e) {
    return make_error(ec::invalid_config,
                      "cannot open log file: " + std::string(e.what()),
                      "log.file");
  }
  if (opts.format == "json")
    logger->set_formatter(std::make_unique<json_formatter>());
  else
    logger->set_formatter(std::make_unique<text_formatter>());
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return caf::none;
}

} // namespace engram::logging
