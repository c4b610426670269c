// Compiled schedules by (definition JSON text, time zone), so that a request for a schedule seen
// before neither parses its JSON nor compiles its pattern and zone again. A definition that does
// not compile is not cached (its error is returned each time). Bounded: past `capacity` entries the
// cache starts over (schedules are few; a request never waits on a compile of another one).
// Thread-safe; entries are immutable and shared (a Schedule is safe to use from several threads).
#ifndef WFP_PLUGIN_BACKFILL_SCHEDULE_CACHE_H_
#define WFP_PLUGIN_BACKFILL_SCHEDULE_CACHE_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "schedule/schedule.h"

namespace wfp::backfill {

class ScheduleCache {
 public:
  // The definition was not JSON (a fault of the store: its text is the host's).
  struct NotJson {};
  using Result =
      std::variant<std::shared_ptr<const schedule::Schedule>, schedule::ParseError, NotJson>;

  explicit ScheduleCache(size_t capacity = 1024) : capacity_(capacity) {}

  Result Get(std::string_view definition_json, std::string_view timezone);

  size_t size() const;
  size_t compiles() const;  // how many times a definition was compiled (for tests)

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const schedule::Schedule>> entries_;
  size_t compiles_ = 0;
};

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_SCHEDULE_CACHE_H_
