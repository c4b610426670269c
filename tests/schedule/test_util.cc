#include "test_util.h"

#include <cctz/time_zone.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace wfp::schedule::testing {

Instant ParseIso(std::string_view s, bool* has_fraction) {
  std::string text(s);
  if (!text.empty() && text.back() == 'Z') text.replace(text.size() - 1, 1, "+00:00");
  cctz::time_point<std::chrono::microseconds> tp;
  if (!cctz::parse("%Y-%m-%dT%H:%M:%E*S%Ez", text, cctz::utc_time_zone(), &tp)) {
    std::fprintf(stderr, "bad time in test data: %s\n", text.c_str());
    std::abort();
  }
  auto ns = tp.time_since_epoch().count();
  Instant secs = ns / 1000000;
  int64_t frac = ns % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  if (has_fraction) *has_fraction = frac != 0;
  return secs;
}

std::string FormatUtc(Instant t) {
  return cctz::format("%Y-%m-%dT%H:%M:%SZ",
                      cctz::time_point<std::chrono::seconds>(std::chrono::seconds(t)),
                      cctz::utc_time_zone());
}

}  // namespace wfp::schedule::testing
