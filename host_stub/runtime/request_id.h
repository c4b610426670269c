// Request ids: the X-Request-Id a client (or a load balancer) sends, when it is safe to log and to
// echo, or a new one. The id goes to the plugin (wfp_request::request_id), into every log line of
// the request (the host's and the plugin's), into the access log, and back in the response.
#ifndef WFP_HOST_STUB_RUNTIME_REQUEST_ID_H_
#define WFP_HOST_STUB_RUNTIME_REQUEST_ID_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wfp::host {

inline constexpr size_t kMaxRequestIdLength = 128;

// 1 to 128 characters of A-Z a-z 0-9 and - _ . : / + = @ (a UUID, a ULID, haproxy's unique-id, a
// trace id): nothing that could forge a log line, a JSON field or a response header.
bool IsValidRequestId(std::string_view id);

// A new id: 20 lower-case hex digits, a random per-process prefix and a counter, unique across
// hosts with high probability. Thread-safe.
std::string NewRequestId();

// The first X-Request-Id of `headers` (names lower-case) when it is valid, else a new one.
std::string RequestIdFor(const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_REQUEST_ID_H_
