// Plain HTTP request/response values passed between the HTTP front ends (the Beast server, the
// `call` command) and the host runtime (router, auth, plugin dispatch). No I/O here.
#ifndef WFP_HOST_STUB_HTTP_TYPES_H_
#define WFP_HOST_STUB_HTTP_TYPES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wfp::host {

struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // "/api/schedules/5/backfill" (may carry a query string)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
};

struct HttpResponse {
  int status = 500;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  // Not sent: what the host learned while serving, for the access log and the metrics.
  std::string route{};       // the matched route template ("/api/schedules/{id}/backfill"); "" none
  std::string request_id{};  // the request's id (X-Request-Id); "" when none was given out
  int64_t site_id = 0;       // the authenticated caller's site; 0 for none
};

// The first value of a header (name lower-case), or nullptr.
inline const std::string* FindHeader(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n == name) return &v;
  return nullptr;
}

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_HTTP_TYPES_H_
