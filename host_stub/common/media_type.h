// Content-Type on the host side: the media type read once (MediaTypeOf), and the two rules the
// host applies to it, each named for what it decides. (The plugin has its own copy of the strict
// rule, `IsJsonContentType` in plugin/backfill/request_fields.cc: it links no host code.)
//
// Pure functions.
#ifndef WFP_HOST_STUB_COMMON_MEDIA_TYPE_H_
#define WFP_HOST_STUB_COMMON_MEDIA_TYPE_H_

#include <string_view>

namespace wfp::host {

// The media type of a Content-Type value: what comes before the first ';', without the spaces and
// tabs around it ("Application/JSON ; charset=utf-8" -> "Application/JSON"). Case is kept.
std::string_view MediaTypeOf(std::string_view content_type);

// Admission of a request body (the runtime's 415): the media type is application/json, in any case;
// parameters are ignored. "application/problem+json" is refused.
bool IsApplicationJson(std::string_view content_type);

// Whether `wfp-host call` prints a body as the JSON it is: the media type mentions "json" in any
// case ("application/json", "application/problem+json", "text/json").
bool MediaTypeMentionsJson(std::string_view content_type);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_COMMON_MEDIA_TYPE_H_
