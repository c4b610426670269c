#include "backfill/request.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace wfp::backfill {
namespace {

// The 400 message for `body`, or "" when it parses.
std::string ErrorOf(std::string_view body, Refusal::Reason* reason = nullptr) {
  auto r = ParseBackfillRequest(body);
  if (auto* e = std::get_if<Refusal>(&r)) {
    if (reason) *reason = e->reason;
    return e->message;
  }
  return "";
}

BackfillRequest Parse(std::string_view body) {
  auto r = ParseBackfillRequest(body);
  EXPECT_TRUE(std::holds_alternative<BackfillRequest>(r)) << ErrorOf(body);
  return std::get<BackfillRequest>(r);
}

TEST(BackfillRequest, ParsesAllFields) {
  BackfillRequest r = Parse(
      R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00+09:00","attemptName":"fix","count":3,"skipExisting":true})");
  EXPECT_TRUE(r.dry_run);
  ASSERT_TRUE(r.from_time);
  EXPECT_EQ(r.from_time->seconds, 1451574000);
  EXPECT_FALSE(r.from_time->has_fraction);
  EXPECT_EQ(r.attempt_name, "fix");
  EXPECT_EQ(r.count, 3u);
  EXPECT_TRUE(r.skip_existing);
  EXPECT_FALSE(r.advance_schedule);
}

TEST(BackfillRequest, FractionalSecondsAreKeptAsAFlag) {
  BackfillRequest r =
      Parse(R"({"dryRun":false,"fromTime":"2023-08-18T06:52:33.500Z","attemptName":"a"})");
  EXPECT_EQ(r.from_time->seconds, 1692341553);
  EXPECT_TRUE(r.from_time->has_fraction);
  // An all-zero fraction is no fraction.
  EXPECT_FALSE(Parse(R"({"dryRun":false,"fromTime":"2023-08-18T06:52:33.000Z","attemptName":"a"})")
                   .from_time->has_fraction);
}

TEST(BackfillRequest, NullCountsAsAbsent) {
  BackfillRequest r = Parse(
      R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a","count":null,"skipExisting":null})");
  EXPECT_FALSE(r.count);
  EXPECT_FALSE(r.skip_existing);
  EXPECT_EQ(ErrorOf(R"({"dryRun":null,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a"})"),
            "dryRun is required (true or false)");
}

TEST(BackfillRequest, UnknownFieldSuggestsTheClosestName) {
  EXPECT_EQ(
      ErrorOf(
          R"({"dryRun":false,"fromTime":"2024-01-08T00:00:00+09:00","attemptName":"fix","skipExisiting":true})"),
      "unknown field 'skipExisiting'; did you mean 'skipExisting'?");
  EXPECT_EQ(ErrorOf(R"({"dryrun":false})"), "unknown field 'dryrun'; did you mean 'dryRun'?");
  EXPECT_EQ(
      ErrorOf(R"({"dryRun":false,"zzz":1})"),
      "unknown field 'zzz'; known fields are dryRun, fromTime, attemptName, count, skipExisting, "
      "advanceSchedule");
}

// The distance is Levenshtein's (letters compared without case), and close means at most a third of
// the known name's length, or 2: two swapped letters are two edits, a name that merely ends in a
// known one is not a typo of it.
TEST(BackfillRequest, SwappedLettersAreATypoOfTheKnownName) {
  const std::string head = R"({"dryRun":false,)";
  for (const auto& [sent, meant] :
       std::vector<std::pair<std::string, std::string>>{{"conut", "count"},
                                                        {"fromTmie", "fromTime"},
                                                        {"attemtpName", "attemptName"},
                                                        {"dry_run", "dryRun"}}) {
    EXPECT_EQ(ErrorOf(head + "\"" + sent + "\":1}"),
              "unknown field '" + sent + "'; did you mean '" + meant + "'?");
  }
  EXPECT_EQ(ErrorOf(head + R"("lastCount":1})"),
            "unknown field 'lastCount'; known fields are dryRun, fromTime, attemptName, count, "
            "skipExisting, advanceSchedule");
}

TEST(BackfillRequest, WrongJsonTypesAreRefusedByName) {
  EXPECT_EQ(ErrorOf(R"({"dryRun":"true","fromTime":"2016-01-01T00:00:00Z","attemptName":"a"})"),
            "dryRun must be a boolean, not a string");
  EXPECT_EQ(
      ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a","count":"3"})"),
      "count must be an integer (0 or more), not a string");
  EXPECT_EQ(
      ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a","count":2.5})"),
      "count must be a whole number of sessions, not 2.5");
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":20160101,"attemptName":"a"})"),
            "fromTime must be a string, not an integer");
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":7})"),
            "attemptName must be a string, not an integer");
  EXPECT_EQ(
      ErrorOf(
          R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a","skipExisting":1})"),
      "skipExisting must be a boolean, not an integer");
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"advanceSchedule":"yes","skipExisting":true})"),
            "advanceSchedule must be a boolean, not a string");
}

// A key given twice is ambiguous (the last would win in Boost.JSON, the first elsewhere): refused.
TEST(BackfillRequest, AFieldGivenTwiceIsRefusedByName) {
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a",)"
                    R"("dryRun":false})"),
            "field 'dryRun' is given twice; send each field once");
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a",)"
                    R"("attemptName":"a"})"),
            "field 'attemptName' is given twice; send each field once");
}

TEST(BackfillRequest, AnUnknownFieldIsEchoedShortAndValid) {
  const std::string message = ErrorOf(R"({"dryRun":true,")" + std::string(5000, 'z') + R"(":1})");
  EXPECT_LT(message.size(), 250u) << message;
  EXPECT_NE(message.find("(5000 bytes)"), std::string::npos) << message;
}

// count is a JSON number: 1000, 1e3 and 1000.0 are the same whole number (as JSON Schema's
// "integer" says, so the OpenAPI document and the plugin agree); fractions and numbers past 2^53 -
// 1 get a message that says what is wrong.
TEST(BackfillRequest, CountIsAWholeNumberInAnyNotation) {
  const std::string head = R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a",)";
  EXPECT_EQ(Parse(head + R"("count":1e3})").count, 1000u);
  EXPECT_EQ(Parse(head + R"("count":1.0})").count, 1u);
  EXPECT_EQ(Parse(head + R"("count":9007199254740991})").count, 9007199254740991u);
  EXPECT_EQ(ErrorOf(head + R"("count":1.5})"), "count must be a whole number of sessions, not 1.5");
  EXPECT_EQ(ErrorOf(head + R"("count":9223372036854775808})"),
            "count must be at most 9007199254740991 (2^53 - 1), not 9223372036854775808");
  EXPECT_EQ(ErrorOf(head + R"("count":9007199254740992})"),
            "count must be at most 9007199254740991 (2^53 - 1), not 9007199254740992");
  EXPECT_EQ(ErrorOf(head + R"("count":1e30})"),
            "count must be at most 9007199254740991 (2^53 - 1), not 1e30");
  EXPECT_EQ(ErrorOf(head + R"("count":-1.0})"), "count must be 0 or more, not -1.0");
}

// A count that is not an integer in JSON's notation is judged by its digits as sent, not by the
// double it reads as: 1e-400 reads as 0, and a 30-digit integer as 1.23457e+29.
TEST(BackfillRequest, CountIsJudgedByTheNumberAsSent) {
  const std::string head = R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a",)";
  EXPECT_EQ(ErrorOf(head + R"("count":1e-400})"),
            "count must be a whole number of sessions, not 1e-400");
  const std::string tiny = "0." + std::string(400, '0') + "1";
  EXPECT_EQ(ErrorOf(head + R"("count":)" + tiny + "}"),
            "count must be a whole number of sessions, not 0.000000000000000000000000000000... "
            "(403 bytes)");
  EXPECT_EQ(ErrorOf(head + R"("count":123456789012345678901234567890})"),
            "count must be at most 9007199254740991 (2^53 - 1), not "
            "123456789012345678901234567890");
  const std::string huge = ErrorOf(head + R"("count":)" + std::string(65000, '9') + "}");
  EXPECT_EQ(huge.rfind("count must be at most 9007199254740991 (2^53 - 1), not 999", 0), 0u)
      << huge;
  EXPECT_NE(huge.find("(65000 bytes)"), std::string::npos) << huge;
  EXPECT_EQ(ErrorOf(head + R"("count":1.0000000000000000001})"),
            "count must be a whole number of sessions, not 1.0000000000000000001");
  EXPECT_EQ(ErrorOf(head + R"("count":-1e-400})"), "count must be 0 or more, not -1e-400");
  // Integral forms keep working, exactly.
  EXPECT_EQ(Parse(head + R"("count":2.0})").count, 2u);
  EXPECT_EQ(Parse(head + R"("count":1E3})").count, 1000u);
  EXPECT_EQ(Parse(head + R"("count":150e-1})").count, 15u);
  EXPECT_EQ(Parse(head + R"("count":0.0e999})").count, 0u);
  EXPECT_EQ(Parse(head + R"("count":-0.0})").count, 0u);
  EXPECT_EQ(Parse(head + R"("count":9007199254740991.000})").count, 9007199254740991u);
  EXPECT_EQ(Parse(head + R"("count":90071992547409910e-1})").count, 9007199254740991u);
  EXPECT_EQ(ErrorOf(head + R"("count":9007199254740992.0})"),
            "count must be at most 9007199254740991 (2^53 - 1), not 9007199254740992.0");
  EXPECT_EQ(ErrorOf(head + R"("count":1e400})"),
            "count must be at most 9007199254740991 (2^53 - 1), not 1e400");
}

TEST(BackfillRequest, CountMustNotBeNegative) {
  EXPECT_EQ(
      ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a","count":-1})"),
      "count must be 0 or more, not -1");
  EXPECT_EQ(
      Parse(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a","count":0})")
          .count,
      0u);
}

// Offsets run from -18:00 to +18:00, as in java.time (Digdag refuses the rest).
TEST(BackfillRequest, FromTimeOffsetsBeyond18HoursAreRefused) {
  for (const char* offset : {"+18:30", "-18:59", "+1801", "-18:01"}) {
    EXPECT_EQ(ErrorOf(std::string(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00)") + offset +
                      R"(","attemptName":"fix"})"),
              std::string("fromTime has the offset ") + offset +
                  ": an offset must be from -18:00 to +18:00")
        << offset;
  }
  EXPECT_EQ(Parse(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00+18:00","attemptName":"f"})")
                .from_time->seconds,
            1451541600);
  EXPECT_EQ(Parse(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00-1800","attemptName":"f"})")
                .from_time->seconds,
            1451671200);
}

TEST(BackfillRequest, FromTimeNeedsAnOffsetAndARealDate) {
  const std::string bad_shape =
      "an ISO-8601 date-time with an offset, like 2016-01-01T00:00:00+09:00 or "
      "2016-01-01T00:00:00Z";
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2024-01-08T00:00:00","attemptName":"fix"})"),
            "fromTime must have an offset or Z: must be " + bad_shape);
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-02-30T00:00:00Z","attemptName":"fix"})"),
            "fromTime is not a valid date-time: 2016-02-30T00:00:00Z");
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T24:00:00Z","attemptName":"fix"})"),
            "fromTime is not a valid date-time: 2016-01-01T24:00:00Z");
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01","attemptName":"fix"})"),
            "fromTime must be " + bad_shape);
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Zjunk","attemptName":"fix"})"),
            "fromTime has trailing characters: must be " + bad_shape);
  EXPECT_EQ(
      ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00+25:00","attemptName":"fix"})"),
      "fromTime has the offset +25:00: an offset must be from -18:00 to +18:00");
  // 2016 is a leap year.
  EXPECT_EQ(Parse(R"({"dryRun":true,"fromTime":"2016-02-29T00:00:00-05:30","attemptName":"fix"})")
                .from_time->seconds,
            1456723800);
}

TEST(BackfillRequest, AttemptNameLengthAndControlCharacters) {
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":""})"),
            "attemptName must be 1 to 255 characters long, not 0");
  const std::string long_name(256, 'x');
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":")" +
                    long_name + "\"}"),
            "attemptName must be 1 to 255 characters long, not 256");
  // 255 characters of two bytes each are 255 characters, not 510.
  std::string accented;
  for (int i = 0; i < 255; ++i) accented += "\xc3\xa9";
  EXPECT_EQ(Parse(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":")" + accented +
                  "\"}")
                .attempt_name->size(),
            510u);
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a\tb"})"),
            "attemptName must not contain control characters");
  EXPECT_EQ(
      ErrorOf(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a\u0085b"})"),
      "attemptName must not contain control characters");
  // C1 is U+0080 to U+009F, both ends included; U+00A0 (no-break space) is no control character.
  for (const char* c1 : {"\\u0080", "\\u009f", "\\u009F"}) {
    EXPECT_EQ(ErrorOf(std::string(
                          R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a)") +
                      c1 + "b\"}"),
              "attemptName must not contain control characters")
        << c1;
  }
  EXPECT_EQ(Parse(R"({"dryRun":true,"fromTime":"2016-01-01T00:00:00Z","attemptName":"a\u00a0b"})")
                .attempt_name,
            "a\xc2\xa0"
            "b");
}

TEST(BackfillRequest, CrossFieldRules) {
  EXPECT_EQ(
      ErrorOf(R"({"advanceSchedule":true,"skipExisting":true,"attemptName":"x","dryRun":true})"),
      "attemptName must not be given when advanceSchedule is true");
  EXPECT_EQ(ErrorOf(R"({"advanceSchedule":true,"dryRun":true})"),
            "advanceSchedule requires skipExisting: true");
  EXPECT_EQ(ErrorOf(R"({"fromTime":"2024-01-08T00:00:00+09:00","dryRun":true})"),
            "attemptName is required unless skipExisting is true");
  EXPECT_EQ(ErrorOf(R"({"attemptName":"x","dryRun":true})"),
            "fromTime is required unless advanceSchedule is true");
  // Advance mode needs neither fromTime nor attemptName.
  BackfillRequest r = Parse(R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false})");
  EXPECT_TRUE(r.advance_schedule);
  EXPECT_FALSE(r.from_time);
  EXPECT_FALSE(r.attempt_name);
}

TEST(BackfillRequest, BodyMustBeAJsonObjectWithinLimits) {
  EXPECT_EQ(ErrorOf("[1,2]"), "request body must be a JSON object, not an array");
  EXPECT_EQ(ErrorOf("").rfind("request body is not valid JSON", 0), 0u);
  EXPECT_EQ(ErrorOf(R"({"dryRun":true,)").rfind("request body is not valid JSON", 0), 0u);
  Refusal::Reason reason = Refusal::kInvalid;
  std::string big = R"({"dryRun":true,"attemptName":")" + std::string(kMaxBodyBytes, 'a') + "\"}";
  EXPECT_EQ(ErrorOf(big, &reason), "request body is larger than 65536 bytes");
  EXPECT_EQ(reason, Refusal::kTooLarge);
  std::string deep(40, '[');
  EXPECT_EQ(ErrorOf(R"({"dryRun":)" + deep).rfind("request body is not valid JSON", 0), 0u);
}

}  // namespace
}  // namespace wfp::backfill
