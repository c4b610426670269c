#include "backfill/render.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "backfill/session_uuid.h"
#include "backfill/time_format.h"

namespace wfp::backfill {
namespace {

Instant T(std::string_view s) {
  std::string why;
  return ParseIsoInstant(s, &why)->seconds;
}

TEST(RenderBackfillResponse, MatchesTheSpecShapeExactly) {
  auto compiled =
      schedule::Schedule::Parse(boost::json::parse(R"({"daily>":"09:00:00"})"), "Asia/Tokyo");
  const auto& schedule = std::get<schedule::Schedule>(compiled);
  Plan plan;
  PlannedItem created;
  created.session_time = T("2024-01-08T00:00:00+09:00");
  created.action = Action::kReuseSession;  // a reused session: its UUID is the stored one
  created.session_id = 100;
  created.attempt_id = 1000;
  created.index = 1;
  PlannedItem skipped;
  skipped.session_time = T("2024-01-09T00:00:00+09:00");
  skipped.action = Action::kSkip;
  skipped.session_id = 101;
  plan.items = {created, skipped};
  plan.reused_uuids = {"2b91a014-076e-4c6d-8b51-f4f91089cab2"};
  plan.pointer_after = {T("2024-01-11T00:00:00+09:00"), T("2024-01-11T00:00:00Z"), std::nullopt};
  ResponseContext c;
  c.schedule_id = 5;
  c.project_id = 1;
  c.project_name = "etl";
  c.workflow_id = 11;
  c.workflow_name = "load";
  c.pool_id = "42";
  c.attempt_name = "fix-1";
  c.created_at = T("2024-01-12T03:00:00Z");
  EXPECT_EQ(
      RenderBackfillResponse(schedule, c, plan),
      R"({"id":"5","project":{"id":"1","name":"etl"},"workflow":{"id":"11","name":"load"},)"
      R"("nextScheduleTime":"2024-01-11T00:00:00+09:00","nextRunTime":"2024-01-11T00:00:00Z",)"
      R"("attempts":[{"id":"1000","index":1,"project":{"id":"1","name":"etl"},"workflow":{"name":"load","id":"11"},)"
      R"("sessionId":"100","sessionUuid":"2b91a014-076e-4c6d-8b51-f4f91089cab2","sessionTime":"2024-01-08T00:00:00+09:00",)"
      R"("retryAttemptName":"fix-1","done":false,"success":false,"cancelRequested":false,)"
      R"("params":{"last_session_time":"2024-01-07T00:00:00+09:00","next_session_time":"2024-01-09T00:00:00+09:00"},)"
      R"("createdAt":"2024-01-12T03:00:00Z","finishedAt":null,"status":"queued","poolId":"42"}],)"
      R"("skipped":[{"sessionTime":"2024-01-09T00:00:00+09:00","sessionId":"101","reason":"session already has attempts"}]})");

  // No pool: poolId omitted; unnamed attempt: retryAttemptName null; dry run: id "0".
  c.pool_id.reset();
  c.attempt_name.reset();
  plan.items[0].attempt_id = 0;
  const std::string dry = RenderBackfillResponse(schedule, c, plan);
  const auto attempt = boost::json::parse(dry).at("attempts").at(0).as_object();
  EXPECT_EQ(attempt.at("id").as_string(), "0");
  EXPECT_TRUE(attempt.at("retryAttemptName").is_null());
  EXPECT_FALSE(attempt.contains("poolId"));
}

TEST(RenderBackfillResponse, EscapesNames) {
  auto compiled = schedule::Schedule::Parse(boost::json::parse(R"({"daily>":"09:00:00"})"), "UTC");
  ResponseContext c;
  c.project_name = "a\"b\\c";
  c.workflow_name = "w\u00e9";
  const std::string out = RenderBackfillResponse(std::get<schedule::Schedule>(compiled), c, Plan{});
  const auto v = boost::json::parse(out);
  EXPECT_EQ(v.at("project").at("name").as_string(), "a\"b\\c");
  EXPECT_EQ(v.at("attempts").as_array().size(), 0u);
  EXPECT_EQ(v.at("skipped").as_array().size(), 0u);
}

// Long names make each attempt's text long; an empty plan (count 0) with them still renders.
TEST(RenderBackfillResponse, AnEmptyPlanWithLongNamesRenders) {
  auto compiled = schedule::Schedule::Parse(boost::json::parse(R"({"daily>":"09:00:00"})"), "UTC");
  ResponseContext c;
  c.project_name = std::string(300, 'p');
  c.workflow_name = std::string(300, 'w');
  c.attempt_name = std::string(255, '"');  // escaped: 510 bytes
  for (size_t chunk : {size_t{4096}, SIZE_MAX}) {
    std::string out;
    RenderBackfillResponse(std::get<schedule::Schedule>(compiled), c, Plan{}, chunk,
                           [&out](std::string_view piece) { out.append(piece); });
    const auto v = boost::json::parse(out);
    EXPECT_EQ(v.at("project").at("name").as_string(), c.project_name) << chunk;
    EXPECT_EQ(v.at("attempts").as_array().size(), 0u) << chunk;
  }
}

TEST(RenderBackfillResponse, NewSessionsShowTheUuidOfTheirPositionUnderThePlansSeed) {
  // The writer stores NewSessionUuid(seed, position) for a new session; the answer must show the
  // same UUID, and a reused session's stored one.
  auto compiled = schedule::Schedule::Parse(boost::json::parse(R"({"daily>":"00:00:00"})"), "UTC");
  Plan plan;
  plan.uuid_seed[0] = 0x0123456789abcdefULL;
  plan.uuid_seed[1] = 42;
  for (int i = 0; i < 3; ++i) {
    PlannedItem item;
    item.session_time = T("2024-01-01T00:00:00Z") + 86400 * i;
    item.action = i == 1 ? Action::kReuseSession : Action::kCreateSession;
    item.index = 1;
    plan.items.push_back(item);
  }
  plan.reused_uuids = {"stored-uuid"};
  const auto v = boost::json::parse(
      RenderBackfillResponse(std::get<schedule::Schedule>(compiled), ResponseContext{}, plan));
  const auto& attempts = v.at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].at("sessionUuid").as_string(), NewSessionUuid(plan.uuid_seed, 0));
  EXPECT_EQ(attempts[1].at("sessionUuid").as_string(), "stored-uuid");
  EXPECT_EQ(attempts[2].at("sessionUuid").as_string(), NewSessionUuid(plan.uuid_seed, 2));
  EXPECT_NE(attempts[0].at("sessionUuid"), attempts[2].at("sessionUuid"));
}

TEST(NewSessionUuid, IsAVersion4UuidThatDiffersByPositionAndSeed) {
  const uint64_t seed[2] = {1, 2};
  const uint64_t other[2] = {1, 3};
  std::set<std::string> seen;
  for (size_t i = 0; i < 10000; ++i) {
    const std::string u = NewSessionUuid(seed, i);
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[13], '-');
    EXPECT_EQ(u[14], '4') << u;  // version 4
    EXPECT_EQ(u[18], '-');
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;  // variant 10xx
    EXPECT_EQ(u[23], '-');
    EXPECT_EQ(u, NewSessionUuid(seed, i));  // the writer and the renderer agree
    seen.insert(u);
    seen.insert(NewSessionUuid(other, i));
  }
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(RenderError, IsMessageAndStatus) {
  EXPECT_EQ(RenderError(404, "Resource does not exist: schedule id=5"),
            R"({"message":"Resource does not exist: schedule id=5","status":404})");
  EXPECT_EQ(RenderError(400, "bad \"x\""), R"({"message":"bad \"x\"","status":400})");
}

}  // namespace
}  // namespace wfp::backfill

namespace wfp::backfill {
namespace {

TEST(RenderBackfillResponse, StreamsInChunksThatAddUpToTheWhole) {
  auto compiled =
      schedule::Schedule::Parse(boost::json::parse(R"({"hourly>":"05:00"})"), "Europe/Berlin");
  const auto& schedule = std::get<schedule::Schedule>(compiled);
  Plan plan;
  for (int i = 0; i < 200; ++i) {
    PlannedItem item;
    item.session_time = T("2016-03-27T00:00:00Z") + 3600 * i;
    item.action = i % 7 == 3 ? Action::kSkip : Action::kCreateSession;
    item.session_id = 1000 + i;
    item.index = 1;
    item.blocked = i > 0;
    plan.items.push_back(item);
  }
  ResponseContext c;
  c.attempt_name = "a";
  const std::string whole = RenderBackfillResponse(schedule, c, plan);
  std::vector<std::string> pieces;
  RenderBackfillResponse(schedule, c, plan, 4096,
                         [&](std::string_view p) { pieces.emplace_back(p); });
  ASSERT_GT(pieces.size(), 5u);
  std::string joined;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i + 1 < pieces.size()) {
      EXPECT_GE(pieces[i].size(), 4096u);
    }
    EXPECT_LT(pieces[i].size(), 4096u + 1024u);
    joined += pieces[i];
  }
  EXPECT_EQ(joined, whole);
  EXPECT_EQ(boost::json::parse(whole).at("skipped").as_array().size(),
            29u);  // i % 7 == 3 for i < 200
}

}  // namespace
}  // namespace wfp::backfill
