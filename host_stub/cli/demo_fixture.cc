#include "cli/demo_fixture.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <utility>

#include "common/time_text.h"

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

// Where the demo's three schedules stand at `now`: each one's next session and run.
struct Pointers {
  int64_t daily_session, daily_run, hourly_session, hourly_run, cron_next;
};

Pointers PointersAt(int64_t now) {
  // daily>: 09:00:00 in Tokyo: sessions at Tokyo midnight (15:00 UTC), run at 09:00 Tokyo (00:00
  // UTC).
  int64_t daily_run = FloorTo(now, kDay);
  if (daily_run <= now) daily_run += kDay;
  // hourly>: 05:00 in UTC: sessions on the hour, run five minutes later.
  int64_t hourly_run = FloorTo(now, kHour) + 5 * 60;
  if (hourly_run <= now) hourly_run += kHour;
  // cron>: 30 2 * * * in Los Angeles: sessions and runs at 02:30 local.
  const int64_t cron_next = NextLosAngeles0230(now);
  return {daily_run - 9 * kHour, daily_run, hourly_run - 5 * 60, hourly_run, cron_next};
}

boost::json::array Sites() {
  return boost::json::array{
      boost::json::object{{"id", 1}, {"apiKeys", boost::json::array{"demo-key"}}},
      boost::json::object{{"id", 2}, {"apiKeys", boost::json::array{"other-key"}}}};
}

boost::json::array Projects() {
  return boost::json::array{
      boost::json::object{{"id", 1}, {"siteId", 1}, {"name", "etl"}},
      boost::json::object{{"id", 2}, {"siteId", 2}, {"name", "other-site-project"}}};
}

boost::json::object Workflow(int64_t id, int64_t project, const char* name, const char* timezone,
                             const char* kind, const char* spec, boost::json::value pool) {
  return boost::json::object{{"id", id},
                             {"projectId", project},
                             {"name", name},
                             {"timezone", timezone},
                             {"schedule", boost::json::object{{kind, spec}}},
                             {"poolId", std::move(pool)}};
}

boost::json::array Workflows() {
  return boost::json::array{
      Workflow(11, 1, "daily_load", "Asia/Tokyo", "daily>", "09:00:00", "42"),
      Workflow(12, 1, "hourly_sync", "UTC", "hourly>", "05:00", nullptr),
      Workflow(13, 1, "nightly_report", "America/Los_Angeles", "cron>", "30 2 * * *", nullptr),
      Workflow(21, 2, "elsewhere", "UTC", "daily>", "00:00:00", nullptr)};
}

// One entry of the fixture's "schedules": a schedule of `workflow` and its pointer (next session
// and run, last session).
boost::json::object ScheduleEntry(int64_t id, int64_t workflow, int64_t next_session,
                                  int64_t next_run, int64_t last_session) {
  return boost::json::object{{"id", id},
                             {"workflowId", workflow},
                             {"nextScheduleTime", Utc(next_session)},
                             {"nextRunTime", Utc(next_run)},
                             {"lastSessionTime", Utc(last_session)},
                             {"disabledAt", nullptr}};
}

boost::json::array Schedules(const Pointers& p, int64_t now) {
  const int64_t midnight = FloorTo(now, kDay);
  return boost::json::array{
      ScheduleEntry(1, 11, p.daily_session, p.daily_run, p.daily_session - kDay),
      ScheduleEntry(2, 12, p.hourly_session, p.hourly_run, p.hourly_session - kHour),
      ScheduleEntry(3, 13, p.cron_next, p.cron_next, p.cron_next - kDay),
      ScheduleEntry(4, 21, midnight + kDay, midnight + kDay, midnight)};
}

boost::json::object Attempt(int64_t id, const char* status, int64_t session, bool done) {
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
}

// A session of the daily workflow with one finished attempt.
boost::json::object DailySession(int64_t id, int64_t session_time, const char* uuid,
                                 int64_t attempt_id, const char* status) {
  return boost::json::object{
      {"id", id},
      {"projectId", 1},
      {"workflowName", "daily_load"},
      {"sessionTime", Utc(session_time)},
      {"uuid", uuid},
      {"attempts", boost::json::array{Attempt(attempt_id, status, session_time, true)}}};
}

// The daily workflow ran its last two sessions (one succeeded, one failed): backfills with
// skipExisting skip them, and named backfills add attempts to them.
boost::json::array Sessions(const Pointers& p) {
  return boost::json::array{DailySession(100, p.daily_session - 2 * kDay,
                                         "2b91a014-076e-4c6d-8b51-f4f91089cab2", 1000, "success"),
                            DailySession(101, p.daily_session - kDay,
                                         "6f1c9a52-3f0e-4b7d-9a8e-0c2d4e6f8a10", 1001, "error")};
}

}  // namespace

boost::json::value DemoFixture(int64_t now, DemoInfo* info) {
  const Pointers p = PointersAt(now);
  boost::json::object f;
  f["sites"] = Sites();
  f["projects"] = Projects();
  f["workflows"] = Workflows();
  f["schedules"] = Schedules(p, now);
  f["sessions"] = Sessions(p);
  if (info) {
    info->api_key = "demo-key";
    info->daily_schedule_id = 1;
    info->daily_from_time = Tokyo(p.daily_session - 3 * kDay);
    info->hourly_schedule_id = 2;
    info->hourly_from_time = Utc(p.hourly_session - 6 * kHour);
    info->cron_schedule_id = 3;
  }
  return f;
}

}  // namespace wfp::host
