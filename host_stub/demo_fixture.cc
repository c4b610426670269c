#include "demo_fixture.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>

#include "runtime/clock.h"

namespace wfp::host {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 24 * kHour;

std::string Utc(int64_t t) { return FormatInstantUtc(t); }

// "2024-01-08T00:00:00+09:00": Tokyo has no DST, so a fixed offset is exact.
std::string Tokyo(int64_t t) {
  std::string s = FormatInstantUtc(t + 9 * kHour);
  s.pop_back();
  return s + "+09:00";
}

int64_t FloorTo(int64_t t, int64_t unit) {
  return t >= 0 ? t / unit * unit : (t - unit + 1) / unit * unit;
}

// The next 02:30 in Los Angeles strictly after `now` (a time in the spring-forward gap is taken at
// the transition, which is what a cron scheduler would run).
int64_t NextLosAngeles0230(int64_t now) {
  cctz::time_zone la;
  if (!cctz::load_time_zone("America/Los_Angeles", &la))
    la = cctz::fixed_time_zone(cctz::seconds(-8 * kHour));
  using Clock = std::chrono::system_clock;
  const auto tp =
      std::chrono::time_point_cast<cctz::seconds>(Clock::from_time_t(0)) + cctz::seconds(now);
  cctz::civil_day day = cctz::civil_day(cctz::convert(tp, la));
  for (int i = 0; i < 3; ++i, ++day) {
    const cctz::civil_second at(day.year(), day.month(), day.day(), 2, 30, 0);
    const auto when = cctz::convert(at, la);
    const int64_t t = std::chrono::duration_cast<cctz::seconds>(when.time_since_epoch()).count();
    if (t > now) return t;
  }
  return now + kDay;
}

}  // namespace

boost::json::value DemoFixture(int64_t now, DemoInfo* info) {
  // daily>: 09:00:00 in Tokyo: sessions at Tokyo midnight (15:00 UTC), run at 09:00 Tokyo (00:00
  // UTC).
  int64_t daily_run = FloorTo(now, kDay);
  if (daily_run <= now) daily_run += kDay;
  const int64_t daily_session = daily_run - 9 * kHour;
  // hourly>: 05:00 in UTC: sessions on the hour, run five minutes later.
  int64_t hourly_run = FloorTo(now, kHour) + 5 * 60;
  if (hourly_run <= now) hourly_run += kHour;
  const int64_t hourly_session = hourly_run - 5 * 60;
  // cron>: 30 2 * * * in Los Angeles: sessions and runs at 02:30 local.
  const int64_t cron_next = NextLosAngeles0230(now);

  boost::json::object f;
  f["sites"] = boost::json::array{
      boost::json::object{{"id", 1}, {"apiKeys", boost::json::array{"demo-key"}}},
      boost::json::object{{"id", 2}, {"apiKeys", boost::json::array{"other-key"}}}};
  f["projects"] = boost::json::array{
      boost::json::object{{"id", 1}, {"siteId", 1}, {"name", "etl"}},
      boost::json::object{{"id", 2}, {"siteId", 2}, {"name", "other-site-project"}}};
  f["workflows"] = boost::json::array{
      boost::json::object{{"id", 11},
                          {"projectId", 1},
                          {"name", "daily_load"},
                          {"timezone", "Asia/Tokyo"},
                          {"schedule", boost::json::object{{"daily>", "09:00:00"}}},
                          {"poolId", "42"}},
      boost::json::object{{"id", 12},
                          {"projectId", 1},
                          {"name", "hourly_sync"},
                          {"timezone", "UTC"},
                          {"schedule", boost::json::object{{"hourly>", "05:00"}}},
                          {"poolId", nullptr}},
      boost::json::object{{"id", 13},
                          {"projectId", 1},
                          {"name", "nightly_report"},
                          {"timezone", "America/Los_Angeles"},
                          {"schedule", boost::json::object{{"cron>", "30 2 * * *"}}},
                          {"poolId", nullptr}},
      boost::json::object{{"id", 21},
                          {"projectId", 2},
                          {"name", "elsewhere"},
                          {"timezone", "UTC"},
                          {"schedule", boost::json::object{{"daily>", "00:00:00"}}},
                          {"poolId", nullptr}}};
  auto schedule = [](int64_t id, int64_t workflow, int64_t next_session, int64_t next_run,
                     int64_t last_session) {
    return boost::json::object{{"id", id},
                               {"workflowId", workflow},
                               {"nextScheduleTime", Utc(next_session)},
                               {"nextRunTime", Utc(next_run)},
                               {"lastSessionTime", Utc(last_session)},
                               {"disabledAt", nullptr}};
  };
  f["schedules"] = boost::json::array{
      schedule(1, 11, daily_session, daily_run, daily_session - kDay),
      schedule(2, 12, hourly_session, hourly_run, hourly_session - kHour),
      schedule(3, 13, cron_next, cron_next, cron_next - kDay),
      schedule(4, 21, FloorTo(now, kDay) + kDay, FloorTo(now, kDay) + kDay, FloorTo(now, kDay))};
  // The daily workflow ran its last two sessions (one succeeded, one failed): backfills with
  // skipExisting skip them, and named backfills add attempts to them.
  auto attempt = [](int64_t id, const char* status, int64_t session, bool done) {
    return boost::json::object{
        {"id", id},
        {"index", 1},
        {"name", nullptr},
        {"status", status},
        {"params", boost::json::object{}},
        {"createdAt", Utc(session + 9 * kHour)},
        {"finishedAt",
         done ? boost::json::value(Utc(session + 9 * kHour + 600)) : boost::json::value(nullptr)},
        {"poolId", "42"},
        {"dependsOnSessionId", nullptr}};
  };
  f["sessions"] = boost::json::array{
      boost::json::object{{"id", 100},
                          {"projectId", 1},
                          {"workflowName", "daily_load"},
                          {"sessionTime", Utc(daily_session - 2 * kDay)},
                          {"uuid", "2b91a014-076e-4c6d-8b51-f4f91089cab2"},
                          {"attempts", boost::json::array{attempt(
                                           1000, "success", daily_session - 2 * kDay, true)}}},
      boost::json::object{
          {"id", 101},
          {"projectId", 1},
          {"workflowName", "daily_load"},
          {"sessionTime", Utc(daily_session - kDay)},
          {"uuid", "6f1c9a52-3f0e-4b7d-9a8e-0c2d4e6f8a10"},
          {"attempts", boost::json::array{attempt(1001, "error", daily_session - kDay, true)}}}};
  if (info) {
    info->api_key = "demo-key";
    info->daily_schedule_id = 1;
    info->daily_from_time = Tokyo(daily_session - 3 * kDay);
    info->hourly_schedule_id = 2;
    info->hourly_from_time = Utc(hourly_session - 6 * kHour);
    info->cron_schedule_id = 3;
  }
  return f;
}

}  // namespace wfp::host
