// What the route reads of the host's request besides the body: headers, the path's schedule id,
// the content type and If-Match. Compiled against the ABI header of each build of the plugin.
#ifndef WFP_PLUGIN_BACKFILL_REQUEST_FIELDS_H_
#define WFP_PLUGIN_BACKFILL_REQUEST_FIELDS_H_

#include <wfp/plugin_abi.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace wfp::backfill {

// The first header of that (lower-case) name, or empty.
std::string_view Header(const wfp_request& r, std::string_view name);
std::string_view PathParam(const wfp_request& r, std::string_view name);

// A positive 32-bit integer written in plain decimal digits.
std::optional<int64_t> ParseScheduleId(std::string_view s);

// application/json, with any parameters (case-insensitive media type).
bool IsJsonContentType(std::string_view content_type);

// Whether the request's If-Match field lines (one list, however many lines) accept `etag`: "*" or
// the same tag; weak tags never match (RFC 9110 strong comparison).
bool IfMatchAccepts(const wfp_request& r, std::string_view etag);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_REQUEST_FIELDS_H_
