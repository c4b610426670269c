// What `wfp-host call` prints: one JSON object {"status": N, "headers": {...}, "body": ...}. A body
// the host held whole is written after a check that it is JSON (else as a JSON string); a body the
// plugin streamed goes to the output piece by piece as it is produced (CallOutputStream), so `call`
// never holds it whole (docs/streaming.md).
#ifndef WFP_HOST_STUB_CLI_CALL_OUTPUT_H_
#define WFP_HOST_STUB_CLI_CALL_OUTPUT_H_

#include <cstddef>
#include <ostream>
#include <string_view>

#include "http_types.h"
#include "response_stream.h"

namespace wfp::host {

// True when `text` is one JSON value (checked in place, no tree built).
bool IsValidJson(std::string_view text);

// Writes a held response: a JSON body as the JSON it is, anything else as a JSON string; the
// headers get "content-length" when the response has none. `head_only` (the request was HEAD): as
// over HTTP, the body is left out (written as "") and content-length is still the body's.
void WriteCallOutput(std::ostream& os, const HttpResponse& r, bool head_only = false);

// Writes a streamed response as it comes: the status and headers (no "content-length": it is not
// known yet), then the body's pieces (written as they are when the Content-Type is JSON, else
// escaped into one JSON string), then the closing brace at Finish. After Abort nothing more is
// written: the output is then an incomplete JSON document, and cut_off() tells the command.
// `head_only` (the request was HEAD): the pieces are counted, not written; the body is "".
class CallOutputStream : public ResponseStream {
 public:
  explicit CallOutputStream(std::ostream& os, bool head_only = false)
      : os_(os), head_only_(head_only) {}

  bool Begin(HttpResponse&& head) override;
  bool Write(std::string_view piece) override;
  void Finish() override;
  void Abort() override;

  bool begun() const { return begun_; }
  bool cut_off() const { return cut_off_; }
  size_t body_bytes() const { return body_bytes_; }

 private:
  std::ostream& os_;
  bool head_only_ = false;
  bool begun_ = false;
  bool as_string_ = false;  // the body is not JSON: escaped into a string
  bool cut_off_ = false;
  size_t body_bytes_ = 0;
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_CLI_CALL_OUTPUT_H_
