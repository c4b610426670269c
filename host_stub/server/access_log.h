// The log lines of wfp-host serve's HTTP server, as text or as one JSON object each: the access log
// (one line per answered request) and the server's own notes (an accept failure, a handler's fault,
// the stop closing requests in flight).
#ifndef WFP_HOST_STUB_SERVER_ACCESS_LOG_H_
#define WFP_HOST_STUB_SERVER_ACCESS_LOG_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace wfp::host {

enum class AccessLogFormat { kText, kJson };

// What the access log and the metrics know of one answered request.
struct AccessRecord {
  std::string_view method;      // as received ("-" when the start line was not read)
  std::string_view path;        // without the query string, at most 512 bytes
  std::string_view route;       // the matched route template; "" when none matched
  std::string_view request_id;  // "" when the host did not get to see the request
  int status = 0;
  double seconds = 0;   // from the request's first byte to the response's last
  int64_t site_id = 0;  // the authenticated caller's site; 0 for none
};

// Text: `METHOD PATH STATUS DURATIONms`, then ` request=ID` when there is one. JSON: {"time",
// "request_id", "method", "path", "route", "status", "duration_ms", "site"} (absent ones null).
// Never a header value but the request id, never a body; control characters escaped.
std::string FormatAccessLine(const AccessRecord& record, AccessLogFormat format);

enum class ServerNoteLevel { kInfo, kWarn, kError };

// One of the server's own notes. Text: `wfp-host: MESSAGE`, control characters escaped (one line).
// JSON: the shape of the host's log lines (runtime/host.h, json_logs): {"time", "level", "source":
// "server", "request_id": null, "message"}.
std::string FormatServerNote(ServerNoteLevel level, std::string_view message,
                             AccessLogFormat format);

// "text" or "json"; false for anything else.
bool ParseAccessLogFormat(std::string_view text, AccessLogFormat* out);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_SERVER_ACCESS_LOG_H_
