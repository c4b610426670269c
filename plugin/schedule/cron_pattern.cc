// cron4j pattern parsing and search. The parser follows cron4j 2.2.5's SchedulingPattern, including
// its tokenizer quirks (java.util.StringTokenizer drops empty tokens, so "1,,2" is "1,2" and "-5"
// is "5"), because Digdag accepts exactly what cron4j accepts.
#include "schedule/cron_pattern.h"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <charconv>
#include <chrono>

namespace wfp::schedule {
namespace {

// java.util.StringTokenizer: split on any of `delims`, dropping empty tokens.
std::vector<std::string_view> Tokenize(std::string_view s, std::string_view delims) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && delims.find(s[i]) != std::string_view::npos) ++i;
    if (i >= s.size()) break;
    size_t j = i;
    while (j < s.size() && delims.find(s[j]) == std::string_view::npos) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

enum class Field { kMinute, kHour, kDayOfMonth, kMonth, kDayOfWeek };

constexpr std::array<const char*, 5> kFieldNames = {"minutes", "hours", "days of month", "months",
                                                    "days of week"};
constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct Range {
  int min;
  int max;
};

Range FieldRange(Field f) {
  switch (f) {
    case Field::kMinute:
      return {0, 59};
    case Field::kHour:
      return {0, 23};
    case Field::kDayOfMonth:
      return {1, 31};
    case Field::kMonth:
      return {1, 12};
    case Field::kDayOfWeek:
      return {0, 7};
  }
  return {0, 0};
}

// One value of a field: a number in range, a name, or `L` (day of month, as 32).
std::optional<int> ParseValue(Field f, std::string_view s, std::string* error) {
  if (f == Field::kDayOfMonth && EqualsIgnoreCase(s, "L")) return 32;
  Range r = FieldRange(f);
  // cron4j's messages: months and days of week try a name when the number fails, and then report
  // only the name's failure.
  auto v = ParseJavaInt(s);
  if (v && *v >= r.min && *v <= r.max) return f == Field::kDayOfWeek ? *v % 7 : *v;
  if (f != Field::kMonth && f != Field::kDayOfWeek) {
    *error = v ? "value out of range" : "invalid integer value";
    return std::nullopt;
  }
  if (f == Field::kMonth) {
    for (size_t i = 0; i < kMonthNames.size(); ++i) {
      if (EqualsIgnoreCase(s, kMonthNames[i])) return static_cast<int>(i) + 1;
    }
  } else if (f == Field::kDayOfWeek) {
    for (size_t i = 0; i < kDayNames.size(); ++i) {
      if (EqualsIgnoreCase(s, kDayNames[i])) return static_cast<int>(i);
    }
  }
  *error = fmt::format("invalid alias \"{}\"", s);
  return std::nullopt;
}

// `*`, `a`, `a-b` (wrapping when a > b), as the ordered list cron4j builds.
bool ParseRange(Field f, std::string_view s, std::vector<int>* out, std::string* error) {
  Range r = FieldRange(f);
  if (s == "*") {
    for (int i = r.min; i <= r.max; ++i) out->push_back(i);
    return true;
  }
  auto parts = Tokenize(s, "-");
  if (parts.empty() || parts.size() > 2) {
    *error = "syntax error";
    return false;
  }
  std::string why;
  auto v1 = ParseValue(f, parts[0], &why);
  if (!v1) {
    *error = fmt::format("invalid value \"{}\", {}", parts[0], why);
    return false;
  }
  if (parts.size() == 1) {
    out->push_back(*v1);
    return true;
  }
  auto v2 = ParseValue(f, parts[1], &why);
  if (!v2) {
    *error = fmt::format("invalid value \"{}\", {}", parts[1], why);
    return false;
  }
  if (*v1 < *v2) {
    for (int i = *v1; i <= *v2; ++i) out->push_back(i);
  } else if (*v1 > *v2) {
    for (int i = *v1; i <= r.max; ++i) out->push_back(i);
    for (int i = r.min; i <= *v2; ++i) out->push_back(i);
  } else {
    out->push_back(*v1);
  }
  return true;
}

// One list element: a range, optionally `/n` (every n-th element of the range's list).
bool ParseElement(Field f, std::string_view s, std::vector<int>* out, std::string* error) {
  auto parts = Tokenize(s, "/");
  if (parts.empty() || parts.size() > 2) {
    *error = "syntax error";
    return false;
  }
  std::vector<int> values;
  std::string why;
  if (!ParseRange(f, parts[0], &values, &why)) {
    *error = "invalid range, " + why;
    return false;
  }
  if (parts.size() == 1) {
    out->insert(out->end(), values.begin(), values.end());
    return true;
  }
  auto div = ParseJavaInt(parts[1]);
  if (!div) {
    *error = fmt::format("invalid divisor \"{}\"", parts[1]);
    return false;
  }
  if (*div < 1) {
    *error = fmt::format("non positive divisor \"{}\"", *div);
    return false;
  }
  for (size_t i = 0; i < values.size(); i += static_cast<size_t>(*div)) out->push_back(values[i]);
  return true;
}

bool ParseField(Field f, std::string_view s, uint64_t* bits, std::string* error) {
  auto elements = Tokenize(s, ",");
  if (elements.empty()) {
    *error = fmt::format("invalid field \"{}\"", s);
    return false;
  }
  std::vector<int> values;
  for (auto e : elements) {
    std::string why;
    if (!ParseElement(f, e, &values, &why)) {
      *error = fmt::format("invalid field \"{}\", invalid element \"{}\", {}", s, e, why);
      return false;
    }
  }
  for (int v : values) *bits |= uint64_t{1} << v;
  return true;
}

int DaysInMonth(cctz::year_t y, int m) {
  static constexpr int kDays[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2) {
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[m];
}

// 0 = Sunday, as java.util.Calendar.DAY_OF_WEEK - 1.
int DayOfWeek(const cctz::civil_day& d) {
  switch (cctz::get_weekday(d)) {
    case cctz::weekday::sunday:
      return 0;
    case cctz::weekday::monday:
      return 1;
    case cctz::weekday::tuesday:
      return 2;
    case cctz::weekday::wednesday:
      return 3;
    case cctz::weekday::thursday:
      return 4;
    case cctz::weekday::friday:
      return 5;
    case cctz::weekday::saturday:
      return 6;
  }
  return 0;
}

// The lowest set bit at or above `from`, or -1.
template <typename T>
int NextBit(T mask, int from) {
  if (from >= static_cast<int>(sizeof(T) * 8)) return -1;
  uint64_t rest = static_cast<uint64_t>(mask) >> from;
  if (rest == 0) return -1;
  return from + std::countr_zero(rest);
}

}  // namespace

// Java's Integer.parseInt: optional sign, decimal digits, int range.
std::optional<int> ParseJavaInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
  }
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v > 2147483648LL) return std::nullopt;
  }
  if (negative) v = -v;
  if (v > 2147483647LL || v < -2147483648LL) return std::nullopt;
  return static_cast<int>(v);
}

bool CronFields::Matches(const cctz::civil_minute& m) const {
  if (!((minutes >> m.minute()) & 1)) return false;
  if (!((hours >> m.hour()) & 1)) return false;
  if (!((months >> m.month()) & 1)) return false;
  int dim = DaysInMonth(m.year(), m.month());
  bool dom = ((days_of_month >> m.day()) & 1) || (m.day() == dim && ((days_of_month >> 32) & 1));
  if (!dom) return false;
  return (days_of_week >> DayOfWeek(cctz::civil_day(m))) & 1;
}

int64_t ResolveLenient(const cctz::time_zone& tz, const cctz::civil_second& cs) {
  const auto l = tz.lookup(cs);
  const auto tp = l.kind == cctz::time_zone::civil_lookup::REPEATED ? l.post : l.pre;
  return tp.time_since_epoch().count();
}

// The loops below mirror cron4j's Predictor.nextMatchingTime (nested minute, hour, day-of-month,
// month loops inside a "build the date, check it, check the day of week" loop), with one change: a
// value that does not match jumps straight to the next one that does, instead of counting up by
// one. Every skipped value would only have failed the same check, so the result is the same.
std::optional<CronFields::Match> CronFields::NextAtOrAfter(cctz::civil_minute from,
                                                           const cctz::time_zone& tz,
                                                           cctz::year_t year_limit) const {
  if (!can_match) return std::nullopt;
  cctz::year_t y = from.year();
  int mo = from.month(), d = from.day(), h = from.hour(), mi = from.minute();
  const int first_minute = NextBit(minutes, 0);
  const bool last_day = (days_of_month >> 32) & 1;
  auto dom_matches = [&](int day) {
    if ((days_of_month >> day) & 1) return true;
    return last_day && day > 27 && day == DaysInMonth(y, mo);
  };
  // The next day-of-month value after `day` that can match in this month, or 32.
  auto next_dom = [&](int day) {
    int next = NextBit(days_of_month & ((uint64_t{1} << 32) - 1), day + 1);
    if (next < 0 || next > 31) next = 32;
    if (last_day) {
      int dim = DaysInMonth(y, mo);
      if (dim > day && dim < next) next = dim;
    }
    return next;
  };
  while (y < year_limit) {
    for (;;) {      // month
      for (;;) {    // day of month
        for (;;) {  // hour (and minute)
          int m = NextBit(minutes, mi);
          if (m < 0 || m > 59) {
            mi = first_minute;
            ++h;
          } else {
            mi = m;
          }
          if (h > 23) {
            h = 0;
            ++d;
          }
          if ((hours >> h) & 1) break;
          int next = NextBit(hours, h + 1);
          h = (next < 0 || next > 23) ? 24 : next;
          mi = 0;
        }
        if (d > 31) {
          d = 1;
          ++mo;
        }
        if (mo > 12) {
          mo = 1;
          ++y;
          if (y >= year_limit) return std::nullopt;
        }
        if (dom_matches(d)) break;
        d = next_dom(d);
        h = 0;
        mi = 0;
      }
      if ((months >> mo) & 1) break;
      int next = NextBit(months, mo + 1);
      mo = (next < 0 || next > 12) ? 13 : next;
      d = 1;
      h = 0;
      mi = 0;
    }
    // Build the date as the lenient calendar does; a date it rolls over is searched on from where
    // it rolled to, with the same hour and minute.
    const cctz::civil_second wall(y, mo, d, h, mi, 0);
    const auto lookup = tz.lookup(wall);
    const bool skipped = lookup.kind == cctz::time_zone::civil_lookup::SKIPPED;
    const int64_t instant =
        (lookup.kind == cctz::time_zone::civil_lookup::REPEATED ? lookup.post : lookup.pre)
            .time_since_epoch()
            .count();
    // Only a gap moves the wall clock (and maybe the date); otherwise the date is the normalized
    // civil one (Feb 30 -> Mar 2).
    const cctz::civil_day day =
        skipped ? cctz::civil_day(cctz::convert(
                      cctz::time_point<std::chrono::seconds>(std::chrono::seconds(instant)), tz))
                : cctz::civil_day(wall);
    if (day.year() != y || day.month() != mo || day.day() != d) {
      y = day.year();
      mo = day.month();
      d = day.day();
      continue;
    }
    if ((days_of_week >> DayOfWeek(day)) & 1) {
      return Match{cctz::civil_minute(wall), instant};
    }
    ++d;
    h = 0;
    mi = 0;
    if (d > 31) {
      d = 1;
      ++mo;
      if (mo > 12) {
        mo = 1;
        ++y;
      }
    }
  }
  return std::nullopt;
}

std::optional<CronPattern> CronPattern::Compile(std::string_view text, std::string* error) {
  CronPattern out;
  auto patterns = Tokenize(text, "|");
  if (patterns.empty()) {
    *error = fmt::format("invalid pattern: \"{}\"", text);
    return std::nullopt;
  }
  for (auto p : patterns) {
    auto fields = Tokenize(p, " \t");
    if (fields.size() != 5) {
      *error = fmt::format("invalid pattern: \"{}\"", p);
      return std::nullopt;
    }
    CronFields c;
    uint64_t bits[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < 5; ++i) {
      std::string why;
      if (!ParseField(static_cast<Field>(i), fields[i], &bits[i], &why)) {
        *error = fmt::format("invalid pattern \"{}\". Error parsing {} field: {}.", p,
                             kFieldNames[i], why);
        return std::nullopt;
      }
    }
    c.minutes = bits[0];
    c.hours = static_cast<uint32_t>(bits[1]);
    c.days_of_month = bits[2];
    c.months = static_cast<uint16_t>(bits[3]);
    c.days_of_week = static_cast<uint8_t>(bits[4] & 0x7f);
    // Some selected month must have one of the selected days (`L` always exists; February counts
    // with 29 days). Every date falls on every weekday within 400 years, so the day of week cannot
    // make a pattern unmatchable on its own.
    c.can_match = false;
    for (int m = 1; m <= 12; ++m) {
      if (!((c.months >> m) & 1)) continue;
      const int max_days = m == 2 ? 29 : DaysInMonth(2015, m);
      const uint64_t days = ((uint64_t{1} << (max_days + 1)) - 2) | (uint64_t{1} << 32);
      if (c.days_of_month & days) c.can_match = true;
    }
    if (c.days_of_week == 0) c.can_match = false;
    out.alternatives.push_back(c);
  }
  return out;
}

bool CronPattern::Matches(const cctz::civil_minute& m) const {
  for (const auto& c : alternatives) {
    if (c.Matches(m)) return true;
  }
  return false;
}

}  // namespace wfp::schedule
