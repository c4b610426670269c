#include "runtime/response_buffer.h"

#include <string>
#include <utility>

namespace wfp::host {

void ResponseBuffer::Start(HttpResponse&& response) {
  held_ = std::move(response);
  streaming_ = false;
  receiver_gone_ = false;
}

bool ResponseBuffer::Append(std::string_view piece) {
  if (receiver_gone_) return false;
  if (streaming_) {
    if (!stream_->Write(piece)) receiver_gone_ = true;
    return !receiver_gone_;
  }
  if (!stream_ || held_.body.size() + piece.size() <= hold_limit_) {
    held_.body.append(piece);
    return true;
  }
  // Past the hold limit: the head and what is held go out now, and nothing is held from here on.
  HttpResponse head;
  head.status = held_.status;
  head.headers = held_.headers;
  head.body = std::move(held_.body);
  held_.body = std::string();
  streaming_ = true;
  if (!stream_->Begin(std::move(head)) || !stream_->Write(piece)) receiver_gone_ = true;
  return !receiver_gone_;
}

HttpResponse ResponseBuffer::EndStream(bool complete) {
  ended_ = true;
  if (complete)
    stream_->Finish();
  else
    stream_->Abort();
  HttpResponse head;
  head.status = held_.status;
  head.headers = std::move(held_.headers);
  return head;
}

}  // namespace wfp::host
