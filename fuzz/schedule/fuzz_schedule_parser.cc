// libFuzzer entry for the schedule engine: the input is JSON {"schedule": ..., "timezone": ...,
// "t": <seconds>}; it is parsed, then Next/Step/First/Last run a few times from `t` (or a fixed
// instant). Nothing may crash, hang or trip a sanitizer, and the results must keep their contracts.
// Built by fuzz/CMakeLists.txt when WFP_FUZZ=ON (clang).
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "schedule/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  boost::system::error_code ec;
  boost::json::value v =
      boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !v.is_object()) return 0;
  const auto& o = v.as_object();
  const boost::json::value* schedule = o.if_contains("schedule");
  if (schedule == nullptr) return 0;
  std::string_view tz;
  if (const auto* z = o.if_contains("timezone"); z != nullptr && z->is_string())
    tz = z->as_string();

  auto parsed = wfp::schedule::Schedule::Parse(*schedule, tz);
  if (std::holds_alternative<wfp::schedule::ParseError>(parsed)) {
    if (std::get<wfp::schedule::ParseError>(parsed).message.empty()) std::abort();
    return 0;
  }
  const auto& s = std::get<wfp::schedule::Schedule>(parsed);

  // Years 1900..2200: the range real schedules live in.
  wfp::schedule::Instant t = 1451606400;  // 2016-01-01
  if (const auto* tv = o.if_contains("t"); tv != nullptr && tv->is_int64()) {
    t = -2208988800 + static_cast<int64_t>(static_cast<uint64_t>(tv->as_int64()) % 9467280000ULL);
  }
  wfp::schedule::Instant n = s.Next(t);
  if (n <= t) std::abort();  // next() is strictly after t
  for (int i = 0; i < 4 && n != wfp::schedule::kEndMarker; ++i) {
    wfp::schedule::Instant m = s.Next(n);
    if (m <= n) std::abort();
    n = m;
  }
  wfp::schedule::Instant f = s.First(t, false);
  if (f != wfp::schedule::kEndMarker) {
    (void)s.Step(f);
    (void)s.FormatLocal(s.RunTime(f));
    wfp::schedule::Instant last = s.Last(f);
    if (last != wfp::schedule::kEndMarker && last >= f) std::abort();  // last() is before s
  }
  return 0;
}
