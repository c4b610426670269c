#include "backfill/answer.h"

#include <exception>

#include "backfill/plugin_state.h"

namespace wfp::backfill {
namespace {

constexpr std::string_view kJson = "application/json";

struct Headers {
  explicit Headers(const Answer& a) {
    headers[count++] = wfp_header{Str("content-type"), Str(kJson)};
    if (!a.etag.empty()) headers[count++] = wfp_header{Str("etag"), Str(a.etag)};
    if (a.retry_after) headers[count++] = wfp_header{Str("retry-after"), Str("1")};
  }
  wfp_header headers[3];
  size_t count = 0;
};

}  // namespace

Answer Error(int status, std::string_view message) {
  return Answer{status, RenderError(status, message), {}, false};
}
int HttpStatus(Refusal::Reason reason) {
  switch (reason) {
    case Refusal::kInvalid:
      return 400;
    case Refusal::kTooLarge:
      return 413;
    case Refusal::kConflict:
      return 409;
  }
  return 500;
}
Answer Error(const Refusal& e) { return Error(HttpStatus(e.reason), e.message); }
Answer Internal() { return Error(500, "Internal server error"); }

std::string CurrentExceptionText() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

bool Responder::Send(const Answer& a, std::string_view body) {
  Headers h(a);
  wfp_response response{};
  response.struct_size = sizeof response;
  response.status = a.status;
  response.headers = h.headers;
  response.header_count = h.count;
  response.body = Str(body);
  started_ = true;
  return host_.respond(call_, &response) == WFP_OK;
}

bool Responder::Stream(const Answer& a,
                       const std::function<void(size_t, const RenderSink&)>& render) {
  const auto append = RespondAppend(host_);
  if (!append) {
    std::string whole;
    render(SIZE_MAX, [&whole](std::string_view piece) { whole.append(piece); });
    return Send(a, whole);
  }
  // A piece the host did not take (the client went away) ends the rendering at once: the rest of
  // the body, and the store reads behind it, would be for no one.
  struct ReceiverGone {};
  try {
    render(kChunkBytes, [&](std::string_view piece) {
      if (!(started_ ? append(call_, Str(piece)) == WFP_OK : Send(a, piece))) throw ReceiverGone{};
    });
  } catch (const ReceiverGone&) {
    return false;
  }
  return true;
}

}  // namespace wfp::backfill
