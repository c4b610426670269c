// Civil times as text, by hand: the route writes several a request, and fmt or cctz::format cost
// about ten times as much.
#include <cctz/civil_time.h>

#include <string>

#include "schedule/schedule.h"

namespace wfp::schedule {
namespace {

// Writes 0 <= v <= 99 as two digits at `out` and returns the end.
char* Put2(int v, char* out) {
  *out++ = static_cast<char>('0' + v / 10);
  *out++ = static_cast<char>('0' + v % 10);
  return out;
}

}  // namespace

char* WriteCivilSecond(const cctz::civil_second& cs, char* out) {
  auto put2 = [&out](int v) { out = Put2(v, out); };
  const int year = static_cast<int>(cs.year());
  put2(year / 100);
  put2(year % 100);
  *out++ = '-';
  put2(cs.month());
  *out++ = '-';
  put2(cs.day());
  *out++ = 'T';
  put2(cs.hour());
  *out++ = ':';
  put2(cs.minute());
  *out++ = ':';
  put2(cs.second());
  return out;
}

char* WriteOffset(int offset_seconds, char* p) {
  auto put2 = [&p](int v) { p = Put2(v, p); };
  const int offset = offset_seconds < 0 ? -offset_seconds : offset_seconds;
  *p++ = offset_seconds < 0 ? '-' : '+';
  put2(offset / 3600);
  *p++ = ':';
  put2(offset / 60 % 60);
  if (offset % 60 != 0) {
    *p++ = ':';
    put2(offset % 60);
  }
  return p;
}

std::string FormatOtherYear(const cctz::civil_second& cs) {
  const int64_t year = cs.year();
  std::string text = std::to_string(year < 0 ? -year : year);
  if (text.size() < 4) text.insert(0, 4 - text.size(), '0');
  text.insert(0, 1, year < 0 ? '-' : '+');
  char rest[32];  // the same month, day and time in a leap year of four digits
  const cctz::civil_second same(2000, cs.month(), cs.day(), cs.hour(), cs.minute(), cs.second());
  text.append(rest + 4, WriteCivilSecond(same, rest));
  return text;
}

}  // namespace wfp::schedule
