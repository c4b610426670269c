// Civil times as text, by hand: the route writes several a request, and fmt or cctz::format cost
// about ten times as much.
#include <cctz/civil_time.h>

#include "schedule/schedule.h"

namespace wfp::schedule {

char* WriteCivilSecond(const cctz::civil_second& cs, char* out) {
  auto put2 = [&out](int v) {
    *out++ = static_cast<char>('0' + v / 10);
    *out++ = static_cast<char>('0' + v % 10);
  };
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

}  // namespace wfp::schedule
