// cron4j 2.2.5 scheduling patterns, compiled to bit sets, and the wall-clock search of its
// Predictor.
//
// Internal to the schedule engine (schedule.cc and its tests). A CronPattern is a plain value:
// immutable after Compile and safe to share between threads.
#ifndef WFP_PLUGIN_SCHEDULE_CRON_PATTERN_H_
#define WFP_PLUGIN_SCHEDULE_CRON_PATTERN_H_

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

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
  // False when no month of the pattern has any of its days (`0 0 30 2 *`): cron4j would search
  // forever, NextAtOrAfter answers nullopt at once.
  bool can_match = true;

  // A match found by NextAtOrAfter: its wall-clock fields and the instant they stand for.
  struct Match {
    cctz::civil_minute wall;
    int64_t instant;  // seconds since the epoch
  };

  // Whether a wall-clock minute matches every field (day-of-month AND day-of-week).
  bool Matches(const cctz::civil_minute& m) const;
  // cron4j's Predictor search for one pattern, from the wall-clock minute `from` in `tz`: minute,
  // hour, day of month, month, then the date is built as Java's lenient GregorianCalendar builds it
  // (a date that does not exist rolls over, Feb 30 -> Mar 2, and the search goes on from there
  // keeping the hour and minute; a gap moves the time forward, an overlap takes the later instant),
  // then the day of week. Whole runs of non-matching values are skipped at once, so sparse patterns
  // are cheap. Nullopt when nothing matches before `year_limit`.
  std::optional<Match> NextAtOrAfter(cctz::civil_minute from, const cctz::time_zone& tz,
                                     cctz::year_t year_limit) const;
};

// A wall-clock time to an instant as java.util.GregorianCalendar (lenient) does: fields out of
// range roll over (civil_second normalizes them), a time inside a gap is read with the offset
// before the transition (so it moves forward by the gap), a time inside an overlap takes the later
// instant.
int64_t ResolveLenient(const cctz::time_zone& tz, const cctz::civil_second& cs);

// Several patterns joined by `|`: matches when any matches.
struct CronPattern {
  std::vector<CronFields> alternatives;

  // Parses cron4j syntax. On failure returns nullopt and sets *error to cron4j's message.
  static std::optional<CronPattern> Compile(std::string_view text, std::string* error);
  bool Matches(const cctz::civil_minute& m) const;
};

// Java's Integer.parseInt: an optional sign and decimal digits within int's range (how Digdag reads
// numbers in definitions and cron4j in patterns). nullopt for anything else.
std::optional<int> ParseJavaInt(std::string_view s);

}  // namespace wfp::schedule

#endif  // WFP_PLUGIN_SCHEDULE_CRON_PATTERN_H_
