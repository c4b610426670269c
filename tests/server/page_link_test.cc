// Links to the backfill page: what the page's fragment reader (URLSearchParams) gets back.
#include "server/page_link.h"

#include <gtest/gtest.h>

namespace wfp::host {
namespace {

TEST(PageLinkTest, CarriesTheKeyScheduleAndFromTime) {
  PageLinkFields f;
  f.api_key = "demo-key";
  f.schedule_id = "1";
  f.from_time = "2026-11-27T00:00:00+09:00";
  EXPECT_EQ(BackfillPageLink("http://127.0.0.1:8080", f),
            "http://127.0.0.1:8080/ui/"
            "backfill#apiKey=demo-key&schedule=1&from=2026-11-27T00:00:00%2B09:00");
}

TEST(PageLinkTest, CarriesEveryFieldOfTheRequestEncoded) {
  PageLinkFields f;
  f.api_key = "k&y=1 +/";
  f.schedule_id = "42";
  f.from_time = "2024-01-08T00:00:00Z";
  f.attempt_name = "fix #1 ü";
  f.count = 0;
  f.skip_existing = true;
  f.advance = true;
  EXPECT_EQ(BackfillPageLink("http://h:1/", f),
            "http://h:1/ui/backfill#apiKey=k%26y%3D1%20%2B%2F&schedule=42&from=2024-01-08T00:00:00Z"
            "&name=fix%20%231%20%C3%BC&count=0&skipExisting=1&advance=1");
}

TEST(PageLinkTest, LeavesOutWhatTheRequestLeavesOut) {
  PageLinkFields f;
  f.schedule_id = "3";
  f.skip_existing = true;
  f.advance = true;
  EXPECT_EQ(BackfillPageLink("http://h:1/base/", f),
            "http://h:1/base/ui/backfill#schedule=3&skipExisting=1&advance=1");
}

}  // namespace
}  // namespace wfp::host
