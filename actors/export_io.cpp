#include "actors/export_io.hpp"

#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/errors.hpp"
#include "runtime/exports/atomic_file.hpp"

namespace engram {

namespace {

// `unused`: CAF 0.17 dereferences an empty argument tuple (UBSan reports a
// null reference) when a function actor takes no arguments.
export_writer_actor::behavior_type export_writer(int) {
  return {
    [](write_atom, const std::string& path,
       const std::string& content) -> caf::result<bool> {
      if (auto err = exports::write_file_atomically(path, content))
        return err;
      return true;
    },
    [](read_atom, const std::string& path) -> caf::result<std::string> {
      auto text = exports::read_file(path);
      if (!text)
        return text.error();
      return std::move(*text);
    },
  };
}

struct event_log_state {
  std::unique_ptr<exports::event_log> log;
  uint64_t failures = 0;
  static inline const char* name = "engram.export_events";
};

using event_log_self = event_log_actor::stateful_pointer<event_log_state>;

event_log_actor::behavior_type event_log_fn(event_log_self self,
                                            std::string path,
                                            exports::event_log_options opts) {
  self->state.log = std::make_unique<exports::event_log>(std::move(path), opts);
  return {
    [self](log_atom, std::string& line) {
      if (auto err = self->state.log->append_json(std::move(line))) {
        // Exports go on; the log only loses this record (counted, logged).
        if (self->state.failures++ % 100 == 0)
          spdlog::error("event=export_log_append_failed path={} failures={} "
                        "error=\"{}\"",
                        self->state.log->path(), self->state.failures,
                        message_of(err));
      }
    },
    [self](read_atom, const std::string& user, uint64_t limit,
           int64_t before_ms) -> std::string {
      auto found = self->state.log->read_user(
        user, limit,
        before_ms > 0 ? std::optional<int64_t>{before_ms} : std::nullopt);
      boost::json::array events;
      for (auto& e : found)
        events.emplace_back(std::move(e));
      return boost::json::serialize(
        boost::json::object{{"events", std::move(events)}});
    },
  };
}

} // namespace

export_writer_actor spawn_export_writer(caf::actor_system& sys) {
  return sys.spawn<caf::detached>(export_writer, 0);
}

event_log_actor spawn_event_log(caf::actor_system& sys, std::string path,
                                exports::event_log_options opts) {
  return sys.spawn<caf::detached>(event_log_fn, std::move(path), opts);
}

} // namespace engram
