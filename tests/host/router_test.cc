// Route templates and matching.
#include "runtime/router.h"

#include <gtest/gtest.h>

namespace wfp::host {
namespace {

int32_t H1(void*, const wfp_request*, wfp_call*) { return 0; }
int32_t H2(void*, const wfp_request*, wfp_call*) { return 0; }

TEST(RouteTemplate, ParsesLiteralAndParameterSegments) {
  Result<std::vector<RouteSegment>> parsed = ParseRouteTemplate("/api/schedules/{id}/backfill");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const std::vector<RouteSegment>& s = *parsed;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_FALSE(s[0].is_param);
  EXPECT_EQ(s[0].text, "api");
  EXPECT_TRUE(s[2].is_param);
  EXPECT_EQ(s[2].text, "id");
  Result<std::vector<RouteSegment>> root = ParseRouteTemplate("/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->empty());
}

TEST(RouteTemplate, RejectsMalformedTemplates) {
  for (const char* bad : {"", "api", "/a//b", "/a/", "/{}", "/{1x}", "/a{id}", "/{id}/{id}", "/a b",
                          "/a?b", "/{i-d}", "/%41"}) {
    const Result<std::vector<RouteSegment>> parsed = ParseRouteTemplate(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), WFP_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_FALSE(parsed.status().message().empty()) << bad;
  }
}

TEST(Router, ConflictsOnTheSameMethodAndShape) {
  Router r;
  EXPECT_TRUE(r.Add("POST", "/s/{id}/b", H1, nullptr, 1).ok());
  const Status conflict = r.Add("POST", "/s/{x}/b", H2, nullptr, 2);
  EXPECT_EQ(conflict.code(), WFP_ERR_CONFLICT);
  EXPECT_NE(conflict.message().find("registered already"), std::string::npos);
  EXPECT_TRUE(r.Add("GET", "/s/{x}/b", H2, nullptr, 2).ok());
  EXPECT_TRUE(r.Add("POST", "/s/lit/b", H2, nullptr, 2).ok());
  EXPECT_EQ(r.Add("PO ST", "/x", H2, nullptr, 2).code(), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.Add("POST", "/x", nullptr, nullptr, 2).code(), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(r.size(), 3u);
}

TEST(Router, MatchesAndExtractsDecodedParameters) {
  Router r;
  ASSERT_TRUE(r.Add("POST", "/api/schedules/{id}/backfill", H1, nullptr, 1).ok());
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
  ASSERT_TRUE(r.Add("PUT", "/a/{id}", H1, nullptr, 1).ok());
  ASSERT_TRUE(r.Add("DELETE", "/a/{id}", H1, nullptr, 1).ok());
  auto m = r.Find("GET", "/a/1");
  EXPECT_EQ(m.kind, Router::MatchKind::kNoMethod);
  EXPECT_EQ(m.allow, "DELETE, PUT");
  EXPECT_EQ(m.route, nullptr);  // nothing to call
}

// A path known for other methods names its template (for the metrics' and the log's route label):
// the most specific one, as a request of that method would have matched.
TEST(Router, AKnownPathWithAnotherMethodNamesItsTemplate) {
  Router r;
  ASSERT_TRUE(r.Add("PUT", "/a/{id}", H1, nullptr, 1).ok());
  ASSERT_TRUE(r.Add("DELETE", "/a/latest", H1, nullptr, 1).ok());
  EXPECT_EQ(r.Find("GET", "/a/1").path_template(), "/a/{id}");
  EXPECT_EQ(r.Find("GET", "/a/latest").path_template(), "/a/latest");
  EXPECT_EQ(r.Find("PUT", "/a/latest").path_template(), "/a/{id}");  // found
  EXPECT_EQ(r.Find("GET", "/b").path_template(), "");                // no such path
}

TEST(Router, ALiteralSegmentBeatsAParameter) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/a/{id}", H1, nullptr, 1).ok());
  ASSERT_TRUE(r.Add("GET", "/a/latest", H2, nullptr, 1).ok());
  EXPECT_EQ(r.Find("GET", "/a/latest").route->handler, &H2);
  EXPECT_EQ(r.Find("GET", "/a/7").route->handler, &H1);
}

TEST(Router, RemoveOwnerDropsOnlyThatOwnersRoutes) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/a", H1, nullptr, 1).ok());
  ASSERT_TRUE(r.Add("GET", "/b", H2, nullptr, 2).ok());
  r.RemoveOwner(1);
  EXPECT_EQ(r.Find("GET", "/a").kind, Router::MatchKind::kNoPath);
  EXPECT_EQ(r.Find("GET", "/b").kind, Router::MatchKind::kFound);
}

}  // namespace
}  // namespace wfp::host
