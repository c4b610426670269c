// cron4j pattern syntax and the field-by-field search, on the internal CronPattern.
#include "schedule/cron_pattern.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <random>
#include <string>

namespace wfp::schedule {
namespace {

// A literal port of cron4j's search (defined below), the reference the fast search must agree with.
std::optional<CronFields::Match> Reference(const CronFields& c, cctz::civil_minute from,
                                           const cctz::time_zone& tz, int max_steps);

CronFields One(const char* text) {
  std::string why;
  auto p = CronPattern::Compile(text, &why);
  if (!p) {
    ADD_FAILURE() << text << ": " << why;
    return {};
  }
  EXPECT_EQ(p->alternatives.size(), 1u);
  return p->alternatives.at(0);
}

uint64_t Bits(std::initializer_list<int> values) {
  uint64_t b = 0;
  for (int v : values) b |= uint64_t{1} << v;
  return b;
}

TEST(CronPattern, StarsStepsRangesAndLists) {
  auto c = One("*/15 1-3,20 */10 * *");
  EXPECT_EQ(c.minutes, Bits({0, 15, 30, 45}));
  EXPECT_EQ(c.hours, Bits({1, 2, 3, 20}));
  EXPECT_EQ(c.days_of_month, Bits({1, 11, 21, 31}));
  EXPECT_EQ(c.months, Bits({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(c.days_of_week, 0x7f);
}

TEST(CronPattern, RangeWithStepAndWrappingRange) {
  auto c = One("10-40/10 22-2 * * *");
  EXPECT_EQ(c.minutes, Bits({10, 20, 30, 40}));
  EXPECT_EQ(c.hours, Bits({22, 23, 0, 1, 2}));
  // The step walks the wrapped list in order: 22, 0, 2.
  EXPECT_EQ(One("0 22-2/2 * * *").hours, Bits({22, 0, 2}));
}

TEST(CronPattern, NamesInAnyCase) {
  auto c = One("0 0 * JAN,feb,Mar-may sun,MON-wed");
  EXPECT_EQ(c.months, Bits({1, 2, 3, 4, 5}));
  EXPECT_EQ(c.days_of_week, Bits({0, 1, 2, 3}));
  EXPECT_EQ(One("0 0 * * 7").days_of_week, Bits({0}));  // 7 is Sunday too
  EXPECT_EQ(One("0 0 * * fri-mon").days_of_week, Bits({5, 6, 0, 1}));
}

TEST(CronPattern, LastDayOfMonthParsesAndMatches) {
  EXPECT_EQ(One("0 0 L * *").days_of_month, Bits({32}));
  EXPECT_EQ(One("0 0 1,l * *").days_of_month, Bits({1, 32}));
  auto c = One("0 0 L * *");
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2016, 2, 29, 0, 0)));
  EXPECT_FALSE(c.Matches(cctz::civil_minute(2015, 2, 28, 0, 1)));
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2015, 2, 28, 0, 0)));
  EXPECT_FALSE(c.Matches(cctz::civil_minute(2016, 2, 28, 0, 0)));
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2016, 4, 30, 0, 0)));
  // Century years: 2100 and 1900 are not leap years, 2000 is (divisible by 400).
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2100, 2, 28, 0, 0)));
  EXPECT_TRUE(c.Matches(cctz::civil_minute(1900, 2, 28, 0, 0)));
  EXPECT_FALSE(c.Matches(cctz::civil_minute(2000, 2, 28, 0, 0)));
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2000, 2, 29, 0, 0)));
}

TEST(CronPattern, TokenizerQuirksOfCron4j) {
  // StringTokenizer drops empty tokens: "1,,2" is "1,2" and "-5" is "5".
  EXPECT_EQ(One("1,,2 * * * *").minutes, Bits({1, 2}));
  EXPECT_EQ(One("-5 * * * *").minutes, Bits({5}));
}

// Java's Integer.parseInt: the int range exactly, sign included.
TEST(CronPattern, ParseJavaIntTakesTheIntRange) {
  EXPECT_EQ(ParseJavaInt("2147483647"), 2147483647);
  EXPECT_EQ(ParseJavaInt("-2147483648"), -2147483647 - 1);
  EXPECT_EQ(ParseJavaInt("+7"), 7);
  EXPECT_EQ(ParseJavaInt("-0"), 0);
  for (const char* bad : {"2147483648", "-2147483649", "99999999999", "", "-", "+", "1x", " 1"}) {
    EXPECT_EQ(ParseJavaInt(bad), std::nullopt) << bad;
  }
}

TEST(CronPattern, Invalid) {
  std::string why;
  for (const char* bad : {"", "* * * *", "* * * * * *", "x * * * *", "* 24 * * *", "* * 0 * *",
                          "* * 32 * *", "* * * 13 *", "* * * * 8", "*/x * * * *", "1-2-3 * * * *",
                          "1/2/3 * * * *", "0 0 * * funday"}) {
    EXPECT_FALSE(CronPattern::Compile(bad, &why).has_value()) << bad;
  }
}

TEST(CronPattern, SeveralPatternsMatchWhenAnyMatches) {
  std::string why;
  auto p = CronPattern::Compile("0 2 * * mon | 30 4 * * *", &why);
  ASSERT_TRUE(p) << why;
  ASSERT_EQ(p->alternatives.size(), 2u);
  EXPECT_TRUE(p->Matches(cctz::civil_minute(2016, 2, 1, 2, 0)));   // a Monday
  EXPECT_FALSE(p->Matches(cctz::civil_minute(2016, 2, 2, 2, 0)));  // a Tuesday
  EXPECT_TRUE(p->Matches(cctz::civil_minute(2016, 2, 2, 4, 30)));
}

TEST(CronPattern, DayOfMonthAndDayOfWeekMustBothMatch) {
  auto c = One("0 0 13 * fri");
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2016, 5, 13, 0, 0)));   // Friday the 13th
  EXPECT_FALSE(c.Matches(cctz::civil_minute(2016, 5, 6, 0, 0)));   // another Friday
  EXPECT_FALSE(c.Matches(cctz::civil_minute(2016, 4, 13, 0, 0)));  // a Wednesday
  auto n = c.NextAtOrAfter(cctz::civil_minute(2016, 1, 1, 0, 0), cctz::utc_time_zone(), 2100);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->wall, cctz::civil_minute(2016, 5, 13, 0, 0));
}

// NextAtOrAfter in UTC, as wall-clock fields.
std::optional<cctz::civil_minute> Search(const CronFields& c, cctz::civil_minute from,
                                         cctz::year_t limit) {
  auto m = c.NextAtOrAfter(from, cctz::utc_time_zone(), limit);
  if (!m) return std::nullopt;
  return m->wall;
}

TEST(CronPattern, SearchIsAtOrAfterAndSkipsMissingDates) {
  auto c = One("30 2 31 * *");
  EXPECT_EQ(*Search(c, cctz::civil_minute(2016, 3, 31, 2, 30), 2100),
            cctz::civil_minute(2016, 3, 31, 2, 30));
  EXPECT_EQ(*Search(c, cctz::civil_minute(2016, 3, 31, 2, 31), 2100),
            cctz::civil_minute(2016, 5, 31, 2, 30));
  auto leap = One("0 0 29 feb *");
  EXPECT_EQ(*Search(leap, cctz::civil_minute(2097, 1, 1, 0, 0), 2200),
            cctz::civil_minute(2104, 2, 29, 0, 0));  // 2100 is no leap year
  EXPECT_FALSE(Search(One("0 0 30 2 *"), cctz::civil_minute(2016, 1, 1, 0, 0), 2416));
}

TEST(CronPattern, LastDayOfMonthSearchKnowsCenturyLeapYears) {
  auto c = One("0 0 L * *");
  EXPECT_EQ(*Search(c, cctz::civil_minute(2100, 2, 1, 0, 0), 2200),
            cctz::civil_minute(2100, 2, 28, 0, 0));
  EXPECT_EQ(*Search(c, cctz::civil_minute(2100, 2, 28, 0, 1), 2200),
            cctz::civil_minute(2100, 3, 31, 0, 0));
  EXPECT_EQ(*Search(c, cctz::civil_minute(1900, 2, 1, 0, 0), 2000),
            cctz::civil_minute(1900, 2, 28, 0, 0));
  EXPECT_EQ(*Search(c, cctz::civil_minute(2000, 2, 1, 0, 0), 2100),
            cctz::civil_minute(2000, 2, 29, 0, 0));
  EXPECT_EQ(*Search(c, cctz::civil_minute(2024, 2, 1, 0, 0), 2100),
            cctz::civil_minute(2024, 2, 29, 0, 0));
  // February only: one match a year, on its last day.
  auto feb = One("0 0 L 2 *");
  EXPECT_EQ(*Search(feb, cctz::civil_minute(2099, 3, 1, 0, 0), 2200),
            cctz::civil_minute(2100, 2, 28, 0, 0));
  EXPECT_EQ(*Search(feb, cctz::civil_minute(1999, 3, 1, 0, 0), 2100),
            cctz::civil_minute(2000, 2, 29, 0, 0));
}

TEST(CronPattern, KnowsWhenAPatternCanNeverMatch) {
  EXPECT_FALSE(One("0 0 30 2 *").can_match);
  EXPECT_FALSE(One("0 0 31 4,6,9,11 *").can_match);
  EXPECT_TRUE(One("0 0 29 2 *").can_match);
  EXPECT_TRUE(One("0 0 L 2 *").can_match);
  EXPECT_TRUE(One("0 0 31 4,6,9,12 *").can_match);
  EXPECT_FALSE(Search(One("0 0 31 4,6,9,11 *"), cctz::civil_minute(2016, 1, 1, 0, 0), 9999));
}

TEST(CronPattern, MissingDateRollsOverLikeCron4j) {
  // Feb 30 2015 is built as Mar 2 and the search goes on from there: Mar 1 is passed over.
  auto c = One("0 0 1,30 * *");
  EXPECT_EQ(*Search(c, cctz::civil_minute(2015, 2, 2, 0, 0), 2100),
            cctz::civil_minute(2015, 3, 30, 0, 0));
  // In a leap year Feb 30 rolls to Mar 1, which matches.
  EXPECT_EQ(*Search(c, cctz::civil_minute(2016, 2, 2, 0, 0), 2100),
            cctz::civil_minute(2016, 3, 1, 0, 0));
  // The hour and minute are kept across the roll: Apr 31 10:30 -> May 1 10:30.
  EXPECT_EQ(*Search(One("30 10 1,31 * *"), cctz::civil_minute(2016, 4, 2, 0, 0), 2100),
            cctz::civil_minute(2016, 5, 1, 10, 30));
}

TEST(CronPattern, SearchResolvesGapsAndOverlapsLikeTheLenientCalendar) {
  cctz::time_zone la;
  ASSERT_TRUE(cctz::load_time_zone("America/Los_Angeles", &la));
  auto c = One("30 2 * * *");
  auto m = c.NextAtOrAfter(cctz::civil_minute(2016, 3, 13, 0, 0), la, 2100);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->wall, cctz::civil_minute(2016, 3, 13, 2, 30));
  EXPECT_EQ(m->instant, 1457865000);  // 2016-03-13T10:30:00Z = 03:30-07:00
  auto o = One("30 1 * * *").NextAtOrAfter(cctz::civil_minute(2016, 11, 6, 0, 0), la, 2100);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->instant, 1478424600);  // 2016-11-06T09:30:00Z = 01:30-08:00, the later copy
}

// Samoa (Pacific/Apia) skipped 2011-12-30 whole, moving from UTC-10 to UTC+14: every wall time of
// that day is in a gap, and the lenient calendar builds it a day later (Dec 30 10:00 -10:00 is the
// instant of Dec 31 10:00 +14:00). A date the gap moves is searched on from where it moved to, as
// cron4j checks the built date: a pattern for Dec 30 only finds 2012's, and a daily one reads
// Dec 31.
TEST(CronPattern, AGapThatMovesTheDateIsSearchedOnFromTheMovedDate) {
  cctz::time_zone apia;
  ASSERT_TRUE(cctz::load_time_zone("Pacific/Apia", &apia));
  auto dec30 = One("0 10 30 12 *").NextAtOrAfter(cctz::civil_minute(2011, 12, 1, 0, 0), apia, 2100);
  ASSERT_TRUE(dec30);
  EXPECT_EQ(dec30->wall, cctz::civil_minute(2012, 12, 30, 10, 0));
  auto daily = One("0 10 * * *").NextAtOrAfter(cctz::civil_minute(2011, 12, 29, 11, 0), apia, 2100);
  ASSERT_TRUE(daily);
  EXPECT_EQ(daily->wall, cctz::civil_minute(2011, 12, 31, 10, 0));
  EXPECT_EQ(daily->instant, 1325275200);  // 2011-12-30T20:00:00Z = Dec 31 10:00+14:00
  for (const char* text : {"0 10 30 12 *", "0 10 * * *", "30 23 29,30,31 12 *"}) {
    const CronFields c = One(text);
    const cctz::civil_minute from(2011, 12, 29, 11, 0);
    auto want = Reference(c, from, apia, 3000000);
    auto got = c.NextAtOrAfter(from, apia, 2100);
    ASSERT_TRUE(want && got) << text;
    EXPECT_EQ(got->wall, want->wall) << text;
    EXPECT_EQ(got->instant, want->instant) << text;
  }
}

TEST(CronPattern, SearchCarriesAcrossMinuteHourDayMonthYear) {
  auto c = One("* * * * *");
  EXPECT_EQ(*Search(c, cctz::civil_minute(2016, 12, 31, 23, 59), 2100),
            cctz::civil_minute(2016, 12, 31, 23, 59));
  auto h = One("5 0 1 1 *");
  EXPECT_EQ(*Search(h, cctz::civil_minute(2016, 1, 1, 0, 6), 2100),
            cctz::civil_minute(2017, 1, 1, 0, 5));
}

}  // namespace
}  // namespace wfp::schedule

namespace wfp::schedule {
namespace {

// A literal port of cron4j 2.2.5's search loop (one value at a time, no jumps), in `tz`: the slow
// reference the fast search must agree with.
std::optional<CronFields::Match> Reference(const CronFields& c, cctz::civil_minute from,
                                           const cctz::time_zone& tz, int max_steps) {
  auto bit = [](uint64_t mask, int v) { return ((mask >> v) & 1) != 0; };
  auto leap = [](cctz::year_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  static constexpr int kLast[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  cctz::year_t year = from.year();
  int month = from.month(), day = from.day(), hour = from.hour(), minute = from.minute();
  int steps = 0;
  for (;;) {
    for (;;) {
      for (;;) {
        for (;;) {
          for (;;) {
            if (++steps > max_steps) return std::nullopt;
            if (bit(c.minutes, minute)) break;
            if (++minute > 59) minute = 0, ++hour;
          }
          if (hour > 23) hour = 0, ++day;
          if (bit(c.hours, hour)) break;
          ++hour, minute = 0;
        }
        if (day > 31) day = 1, ++month;
        if (month > 12) month = 1, ++year;
        int last = (leap(year) && month == 2) ? 29 : kLast[month - 1];
        if (bit(c.days_of_month, day) || (day > 27 && bit(c.days_of_month, 32) && day == last)) {
          break;
        }
        ++day, hour = 0, minute = 0;
      }
      if (bit(c.months, month)) break;
      ++month, day = 1, hour = 0, minute = 0;
    }
    cctz::civil_second wall(year, month, day, hour, minute, 0);
    int64_t instant = ResolveLenient(tz, wall);
    cctz::civil_day got(
        cctz::convert(cctz::time_point<std::chrono::seconds>(std::chrono::seconds(instant)), tz));
    if (got.year() != year || got.month() != month || got.day() != day) {
      year = got.year(), month = got.month(), day = got.day();
      continue;
    }
    int dow = (static_cast<int>(cctz::get_weekday(got)) + 1) % 7;  // cctz: monday = 0
    if (bit(c.days_of_week, dow)) return CronFields::Match{cctz::civil_minute(wall), instant};
    ++day, hour = 0, minute = 0;
    if (day > 31) {
      day = 1, ++month;
      if (month > 12) month = 1, ++year;
    }
  }
}

std::string RandomField(std::mt19937& rng, int min, int max, const char* const* names) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto value = [&]() -> std::string {
    int v = pick(min, max);
    if (names != nullptr && pick(0, 2) == 0) return names[v - min];
    return std::to_string(v);
  };
  switch (pick(0, 6)) {
    case 0:
      return "*";
    case 1:
      return value();
    case 2:
      return value() + "-" + value();
    case 3:
      return "*/" + std::to_string(pick(1, max - min + 1));
    case 4:
      return value() + "-" + value() + "/" + std::to_string(pick(1, 5));
    case 5:
      return value() + "," + value() + "," + value();
    default:
      return min == 1 && max == 31 ? "L" : "*";
  }
}

TEST(CronPattern, SearchAgreesWithALiteralPortOfCron4j) {
  static const char* const kMonths[] = {"jan", "FEB", "Mar", "apr", "MAY", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
  static const char* const kDays[] = {"sun", "MON", "Tue", "wed", "thu", "fri", "sat"};
  std::vector<cctz::time_zone> zones;
  for (const char* name : {"UTC", "America/Los_Angeles", "Australia/Lord_Howe", "America/Havana",
                           "America/Sao_Paulo", "Pacific/Chatham", "Asia/Tehran"}) {
    cctz::time_zone tz;
    ASSERT_TRUE(cctz::load_time_zone(name, &tz)) << name;
    zones.push_back(tz);
  }
  std::mt19937 rng(20160313);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int compared = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = RandomField(rng, 0, 59, nullptr) + " " + RandomField(rng, 0, 23, nullptr) +
                       " " + RandomField(rng, 1, 31, nullptr) + " " +
                       RandomField(rng, 1, 12, kMonths) + " " + RandomField(rng, 0, 6, kDays);
    std::string why;
    auto p = CronPattern::Compile(text, &why);
    ASSERT_TRUE(p) << text << ": " << why;
    const CronFields& c = p->alternatives.at(0);
    for (int j = 0; j < 4; ++j) {
      const cctz::time_zone& tz = zones[pick(0, static_cast<int>(zones.size()) - 1)];
      cctz::civil_minute from(pick(2011, 2020), pick(1, 12), pick(1, 28), pick(0, 23), pick(0, 59));
      auto want = Reference(c, from, tz, 3000000);
      if (!want) continue;  // beyond the reference's budget
      ++compared;
      auto got = c.NextAtOrAfter(from, tz, from.year() + 401);
      ASSERT_TRUE(got) << text << " from " << from << " in " << tz.name();
      EXPECT_EQ(got->wall, want->wall) << text << " from " << from << " in " << tz.name();
      EXPECT_EQ(got->instant, want->instant) << text << " from " << from << " in " << tz.name();
    }
  }
  EXPECT_GT(compared, 5000);
}

}  // namespace
}  // namespace wfp::schedule
