// The route's answer and how it reaches the host: whole through `respond`, or, where the host can
// append (ABI 1.1), in pieces as they are rendered, so that a large body never exists twice (the
// plugin's and the host's copy). Compiled against the ABI header of each build of the plugin.
#ifndef WFP_PLUGIN_BACKFILL_ANSWER_H_
#define WFP_PLUGIN_BACKFILL_ANSWER_H_

#include <wfp/plugin_abi.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "backfill/render.h"
#include "backfill/request.h"

namespace wfp::backfill {

struct Answer {
  int status = 500;
  std::string body;
  std::string etag;          // sent as ETag when set
  bool retry_after = false;  // 503: Retry-After: 1
  bool sent = false;         // already handed to the host (a streamed 200)
  bool cut = false;          // sent in part, then failed: the handler must report a fault so that
                             // the host cuts the answer off (docs/streaming.md)
  bool dry_run = false;      // a 200 of a dry run
  size_t sessions_created = 0, sessions_skipped = 0;  // a real run's, once committed (metrics)
};

Answer Error(int status, std::string_view message);
// The route's HTTP status for each reason the core refuses a request: the one place they are
// mapped.
int HttpStatus(Refusal::Reason reason);
Answer Error(const Refusal& e);
Answer Internal();
// What the exception being handled says (its what(), or that it is not a std::exception); only
// inside a catch block.
std::string CurrentExceptionText();

class Responder {
 public:
  static constexpr size_t kChunkBytes = 256 * 1024;

  Responder(const wfp_host_api& host, wfp_call* call) : host_(host), call_(call) {}

  // The status, headers and `body` in one piece.
  bool Send(const Answer& a, std::string_view body);

  // Renders through `render(chunk_bytes, sink)` and sends what it produces. An exception of
  // `render` propagates; started() then says whether a piece had already gone to the host. False
  // when the host did not take a piece (the client went away): the rendering stopped there.
  bool Stream(const Answer& a, const std::function<void(size_t, const RenderSink&)>& render);

  bool started() const { return started_; }

 private:
  const wfp_host_api& host_;
  wfp_call* call_;
  bool started_ = false;
};

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_ANSWER_H_
