// Instants as text on the host side: ISO-8601 date-times with an offset, and the zone names
// workflows use. The host's one owner of these rules; the plugin has its own
// (plugin/backfill/time_format.cc): it links no host code.
//
// Two readers, because two callers accept different inputs: the command line's `--now` takes any
// ISO-8601 instant with an offset and keeps its fraction (ParseInstantMicros); a fixture holds
// only what the store can write back (ParseStoredInstant). Both read the "yyyy-MM-ddTHH:mm:ss"
// they begin with through one reader of that shape. Pure functions; LoadZone reads the system's
// zone database.
#ifndef WFP_HOST_STUB_COMMON_TIME_TEXT_H_
#define WFP_HOST_STUB_COMMON_TIME_TEXT_H_

#include <cctz/time_zone.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wfp::host {

// "2024-01-12T03:00:00Z": whole seconds, UTC, the year in four digits at least (0976, not 976),
// so that a fixture reads back what a dump wrote.
std::string FormatInstantUtc(int64_t epoch_seconds);

// "2026-12-02T09:00:00+09:00": `epoch_seconds` in `zone`, with the zone's offset then (UTC is
// written "+00:00").
std::string FormatWithOffset(int64_t epoch_seconds, const cctz::time_zone& zone);

// The command line's instants (`--now`): "2024-01-12T03:00:00Z", "2024-01-12T12:00:00+09:00",
// "...-0500", "t" and "z" in lower case, a fraction of up to nine digits (kept to the
// microsecond). Microseconds since the epoch, or nullopt when `text` is not such an instant (an
// offset is required; the date must exist; no 60th second).
std::optional<int64_t> ParseInstantMicros(std::string_view text);

// The store's instants (fixtures): "2024-01-10T00:00:00+09:00" or "...Z" (the offset exactly
// "±HH:MM"), an optional all-zero fraction; years 0000 to 9999 once in UTC, the ones
// FormatInstantUtc writes. Epoch seconds, or nullopt when malformed, not a real date, or not whole
// seconds.
std::optional<int64_t> ParseStoredInstant(std::string_view text);

// The zone a workflow names: "" , "UTC" or "Z" (UTC); a fixed offset "+09", "+09:00", "-0530"
// (hours to 18); else an IANA name ("Asia/Tokyo") from the system's database. False when it is
// none of these.
bool LoadZone(std::string_view name, cctz::time_zone* zone);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_COMMON_TIME_TEXT_H_
