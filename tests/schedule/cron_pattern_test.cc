// cron4j pattern syntax and the field-by-field search, on the internal CronPattern.
#include "schedule/cron_pattern.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>

namespace wfp::schedule {
namespace {

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

TEST(CronPattern, LastDayOfMonth) {
  EXPECT_EQ(One("0 0 L * *").days_of_month, Bits({32}));
  EXPECT_EQ(One("0 0 1,l * *").days_of_month, Bits({1, 32}));
  auto c = One("0 0 L * *");
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2016, 2, 29, 0, 0)));
  EXPECT_FALSE(c.Matches(cctz::civil_minute(2015, 2, 28, 0, 1)));
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2015, 2, 28, 0, 0)));
  EXPECT_FALSE(c.Matches(cctz::civil_minute(2016, 2, 28, 0, 0)));
  EXPECT_TRUE(c.Matches(cctz::civil_minute(2016, 4, 30, 0, 0)));
}

TEST(CronPattern, TokenizerQuirksOfCron4j) {
  // StringTokenizer drops empty tokens: "1,,2" is "1,2" and "-5" is "5".
  EXPECT_EQ(One("1,,2 * * * *").minutes, Bits({1, 2}));
  EXPECT_EQ(One("-5 * * * *").minutes, Bits({5}));
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
  auto n = c.NextAtOrAfter(cctz::civil_minute(2016, 1, 1, 0, 0), 2100);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, cctz::civil_minute(2016, 5, 13, 0, 0));
}

TEST(CronPattern, SearchIsAtOrAfterAndSkipsMissingDates) {
  auto c = One("30 2 31 * *");
  EXPECT_EQ(*c.NextAtOrAfter(cctz::civil_minute(2016, 3, 31, 2, 30), 2100),
            cctz::civil_minute(2016, 3, 31, 2, 30));
  EXPECT_EQ(*c.NextAtOrAfter(cctz::civil_minute(2016, 3, 31, 2, 31), 2100),
            cctz::civil_minute(2016, 5, 31, 2, 30));
  auto leap = One("0 0 29 feb *");
  EXPECT_EQ(*leap.NextAtOrAfter(cctz::civil_minute(2097, 1, 1, 0, 0), 2200),
            cctz::civil_minute(2104, 2, 29, 0, 0));  // 2100 is no leap year
  EXPECT_FALSE(One("0 0 30 2 *").NextAtOrAfter(cctz::civil_minute(2016, 1, 1, 0, 0), 2416));
}

TEST(CronPattern, SearchCarriesAcrossMinuteHourDayMonthYear) {
  auto c = One("* * * * *");
  EXPECT_EQ(*c.NextAtOrAfter(cctz::civil_minute(2016, 12, 31, 23, 59), 2100),
            cctz::civil_minute(2016, 12, 31, 23, 59));
  auto h = One("5 0 1 1 *");
  EXPECT_EQ(*h.NextAtOrAfter(cctz::civil_minute(2016, 1, 1, 0, 6), 2100),
            cctz::civil_minute(2017, 1, 1, 0, 5));
}

}  // namespace
}  // namespace wfp::schedule

namespace wfp::schedule {
namespace {

// A slow, obviously correct reference for NextAtOrAfter: walk the days, and within a day whose date
// fields match, the minutes.
std::optional<cctz::civil_minute> Reference(const CronFields& c, cctz::civil_minute from,
                                            int max_days) {
  cctz::civil_day day(from);
  for (int i = 0; i < max_days; ++i, ++day) {
    // A day matches when its 00:00 would match ignoring hour and minute.
    CronFields date_only = c;
    date_only.minutes = ~uint64_t{0};
    date_only.hours = ~uint32_t{0};
    if (!date_only.Matches(cctz::civil_minute(day))) continue;
    for (cctz::civil_minute m(day); cctz::civil_day(m) == day; ++m) {
      if (m >= from && c.Matches(m)) return m;
    }
  }
  return std::nullopt;
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

TEST(CronPattern, SearchAgreesWithABruteForceWalk) {
  static const char* const kMonths[] = {"jan", "FEB", "Mar", "apr", "MAY", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};
  static const char* const kDays[] = {"sun", "MON", "Tue", "wed", "thu", "fri", "sat"};
  std::mt19937 rng(20160313);
  int compared = 0;
  for (int i = 0; i < 600; ++i) {
    std::string text = RandomField(rng, 0, 59, nullptr) + " " + RandomField(rng, 0, 23, nullptr) +
                       " " + RandomField(rng, 1, 31, nullptr) + " " +
                       RandomField(rng, 1, 12, kMonths) + " " + RandomField(rng, 0, 6, kDays);
    std::string why;
    auto p = CronPattern::Compile(text, &why);
    ASSERT_TRUE(p) << text << ": " << why;
    const CronFields& c = p->alternatives.at(0);
    for (int j = 0; j < 5; ++j) {
      cctz::civil_minute from(std::uniform_int_distribution<int>(2011, 2020)(rng),
                              std::uniform_int_distribution<int>(1, 12)(rng),
                              std::uniform_int_distribution<int>(1, 31)(rng),
                              std::uniform_int_distribution<int>(0, 23)(rng),
                              std::uniform_int_distribution<int>(0, 59)(rng));
      auto want = Reference(c, from, 366 * 12);
      auto got = c.NextAtOrAfter(from, from.year() + 13);
      if (!want) continue;  // beyond the reference's horizon
      ++compared;
      ASSERT_TRUE(got) << text << " from " << from;
      EXPECT_EQ(*got, *want) << text << " from " << from;
    }
  }
  EXPECT_GT(compared, 2000);
}

}  // namespace
}  // namespace wfp::schedule
