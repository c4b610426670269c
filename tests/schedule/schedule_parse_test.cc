// Schedule definitions that must be refused, one by one, with the key and the message checked; and
// the accepted forms (at:, start/end, delay on the kinds that take it, the host-only keys).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "schedule/schedule.h"
#include "test_util.h"

namespace wfp::schedule {
namespace {

ParseError Refused(const char* json, const char* tz = "UTC") {
  auto r = Schedule::Parse(boost::json::parse(json), tz);
  if (std::holds_alternative<Schedule>(r)) {
    ADD_FAILURE() << json << " was accepted";
    return {};
  }
  return std::get<ParseError>(r);
}

Schedule Accepted(const char* json, const char* tz = "UTC") {
  auto r = Schedule::Parse(boost::json::parse(json), tz);
  if (auto* e = std::get_if<ParseError>(&r)) ADD_FAILURE() << json << ": " << e->message;
  return std::get<Schedule>(r);
}

#define EXPECT_REFUSED(json, want_key, want_message) \
  do {                                               \
    ParseError e = Refused(json);                    \
    EXPECT_EQ(e.key, want_key) << json;              \
    EXPECT_EQ(e.message, want_message) << json;      \
  } while (0)

TEST(ScheduleParse, UnknownKind) {
  EXPECT_REFUSED(R"({"yearly>": "1"})", "yearly>", "Unknown scheduler type: yearly");
}

TEST(ScheduleParse, NoKind) {
  EXPECT_REFUSED(R"({"start": "2016-01-01"})", "schedule",
                 "schedule: requires one of hourly>, daily>, weekly>, monthly>, cron>, "
                 "minutes_interval>, seconds_interval>");
}

TEST(ScheduleParse, NotAnObject) {
  EXPECT_REFUSED(R"("daily>: 10:00:00")", "schedule", "schedule: must be an object");
}

TEST(ScheduleParse, SecondKind) {
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "hourly>": "10:00"})", "hourly>",
                 "schedule: more than one scheduler type: daily> and hourly>");
}

TEST(ScheduleParse, UnknownKey) {
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "every": 1})", "every",
                 "every: unknown key in schedule for daily>");
}

TEST(ScheduleParse, DelayOnlyWithCronAndIntervals) {
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "delay": 10})", "delay",
                 "delay: unknown key in schedule for daily>");
  EXPECT_REFUSED(R"({"hourly>": "10:00", "delay": 10})", "delay",
                 "delay: unknown key in schedule for hourly>");
  EXPECT_REFUSED(R"({"weekly>": "Mon,10:00:00", "delay": 10})", "delay",
                 "delay: unknown key in schedule for weekly>");
  EXPECT_REFUSED(R"({"monthly>": "1,10:00:00", "delay": 10})", "delay",
                 "delay: unknown key in schedule for monthly>");
  EXPECT_EQ(Accepted(R"({"cron>": "0 * * * *", "delay": 10})").delay_seconds(), 10);
  EXPECT_EQ(Accepted(R"({"minutes_interval>": 5, "delay": "20"})").delay_seconds(), 20);
  EXPECT_EQ(Accepted(R"({"seconds_interval>": 5, "delay": 30})").delay_seconds(), 30);
  EXPECT_REFUSED(R"({"cron>": "0 * * * *", "delay": "soon"})", "delay",
                 "delay: must be an integer number of seconds: \"soon\"");
  EXPECT_REFUSED(R"({"cron>": "0 * * * *", "delay": 1e300})", "delay",
                 "delay: must be an integer number of seconds: 1E300");
  EXPECT_REFUSED(R"({"cron>": "0 * * * *", "delay": 9000000000})", "delay",
                 "delay: must be an integer number of seconds: 9000000000");
  EXPECT_EQ(Accepted(R"({"cron>": "0 * * * *", "delay": -60})").delay_seconds(), -60);
}

// delay is a Java int (Digdag reads it as one): its whole range and nothing past it, whether given
// as a number, a decimal string or an integral double.
TEST(ScheduleParse, DelayIsAJavaInt) {
  EXPECT_EQ(Accepted(R"({"cron>": "0 * * * *", "delay": 2147483647})").delay_seconds(), 2147483647);
  EXPECT_EQ(Accepted(R"({"cron>": "0 * * * *", "delay": -2147483648})").delay_seconds(),
            -2147483648LL);
  EXPECT_EQ(Accepted(R"({"cron>": "0 * * * *", "delay": "-2147483648"})").delay_seconds(),
            -2147483648LL);
  EXPECT_EQ(Accepted(R"({"cron>": "0 * * * *", "delay": 60.0})").delay_seconds(), 60);
  EXPECT_REFUSED(R"({"cron>": "0 * * * *", "delay": 2147483648})", "delay",
                 "delay: must be an integer number of seconds: 2147483648");
  EXPECT_REFUSED(R"({"cron>": "0 * * * *", "delay": "2147483648"})", "delay",
                 "delay: must be an integer number of seconds: \"2147483648\"");
  EXPECT_REFUSED(R"({"cron>": "0 * * * *", "delay": 10000000000000000000})", "delay",
                 "delay: must be an integer number of seconds: 10000000000000000000");
  EXPECT_REFUSED(R"({"cron>": "0 * * * *", "delay": 3.0e9})", "delay",
                 "delay: must be an integer number of seconds: 3E9");
}

TEST(ScheduleParse, AtOnlyWithTheAtKinds) {
  EXPECT_REFUSED(R"({"cron>": "0 * * * *", "at": "10:00:00"})", "at",
                 "at: unknown key in schedule for cron>");
}

TEST(ScheduleParse, Hourly) {
  EXPECT_REFUSED(R"({"hourly>": "10"})", "hourly>", "hourly>: requires mm:ss format: 10");
  EXPECT_REFUSED(R"({"hourly>": "10:00:00"})", "hourly>",
                 "hourly>: requires mm:ss format: 10:00:00");
  EXPECT_REFUSED(R"({"hourly>": "a:00"})", "hourly>", "hourly>: requires mm:ss format: a:00");
  EXPECT_REFUSED(R"({"hourly>": 10})", "hourly>", "hourly>: requires mm:ss format: 10");
}

TEST(ScheduleParse, Daily) {
  EXPECT_REFUSED(R"({"daily>": "10:00"})", "daily>", "daily>: requires hh:mm:ss format: 10:00");
  EXPECT_REFUSED(R"({"daily>": "10:00:0x"})", "daily>",
                 "daily>: requires hh:mm:ss format: 10:00:0x");
  EXPECT_REFUSED(R"({"daily>": "10::00"})", "daily>", "daily>: requires hh:mm:ss format: 10::00");
  EXPECT_REFUSED(R"({"daily>": null})", "daily>", "daily>: requires hh:mm:ss format: null");
}

TEST(ScheduleParse, Weekly) {
  EXPECT_REFUSED(R"({"weekly>": "10:00:00"})", "weekly>",
                 "weekly>: requires day,hh:mm:ss format: 10:00:00");
  EXPECT_REFUSED(R"({"weekly>": "Funday,10:00:00"})", "weekly>",
                 "weekly>: requires day,hh:mm:ss format: Funday,10:00:00");
  EXPECT_REFUSED(R"({"weekly>": "-1,10:00:00"})", "weekly>", "weekly>: invalid day: -1");
  EXPECT_REFUSED(R"({"weekly>": "Mon,10:00"})", "weekly>",
                 "weekly>: requires hh:mm:ss format: 10:00");
  Accepted(R"({"weekly>": "mon-fri, 10:00:00"})");
  Accepted(R"({"weekly>": "6,10:00:00"})");
}

TEST(ScheduleParse, Monthly) {
  EXPECT_REFUSED(R"({"monthly>": "10:00:00"})", "monthly>",
                 "monthly>: requires day,hh:mm:ss format: 10:00:00");
  EXPECT_REFUSED(R"({"monthly>": "x,10:00:00"})", "monthly>",
                 "monthly>: requires day,hh:mm:ss format: x,10:00:00");
  EXPECT_REFUSED(R"({"monthly>": "32,10:00:00"})", "monthly>",
                 "monthly>: invalid day of month: 32");
  EXPECT_REFUSED(R"({"monthly>": "0,10:00:00"})", "monthly>", "monthly>: invalid day of month: 0");
  EXPECT_REFUSED(R"({"monthly>": "1,10:00"})", "monthly>",
                 "monthly>: requires hh:mm:ss format: 10:00");
}

TEST(ScheduleParse, Intervals) {
  EXPECT_REFUSED(R"({"minutes_interval>": 0})", "minutes_interval>",
                 "minutes_interval>: requires a positive integer: 0");
  EXPECT_REFUSED(R"({"minutes_interval>": "ten"})", "minutes_interval>",
                 "minutes_interval>: requires a positive integer: ten");
  EXPECT_REFUSED(R"({"seconds_interval>": -5})", "seconds_interval>",
                 "seconds_interval>: requires a positive integer: -5");
  EXPECT_REFUSED(R"({"seconds_interval>": 1.5})", "seconds_interval>",
                 "seconds_interval>: requires a positive integer: 1.5E0");
}

TEST(ScheduleParse, Cron) {
  // cron4j's own messages, after the key.
  EXPECT_REFUSED(R"({"cron>": "0 0 * *"})", "cron>", "cron>: invalid pattern: \"0 0 * *\"");
  EXPECT_REFUSED(R"({"cron>": "60 0 * * *"})", "cron>",
                 "cron>: invalid pattern \"60 0 * * *\". Error parsing minutes field: invalid "
                 "field \"60\", invalid element \"60\", invalid range, invalid value \"60\", "
                 "value out of range.");
  EXPECT_REFUSED(R"({"cron>": "0 x * * *"})", "cron>",
                 "cron>: invalid pattern \"0 x * * *\". Error parsing hours field: invalid "
                 "field \"x\", invalid element \"x\", invalid range, invalid value \"x\", "
                 "invalid integer value.");
  EXPECT_REFUSED(R"({"cron>": "0 0 * foo *"})", "cron>",
                 "cron>: invalid pattern \"0 0 * foo *\". Error parsing months field: invalid "
                 "field \"foo\", invalid element \"foo\", invalid range, invalid value "
                 "\"foo\", invalid alias \"foo\".");
  EXPECT_REFUSED(R"({"cron>": "*/0 * * * *"})", "cron>",
                 "cron>: invalid pattern \"*/0 * * * *\". Error parsing minutes field: invalid "
                 "field \"*/0\", invalid element \"*/0\", non positive divisor \"0\".");
  EXPECT_REFUSED(R"({"cron>": "0 0 * * 1|0 0 32 * *"})", "cron>",
                 "cron>: invalid pattern \"0 0 32 * *\". Error parsing days of month field: "
                 "invalid field \"32\", invalid element \"32\", invalid range, invalid value "
                 "\"32\", value out of range.");
  // cron4j: Integer.parseInt of the divisor fails before its sign is looked at.
  EXPECT_REFUSED(R"({"cron>": "*/x * * * *"})", "cron>",
                 "cron>: invalid pattern \"*/x * * * *\". Error parsing minutes field: invalid "
                 "field \"*/x\", invalid element \"*/x\", invalid divisor \"x\".");
  // A field of commas only has no element (StringTokenizer drops the empty ones): cron4j's
  // "invalid field", not a pattern that never matches.
  EXPECT_REFUSED(R"({"cron>": "0 0 , * *"})", "cron>",
                 "cron>: invalid pattern \"0 0 , * *\". Error parsing days of month field: invalid "
                 "field \",\".");
  EXPECT_REFUSED(R"({"cron>": "|"})", "cron>", "cron>: invalid pattern: \"|\"");
  EXPECT_REFUSED(R"({"cron>": 5})", "cron>", "cron>: requires a cron4j pattern string");
}

TEST(ScheduleParse, StartAndEnd) {
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "start": "2016-02-30"})", "start",
                 "Invalid start: 2016-02-30 (requires YYYY-MM-DD format)");
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "end": "2016/02/01"})", "end",
                 "Invalid end: 2016/02/01 (requires YYYY-MM-DD format)");
  // Digits only: a letter O for a zero is not read as a number (it would make the year 5116).
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "start": "2O16-03-01"})", "start",
                 "Invalid start: 2O16-03-01 (requires YYYY-MM-DD format)");
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "end": "2016-O3-01"})", "end",
                 "Invalid end: 2016-O3-01 (requires YYYY-MM-DD format)");
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "end": 20160201})", "end",
                 "Invalid end: must be a YYYY-MM-DD string");
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "start": "2016-03-02", "end": "2016-03-01"})", "end",
                 "The schedule of end is earlier than start");
  // The end day is included: start and end on the same day is a one-day schedule.
  auto s = Accepted(R"({"daily>": "10:00:00", "start": "2016-03-01", "end": "2016-03-01"})");
  EXPECT_EQ(testing::FormatUtc(s.end()), "2016-03-02T00:00:00Z");
}

TEST(ScheduleParse, HostOnlyKeys) {
  Accepted(R"({"daily>": "10:00:00", "skip_on_overtime": true, "skip_delayed_by": "1h"})");
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "skip_on_overtime": "yes"})", "skip_on_overtime",
                 "skip_on_overtime: must be true or false");
  EXPECT_REFUSED(R"({"daily>": "10:00:00", "skip_delayed_by": []})", "skip_delayed_by",
                 "skip_delayed_by: must be a duration such as 1h or 30m");
}

TEST(ScheduleParse, AtForm) {
  auto s = Accepted(R"({"daily>": null, "at": "07:30:00"})");
  EXPECT_EQ(s.delay_seconds(), 7 * 3600 + 30 * 60);
  EXPECT_EQ(Accepted(R"({"hourly>": "", "at": "05:00"})").delay_seconds(), 300);
  EXPECT_EQ(Accepted(R"({"weekly>": null, "at": "Sun,01:00:00"})").delay_seconds(), 3600);
  EXPECT_EQ(Accepted(R"({"monthly>": null, "at": "3,00:00:10"})").delay_seconds(), 10);
  ParseError e = Refused(R"({"daily>": null, "at": "7"})");
  EXPECT_EQ(e.key, "at");
  EXPECT_EQ(e.message, "daily>: requires hh:mm:ss format: 7");
}

TEST(ScheduleParse, TimeZones) {
  ParseError e = Refused(R"({"daily>": "10:00:00"})", "Mars/Olympus");
  EXPECT_EQ(e.key, "timezone");
  EXPECT_EQ(e.message, "Unknown time zone: Mars/Olympus");
  EXPECT_EQ(Refused(R"({"daily>": "10:00:00"})", "+25:00").key, "timezone");
  for (const char* bad : {"+19:00", "+09:0", "+09::00", "+0900:00", "09:00", "+",
                          "../../etc/passwd", "/etc/localtime", "localtime", "Asia//Tokyo",
                          "Asia/Tokyo ", "+10:60", "+09:0::00", "+09:00:0:", "Asia/./Tokyo"}) {
    EXPECT_EQ(Refused(R"({"daily>": "10:00:00"})", bad).key, "timezone") << bad;
  }
  cctz::time_zone tz;
  EXPECT_TRUE(LoadZone("", &tz));
  EXPECT_TRUE(LoadZone("UTC", &tz));
  EXPECT_TRUE(LoadZone("Asia/Tokyo", &tz));
  EXPECT_TRUE(LoadZone("-0530", &tz));
  EXPECT_TRUE(LoadZone("+09", &tz));
  EXPECT_TRUE(LoadZone("+9", &tz));
  EXPECT_TRUE(LoadZone("UTC+09:00", &tz));
  EXPECT_TRUE(LoadZone("GMT-5", &tz));
  EXPECT_TRUE(LoadZone("+05:30:15", &tz));
  EXPECT_TRUE(LoadZone("Etc/GMT+5", &tz));
  EXPECT_EQ(Accepted(R"({"daily>": "00:00:00"})", "GMT-5").FormatLocal(0),
            "1969-12-31T19:00:00-05:00");
  EXPECT_EQ(Accepted(R"({"daily>": "00:00:00"})", "+09:00").FormatLocal(0),
            "1970-01-01T09:00:00+09:00");
  EXPECT_EQ(Accepted(R"({"daily>": "00:00:00"})", "-05:30").FormatLocal(0),
            "1969-12-31T18:30:00-05:30");
  EXPECT_EQ(Accepted(R"({"daily>": "00:00:00"})", "").FormatLocal(0), "1970-01-01T00:00:00+00:00");
  // java.time.ZoneOffset.of's forms up to +-18:00, and ZoneId.of("Z").
  EXPECT_EQ(Accepted(R"({"daily>": "00:00:00"})", "+053015").FormatLocal(0),
            "1970-01-01T05:30:15+05:30:15");
  EXPECT_EQ(Accepted(R"({"daily>": "00:00:00"})", "+18:00").FormatLocal(0),
            "1970-01-01T18:00:00+18:00");
  EXPECT_EQ(Accepted(R"({"daily>": "00:00:00"})", "-18:00").FormatLocal(0),
            "1969-12-31T06:00:00-18:00");
  EXPECT_EQ(Accepted(R"({"daily>": "00:00:00"})", "Z").FormatLocal(0), "1970-01-01T00:00:00+00:00");
}

}  // namespace
}  // namespace wfp::schedule
