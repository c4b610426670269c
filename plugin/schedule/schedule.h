// The schedule engine: which instants a Digdag-style schedule fires at, exactly as Digdag's
// scheduler (cron4j 2.2.5 + CronScheduler) computes them, DST quirks included. See
// docs/schedules.md.
//
// Pure: values in, values out, no I/O beyond cctz reading the system tz database when a zone is
// first loaded. A Schedule is immutable after Parse and safe to use from several threads at once.
#ifndef WFP_PLUGIN_SCHEDULE_SCHEDULE_H_
#define WFP_PLUGIN_SCHEDULE_SCHEDULE_H_

#include <cctz/time_zone.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace wfp::schedule {

// Seconds since the Unix epoch, UTC.
using Instant = int64_t;

// 9999-01-01T00:00:00Z: what step() answers once a schedule has ended (its run time is the same).
inline constexpr Instant kEndMarker = 253370764800;

// Why a definition is invalid. `key` is the offending key ("daily>", "start", "timezone", ...) and
// `message` the full text for the user ("daily>: requires hh:mm:ss format").
struct ParseError {
  std::string key;
  std::string message;
};

class Pattern;  // internal: the compiled kind/cron pattern

class Schedule {
 public:
  // Parses a workflow's `schedule:` object and its `timezone` (IANA name, or a fixed offset such as
  // "+09:00"; empty means UTC). Returns the error for the first problem found.
  static std::variant<Schedule, ParseError> Parse(const boost::json::value& definition,
                                                  std::string_view timezone);

  // next(t): the next pattern match after t (cron4j's Predictor steps; start/end ignored).
  // kEndMarker when t >= kEndMarker or when the pattern matches nothing in the next 400 years
  // (`0 0 30 2 *`). For seconds_interval>, the next multiple of the interval since the epoch.
  Instant Next(Instant t) const;
  // step(t): the next session after t with start/end applied; kEndMarker once ended.
  // seconds_interval> takes no start/end (as in Digdag): they are accepted and ignored.
  Instant Step(Instant t) const;
  // first(t): the first session whose run time is at or after t. `has_fraction` tells whether the
  // request's time had a fractional second (t is then the time truncated to the second).
  Instant First(Instant t, bool has_fraction) const;
  // last(s): the schedule time before s, start/end ignored (the spec's search, which unlike
  // Digdag's always lands on a schedule time). kEndMarker when there is none in 400 years.
  Instant Last(Instant s) const;
  // The run time of session s: s + delay (kEndMarker stays kEndMarker).
  Instant RunTime(Instant s) const;

  int64_t delay_seconds() const;
  bool has_end() const;
  Instant end() const;  // meaningful when has_end()
  const cctz::time_zone& zone() const;

  // "2016-01-01T00:00:00+09:00" in the schedule's zone; UTC as "+00:00". kEndMarker is no special
  // case: in Asia/Tokyo it renders as "9999-01-01T09:00:00+09:00" (the conformance data says so).
  std::string FormatLocal(Instant t) const;

 private:
  explicit Schedule(std::shared_ptr<const Pattern> p);
  std::shared_ptr<const Pattern> pattern_;
};

// Writes `cs` as "YYYY-MM-DDTHH:MM:SS" (19 characters) at `out` and returns the end. Only for
// years 0 to 9999; callers format other years another way.
char* WriteCivilSecond(const cctz::civil_second& cs, char* out);
// Writes a UTC offset as "+HH:MM", or "+HH:MM:SS" when it has seconds (as java.time does), at `p`
// and returns the end (at most 9 characters).
char* WriteOffset(int offset_seconds, char* p);
// A local time in a year outside 0 to 9999 as java.time writes it: the year with its sign and at
// least four digits ("-0001", "+10000"), then "-MM-DDTHH:MM:SS".
std::string FormatOtherYear(const cctz::civil_second& cs);

// Parses a time-zone name as workflows give it: IANA ("Asia/Tokyo"), "UTC", or a fixed offset
// ("+09:00", "-0530"). False when unknown.
bool LoadZone(std::string_view name, cctz::time_zone* out);

}  // namespace wfp::schedule

#endif  // WFP_PLUGIN_SCHEDULE_SCHEDULE_H_
