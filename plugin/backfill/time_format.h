// Instants as the route reads and writes them. Pure functions; thread-safe.
#ifndef WFP_PLUGIN_BACKFILL_TIME_FORMAT_H_
#define WFP_PLUGIN_BACKFILL_TIME_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wfp::backfill {

// An instant parsed from text: whole seconds since the epoch, and whether a fraction was given
// (the seconds are then the instant truncated toward the past).
struct ParsedInstant {
  int64_t seconds = 0;
  bool has_fraction = false;
};

// Parses an ISO-8601 date-time WITH an offset: "2016-01-01T00:00:00+09:00", "2023-08-18T06:52:33Z",
// "2023-08-18T06:52:33.250Z" ('t'/'z' and "+0900" accepted too). Rejects dates that do not exist
// (2016-02-30), a missing offset, and anything else. nullopt + *why on failure.
std::optional<ParsedInstant> ParseIsoInstant(std::string_view text, std::string* why);

// "2024-01-12T03:00:00Z".
std::string FormatUtc(int64_t seconds);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_TIME_FORMAT_H_
