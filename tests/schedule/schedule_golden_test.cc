// The golden values of docs/schedules.md, one assertion each.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "schedule/schedule.h"
#include "test_util.h"

namespace wfp::schedule {
namespace {

using testing::FormatUtc;
using testing::ParseIso;

Schedule Make(const char* json, const char* tz = "UTC") {
  auto r = Schedule::Parse(boost::json::parse(json), tz);
  if (auto* e = std::get_if<ParseError>(&r)) ADD_FAILURE() << json << ": " << e->message;
  return std::get<Schedule>(r);
}

// first(t) as "(session, run)" in UTC.
std::string First(const Schedule& s, const char* t) {
  bool frac = false;
  Instant i = ParseIso(t, &frac);
  Instant f = s.First(i, frac);
  return FormatUtc(f) + " " + FormatUtc(s.RunTime(f));
}

TEST(ScheduleGolden, Daily) {
  auto s = Make(R"({"daily>": "10:00:00"})");
  EXPECT_EQ(First(s, "2016-02-03T09:34:12Z"), "2016-02-03T00:00:00Z 2016-02-03T10:00:00Z");
  EXPECT_EQ(First(s, "2016-02-03T10:00:00Z"), "2016-02-03T00:00:00Z 2016-02-03T10:00:00Z");
  EXPECT_EQ(First(s, "2016-02-03T10:00:01Z"), "2016-02-04T00:00:00Z 2016-02-04T10:00:00Z");
  EXPECT_EQ(FormatUtc(s.Last(ParseIso("2016-02-02T00:00:00Z"))), "2016-02-01T00:00:00Z");
}

TEST(ScheduleGolden, FractionMissesTheRunAtThatSecond) {
  auto s = Make(R"({"daily>": "10:00:00"})");
  EXPECT_EQ(First(s, "2016-02-03T10:00:00.500Z"), "2016-02-04T00:00:00Z 2016-02-04T10:00:00Z");
}

TEST(ScheduleGolden, Hourly) {
  auto s = Make(R"({"hourly>": "15:00"})");
  EXPECT_EQ(First(s, "2016-02-03T17:14:59Z"), "2016-02-03T17:00:00Z 2016-02-03T17:15:00Z");
  EXPECT_EQ(First(s, "2016-02-03T17:15:00Z"), "2016-02-03T17:00:00Z 2016-02-03T17:15:00Z");
  EXPECT_EQ(First(s, "2016-02-03T17:15:01Z"), "2016-02-03T18:00:00Z 2016-02-03T18:15:00Z");
}

TEST(ScheduleGolden, Weekly) {
  auto s = Make(R"({"weekly>": "Wed,17:15:00"})");
  EXPECT_EQ(First(s, "2016-02-03T17:15:01Z"), "2016-02-10T00:00:00Z 2016-02-10T17:15:00Z");
}

TEST(ScheduleGolden, MonthlySkipsMonthsWithoutTheDay) {
  auto s = Make(R"({"monthly>": "31,12:00:00"})");
  EXPECT_EQ(First(s, "2016-01-31T19:12:34Z"), "2016-03-31T00:00:00Z 2016-03-31T12:00:00Z");
}

TEST(ScheduleGolden, DailyWithStartAndEnd) {
  auto s = Make(R"({"daily>": "10:00:00", "start": "2016-03-01", "end": "2016-03-31"})");
  EXPECT_EQ(First(s, "2016-02-03T09:59:59Z"), "2016-03-01T00:00:00Z 2016-03-01T10:00:00Z");
  EXPECT_EQ(First(s, "2016-03-31T10:00:00Z"), "2016-03-31T00:00:00Z 2016-03-31T10:00:00Z");
  bool frac = false;
  EXPECT_EQ(s.First(ParseIso("2016-03-31T10:00:01Z", &frac), frac), kEndMarker);
  EXPECT_EQ(s.RunTime(kEndMarker), kEndMarker);
  EXPECT_TRUE(s.has_end());
  EXPECT_EQ(FormatUtc(s.end()), "2016-04-01T00:00:00Z");
}

TEST(ScheduleGolden, StartKeepsASessionThatRunsExactlyAtIt) {
  // step() skips to next(start - 1 s) only when start > n + delay: a session whose run time is
  // start itself stays. Hourly with a delay of one hour, start 2016-03-01: the session at
  // 02-29 23:00 runs at 03-01 00:00.
  auto s = Make(R"({"cron>": "0 * * * *", "delay": 3600, "start": "2016-03-01"})");
  EXPECT_EQ(First(s, "2016-02-29T23:30:00Z"), "2016-02-29T23:00:00Z 2016-03-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.Step(ParseIso("2016-02-29T22:00:00Z"))), "2016-02-29T23:00:00Z");
}

TEST(ScheduleGolden, MinutesIntervalWithStartAndEndInTokyo) {
  auto s = Make(R"({"minutes_interval>": 10, "start": "2016-03-01", "end": "2016-03-31"})",
                "Asia/Tokyo");
  EXPECT_EQ(s.First(ParseIso("2016-03-31T23:59:59+09:00"), false), kEndMarker);
  EXPECT_EQ(s.FormatLocal(s.First(ParseIso("2016-03-31T23:49:59+09:00"), false)),
            "2016-03-31T23:50:00+09:00");
  EXPECT_EQ(s.FormatLocal(kEndMarker), "9999-01-01T09:00:00+09:00");
}

TEST(ScheduleGolden, CronAcrossSpringForward) {
  auto s = Make(R"({"cron>": "0 10 * * *"})", "America/Los_Angeles");
  Instant f = s.First(ParseIso("2016-03-13T01:59:59-08:00"), false);
  EXPECT_EQ(s.FormatLocal(f), "2016-03-13T10:00:00-07:00");
  EXPECT_EQ(s.RunTime(f), f);
}

TEST(ScheduleGolden, DelayIsAddedToTheInstant) {
  auto s = Make(R"({"daily>": "10:00:00"})", "America/Los_Angeles");
  Instant session = ParseIso("2016-03-13T00:00:00-08:00");
  EXPECT_EQ(s.FormatLocal(s.RunTime(session)), "2016-03-13T11:00:00-07:00");
  EXPECT_EQ(s.delay_seconds(), 36000);
}

TEST(ScheduleGolden, DailyHoursAreNotRangeChecked) {
  auto s = Make(R"({"daily>": "25:00:00"})");
  Instant f = s.First(ParseIso("2016-02-03T00:00:00Z"), false);
  EXPECT_EQ(FormatUtc(f), "2016-02-02T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.RunTime(f)), "2016-02-03T01:00:00Z");
}

TEST(ScheduleGolden, SecondsIntervalIsEpochAligned) {
  auto s = Make(R"({"seconds_interval>": 7, "delay": 3})", "Asia/Tokyo");
  // 1454490002 = 7 * 207784286.
  EXPECT_EQ(s.First(1454490002, false), 1454490002);
  EXPECT_EQ(s.First(1454490002, true), 1454490009);
  EXPECT_EQ(s.First(1454490001, false), 1454490002);
  EXPECT_EQ(s.Step(1454490002), 1454490009);
  EXPECT_EQ(s.Next(1454490003), 1454490009);
  EXPECT_EQ(s.Last(1454490009), 1454490002);
  EXPECT_EQ(s.Last(1454490010), 1454490009);
  EXPECT_EQ(s.RunTime(1454490002), 1454490005);
  // The epoch is a multiple of every interval, and so are the times before it: from -1 s the next
  // is the epoch itself, and the one before the epoch is -7 s.
  EXPECT_EQ(s.Next(-1), 0);
  EXPECT_EQ(s.First(0, false), 0);
  EXPECT_EQ(s.Last(0), -7);
  EXPECT_EQ(s.Next(-8), -7);
}

TEST(ScheduleGolden, LastOfAnIrregularPatternIsAScheduleTime) {
  // Last day of each month: the gap before 03-31 (29 days in 2016's February) is not the gap after.
  auto s = Make(R"({"cron>": "0 0 L * *"})");
  EXPECT_EQ(FormatUtc(s.Last(ParseIso("2016-03-31T00:00:00Z"))), "2016-02-29T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.Last(ParseIso("2016-03-01T00:00:00Z"))), "2016-02-29T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.Last(ParseIso("2016-02-29T00:00:00Z"))), "2016-01-31T00:00:00Z");
  auto ft = Make(R"({"cron>": "0 0 13 * fri"})");
  EXPECT_EQ(FormatUtc(ft.Last(ParseIso("2016-05-13T00:00:00Z"))), "2015-11-13T00:00:00Z");
}

TEST(ScheduleGolden, LastDayOfMonthInCenturyYears) {
  // Beyond the spec's values: 2100 is not a leap year (divisible by 100), 2000 is (by 400).
  auto s = Make(R"({"cron>": "0 0 L * *"})");
  Instant f = s.First(ParseIso("2100-02-01T00:00:00Z"), false);
  EXPECT_EQ(FormatUtc(f), "2100-02-28T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.Step(f)), "2100-03-31T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.Step(s.Step(f))), "2100-04-30T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.Last(ParseIso("2100-03-31T00:00:00Z"))), "2100-02-28T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.First(ParseIso("2000-02-01T00:00:00Z"), false)), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatUtc(s.Last(ParseIso("2000-03-31T00:00:00Z"))), "2000-02-29T00:00:00Z");
}

TEST(ScheduleGolden, FormatLocal) {
  auto tokyo = Make(R"({"daily>": "10:00:00"})", "Asia/Tokyo");
  EXPECT_EQ(tokyo.FormatLocal(ParseIso("2016-01-01T00:00:00+09:00")), "2016-01-01T00:00:00+09:00");
  EXPECT_EQ(tokyo.FormatLocal(kEndMarker), "9999-01-01T09:00:00+09:00");
  auto utc = Make(R"({"daily>": "10:00:00"})");
  EXPECT_EQ(utc.FormatLocal(ParseIso("2016-02-29T23:59:59Z")), "2016-02-29T23:59:59+00:00");
  auto chatham = Make(R"({"daily>": "10:00:00"})", "Pacific/Chatham");
  EXPECT_EQ(chatham.FormatLocal(ParseIso("2016-07-01T00:00:00Z")), "2016-07-01T12:45:00+12:45");
  auto kolkata = Make(R"({"daily>": "10:00:00"})", "Asia/Kolkata");
  EXPECT_EQ(kolkata.FormatLocal(ParseIso("2016-07-01T00:00:00Z")), "2016-07-01T05:30:00+05:30");
  auto ny = Make(R"({"daily>": "10:00:00"})", "America/New_York");
  EXPECT_EQ(ny.FormatLocal(ParseIso("2016-07-01T00:00:00Z")), "2016-06-30T20:00:00-04:00");
  // Local mean time before 1883: the offset has seconds, printed as java.time prints them.
  EXPECT_EQ(ny.FormatLocal(ParseIso("1800-01-01T00:00:00Z")), "1799-12-31T19:03:58-04:56:02");
  auto fixed = Make(R"({"daily>": "10:00:00"})", "-03:30");
  EXPECT_EQ(fixed.FormatLocal(0), "1969-12-31T20:30:00-03:30");
}

TEST(ScheduleGolden, FormatLocalOutsideTheYears0To9999) {
  // As java.time writes such years (a sign, at least four digits), and the offset as for any other
  // year, its seconds included: a daily schedule in New York from 0000-01-01T00:00:00Z has a first
  // session whose last_session_time is in year -1.
  auto ny = Make(R"({"daily>": "10:00:00"})", "America/New_York");
  EXPECT_EQ(ny.FormatLocal(ParseIso("0000-01-01T00:00:00Z")), "-0001-12-31T19:03:58-04:56:02");
  EXPECT_EQ(ny.FormatLocal(ParseIso("0000-01-01T04:56:02Z")), "0000-01-01T00:00:00-04:56:02");
  auto utc = Make(R"({"daily>": "10:00:00"})");
  EXPECT_EQ(utc.FormatLocal(253402300800), "+10000-01-01T00:00:00+00:00");
  EXPECT_EQ(utc.FormatLocal(253402300799), "9999-12-31T23:59:59+00:00");
  auto tokyo = Make(R"({"daily>": "10:00:00"})", "Asia/Tokyo");
  EXPECT_EQ(tokyo.FormatLocal(ParseIso("0000-01-01T00:00:00Z") - 86400LL * 366 * 3),
            "-0004-12-29T09:18:59+09:18:59");
}

TEST(ScheduleGolden, BeforeTheEpochTruncationRoundsTowardZeroAsCron4jDoes) {
  // cron4j's Predictor truncates with Java's long division, toward zero: at -1 s it starts from
  // 00:00 and looks from 00:01 on, so Digdag skips the epoch's own 00:00 session.
  auto daily = Make(R"({"cron>": "0 0 * * *"})");
  EXPECT_EQ(daily.First(0, false), 86400);
  EXPECT_EQ(daily.Next(-1), 86400);
  EXPECT_EQ(daily.Next(-61), 0);  // -61 s truncates to -60 s; the next minute is the epoch
  auto every = Make(R"({"cron>": "* * * * *"})");
  EXPECT_EQ(every.Next(-61), 0);
  EXPECT_EQ(every.Next(-1), 60);
}

TEST(ScheduleGolden, SparsePatterns) {
  auto leap = Make(R"({"cron>": "0 0 29 2 *"})");
  EXPECT_EQ(FormatUtc(leap.Next(ParseIso("2016-03-01T00:00:00Z"))), "2020-02-29T00:00:00Z");
  auto ft = Make(R"({"cron>": "0 0 13 * fri"})");
  EXPECT_EQ(FormatUtc(ft.Next(ParseIso("2016-01-01T00:00:00Z"))), "2016-05-13T00:00:00Z");
  EXPECT_EQ(FormatUtc(ft.Next(ParseIso("2016-05-13T00:00:00Z"))), "2017-01-13T00:00:00Z");
  // Never matches: Next gives the end marker instead of searching forever.
  auto never = Make(R"({"cron>": "0 0 30 2 *"})");
  EXPECT_EQ(never.Next(ParseIso("2016-01-01T00:00:00Z")), kEndMarker);
}

}  // namespace
}  // namespace wfp::schedule
