#include "wfp_text/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace wfp::text {
namespace {

TEST(Utf8, ValidatesWellFormedUtf8Only) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80"));  // é 日 😀
  EXPECT_FALSE(IsValidUtf8("\xff\xfe"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE6\x97"));          // cut short
}

TEST(Utf8, ReplacesEachBadByteWithAReplacementCharacter) {
  EXPECT_EQ(ToValidUtf8("a\xff"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ToValidUtf8("\xE6\x97\xA5"), "\xE6\x97\xA5");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xff\xfe\xC0\xAF\xED\xA0\x80")));
}

TEST(Utf8, AnExcerptIsShortValidAndFreeOfControls) {
  EXPECT_EQ(Excerpt("dryRun"), "dryRun");
  EXPECT_EQ(Excerpt("\xff\xfe", 64), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Excerpt("a\nb\x7f"
                    "c\xC2\x85"),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD");
  const std::string long_name(5000, 'x');
  EXPECT_EQ(Excerpt(long_name, 8), "xxxxxxxx... (5000 bytes)");
  // Cut by code points, never inside one.
  EXPECT_EQ(Excerpt("\xE6\x97\xA5\xE6\x97\xA5\xE6\x97\xA5", 2),
            "\xE6\x97\xA5\xE6\x97\xA5... (9 bytes)");
}

}  // namespace
}  // namespace wfp::text
