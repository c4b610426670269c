// Route templates and matching.
#include "runtime/router.h"

#include <gtest/gtest.h>

namespace wfp::host {
namespace {

int32_t H1(void*, const wfp_request*, wfp_call*) { return 0; }
int32_t H2(void*, const wfp_request*, wfp_call*) { return 0; }

TEST(RouteTemplate, ParsesLiteralAndParameterSegments) {
  std::vector<RouteSegment> s;
  std::string error;
  ASSERT_TRUE(ParseRouteTemplate("/api/schedules/{id}/backfill", &s, &error)) << error;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_FALSE(s[0].is_param);
  EXPECT_EQ(s[0].text, "api");
  EXPECT_TRUE(s[2].is_param);
  EXPECT_EQ(s[2].text, "id");
  ASSERT_TRUE(ParseRouteTemplate("/", &s, &error));
  EXPECT_TRUE(s.empty());
}

TEST(RouteTemplate, RejectsMalformedTemplates) {
  std::vector<RouteSegment> s;
  std::string error;
  for (const char* bad : {"", "api", "/a//b", "/a/", "/{}", "/{1x}", "/a{id}", "/{id}/{id}", "/a b",
                          "/a?b", "/{i-d}", "/%41"}) {
    EXPECT_FALSE(ParseRouteTemplate(bad, &s, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(Router, ConflictsOnTheSameMethodAndShape) {
  Router r;
  std::string error;
  EXPECT_EQ(r.Add("POST", "/s/{id}/b", H1, nullptr, 1, &error), Router::AddResult::kOk);
  EXPECT_EQ(r.Add("POST", "/s/{x}/b", H2, nullptr, 2, &error), Router::AddResult::kConflict);
  EXPECT_NE(error.find("registered already"), std::string::npos);
  EXPECT_EQ(r.Add("GET", "/s/{x}/b", H2, nullptr, 2, &error), Router::AddResult::kOk);
  EXPECT_EQ(r.Add("POST", "/s/lit/b", H2, nullptr, 2, &error), Router::AddResult::kOk);
  EXPECT_EQ(r.Add("PO ST", "/x", H2, nullptr, 2, &error), Router::AddResult::kInvalid);
  EXPECT_EQ(r.Add("POST", "/x", nullptr, nullptr, 2, &error), Router::AddResult::kInvalid);
  EXPECT_EQ(r.size(), 3u);
}

TEST(Router, MatchesAndExtractsDecodedParameters) {
  Router r;
  std::string error;
  ASSERT_EQ(r.Add("POST", "/api/schedules/{id}/backfill", H1, nullptr, 1, &error),
            Router::AddResult::kOk);
  auto m = r.Find("POST", "/api/schedules/5/backfill");
  ASSERT_EQ(m.kind, Router::MatchKind::kFound);
  EXPECT_EQ(m.route->handler, &H1);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "5");
  m = r.Find("POST", "/api/schedules/a%2Fb%zz/backfill");
  ASSERT_EQ(m.kind, Router::MatchKind::kFound);
  EXPECT_EQ(m.params[0].second, "a/b%zz");
  // A template matches whatever the parameter holds; the plugin validates it.
  EXPECT_EQ(r.Find("POST", "/api/schedules/abc/backfill").kind, Router::MatchKind::kFound);
  EXPECT_EQ(r.Find("POST", "/api/schedules//backfill").kind, Router::MatchKind::kNoPath);
  EXPECT_EQ(r.Find("POST", "/api/schedules/5").kind, Router::MatchKind::kNoPath);
  EXPECT_EQ(r.Find("POST", "/api/schedules/5/backfill/").kind, Router::MatchKind::kNoPath);
  EXPECT_EQ(r.Find("POST", "api/schedules/5/backfill").kind, Router::MatchKind::kNoPath);
}

TEST(Router, OtherMethodsListTheAllowedOnesSorted) {
  Router r;
  std::string error;
  r.Add("PUT", "/a/{id}", H1, nullptr, 1, &error);
  r.Add("DELETE", "/a/{id}", H1, nullptr, 1, &error);
  auto m = r.Find("GET", "/a/1");
  EXPECT_EQ(m.kind, Router::MatchKind::kNoMethod);
  EXPECT_EQ(m.allow, "DELETE, PUT");
}

TEST(Router, ALiteralSegmentBeatsAParameter) {
  Router r;
  std::string error;
  r.Add("GET", "/a/{id}", H1, nullptr, 1, &error);
  r.Add("GET", "/a/latest", H2, nullptr, 1, &error);
  EXPECT_EQ(r.Find("GET", "/a/latest").route->handler, &H2);
  EXPECT_EQ(r.Find("GET", "/a/7").route->handler, &H1);
}

TEST(Router, RemoveOwnerDropsOnlyThatOwnersRoutes) {
  Router r;
  std::string error;
  r.Add("GET", "/a", H1, nullptr, 1, &error);
  r.Add("GET", "/b", H2, nullptr, 2, &error);
  r.RemoveOwner(1);
  EXPECT_EQ(r.Find("GET", "/a").kind, Router::MatchKind::kNoPath);
  EXPECT_EQ(r.Find("GET", "/b").kind, Router::MatchKind::kFound);
}

}  // namespace
}  // namespace wfp::host
