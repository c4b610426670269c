// Request bodies sent with a Content-Encoding (RFC 9110 8.4): gzip (x-gzip) and deflate are
// decoded, identity is nothing to do, anything else is refused 415. The decoded body is bounded: it
// is inflated in pieces and refused 413 as soon as it passes the limit, so a small compressed body
// cannot make the host allocate more than the limit. Pure; thread-safe.
#ifndef WFP_HOST_STUB_RUNTIME_CONTENT_CODING_H_
#define WFP_HOST_STUB_RUNTIME_CONTENT_CODING_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http_types.h"

namespace wfp::host {

struct CodingRefusal {
  int status = 400;  // 400 (not valid data of its coding), 413 (too large decoded), 415 (coding)
  std::string message;
};

// Decodes request->body by its Content-Encoding header(s) and removes them. nullopt when done (or
// nothing to do).
std::optional<CodingRefusal> DecodeContentCoding(HttpRequest* request, size_t limit);

// Inflates `data` (gzip when `gzip`, else zlib-wrapped or raw deflate) into *out, at most `limit`
// bytes.
std::optional<CodingRefusal> Inflate(std::string_view data, bool gzip, size_t limit,
                                     std::string* out);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_CONTENT_CODING_H_
