// What every log line of wfp-host shares, whoever writes it (the host's log, the server's notes):
// text with its control characters escaped, and the JSON line's shape.
#ifndef WFP_HOST_STUB_COMMON_LOG_LINE_H_
#define WFP_HOST_STUB_COMMON_LOG_LINE_H_

#include <string>
#include <string_view>

namespace wfp::host {

// `s` with control characters as escapes (\n, \r, \t, \xNN), so that it cannot forge another line;
// cut after `limit` bytes, with "..." after it.
std::string EscapeControls(std::string_view s, size_t limit = std::string_view::npos);

// One log line as a JSON object: {"time","level","source","request_id","message"}, request_id null
// when empty (serialize escapes control characters).
std::string JsonLogLine(std::string_view time, std::string_view level, std::string_view source,
                        std::string_view request_id, std::string_view message);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_COMMON_LOG_LINE_H_
