// The checks of an HTTP/1.1 request's head that the server makes before anything else sees it
// (RFC 9112): the request line's length, the Host header, Transfer-Encoding; and the request target
// in origin form. Pure functions; thread-safe.
#ifndef WFP_HOST_STUB_SERVER_REQUEST_HEAD_H_
#define WFP_HOST_STUB_SERVER_REQUEST_HEAD_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfp::host {

// The longest request line (method, target, version) the server reads: longer is a 414.
inline constexpr size_t kMaxRequestLine = 8 * 1024;

struct HeadRefusal {
  int status = 400;
  std::string message;
};

// What the server needs to know of a parsed head.
struct RequestHead {
  unsigned version = 11;                           // 10 or 11
  std::string_view target;                         // as received
  size_t host_fields = 0;                          // how many Host field lines
  std::vector<std::string_view> transfer_codings;  // every Transfer-Encoding field line
};

// 414 for a target too long, 400 for HTTP/1.1 without Host or any request with two, 501 for a
// transfer coding other than chunked. nullopt: the head is acceptable.
std::optional<HeadRefusal> CheckRequestHead(const RequestHead& head);

// True when the unparsed bytes of a header that exceeded the header limit show a request line
// longer than kMaxRequestLine (then the answer is 414, not 431).
bool RequestLineTooLong(std::string_view received);

// The origin form of a request target: "http://host:8080/a/b?q" becomes "/a/b?q" (RFC 9112 3.2.2:
// a server must accept the absolute form); "/a/b" stays as it is; "*" stays "*".
std::string OriginForm(std::string_view target);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_SERVER_REQUEST_HEAD_H_
