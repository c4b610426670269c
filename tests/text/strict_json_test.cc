#include "wfp_text/strict_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace wfp::text {
namespace {

JsonProblem ProblemOf(std::string_view text) {
  JsonProblem p;
  boost::json::value v;
  EXPECT_FALSE(ParseStrictJson(text, &v, &p)) << text;
  EXPECT_FALSE(CheckStrictJson(text, nullptr)) << text;
  return p;
}

TEST(StrictJson, ParsesWhatBoostJsonParses) {
  for (const std::string text : {R"({"a":1,"b":[1,2,{"a":2}],"c":{"a":3}})", "[]", "7", R"("x")",
                                 R"([{"a":1},{"a":1}])", R"({"":1,"a":{"":2}})"}) {
    boost::json::value v;
    JsonProblem p;
    ASSERT_TRUE(ParseStrictJson(text, &v, &p)) << text << ": " << Describe(p);
    EXPECT_EQ(v, boost::json::parse(text)) << text;
  }
}

TEST(StrictJson, RefusesADuplicateKeyWithThePathOfItsObject) {
  JsonProblem p = ProblemOf(R"({"dryRun":true,"dryRun":false})");
  EXPECT_EQ(p.duplicate_key, "dryRun");
  EXPECT_EQ(p.object_path, "$");
  EXPECT_EQ(Describe(p), "duplicate key 'dryRun' in $");
  p = ProblemOf(R"({"sessions":[{"id":1},{"id":2,"attempts":[],"id":3}]})");
  EXPECT_EQ(p.duplicate_key, "id");
  EXPECT_EQ(p.object_path, "$.sessions[1]");
  p = ProblemOf(R"({"a":{"b":[[],[{"x":1,"x":1}]]}})");
  EXPECT_EQ(p.object_path, "$.a.b[1][0]");
  p = ProblemOf(R"({"":1,"":2})");
  EXPECT_EQ(Describe(p), "duplicate key '' in $");
  // Escapes are compared decoded: "\u0061" is "a".
  EXPECT_EQ(ProblemOf(R"({"a":1,"\u0061":2})").duplicate_key, "a");
}

TEST(StrictJson, ADuplicateKeyIsEchoedShort) {
  const std::string key(5000, 'k');
  const JsonProblem p = ProblemOf("{\"" + key + "\":1,\"" + key + "\":2}");
  EXPECT_LT(p.duplicate_key.size(), 100u);
}

TEST(StrictJson, SyntaxErrorsAndLimitsAreReported) {
  EXPECT_FALSE(ProblemOf("{not json").syntax.empty());
  EXPECT_FALSE(ProblemOf("{} {}").syntax.empty());
  EXPECT_FALSE(ProblemOf("\"\xff\"").syntax.empty());  // not UTF-8
  boost::json::parse_options shallow;
  shallow.max_depth = 2;
  boost::json::value v;
  JsonProblem p;
  EXPECT_FALSE(ParseStrictJson("[[[1]]]", &v, &p, shallow));
  EXPECT_FALSE(p.syntax.empty());
}

// A syntax error says where (the offset of the byte, from 0, where the parser stopped); bytes that
// are not UTF-8, and a byte order mark, say so.
TEST(StrictJson, SyntaxErrorsSayWhereAndWhy) {
  EXPECT_EQ(Describe(ProblemOf("{\"a\":tru}")), "syntax error at byte 5");
  EXPECT_EQ(Describe(ProblemOf("{} {}")), "extra data after the JSON value at byte 3");
  EXPECT_EQ(Describe(ProblemOf("{\"a\":\"x\xff\"}")), "invalid UTF-8 at byte 7");
  EXPECT_EQ(Describe(ProblemOf("{\"a\":\"\xed\xa0\x80\"}")), "invalid UTF-8 at byte 6");  // CESU
  EXPECT_EQ(Describe(ProblemOf("\xef\xbb\xbf{}")),
            "the text starts with a byte order mark (U+FEFF): JSON is sent without one");
}

// Numbers read as doubles are given as sent too, by their place: a double cannot say what was sent.
TEST(StrictJson, GivesTheTextOfNumbersReadAsDoubles) {
  boost::json::value v;
  JsonProblem p;
  NumberTexts doubles;
  ASSERT_TRUE(
      ParseStrictJson(R"({"a":1e-400,"b":[1,2.50,{"c":123456789012345678901234567890}],"d":3})", &v,
                      &p, {}, &doubles));
  EXPECT_EQ(doubles, (NumberTexts{{"$.a", "1e-400"},
                                  {"$.b[1]", "2.50"},
                                  {"$.b[2].c", "123456789012345678901234567890"}}));
  doubles.clear();
  ASSERT_TRUE(ParseStrictJson("-0.5", &v, &p, {}, &doubles));
  EXPECT_EQ(doubles, (NumberTexts{{"$", "-0.5"}}));
}

}  // namespace
}  // namespace wfp::text
