#include "backfill/time_format.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>

#include <utility>

#include "schedule/schedule.h"

namespace wfp::backfill {
namespace {

// Reads exactly `n` digits at text[*pos]; false if they are not there.
bool Digits(std::string_view text, size_t* pos, int n, int* out) {
  if (*pos + n > text.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char a, char b = '\0') {
  if (*pos >= text.size()) return false;
  char c = text[*pos];
  if (c != a && (b == '\0' || c != b)) return false;
  ++*pos;
  return true;
}

// Reads the offset at text[*pos] ("Z", "+09:00", "-0530") into *offset, in seconds east of UTC:
// at most 18 hours either way, as java.time (and so Digdag) allows. Nothing when it is read; else
// the message (after the field's name).
std::optional<std::string> ReadOffset(std::string_view text, size_t* pos, std::string_view shape,
                                      int* offset) {
  if (*pos == text.size()) return fmt::format("must have an offset or Z: must be {}", shape);
  const char c = text[*pos];
  if (c == 'Z' || c == 'z') {
    ++*pos;
    *offset = 0;
    return std::nullopt;
  }
  if (c != '+' && c != '-') return fmt::format("must be {}", shape);
  const size_t start = (*pos)++;
  int oh = 0, om = 0;
  bool ok = Digits(text, pos, 2, &oh);
  if (ok && *pos < text.size() && text[*pos] == ':') ++*pos;
  if (!ok || !Digits(text, pos, 2, &om) || om > 59)
    return fmt::format("has a malformed offset: must be {}", shape);
  if (oh * 60 + om > 18 * 60)
    return fmt::format("has the offset {}: an offset must be from -18:00 to +18:00",
                       text.substr(start, *pos - start));
  *offset = (c == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  return std::nullopt;
}

}  // namespace

std::optional<ParsedInstant> ParseIsoInstant(std::string_view text, std::string* why) {
  const char* kShape =
      "an ISO-8601 date-time with an offset, like 2016-01-01T00:00:00+09:00 or "
      "2016-01-01T00:00:00Z";
  size_t pos = 0;
  int y, mo, d, h, mi, s;
  if (!Digits(text, &pos, 4, &y) || !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &mo) ||
      !Expect(text, &pos, '-') || !Digits(text, &pos, 2, &d) || !Expect(text, &pos, 'T', 't') ||
      !Digits(text, &pos, 2, &h) || !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &mi) ||
      !Expect(text, &pos, ':') || !Digits(text, &pos, 2, &s)) {
    *why = fmt::format("must be {}", kShape);
    return std::nullopt;
  }
  bool fraction = false;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    bool nonzero = false;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') nonzero |= text[pos++] != '0';
    if (pos == start || pos - start > 9) {
      *why = fmt::format("must be {} (1 to 9 fraction digits)", kShape);
      return std::nullopt;
    }
    fraction = nonzero;
  }
  int offset = 0;
  if (auto message = ReadOffset(text, &pos, kShape, &offset)) {
    *why = std::move(*message);
    return std::nullopt;
  }
  if (pos != text.size()) {
    *why = fmt::format("has trailing characters: must be {}", kShape);
    return std::nullopt;
  }
  // Field ranges: a civil time normalises 2016-02-30 to 03-01, so a round trip catches what does
  // not exist.
  const cctz::civil_second cs(y, mo, d, h, mi, s);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || cs.year() != y ||
      cs.month() != mo || cs.day() != d || cs.hour() != h) {
    *why = fmt::format("is not a valid date-time: {}", text);
    return std::nullopt;
  }
  const int64_t utc = (cs - cctz::civil_second(1970, 1, 1, 0, 0, 0)) - offset;
  return ParsedInstant{utc, fraction};
}

std::string FormatUtc(int64_t seconds) {
  const cctz::civil_second cs = cctz::civil_second(1970, 1, 1, 0, 0, 0) + seconds;
  if (cs.year() >= 0 && cs.year() <= 9999) {  // by hand: fmt costs a request more than this
    char buf[24];
    char* end = schedule::WriteCivilSecond(cs, buf);
    *end++ = 'Z';
    return std::string(buf, end);
  }
  // As java.time writes a year outside 0000..9999: "-0001", "+10000".
  const int64_t year = cs.year();
  return fmt::format("{}{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", year < 0 ? "-" : "+",
                     year < 0 ? -year : year, cs.month(), cs.day(), cs.hour(), cs.minute(),
                     cs.second());
}

}  // namespace wfp::backfill
