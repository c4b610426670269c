// The --now instant parser.
#include <gtest/gtest.h>

#include "common/time_text.h"

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

TEST(ParseInstantMicros, RejectsAnythingElse) {
  for (const char* bad :
       {"", "2024-01-12", "2024-01-12T03:00:00", "2024-01-12 03:00:00Z", "2024-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-01-12T24:00:00Z", "2024-01-12T03:00:00+9",
        "2024-01-12T03:00:00Zjunk", "2024-01-12T03:00:00.Z"})
    EXPECT_FALSE(ParseInstantMicros(bad).has_value()) << bad;
}

TEST(FormatInstantUtc, WritesWholeSecondsWithZ) {
  EXPECT_EQ(FormatInstantUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatInstantUtc(1705028400), "2024-01-12T03:00:00Z");
  EXPECT_EQ(FormatInstantUtc(-1), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace wfp::host
