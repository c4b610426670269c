// The host's real clock. (Instants as text, e.g. the command line's --now, are
// common/time_text.h's.)
#ifndef WFP_HOST_STUB_RUNTIME_CLOCK_H_
#define WFP_HOST_STUB_RUNTIME_CLOCK_H_

#include <cstdint>

namespace wfp::host {

// The real clock, in microseconds since the epoch.
int64_t RealNowMicros();

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_CLOCK_H_
