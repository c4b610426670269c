// The embedded fixture of `wfp-host demo`: one site (key "demo-key"), a second site (key
// "other-key", to show that schedules are scoped), project "etl", and three scheduled workflows
// whose schedule pointers sit around `now` (as the host's own scheduler would have left them):
//   schedule 1: daily_load      `daily>: 09:00:00`   Asia/Tokyo   (pool "42"; a few past sessions)
//   schedule 2: hourly_sync     `hourly>: 05:00`     UTC
//   schedule 3: nightly_report  `cron>: 30 2 * * *`  America/Los_Angeles
// Pure: a function of `now` only.
#ifndef WFP_HOST_STUB_CLI_DEMO_FIXTURE_H_
#define WFP_HOST_STUB_CLI_DEMO_FIXTURE_H_

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>

namespace wfp::host {

struct DemoInfo {
  std::string api_key;  // "demo-key"
  int64_t daily_schedule_id = 0;
  std::string
      daily_from_time;  // three sessions before the daily pointer, e.g. "2024-01-08T00:00:00+09:00"
  int64_t hourly_schedule_id = 0;
  std::string hourly_from_time;  // six hours before the hourly pointer, "...Z"
  int64_t cron_schedule_id = 0;
};

// The fixture for a demo starting at `now_seconds` (epoch seconds, UTC).
boost::json::value DemoFixture(int64_t now_seconds, DemoInfo* info);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_CLI_DEMO_FIXTURE_H_
