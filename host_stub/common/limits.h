// Limits more than one layer of wfp-host enforces, with their one default.
#ifndef WFP_HOST_STUB_COMMON_LIMITS_H_
#define WFP_HOST_STUB_COMMON_LIMITS_H_

#include <cstddef>

namespace wfp::host {

// The largest request body the host takes, in bytes: larger is 413. The server checks it before
// reading a body (Content-Length, or the bytes as they come), so that a large body is never held;
// the runtime checks it again after content decoding (a small gzip body can decode to a large one)
// and for `wfp-host call`, which has no server. (The plugin keeps its own copy, kMaxBodyBytes in
// plugin/backfill/request.h: it links no host code.)
inline constexpr size_t kDefaultBodyLimit = 64 * 1024;

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_COMMON_LIMITS_H_
