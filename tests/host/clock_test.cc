// The --now instant parser.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "common/time_text.h"
#include "truncation.h"

namespace wfp::host {
namespace {

TEST(ParseInstantMicros, AcceptsUtcOffsetsAndFractions) {
  EXPECT_EQ(ParseInstantMicros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T03:00:00Z"), 1705028400LL * 1000000);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T12:00:00+09:00"), 1705028400LL * 1000000);
  EXPECT_EQ(ParseInstantMicros("2024-01-11T22:00:00-0500"), 1705028400LL * 1000000);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T03:00:00.25Z"), 1705028400LL * 1000000 + 250000);
  EXPECT_EQ(ParseInstantMicros("2024-02-29T00:00:00Z"), 1709164800LL * 1000000);
  EXPECT_EQ(ParseInstantMicros("1969-12-31T23:59:59Z"), -1000000);
}

// What --now takes beyond a fixture's instants: "t" and "z" in lower case, "+hhmm" and "-0000",
// fractions to nine digits (cut to the microsecond).
TEST(ParseInstantMicros, TakesLowerCaseEveryOffsetFormAndNineFractionDigits) {
  constexpr int64_t kAt = 1705028400LL * 1000000;  // 2024-01-12T03:00:00Z
  EXPECT_EQ(ParseInstantMicros("2024-01-12t03:00:00z"), kAt);
  EXPECT_EQ(ParseInstantMicros("2024-01-12t12:00:00+09:00"), kAt);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T12:00:00+0900"), kAt);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T03:00:00-0000"), kAt);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T03:00:00-00:00"), kAt);
  EXPECT_EQ(ParseInstantMicros("2024-01-13T02:59:00+23:59"), kAt);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T03:00:00.123456789Z"), kAt + 123456);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T03:00:00.000000000Z"), kAt);
  EXPECT_EQ(ParseInstantMicros("2024-01-12T03:00:59Z"), kAt + 59000000);
  EXPECT_EQ(ParseInstantMicros("2000-02-29T00:00:00Z"), 951782400LL * 1000000);
  EXPECT_EQ(ParseInstantMicros("0000-01-01T00:00:00Z"), -62167219200LL * 1000000);
  EXPECT_EQ(ParseInstantMicros("9999-12-31T23:59:59-00:01"), 253402300859LL * 1000000);
}

TEST(ParseInstantMicros, RejectsAnythingElse) {
  for (const char* bad :
       {"", "2024-01-12", "2024-01-12T03:00:00", "2024-01-12 03:00:00Z", "2024-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-01-12T24:00:00Z", "2024-01-12T03:00:00+9",
        "2024-01-12T03:00:00Zjunk", "2024-01-12T03:00:00.Z",
        // the date and the time of day
        "2024-00-12T03:00:00Z", "2024-01-00T03:00:00Z", "2024-01-32T03:00:00Z",
        "2024-04-31T03:00:00Z", "1900-02-29T00:00:00Z", "2024-01-12T03:60:00Z",
        "2024-01-12T03:00:60Z", "2024-1-12T03:00:00Z", "2024-01-12T3:00:00Z", "2024-01-12T03:00:0Z",
        "+2024-01-12T03:00:00Z", "20240-01-12T03:00:00Z", "2024/01/12T03:00:00Z",
        "2024-01-12TT03:00:00Z", "2024-01-12T03-00-00Z", " 2024-01-12T03:00:00Z",
        // the fraction
        "2024-01-12T03:00:00.1234567890Z", "2024-01-12T03:00:00,5Z", "2024-01-12T03:00:00.0.0Z",
        // the offset
        "2024-01-12T03:00:00+09", "2024-01-12T03:00:00+09:", "2024-01-12T03:00:00+09:0",
        "2024-01-12T03:00:00+24:00", "2024-01-12T03:00:00+09:60", "2024-01-12T03:00:00+0900:00",
        "2024-01-12T03:00:00+09:00:00", "2024-01-12T03:00:00+015", "2024-01-12T03:00:00UTC",
        "2024-01-12T03:00:00 Z", "2024-01-12T03:00:00Z ", "2024-01-12T03:00:00ZZ"})
    EXPECT_FALSE(ParseInstantMicros(bad).has_value()) << bad;
}

// Every prefix of a good instant is refused without reading past its end: each prefix sits in a
// heap block of exactly its length, so a read one past it is a heap overflow under ASan.
TEST(ParseInstantMicros, RefusesEveryTruncatedInstantWithoutReadingPastIt) {
  for (const std::string good : {"2024-01-12T12:00:00.123456+09:00", "2024-01-11t22:00:00-0500"})
    testing::ExpectEveryPrefixRefused([](std::string_view s) { return ParseInstantMicros(s); },
                                      good);
}

TEST(FormatInstantUtc, WritesWholeSecondsWithZ) {
  EXPECT_EQ(FormatInstantUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatInstantUtc(1705028400), "2024-01-12T03:00:00Z");
  EXPECT_EQ(FormatInstantUtc(-1), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace wfp::host
