// The policies of host_stub/common/ the host's rooms share: the JSON media-type rules, the JSON
// error body, the zone names and the store's instants.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "common/error_body.h"
#include "common/media_type.h"
#include "common/time_text.h"
#include "truncation.h"

namespace wfp::host {
namespace {

TEST(MediaType, TheStrictRuleIsApplicationJsonInAnyCaseWithParameters) {
  for (const char* ok :
       {"application/json", "Application/JSON", " application/json ; charset=utf-8",
        "application/json;charset=utf-8", "\tapplication/json"})
    EXPECT_TRUE(IsApplicationJson(ok)) << ok;
  for (const char* bad : {"", "application/problem+json", "text/json", "application/jsonx",
                          "application/ json", "text/plain; x=application/json"})
    EXPECT_FALSE(IsApplicationJson(bad)) << bad;
}

TEST(MediaType, TheLooseRuleTakesAnyMediaTypeThatMentionsJson) {
  for (const char* ok : {"application/json", "application/problem+json; charset=utf-8", "TEXT/JSON",
                         "application/x-ndjson"})
    EXPECT_TRUE(MediaTypeMentionsJson(ok)) << ok;
  for (const char* bad : {"", "text/plain", "text/plain; profile=json", "application/jso"})
    EXPECT_FALSE(MediaTypeMentionsJson(bad)) << bad;
}

TEST(ErrorBody, IsMessageThenStatusWithoutSpaces) {
  EXPECT_EQ(ErrorBody(413, "request body is larger than 65536 bytes"),
            R"({"message":"request body is larger than 65536 bytes","status":413})");
  EXPECT_EQ(ErrorBody(400, "a \"quoted\" \\ word"),
            R"({"message":"a \"quoted\" \\ word","status":400})");
}

TEST(LoadZone, TakesUtcFixedOffsetsAndIanaNames) {
  cctz::time_zone zone;
  for (const char* ok : {"", "UTC", "Z", "+09", "+09:00", "-0530", "+18:00", "Asia/Tokyo"})
    EXPECT_TRUE(LoadZone(ok, &zone)) << ok;
  for (const char* bad : {"+9", "+19:00", "+09:60", "+0900:00", "Mars/Olympus"})
    EXPECT_FALSE(LoadZone(bad, &zone)) << bad;
  ASSERT_TRUE(LoadZone("+09:00", &zone));
  EXPECT_EQ(FormatWithOffset(1705028400, zone), "2024-01-12T12:00:00+09:00");
  ASSERT_TRUE(LoadZone("UTC", &zone));
  EXPECT_EQ(FormatWithOffset(1705028400, zone), "2024-01-12T03:00:00+00:00");
}

TEST(ParseStoredInstant, TakesWholeSecondsWithAnOffsetWithinYears0To9999) {
  EXPECT_EQ(ParseStoredInstant("2024-01-12T12:00:00+09:00"), 1705028400);
  EXPECT_EQ(ParseStoredInstant("2024-01-12T03:00:00.000Z"), 1705028400);
  EXPECT_EQ(ParseStoredInstant("0000-01-01T00:00:00Z"), -62167219200);
  for (const char* bad :
       {"2024-01-12T03:00:00.5Z", "2024-01-12t03:00:00Z", "2024-01-12T03:00:00+0900",
        "2024-02-30T00:00:00Z", "0000-01-01T00:00:00+01:00"})
    EXPECT_FALSE(ParseStoredInstant(bad).has_value()) << bad;
  EXPECT_EQ(FormatInstantUtc(-62167219200), "0000-01-01T00:00:00Z");
}

// The edges of what a fixture's instant may be: "Z" in upper case only, "±hh:mm" to 23:59 (as
// cctz reads it), no 60th second, up to nine zero fraction digits.
TEST(ParseStoredInstant, TakesOnlyTheUpperCaseShapeWithAColonOffset) {
  EXPECT_EQ(ParseStoredInstant("2024-01-13T02:59:00+23:59"), 1705028400);
  EXPECT_EQ(ParseStoredInstant("2024-01-11T03:01:00-23:59"), 1705028400);
  EXPECT_EQ(ParseStoredInstant("2024-01-12T03:00:00-00:00"), 1705028400);
  EXPECT_EQ(ParseStoredInstant("2024-01-12T03:00:00.000000000Z"), 1705028400);
  EXPECT_EQ(ParseStoredInstant("2024-01-12T03:00:59Z"), 1705028459);
  EXPECT_EQ(ParseStoredInstant("0000-01-01T00:00:00-00:01"), -62167219140);
  EXPECT_EQ(ParseStoredInstant("9999-12-31T23:59:59+00:01"), 253402300739);
  EXPECT_EQ(ParseStoredInstant("9999-12-31T23:59:59Z"), 253402300799);
  for (const char* bad :
       {"2024-01-12T03:00:00z", "2024-01-12t03:00:00+09:00", "2024-01-12T03:00:60Z",
        "2024-01-12T03:60:00Z", "2024-01-12T24:00:00Z", "2024-13-12T03:00:00Z",
        "2024-04-31T03:00:00Z", "2024-01-12T03:00:00+24:00", "2024-01-12T03:00:00+09:60",
        "2024-01-12T03:00:00-0000", "2024-01-12T03:00:00+09", "2024-01-12T03:00:00+09:00:00",
        "2024-01-12T03:00:00.Z", "2024-01-12T03:00:00.0000000000Z", "2024-01-12T03:00:00Z ",
        "2024-01-12 03:00:00Z", "2024-1-12T03:00:00Z", "+2024-01-12T03:00:00Z",
        "9999-12-31T23:59:59-00:01"})
    EXPECT_FALSE(ParseStoredInstant(bad).has_value()) << bad;
}

// Every prefix of a good instant is refused without reading past its end: each prefix sits in a
// heap block of exactly its length, so a read one past it is a heap overflow under ASan (the
// sanitizer run of this suite).
TEST(ParseStoredInstant, RefusesEveryTruncatedInstantWithoutReadingPastIt) {
  for (const std::string good : {"2024-01-12T12:00:00+09:00", "2024-01-12T03:00:00.000Z"})
    testing::ExpectEveryPrefixRefused([](std::string_view s) { return ParseStoredInstant(s); },
                                      good);
}

}  // namespace
}  // namespace wfp::host
