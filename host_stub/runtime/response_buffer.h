// The host's side of a handler's answer: what `respond` and `respond_append` write into. A small
// body is held and returned whole (so a fault found when the handler returns can still turn it into
// a 500); once the body grows past `hold_limit` bytes, the head and what is held go to the
// ResponseStream and every later piece is passed straight on, so the host never holds more than
// about hold_limit plus one piece, whatever the body's size. Without a stream, everything is held.
//
// Thread-compatible: used by the one thread serving the request.
#ifndef WFP_HOST_STUB_RUNTIME_RESPONSE_BUFFER_H_
#define WFP_HOST_STUB_RUNTIME_RESPONSE_BUFFER_H_

#include <cstddef>
#include <string_view>

#include "http_types.h"
#include "response_stream.h"

namespace wfp::host {

class ResponseBuffer {
 public:
  // Bodies up to this size are held and answered whole (with Content-Length).
  static constexpr size_t kDefaultHoldLimit = 256 * 1024;

  explicit ResponseBuffer(ResponseStream* stream = nullptr, size_t hold_limit = kDefaultHoldLimit)
      : stream_(stream), hold_limit_(hold_limit) {}
  // A stream begun and not ended (an exception on the way out) is aborted, never left open.
  ~ResponseBuffer() {
    if (streaming_ && !ended_) {
      try {
        stream_->Abort();
      } catch (...) {
      }
    }
  }
  ResponseBuffer(ResponseBuffer&&) = default;
  ResponseBuffer& operator=(ResponseBuffer&&) = default;

  // The response as `respond` gave it: status, headers and the body's first bytes.
  void Start(HttpResponse&& response);
  // More body. False when the stream's receiver is gone (the bytes are dropped).
  bool Append(std::string_view piece);

  // True once the head went to the stream: the answer can no longer change.
  bool streaming() const { return streaming_; }
  // Ends a streamed body: Finish when `complete`, else Abort. Returns the head (status and
  // headers, no body) for the access log.
  HttpResponse EndStream(bool complete);
  // The held response (not streaming).
  HttpResponse TakeHeld() { return std::move(held_); }

  // Bytes of body memory the buffer holds now (its capacity): for tests and benchmarks.
  size_t held_capacity() const { return held_.body.capacity(); }

 private:
  ResponseStream* stream_;
  size_t hold_limit_;
  HttpResponse held_;
  bool streaming_ = false;
  bool receiver_gone_ = false;
  bool ended_ = false;
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_RESPONSE_BUFFER_H_
