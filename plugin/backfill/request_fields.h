// What the route reads of the host's request besides the body: headers, the path's schedule id,
// the content type and If-Match. Compiled against the ABI header of each build of the plugin.
#ifndef WFP_PLUGIN_BACKFILL_REQUEST_FIELDS_H_
#define WFP_PLUGIN_BACKFILL_REQUEST_FIELDS_H_

#include <wfp/plugin_abi.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wfp::backfill {

// The first header of that (lower-case) name, or empty.
std::string_view Header(const wfp_request& r, std::string_view name);
std::string_view PathParam(const wfp_request& r, std::string_view name);

// A positive 32-bit integer written in plain decimal digits.
std::optional<int64_t> ParseScheduleId(std::string_view s);

// application/json, with any parameters (case-insensitive media type).
bool IsJsonContentType(std::string_view content_type);

// The 415 message for a Content-Type the route does not read: not application/json, or with a
// charset parameter other than utf-8 (the body is read as UTF-8; case-insensitive, quoted or not).
// Empty when the route reads it.
std::string ContentTypeRefusal(std::string_view content_type);

// The request's If-Match precondition (RFC 9110 13.1.1): all its field lines, read as one
// comma-separated list, `"*" / #entity-tag` (empty elements between tags are allowed, RFC 9110
// 5.6.1).
struct IfMatch {
  bool present = false;           // at least one If-Match field line: the request is conditional
  bool any = false;               // "*"
  std::vector<std::string> tags;  // the entity tags as sent, quotes included, weak ones with W/
  std::string shown;              // the field lines joined with ", ", for messages
  // "*" or a strong tag equal to `etag` (strong comparison: a weak tag never matches).
  bool Accepts(std::string_view etag) const;
};

// The request's If-Match, or the 400 message for a list that is empty (only spaces and tabs: it
// matches nothing, and can only be a mistake) or not `"*" / #entity-tag`.
std::variant<IfMatch, std::string> ReadIfMatch(const wfp_request& r);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_REQUEST_FIELDS_H_
