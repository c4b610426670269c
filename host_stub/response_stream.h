// A response body delivered while it is produced: the host hands a large answer to a
// ResponseStream in pieces instead of holding it whole (docs/streaming.md). Implemented by the
// front ends: the HTTP server (chunked transfer encoding) and `wfp-host call` (stdout).
//
// Order of calls: Begin once, then Write any number of times, then exactly one of Finish or Abort.
// All of them on the thread serving the request. No I/O here.
#ifndef WFP_HOST_STUB_RESPONSE_STREAM_H_
#define WFP_HOST_STUB_RESPONSE_STREAM_H_

#include <string_view>

#include "http_types.h"

namespace wfp::host {

class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // The status and headers of a response whose body follows in pieces; `head.body` holds its first
  // bytes. False: the receiver is gone (every later call is then a no-op but Finish/Abort).
  virtual bool Begin(HttpResponse&& head) = 0;
  // The next bytes of the body. False: the receiver is gone.
  virtual bool Write(std::string_view piece) = 0;
  // The body is complete.
  virtual void Finish() = 0;
  // The body will not be completed (the handler failed after it began): the receiver makes the
  // cut visible to its client (HTTP/1.1: the connection closes without the last chunk).
  virtual void Abort() = 0;
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RESPONSE_STREAM_H_
