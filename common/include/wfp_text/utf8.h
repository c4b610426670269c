// Text that goes into a JSON answer or a message: always valid UTF-8, and what came from outside
// cut to a length a reader can take in. Pure; thread-safe.
#ifndef WFP_TEXT_UTF8_H_
#define WFP_TEXT_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace wfp::text {

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// The offset of the first byte of `s` that does not start a well-formed UTF-8 sequence; npos when
// `s` is well-formed.
size_t FirstInvalidUtf8(std::string_view s);

// `s` as valid UTF-8: each ill-formed sequence becomes U+FFFD.
std::string ToValidUtf8(std::string_view s);

// Echoed input for a message: valid UTF-8 (as ToValidUtf8), C0/C1 controls and DEL shown as
// U+FFFD too, and at most `max_code_points` code points; a longer text ends with "..." and
// "(N bytes)".
std::string Excerpt(std::string_view s, size_t max_code_points = 64);

}  // namespace wfp::text

#endif  // WFP_TEXT_UTF8_H_
