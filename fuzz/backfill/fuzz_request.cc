// libFuzzer entry for the route's request parser: any bytes as a body must give a request or a 4xx,
// never a crash, and an accepted request must satisfy the cross-field rules.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "backfill/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = wfp::backfill::ParseBackfillRequest(body);
  if (auto* e = std::get_if<wfp::backfill::Refusal>(&r)) {
    if (e->reason != wfp::backfill::Refusal::kInvalid &&
        e->reason != wfp::backfill::Refusal::kTooLarge)
      std::abort();
    if (e->message.empty()) std::abort();
    return 0;
  }
  const auto& q = std::get<wfp::backfill::BackfillRequest>(r);
  if (q.advance_schedule && (!q.skip_existing || q.attempt_name)) std::abort();
  if (!q.advance_schedule && !q.from_time) std::abort();
  if (!q.skip_existing && !q.attempt_name) std::abort();
  if (q.attempt_name && (q.attempt_name->empty() || q.attempt_name->size() > 255 * 4)) std::abort();
  return 0;
}
