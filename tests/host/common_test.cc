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

// Every prefix of a good instant is refused without reading past its end: each prefix sits in a
// heap block of exactly its length, so a read one past it is a heap overflow under ASan (the
// sanitizer run of this suite).
TEST(ParseStoredInstant, RefusesEveryTruncatedInstantWithoutReadingPastIt) {
  const std::string good = "2024-01-12T12:00:00+09:00";
  for (size_t n = 0; n < good.size(); ++n) {
    std::unique_ptr<char[]> block(new char[n]);
    std::copy_n(good.data(), n, block.get());
    const std::string_view prefix(block.get(), n);
    EXPECT_FALSE(ParseStoredInstant(prefix).has_value()) << prefix;
  }
}

}  // namespace
}  // namespace wfp::host
