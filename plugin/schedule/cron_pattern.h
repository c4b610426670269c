// cron4j 2.2.5 scheduling patterns, compiled to bit sets, and the wall-clock search of its
// Predictor.
//
// Internal to the schedule engine (schedule.cc and its tests). A CronPattern is a plain value:
// immutable after Compile and safe to share between threads.
#ifndef WFP_PLUGIN_SCHEDULE_CRON_PATTERN_H_
#define WFP_PLUGIN_SCHEDULE_CRON_PATTERN_H_

#include <cctz/civil_time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfp::schedule {

// One `min hour dom month dow` pattern. Bit i of a set means value i matches; day_of_month bit 32
// is cron4j's `L` (the month's last day); day_of_week uses 0 = Sunday.
struct CronFields {
  uint64_t minutes = 0;
  uint32_t hours = 0;
  uint64_t days_of_month = 0;
  uint16_t months = 0;
  uint8_t days_of_week = 0;

  // Whether a wall-clock minute matches every field (day-of-month AND day-of-week).
  bool Matches(const cctz::civil_minute& m) const;
  // The smallest existing wall-clock minute at or after `from` that matches, searching field by
  // field (month, day, hour, minute) so sparse patterns cost no more than dense ones. Nullopt when
  // nothing matches before `year_limit`.
  std::optional<cctz::civil_minute> NextAtOrAfter(cctz::civil_minute from,
                                                  cctz::year_t year_limit) const;
};

// Several patterns joined by `|`: matches when any matches.
struct CronPattern {
  std::vector<CronFields> alternatives;

  // Parses cron4j syntax. On failure returns nullopt and sets *error to a cron4j-like reason.
  static std::optional<CronPattern> Compile(std::string_view text, std::string* error);
  bool Matches(const cctz::civil_minute& m) const;
};

}  // namespace wfp::schedule

#endif  // WFP_PLUGIN_SCHEDULE_CRON_PATTERN_H_
