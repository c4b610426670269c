// Helpers for the schedule engine's tests: ISO-8601 parsing and formatting of instants.
#ifndef WFP_TESTS_SCHEDULE_TEST_UTIL_H_
#define WFP_TESTS_SCHEDULE_TEST_UTIL_H_

#include <string>
#include <string_view>

#include "schedule/schedule.h"

namespace wfp::schedule::testing {

// Parses "2016-02-03T09:34:12Z", "...+09:00" or with a fraction ("...12.5Z"). Aborts the test run
// on malformed input (test data is trusted). `has_fraction` (optional) tells whether a non-zero
// fraction was present; the result is truncated to the second.
Instant ParseIso(std::string_view s, bool* has_fraction = nullptr);
// "2016-02-03T09:34:12Z".
std::string FormatUtc(Instant t);

}  // namespace wfp::schedule::testing

#endif  // WFP_TESTS_SCHEDULE_TEST_UTIL_H_
