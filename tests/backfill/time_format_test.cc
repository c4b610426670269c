#include "backfill/time_format.h"

#include <gtest/gtest.h>

namespace wfp::backfill {
namespace {

int64_t Secs(std::string_view s) {
  std::string why;
  auto t = ParseIsoInstant(s, &why);
  EXPECT_TRUE(t) << s << ": " << why;
  return t ? t->seconds : -1;
}

TEST(TimeFormat, ParsesOffsetsAndZ) {
  EXPECT_EQ(Secs("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Secs("2016-01-01T00:00:00+09:00"), 1451574000);
  EXPECT_EQ(Secs("2016-01-01T00:00:00+0900"), 1451574000);
  EXPECT_EQ(Secs("2015-12-31T15:00:00z"), 1451574000);
  EXPECT_EQ(Secs("2016-01-01T05:45:00+05:45"), 1451606400);
}

TEST(TimeFormat, FractionsTruncateTowardThePast) {
  std::string why;
  auto t = ParseIsoInstant("1969-12-31T23:59:59.250Z", &why);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->seconds, -1);
  EXPECT_TRUE(t->has_fraction);
}

TEST(TimeFormat, RefusesWhatDoesNotExist) {
  std::string why;
  for (const char* s :
       {"2015-02-29T00:00:00Z", "2016-13-01T00:00:00Z", "2016-04-31T00:00:00Z",
        "2016-01-01T00:60:00Z", "2016-01-01T00:00:60Z", "2016-01-01 00:00:00Z",
        "2016-01-01T00:00:00", "2016-01-01T00:00:00.Z", "2016-01-01T00:00:00+9", ""}) {
    EXPECT_FALSE(ParseIsoInstant(s, &why)) << s;
  }
}

TEST(TimeFormat, FormatsUtcWithZ) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(1705028400), "2024-01-12T03:00:00Z");
  EXPECT_EQ(FormatUtc(253370764800), "9999-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(253402300799), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatUtc(-1), "1969-12-31T23:59:59Z");
  // Outside 0000..9999, as java.time writes them: a sign, and at least four digits.
  EXPECT_EQ(FormatUtc(-62167219200), "0000-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(-62167219201), "-0001-12-31T23:59:59Z");
  EXPECT_EQ(FormatUtc(253402300800), "+10000-01-01T00:00:00Z");
}

}  // namespace
}  // namespace wfp::backfill
