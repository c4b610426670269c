// The schedule engine. Definitions parse as Digdag's scheduler factories do (messages modelled on
// theirs); times follow docs/schedules.md, which pins down cron4j's Predictor and
// Digdag's CronScheduler, including where they differ from a textbook cron (DST gaps and overlaps).
#include "schedule/schedule.h"

#include <cctz/civil_time.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <limits>
#include <optional>
#include <vector>

#include "schedule/cron_pattern.h"

namespace wfp::schedule {

enum class Kind { kCron, kSecondsInterval };

class Pattern {
 public:
  Kind kind = Kind::kCron;
  CronPattern cron;
  int64_t interval = 0;  // seconds_interval>
  int64_t delay = 0;
  std::optional<Instant> start;
  std::optional<Instant> end;
  cctz::time_zone tz;
};

namespace {

using Seconds = std::chrono::seconds;
using TimePoint = cctz::time_point<Seconds>;

TimePoint ToTp(Instant t) { return TimePoint(Seconds(t)); }
Instant FromTp(TimePoint tp) { return tp.time_since_epoch().count(); }

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Years past which Next() gives up: a pattern such as `0 0 30 2 *` never matches, and every
// calendar repeats within 400 years.
constexpr cctz::year_t kSearchYears = 401;

// Truncates to the minute as cron4j 2.2.5's Predictor does: `(start / (1000 * 60)) * 1000 * 60`,
// Java's division, which rounds toward zero. That differs from flooring only before 1970, where it
// is what Digdag computes (first(1970-01-01T00:00:00Z) of a minutely schedule is 00:01), so we
// keep it: the engine's contract is Digdag's answer to the second.
int64_t TruncateToMinute(int64_t t) { return (t / 60) * 60; }

// cron4j Predictor.nextMatchingTime (see the spec's four steps).
Instant CronNext(const Pattern& p, Instant t) {
  const Instant m = TruncateToMinute(t) + 60;
  const cctz::civil_minute wall(cctz::convert(ToTp(m), p.tz));
  if (p.cron.Matches(wall)) return m;
  Instant best = kEndMarker;
  for (const auto& alt : p.cron.alternatives) {
    auto c = alt.NextAtOrAfter(wall, p.tz, wall.year() + kSearchYears);
    if (c) best = std::min(best, TruncateToMinute(c->instant));
  }
  return best;
}

// 00:00 of a YYYY-MM-DD date in the zone, as java.time.ZonedDateTime.of does (gap: moved forward by
// the gap; overlap: the earlier instant). `plus_days` is 1 for `end` (the end day is included).
std::optional<Instant> ParseDate(std::string_view s, const cctz::time_zone& tz, int plus_days) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto digits = [&](size_t from, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
  if (!y || !mo || !d) return std::nullopt;
  cctz::civil_day day(*y, *mo, *d);
  if (day.year() != *y || day.month() != *mo || day.day() != *d) return std::nullopt;  // Feb 30
  day += plus_days;
  return FromTp(tz.lookup(cctz::civil_second(day)).pre);
}

// String.split(":") drops trailing empty strings.
std::vector<std::string_view> JavaSplit(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) {
      out.push_back(s.substr(i));
      break;
    }
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

std::string_view Trim(std::string_view s) {
  auto is_space = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// `hh:mm:ss` (or `mm:ss` with parts == 2) as seconds; fields are not range checked (Digdag).
std::optional<int64_t> ParseAt(std::string_view at, int parts) {
  auto f = JavaSplit(at, ':');
  if (static_cast<int>(f.size()) != parts) return std::nullopt;
  int64_t total = 0;
  for (auto piece : f) {
    auto v = ParseJavaInt(piece);
    if (!v) return std::nullopt;
    total = total * 60 + *v;
  }
  return total;
}

// An integer given as a JSON number or a decimal string, in Java int range (which also keeps
// session + delay far from overflow).
std::optional<int64_t> JsonInteger(const boost::json::value& v) {
  constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (v.is_int64()) {
    int64_t i = v.as_int64();
    if (i < kMin || i > kMax) return std::nullopt;
    return i;
  }
  if (v.is_uint64()) {
    if (v.as_uint64() > static_cast<uint64_t>(kMax)) return std::nullopt;
    return static_cast<int64_t>(v.as_uint64());
  }
  if (v.is_double()) {
    double d = v.as_double();
    // Range first: converting an out-of-range double to an integer is undefined.
    if (!(d >= static_cast<double>(kMin) && d <= static_cast<double>(kMax))) return std::nullopt;
    if (d != static_cast<double>(static_cast<int64_t>(d))) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  if (v.is_string()) return ParseJavaInt(std::string_view(v.as_string()));
  return std::nullopt;
}

ParseError Error(std::string key, std::string message) {
  return ParseError{std::move(key), std::move(message)};
}

}  // namespace

namespace {

// java.time.ZoneOffset.of: +h, +hh, +hh:mm, +hhmm, +hh:mm:ss, +hhmmss, within +-18:00.
std::optional<int> ParseOffset(std::string_view s) {
  if (s.size() < 2 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  const int sign = s[0] == '-' ? -1 : 1;
  s.remove_prefix(1);
  for (char c : s) {
    if (c != ':' && (c < '0' || c > '9')) return std::nullopt;
  }
  auto two = [&](size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); };
  auto colon_free = [&] { return s.find(':') == std::string_view::npos; };
  int h = 0, m = 0, sec = 0;
  if (s.size() == 1 && colon_free()) {
    h = s[0] - '0';
  } else if (s.size() == 2 && colon_free()) {
    h = two(0);
  } else if (s.size() == 4 && colon_free()) {
    h = two(0), m = two(2);
  } else if (s.size() == 5 && s[2] == ':' && s.substr(3).find(':') == std::string_view::npos) {
    h = two(0), m = two(3);
  } else if (s.size() == 6 && colon_free()) {
    h = two(0), m = two(2), sec = two(4);
  } else if (s.size() == 8 && s[2] == ':' && s[5] == ':') {
    if (s[0] == ':' || s[1] == ':' || s[3] == ':' || s[4] == ':' || s[6] == ':' || s[7] == ':') {
      return std::nullopt;
    }
    h = two(0), m = two(3), sec = two(6);
  } else {
    return std::nullopt;
  }
  if (h > 18 || m > 59 || sec > 59) return std::nullopt;
  const int total = h * 3600 + m * 60 + sec;
  if (total > 18 * 3600) return std::nullopt;
  return sign * total;
}

// IANA names only: letters, digits and "/_+-", no empty or dot segments (the name becomes a path
// under the tz database directory).
bool IsZoneName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/' || name.size() > 64) return false;
  if (name.find("//") != std::string_view::npos || name.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return name != "localtime";
}

}  // namespace

bool LoadZone(std::string_view name, cctz::time_zone* out) {
  if (name.empty() || name == "UTC" || name == "Z") {
    *out = cctz::utc_time_zone();
    return true;
  }
  // "+09:00", and Java's prefixed forms "UTC+09:00", "GMT-5", "UT+1".
  for (std::string_view prefix : {"UTC", "GMT", "UT", ""}) {
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix &&
        (name[prefix.size()] == '+' || name[prefix.size()] == '-')) {
      auto offset = ParseOffset(name.substr(prefix.size()));
      if (!offset) return false;
      *out = cctz::fixed_time_zone(Seconds(*offset));
      return true;
    }
  }
  if (!IsZoneName(name)) return false;
  return cctz::load_time_zone(std::string(name), out);
}

Schedule::Schedule(std::shared_ptr<const Pattern> p) : pattern_(std::move(p)) {}

namespace {

// The definition's one `<kind>>` key, its name without the '>' and its value.
struct KindKey {
  std::string kind;
  const boost::json::value* command = nullptr;
};

// Parse's steps, one per part of the definition and one per schedule kind. Each answers the
// error of the first problem it finds, or nothing when its part is valid.
using Problem = std::optional<ParseError>;

Problem FindKind(const boost::json::object& obj, KindKey* out) {
  static constexpr std::string_view kKinds[] = {
      "hourly", "daily", "weekly", "monthly", "cron", "minutes_interval", "seconds_interval"};
  std::string& kind = out->kind;
  for (const auto& kv : obj) {
    std::string_view key = kv.key();
    if (key.empty() || key.back() != '>') continue;
    std::string_view name = key.substr(0, key.size() - 1);
    if (std::find(std::begin(kKinds), std::end(kKinds), name) == std::end(kKinds)) {
      return Error(std::string(key), fmt::format("Unknown scheduler type: {}", name));
    }
    if (!kind.empty()) {
      return Error(std::string(key),
                   fmt::format("schedule: more than one scheduler type: {}> and {}", kind, key));
    }
    kind = std::string(name);
    out->command = &kv.value();
  }
  if (kind.empty()) {
    return Error("schedule",
                 "schedule: requires one of hourly>, daily>, weekly>, monthly>, cron>, "
                 "minutes_interval>, seconds_interval>");
  }
  return std::nullopt;
}

bool IsAtForm(std::string_view kind) {
  return kind == "hourly" || kind == "daily" || kind == "weekly" || kind == "monthly";
}

// `start:` or `end:`, a YYYY-MM-DD date in the schedule's zone.
Problem ParseBound(std::string_view key, const boost::json::value& v, Pattern* p) {
  if (!v.is_string()) {
    return Error(std::string(key), fmt::format("Invalid {}: must be a YYYY-MM-DD string", key));
  }
  auto when = ParseDate(std::string_view(v.as_string()), p->tz, key == "end" ? 1 : 0);
  if (!when) {
    return Error(std::string(key), fmt::format("Invalid {}: {} (requires YYYY-MM-DD format)", key,
                                               std::string_view(v.as_string())));
  }
  (key == "start" ? p->start : p->end) = *when;
  return std::nullopt;
}

// The keys besides the kind's: start, end, delay (not for the at-forms), at (only for them),
// skip_on_overtime, skip_delayed_by. `*at` is set to the value of `at:` when given.
Problem ParseOtherKeys(const boost::json::object& obj, const std::string& kind_key, bool at_form,
                       Pattern* p, const boost::json::value** at) {
  const bool takes_delay = !at_form;
  for (const auto& kv : obj) {
    std::string_view key = kv.key();
    if (key == kind_key) continue;
    const auto& v = kv.value();
    if (key == "start" || key == "end") {
      if (auto problem = ParseBound(key, v, p)) return problem;
    } else if (key == "delay" && takes_delay) {
      auto d = JsonInteger(v);
      if (!d) {
        return Error("delay", fmt::format("delay: must be an integer number of seconds: {}",
                                          boost::json::serialize(v)));
      }
      p->delay = *d;
    } else if (key == "at" && at_form) {
      *at = &v;
    } else if (key == "skip_on_overtime") {
      if (!v.is_bool()) return Error("skip_on_overtime", "skip_on_overtime: must be true or false");
    } else if (key == "skip_delayed_by") {
      if (!v.is_string() && !v.is_number()) {
        return Error("skip_delayed_by", "skip_delayed_by: must be a duration such as 1h or 30m");
      }
    } else {
      return Error(std::string(key),
                   fmt::format("{}: unknown key in schedule for {}", key, kind_key));
    }
  }
  if (p->start && p->end && *p->start >= *p->end) {
    return Error("end", "The schedule of end is earlier than start");
  }
  return std::nullopt;
}

// What the kind's parser reads: the JSON value, the key it came from (for errors) and its text.
struct KindValue {
  const boost::json::value* source = nullptr;
  std::string source_key;
  std::string value;  // the string, or a number's JSON text; empty otherwise
};

// The kind's value: for the at-forms, a null or empty value means `at:` gives it.
KindValue ResolveValue(const KindKey& k, const std::string& kind_key, bool at_form,
                       const boost::json::value* at) {
  const boost::json::value* command = k.command;
  std::string value;
  const boost::json::value* source = command;
  if (at_form && (command->is_null() || (command->is_string() && command->as_string().empty())) &&
      at != nullptr) {
    source = at;
  }
  const std::string source_key = source == at ? "at" : kind_key;
  if (source->is_string()) {
    value = std::string(source->as_string());
  } else if (source->is_number()) {
    value = boost::json::serialize(*source);
  }
  return KindValue{source, source_key, std::move(value)};
}

// cron>: a cron4j pattern.
Problem ParseCron(const std::string& kind_key, const KindValue& v, Pattern* p) {
  const boost::json::value* source = v.source;
  const std::string& value = v.value;
  if (!source->is_string()) return Error(kind_key, "cron>: requires a cron4j pattern string");
  std::string why;
  auto c = CronPattern::Compile(value, &why);
  if (!c) return Error(kind_key, fmt::format("cron>: {}", why));
  p->cron = std::move(*c);
  return std::nullopt;
}

// minutes_interval> (a cron pattern `*/n * * * *`) and seconds_interval> (multiples of n seconds).
Problem ParseInterval(const std::string& kind, const std::string& kind_key, const KindValue& v,
                      Pattern* p) {
  const boost::json::value* source = v.source;
  const std::string& value = v.value;
  auto n = JsonInteger(*source);
  if (!n || *n < 1) {
    return Error(kind_key,
                 fmt::format("{}: requires a positive integer: {}", kind_key,
                             source->is_string() ? value : boost::json::serialize(*source)));
  }
  if (kind == "minutes_interval") {
    std::string why;
    auto c = CronPattern::Compile(fmt::format("*/{} * * * *", *n), &why);
    if (!c) return Error(kind_key, fmt::format("{}: {}", kind_key, why));
    p->cron = std::move(*c);
  } else {
    p->kind = Kind::kSecondsInterval;
    p->interval = *n;
  }
  return std::nullopt;
}

// hourly> (`mm:ss`) and daily> (`hh:mm:ss`): the top of the hour or day plus a delay.
Problem ParseHourlyDaily(const std::string& kind, const std::string& kind_key, const KindValue& v,
                         Pattern* p) {
  const boost::json::value* source = v.source;
  const std::string& source_key = v.source_key;
  const std::string& value = v.value;
  const bool hourly = kind == "hourly";
  const char* format = hourly ? "mm:ss" : "hh:mm:ss";
  if (!source->is_string()) {
    return Error(source_key, fmt::format("{}: requires {} format: {}", kind_key, format,
                                         boost::json::serialize(*source)));
  }
  auto secs = ParseAt(value, hourly ? 2 : 3);
  if (!secs)
    return Error(source_key, fmt::format("{}: requires {} format: {}", kind_key, format, value));
  std::string why;
  p->cron = *CronPattern::Compile(hourly ? "0 * * * *" : "0 0 * * *", &why);
  p->delay = *secs;
  return std::nullopt;
}

// weekly>'s day (a cron4j day-of-week field) as the cron pattern of midnight on that day.
Problem WeeklyPattern(std::string_view day, const std::string& source_key, const std::string& bad,
                      std::string* pattern) {
  if (auto n = ParseJavaInt(day); n && *n < 0) {
    return Error(source_key, fmt::format("weekly>: invalid day: {}", day));
  }
  if (day.empty() || day.find_first_of("| \t|") != std::string_view::npos) {
    return Error(source_key, bad);
  }
  *pattern = fmt::format("0 0 * * {}", day);
  return std::nullopt;
}

// monthly>'s day (1 to 31) as the cron pattern of midnight on that day of the month.
Problem MonthlyPattern(std::string_view day, const std::string& source_key, const std::string& bad,
                       std::string* pattern) {
  auto n = ParseJavaInt(day);
  if (!n) return Error(source_key, bad);
  if (*n < 1 || *n > 31) {
    return Error(source_key, fmt::format("monthly>: invalid day of month: {}", day));
  }
  *pattern = fmt::format("0 0 {} * *", *n);
  return std::nullopt;
}

// weekly> and monthly>: `day,hh:mm:ss`, midnight of the day plus a delay.
Problem ParseWeeklyMonthly(const std::string& kind, const std::string& kind_key, const KindValue& v,
                           Pattern* p) {
  const boost::json::value* source = v.source;
  const std::string& source_key = v.source_key;
  const std::string& value = v.value;
  const bool weekly = kind == "weekly";
  const std::string bad =
      fmt::format("{}: requires day,hh:mm:ss format: {}", kind_key,
                  source->is_string() ? value : boost::json::serialize(*source));
  if (!source->is_string()) return Error(source_key, bad);
  size_t comma = value.find(',');
  if (comma == std::string::npos) return Error(source_key, bad);
  std::string_view day = std::string_view(value).substr(0, comma);
  std::string_view time = std::string_view(value).substr(comma + 1);
  std::string pattern;
  if (weekly) {
    day = Trim(day);
    time = Trim(time);
    if (auto problem = WeeklyPattern(day, source_key, bad, &pattern)) return problem;
  } else {
    if (auto problem = MonthlyPattern(day, source_key, bad, &pattern)) return problem;
  }
  auto secs = ParseAt(time, 3);
  if (!secs) {
    return Error(source_key, fmt::format("{}: requires hh:mm:ss format: {}", kind_key, time));
  }
  std::string why;
  auto c = CronPattern::Compile(pattern, &why);
  if (!c) return Error(source_key, bad);
  p->cron = std::move(*c);
  p->delay = *secs;
  return std::nullopt;
}

// The kind's own parser.
Problem ParseKind(const std::string& kind, const std::string& kind_key, const KindValue& v,
                  Pattern* p) {
  if (kind == "cron") return ParseCron(kind_key, v, p);
  if (kind == "minutes_interval" || kind == "seconds_interval") {
    return ParseInterval(kind, kind_key, v, p);
  }
  if (kind == "hourly" || kind == "daily") return ParseHourlyDaily(kind, kind_key, v, p);
  return ParseWeeklyMonthly(kind, kind_key, v, p);  // weekly, monthly
}

}  // namespace

std::variant<Schedule, ParseError> Schedule::Parse(const boost::json::value& definition,
                                                   std::string_view timezone) {
  auto p = std::make_shared<Pattern>();
  if (!LoadZone(timezone, &p->tz)) {
    return Error("timezone", fmt::format("Unknown time zone: {}", timezone));
  }
  if (!definition.is_object()) return Error("schedule", "schedule: must be an object");
  const auto& obj = definition.as_object();

  KindKey k;
  if (auto problem = FindKind(obj, &k)) return *problem;
  const std::string kind_key = k.kind + ">";
  const bool at_form = IsAtForm(k.kind);
  const boost::json::value* at = nullptr;
  if (auto problem = ParseOtherKeys(obj, kind_key, at_form, p.get(), &at)) return *problem;
  const KindValue value = ResolveValue(k, kind_key, at_form, at);
  if (auto problem = ParseKind(k.kind, kind_key, value, p.get())) return *problem;
  if (p->kind == Kind::kSecondsInterval) {
    // Digdag's seconds_interval> scheduler takes no start/end.
    p->start.reset();
    p->end.reset();
  }
  return Schedule(std::move(p));
}

Instant Schedule::Next(Instant t) const {
  const Pattern& p = *pattern_;
  // Nothing is scheduled from the end marker on; this also keeps the arithmetic below in range.
  if (t >= kEndMarker) return kEndMarker;
  t = std::max(t, -kEndMarker);
  if (p.kind == Kind::kSecondsInterval) return FloorDiv(t, p.interval) * p.interval + p.interval;
  return CronNext(p, t);
}

Instant Schedule::Step(Instant t) const {
  const Pattern& p = *pattern_;
  Instant n = Next(t);
  if (n == kEndMarker) return kEndMarker;
  if (p.end && *p.end <= n + p.delay) return kEndMarker;
  if (p.start && *p.start > n + p.delay) return Next(*p.start - 1);
  return n;
}

Instant Schedule::First(Instant t, bool has_fraction) const {
  const Pattern& p = *pattern_;
  Instant u = has_fraction ? t : t - 1;
  if (p.kind == Kind::kSecondsInterval) return Step(u);
  return Step(u - p.delay);
}

Instant Schedule::Last(Instant s) const {
  const Pattern& p = *pattern_;
  if (p.kind == Kind::kSecondsInterval) return FloorDiv(s - 1, p.interval) * p.interval;
  Instant n = Next(s);
  Instant nn = n == kEndMarker ? kEndMarker : Next(n);
  int64_t iv = std::max<int64_t>(nn - n, 60);
  if (n == kEndMarker || nn == kEndMarker) iv = 60;
  // Widen the window until a schedule time falls before s; bounded by the search horizon.
  constexpr int64_t kMaxWindow = int64_t{kSearchYears} * 366 * 86400;
  Instant m = Next(s - iv);
  while (m >= s) {
    if (iv > kMaxWindow) return kEndMarker;  // no schedule time before s
    iv *= 2;
    m = Next(s - iv);
  }
  for (Instant x = Next(m); x < s; x = Next(m)) m = x;
  return m;
}

Instant Schedule::RunTime(Instant s) const {
  if (s == kEndMarker) return kEndMarker;
  return s + pattern_->delay;
}

int64_t Schedule::delay_seconds() const { return pattern_->delay; }
bool Schedule::has_end() const { return pattern_->end.has_value(); }
Instant Schedule::end() const { return pattern_->end.value_or(kEndMarker); }
const cctz::time_zone& Schedule::zone() const { return pattern_->tz; }

std::string Schedule::FormatLocal(Instant t) const {
  // By hand rather than cctz::format or fmt (about ten times faster; the route formats three times
  // per session).
  const auto al = pattern_->tz.lookup(ToTp(t));
  char buf[32];
  if (al.cs.year() < 0 || al.cs.year() > 9999)
    return FormatOtherYear(al.cs).append(buf, WriteOffset(al.offset, buf));
  char* p = WriteCivilSecond(al.cs, buf);
  return std::string(buf, WriteOffset(al.offset, p));
}

}  // namespace wfp::schedule
