// Instants as the host's command line writes them: ISO-8601 date-times with an offset
// ("2024-01-12T03:00:00Z", "2024-01-12T12:00:00+09:00", fractional seconds allowed). Pure
// functions.
#ifndef WFP_HOST_STUB_RUNTIME_CLOCK_H_
#define WFP_HOST_STUB_RUNTIME_CLOCK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wfp::host {

// Microseconds since the Unix epoch, or nullopt when `text` is not such an instant.
std::optional<int64_t> ParseInstantMicros(std::string_view text);

// "2024-01-12T03:00:00Z" (whole seconds, UTC).
std::string FormatInstantUtc(int64_t epoch_seconds);

// The real clock, in microseconds since the epoch.
int64_t RealNowMicros();

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_CLOCK_H_
