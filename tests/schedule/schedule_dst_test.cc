// The DST behaviour that docs/schedules.md spells out (cron4j's Predictor + lenient
// GregorianCalendar): gaps move times forward, overlaps take the later instant, except that a match
// exactly one minute ahead is taken as that instant.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "schedule/schedule.h"
#include "test_util.h"

namespace wfp::schedule {
namespace {

using testing::ParseIso;

Schedule Make(const char* json, const char* tz) {
  auto r = Schedule::Parse(boost::json::parse(json), tz);
  if (auto* e = std::get_if<ParseError>(&r)) ADD_FAILURE() << json << ": " << e->message;
  return std::get<Schedule>(r);
}

// `n` successive Next() results from `t`, local.
std::vector<std::string> Walk(const Schedule& s, Instant t, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    t = s.Next(t);
    out.push_back(s.FormatLocal(t));
  }
  return out;
}

TEST(ScheduleDst, TimeInTheGapMovesForwardByTheGap) {
  auto s = Make(R"({"cron>": "30 2 * * *"})", "America/Los_Angeles");
  EXPECT_EQ(s.FormatLocal(s.Next(ParseIso("2016-03-13T00:00:00-08:00"))),
            "2016-03-13T03:30:00-07:00");
}

TEST(ScheduleDst, HourlyAcrossSpringForward) {
  auto s = Make(R"({"hourly>": "00:00"})", "America/Los_Angeles");
  EXPECT_EQ(Walk(s, ParseIso("2016-03-12T23:30:00-08:00"), 3),
            (std::vector<std::string>{"2016-03-13T00:00:00-08:00", "2016-03-13T01:00:00-08:00",
                                      "2016-03-13T03:00:00-07:00"}));
}

TEST(ScheduleDst, MissingMidnightSessionIsAtOneAm) {
  // Havana springs forward at 00:00 (2016-03-13) and Sao Paulo did before 2019 (2016-10-16).
  auto havana = Make(R"({"daily>": "00:00:00"})", "America/Havana");
  EXPECT_EQ(havana.FormatLocal(havana.Next(ParseIso("2016-03-12T12:00:00-05:00"))),
            "2016-03-13T01:00:00-04:00");
  auto sao = Make(R"({"daily>": "00:00:00"})", "America/Sao_Paulo");
  EXPECT_EQ(sao.FormatLocal(sao.Next(ParseIso("2016-10-15T12:00:00-03:00"))),
            "2016-10-16T01:00:00-02:00");
}

TEST(ScheduleDst, EveryMinuteWalksBothCopiesOfTheRepeatedHour) {
  auto s = Make(R"({"cron>": "* * * * *"})", "America/New_York");
  EXPECT_EQ(Walk(s, ParseIso("2016-11-06T01:57:00-04:00"), 4),
            (std::vector<std::string>{"2016-11-06T01:58:00-04:00", "2016-11-06T01:59:00-04:00",
                                      "2016-11-06T01:00:00-05:00", "2016-11-06T01:01:00-05:00"}));
}

TEST(ScheduleDst, SparserPatternsSkipTheFirstCopy) {
  auto hourly = Make(R"({"hourly>": "00:00"})", "America/Los_Angeles");
  EXPECT_EQ(Walk(hourly, ParseIso("2016-11-05T22:30:00-07:00"), 4),
            (std::vector<std::string>{"2016-11-05T23:00:00-07:00", "2016-11-06T00:00:00-07:00",
                                      "2016-11-06T01:00:00-08:00", "2016-11-06T02:00:00-08:00"}));
  auto half = Make(R"({"cron>": "*/30 * * * *"})", "America/New_York");
  EXPECT_EQ(Walk(half, ParseIso("2016-11-06T00:00:00-04:00"), 2),
            (std::vector<std::string>{"2016-11-06T00:30:00-04:00", "2016-11-06T01:00:00-05:00"}));
}

TEST(ScheduleDst, OneMinuteAheadIsFoundInTheFirstCopy) {
  // Lord Howe falls back half an hour at 02:00+11:00 (to 01:30+10:30) on 2016-04-03.
  auto s = Make(R"({"cron>": "*/5 * * * *"})", "Australia/Lord_Howe");
  EXPECT_EQ(Walk(s, ParseIso("2016-04-03T01:39:00+11:00"), 2),
            (std::vector<std::string>{"2016-04-03T01:40:00+11:00", "2016-04-03T01:45:00+10:30"}));
}

TEST(ScheduleDst, HalfHourGapMovesForwardByHalfAnHour) {
  // Lord Howe springs forward at 02:00+10:30 to 02:30+11:00 on 2016-10-02.
  auto s = Make(R"({"cron>": "10 2 * * *"})", "Australia/Lord_Howe");
  EXPECT_EQ(s.FormatLocal(s.Next(ParseIso("2016-10-02T00:00:00+10:30"))),
            "2016-10-02T02:40:00+11:00");
}

TEST(ScheduleDst, FixedOffsetsHaveNoTransitions) {
  auto s = Make(R"({"daily>": "00:00:00"})", "-03:30");
  EXPECT_EQ(Walk(s, ParseIso("2016-11-05T12:00:00-03:30"), 2),
            (std::vector<std::string>{"2016-11-06T00:00:00-03:30", "2016-11-07T00:00:00-03:30"}));
}

TEST(ScheduleDst, StartInsideTheGapSkipsThatDay) {
  // start 2016-03-13 in Havana is 01:00-04:00 (the midnight does not exist). step() answers
  // next(start - 1 s), whose search begins at the wall clock of `start`, 01:00, past 00:00: that
  // day's 01:00 session is missed, exactly as Digdag misses it.
  auto s = Make(R"({"daily>": "00:00:00", "start": "2016-03-13"})", "America/Havana");
  EXPECT_EQ(s.FormatLocal(s.First(ParseIso("2016-03-01T00:00:00Z"), false)),
            "2016-03-14T00:00:00-04:00");
  // Without start, the same day's session is the 01:00 one.
  auto plain = Make(R"({"daily>": "00:00:00"})", "America/Havana");
  EXPECT_EQ(plain.FormatLocal(plain.First(ParseIso("2016-03-13T04:00:00Z"), false)),
            "2016-03-13T01:00:00-04:00");
}

}  // namespace
}  // namespace wfp::schedule
