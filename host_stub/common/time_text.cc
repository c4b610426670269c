#include "common/time_text.h"

#include <cctz/civil_time.h>
#include <fmt/format.h>

#include <chrono>

namespace wfp::host {
namespace {

// The instants a fixture can hold: UTC years 0000 to 9999, the ones "yyyy-MM-ddTHH:mm:ssZ" writes.
constexpr int64_t kFirstStoredInstant = -62167219200;  // 0000-01-01T00:00:00Z
constexpr int64_t kLastStoredInstant = 253402300799;   // 9999-12-31T23:59:59Z

// True when `s` has `n` ASCII digits from `pos`; their value in *out when out is given.
bool Digits(std::string_view s, size_t pos, size_t n, int* out = nullptr) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  if (out) *out = v;
  return true;
}

// The fields of "yyyy-MM-ddTHH:mm:ss", the shape both instant readers begin with.
struct DateTime {
  int year, month, day, hour, minute, second;
};
// That shape's length: what follows it (a fraction, the offset) starts there.
constexpr size_t kDateTimeLength = 19;

// The fields of the "yyyy-MM-ddTHH:mm:ss" that `s` begins with: ASCII digits, four for the year
// and two for the others, '-', 'T' and ':' where they belong ('t' too when `lower_case_t`). The
// shape only: a field's range (month 13, second 60) is the caller's to check. nullopt when `s` does
// not begin so; its length is checked first, so that nothing is read past its end.
std::optional<DateTime> ReadDateTime(std::string_view s, bool lower_case_t) {
  DateTime f{};
  if (s.size() < kDateTimeLength || !Digits(s, 0, 4, &f.year) || s[4] != '-' ||
      !Digits(s, 5, 2, &f.month) || s[7] != '-' || !Digits(s, 8, 2, &f.day) ||
      !(s[10] == 'T' || (lower_case_t && s[10] == 't')) || !Digits(s, 11, 2, &f.hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &f.minute) || s[16] != ':' || !Digits(s, 17, 2, &f.second))
    return std::nullopt;
  return f;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The offset at `pos` of a command-line instant ("Z", "z", "+09:00", "-0500") in seconds east of
// UTC, with *pos moved past it; nullopt when there is none.
std::optional<int64_t> ReadOffset(std::string_view s, size_t* pos) {
  if (*pos >= s.size()) return std::nullopt;  // an offset is required
  if (s[*pos] == 'Z' || s[*pos] == 'z') {
    ++*pos;
    return 0;
  }
  if (s[*pos] != '+' && s[*pos] != '-') return std::nullopt;
  const int sign = s[*pos] == '-' ? -1 : 1;
  int oh, om;
  if (!Digits(s, *pos + 1, 2, &oh)) return std::nullopt;
  size_t p = *pos + 3;
  if (p < s.size() && s[p] == ':') ++p;
  if (!Digits(s, p, 2, &om) || oh > 23 || om > 59) return std::nullopt;
  *pos = p + 2;
  return sign * (oh * 3600 + om * 60);
}

}  // namespace

std::string FormatInstantUtc(int64_t epoch_seconds) {
  // Four digits for the year, always (cctz's %Y writes 976 for 976): Seed reads what Dump writes.
  const cctz::civil_second cs = cctz::civil_second(1970, 1, 1, 0, 0, 0) + epoch_seconds;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", cs.year(), cs.month(), cs.day(),
                     cs.hour(), cs.minute(), cs.second());
}

std::string FormatWithOffset(int64_t epoch_seconds, const cctz::time_zone& zone) {
  // A time point of seconds, not system_clock's nanoseconds, which end in 2262.
  const cctz::time_point<cctz::seconds> tp{cctz::seconds(epoch_seconds)};
  return cctz::format("%Y-%m-%dT%H:%M:%S%Ez", tp, zone);
}

std::optional<int64_t> ParseInstantMicros(std::string_view s) {
  const std::optional<DateTime> f = ReadDateTime(s, /*lower_case_t=*/true);
  if (!f) return std::nullopt;
  const auto [y, mo, d, h, mi, sec] = *f;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return std::nullopt;
  if (d > kDays[mo - 1] + (mo == 2 && IsLeap(y) ? 1 : 0)) return std::nullopt;
  if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
  size_t pos = kDateTimeLength;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++n;
    }
    if (n == 0 || n > 9) return std::nullopt;
  }
  const std::optional<int64_t> offset = ReadOffset(s, &pos);
  if (!offset || pos != s.size()) return std::nullopt;
  const int64_t seconds = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - *offset;
  return seconds * 1000000 + micros;
}

std::optional<int64_t> ParseStoredInstant(std::string_view t) {
  // The shape first: cctz::parse alone also takes spaces, one-digit fields and a 60th second.
  // cctz then checks the other fields' ranges and the date.
  const std::optional<DateTime> f = ReadDateTime(t, /*lower_case_t=*/false);
  if (!f || f->second > 59) return std::nullopt;
  size_t i = kDateTimeLength;
  if (i < t.size() && t[i] == '.') {
    size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (t[i] != '0') return std::nullopt;  // the store keeps whole seconds only
      ++i;
    }
    if (i == start || i - start > 9) return std::nullopt;
  }
  std::string_view zone = t.substr(i);
  if (!(zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
                        Digits(t, i + 1, 2) && zone[3] == ':' && Digits(t, i + 4, 2))))
    return std::nullopt;
  cctz::time_point<cctz::seconds> tp;
  if (!cctz::parse("%Y-%m-%dT%H:%M:%E*S%Ez", std::string(t), cctz::utc_time_zone(), &tp))
    return std::nullopt;
  const int64_t seconds = tp.time_since_epoch().count();
  // An offset can carry 0000-01-01 or 9999-12-31 past what FormatInstantUtc can write back.
  if (seconds < kFirstStoredInstant || seconds > kLastStoredInstant) return std::nullopt;
  return seconds;
}

bool LoadZone(std::string_view name, cctz::time_zone* zone) {
  if (name.empty() || name == "UTC" || name == "Z") {
    *zone = cctz::utc_time_zone();
    return true;
  }
  if (name[0] == '+' || name[0] == '-') {
    std::string digits;
    for (char c : name.substr(1))
      if (c != ':') digits += c;
    int hours = 0, minutes = 0;
    if ((digits.size() != 2 && digits.size() != 4) || !Digits(digits, 0, digits.size()))
      return false;
    Digits(digits, 0, 2, &hours);
    if (digits.size() == 4) Digits(digits, 2, 2, &minutes);
    if (hours > 18 || minutes > 59) return false;
    const int seconds = (name[0] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
    *zone = cctz::fixed_time_zone(std::chrono::seconds(seconds));
    return true;
  }
  return cctz::load_time_zone(std::string(name), zone);
}

}  // namespace wfp::host
