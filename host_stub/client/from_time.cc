// The backfill client's --from: a wall-clock time read in a zone, or an instant with an offset.
#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>

#include <string>

#include "client/internal.h"
#include "common/time_text.h"

namespace wfp::host {
namespace {

using client_detail::IsDigits;
using client_detail::ToInt;

// Reads "yyyy-MM-dd" at the start of `s`, checking the date exists.
bool ReadDate(std::string_view s, int* y, int* m, int* d) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !IsDigits(s.substr(0, 4)) ||
      !IsDigits(s.substr(5, 2)) || !IsDigits(s.substr(8, 2)))
    return false;
  *y = ToInt(s.substr(0, 4));
  *m = ToInt(s.substr(5, 2));
  *d = ToInt(s.substr(8, 2));
  const cctz::civil_day day(*y, *m, *d);
  return day.year() == *y && day.month() == *m && day.day() == *d;
}

// Reads "HH:mm:ss" at the start of `s`.
bool ReadTime(std::string_view s, int* hh, int* mm, int* ss) {
  if (s.size() < 8 || s[2] != ':' || s[5] != ':' || !IsDigits(s.substr(0, 2)) ||
      !IsDigits(s.substr(3, 2)) || !IsDigits(s.substr(6, 2)))
    return false;
  *hh = ToInt(s.substr(0, 2));
  *mm = ToInt(s.substr(3, 2));
  *ss = ToInt(s.substr(6, 2));
  return *hh < 24 && *mm < 60 && *ss < 60;
}

Status UnknownZone(std::string_view tz) {
  return Status::InvalidArgument(
      fmt::format("unknown time zone '{}' (e.g. UTC, Asia/Tokyo, +09:00)", tz));
}

}  // namespace

Status CheckTimeZone(std::string_view tz) {
  cctz::time_zone zone;
  return LoadZone(tz, &zone) ? Status::Ok() : UnknownZone(tz);
}

Result<std::string> ConvertFromTime(std::string_view text, std::string_view tz) {
  auto bad = [&] {
    return Status::InvalidArgument(
        fmt::format("bad --from '{}': expected an ISO-8601 time with an offset "
                    "(2024-01-08T00:00:00+09:00), yyyy-MM-dd, yyyy-MM-dd HH:mm:ss or "
                    "yyyy-MM-ddTHH:mm:ss",
                    text));
  };
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (!ReadDate(text, &y, &mo, &d)) return bad();
  std::string_view rest = text.substr(10);
  std::string fraction;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != ' ') return bad();
    if (!ReadTime(rest.substr(1), &h, &mi, &s)) return bad();
    rest = rest.substr(9);
    if (!rest.empty() && rest[0] == '.') {
      size_t n = 1;
      while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
      if (n == 1 || n > 10) return bad();
      fraction = std::string(rest.substr(0, n));
      rest = rest.substr(n);
    }
  }
  const std::string wall =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", y, mo, d, h, mi, s, fraction);
  if (!rest.empty()) {  // an offset: the instant is already fixed
    if (rest == "Z") return wall + "Z";
    if (rest[0] != '+' && rest[0] != '-') return bad();
    std::string_view digits = rest.substr(1);
    std::string_view oh, om;
    if (digits.size() == 5 && digits[2] == ':') {
      oh = digits.substr(0, 2);
      om = digits.substr(3, 2);
    } else if (digits.size() == 4 || digits.size() == 2) {
      oh = digits.substr(0, 2);
      om = digits.size() == 4 ? digits.substr(2, 2) : "00";
    } else {
      return bad();
    }
    if (!IsDigits(oh) || !IsDigits(om) || ToInt(oh) > 18 || ToInt(om) > 59) return bad();
    return fmt::format("{}{}{}:{}", wall, rest[0], oh, om);
  }
  cctz::time_zone zone;
  if (!LoadZone(tz, &zone)) return UnknownZone(tz);
  const cctz::civil_second civil(y, mo, d, h, mi, s);
  const cctz::time_zone::civil_lookup found = zone.lookup(civil);
  // As java.time's LocalDateTime.atZone, which `digdag backfill` uses: UNIQUE: pre == post.
  // SKIPPED: pre uses the offset before the gap, so it lands past the gap by the gap's length.
  // REPEATED: pre is the earlier instant (the offset before the transition).
  const auto instant = found.pre;
  std::string formatted = FormatWithOffset(instant.time_since_epoch().count(), zone);
  if (!fraction.empty()) formatted.insert(19, fraction);
  return formatted;
}

bool FromTimeNeedsZone(std::string_view text) {
  if (text.size() <= 10) return true;
  const std::string_view rest = text.substr(10);
  return rest.back() != 'Z' && rest.find_first_of("+-") == std::string_view::npos;
}

}  // namespace wfp::host
