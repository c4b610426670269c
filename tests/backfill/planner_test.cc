// The planner against the worked examples of docs/route.md ("Worked examples") (daily> 09:00:00 in
// Asia/Tokyo, pointer at 2024-01-11T00:00:00+09:00, clock 2024-01-12T03:00:00Z) and the rules of
// docs/route.md.
#include "backfill/planner.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "backfill/time_format.h"

namespace wfp::backfill {
namespace {

Instant T(std::string_view s) {
  std::string why;
  auto t = ParseIsoInstant(s, &why);
  EXPECT_TRUE(t) << why;
  return t->seconds;
}

schedule::Schedule Compile(std::string_view definition, std::string_view zone) {
  auto r = schedule::Schedule::Parse(boost::json::parse(definition), zone);
  if (auto* e = std::get_if<schedule::ParseError>(&r)) ADD_FAILURE() << e->message;
  return std::get<schedule::Schedule>(r);
}

BackfillRequest Request(std::string_view body) {
  auto r = ParseBackfillRequest(body);
  if (auto* e = std::get_if<Refusal>(&r)) ADD_FAILURE() << e->message;
  return std::get<BackfillRequest>(r);
}

class BackfillPlanner : public ::testing::Test {
 protected:
  BackfillPlanner() : schedule_(Compile(R"({"daily>":"09:00:00"})", "Asia/Tokyo")) {
    context_.project_id = 1;
    context_.workflow_name = "load";
    context_.pointer = {T("2024-01-11T00:00:00+09:00"), T("2024-01-11T00:00:00Z"), std::nullopt};
  }

  std::variant<std::vector<Instant>, Refusal> Candidates(std::string_view body,
                                                         uint64_t max = kDefaultMaxSessions) {
    return EnumerateCandidates(schedule_, Request(body), context_.pointer, now_, max);
  }
  std::vector<std::string> Times(std::string_view body) {
    auto r = Candidates(body);
    if (auto* e = std::get_if<Refusal>(&r)) {
      ADD_FAILURE() << e->message;
      return {};
    }
    std::vector<std::string> out;
    for (Instant t : std::get<std::vector<Instant>>(r)) out.push_back(schedule_.FormatLocal(t));
    return out;
  }
  std::string ErrorOf(std::string_view body) {
    auto r = Candidates(body);
    auto* e = std::get_if<Refusal>(&r);
    return e ? e->message : "";
  }
  std::variant<Plan, Refusal> PlanFor(std::string_view body,
                                      const std::vector<ExistingSession>& existing,
                                      std::optional<Instant> latest_before = std::nullopt) {
    const BackfillRequest request = Request(body);
    auto c = EnumerateCandidates(schedule_, request, context_.pointer, now_, kDefaultMaxSessions);
    return BuildPlan(schedule_, context_, request, std::get<std::vector<Instant>>(c), existing,
                     latest_before);
  }

  schedule::Schedule schedule_;
  PlanContext context_;
  Instant now_ = T("2024-01-12T03:00:00Z");
};

const char* kFix = R"({"fromTime":"2024-01-08T00:00:00+09:00","attemptName":"fix","dryRun":false)";

std::string With(std::string_view extra) { return std::string(kFix) + std::string(extra) + "}"; }

TEST_F(BackfillPlanner, CandidatesRunFromFirstToBeforeThePointer) {
  EXPECT_EQ(Times(With("")),
            (std::vector<std::string>{"2024-01-08T00:00:00+09:00", "2024-01-09T00:00:00+09:00",
                                      "2024-01-10T00:00:00+09:00"}));
}

TEST_F(BackfillPlanner, FromTimeEqualToARunTimeIncludesIt) {
  EXPECT_EQ(Times(R"({"fromTime":"2024-01-08T09:00:00+09:00","attemptName":"fix","dryRun":false})")
                .size(),
            3u);
  EXPECT_EQ(Times(R"({"fromTime":"2024-01-08T09:00:01+09:00","attemptName":"fix","dryRun":false})"),
            (std::vector<std::string>{"2024-01-09T00:00:00+09:00", "2024-01-10T00:00:00+09:00"}));
  // A fraction past the run time misses it.
  EXPECT_EQ(
      Times(R"({"fromTime":"2024-01-08T09:00:00.5+09:00","attemptName":"fix","dryRun":false})")
          .size(),
      2u);
}

TEST_F(BackfillPlanner, CountTakesTheFirstCandidates) {
  EXPECT_EQ(Times(With(R"(,"count":2)")).size(), 2u);
  EXPECT_TRUE(Times(With(R"(,"count":0)")).empty());
  EXPECT_EQ(ErrorOf(With(R"(,"count":5)")),
            "count is set to 5 but there are only 3 attempts until the next schedule time");
}

TEST_F(BackfillPlanner, NothingAtOrPastThePointer) {
  EXPECT_TRUE(
      Times(R"({"fromTime":"2024-01-12T00:00:00+09:00","attemptName":"fix","dryRun":false})")
          .empty());
}

TEST_F(BackfillPlanner, AdvanceModeRunsUntilNowFromThePointer) {
  EXPECT_EQ(Times(R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false})"),
            (std::vector<std::string>{"2024-01-11T00:00:00+09:00", "2024-01-12T00:00:00+09:00"}));
  EXPECT_EQ(ErrorOf(R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false,"count":3})"),
            "count is set to 3 but there are only 2 attempts until now");
}

TEST_F(BackfillPlanner, SizeGuardAnswersAtOnceForHugeRanges) {
  schedule_ = Compile(R"({"minutes_interval>":1})", "UTC");
  context_.pointer = {T("2024-01-01T00:00:00Z"), T("2024-01-01T00:00:00Z"), std::nullopt};
  // 28 million candidates exist; the guard stops after max + 1. (The first is 00:01, not 00:00:
  // cron4j truncates -1 s toward zero, as Digdag does.)
  EXPECT_EQ(ErrorOf(R"({"fromTime":"1970-01-01T00:00:00Z","attemptName":"a","dryRun":true})"),
            "this backfill has more than 100000 candidate sessions (from 1970-01-01T00:01:00Z on); "
            "set count, or a "
            "later fromTime, to backfill at most 100000 at once");
  // Under the guard, every candidate: 31 days of minutes.
  EXPECT_EQ(
      std::get<std::vector<Instant>>(
          Candidates(R"({"fromTime":"2023-12-01T00:00:00Z","attemptName":"a","dryRun":true})"))
          .size(),
      44640u);
  // Exactly max candidates pass.
  EXPECT_EQ(
      std::get<std::vector<Instant>>(
          Candidates(R"({"fromTime":"2023-12-31T23:50:00Z","attemptName":"a","dryRun":true})", 10))
          .size(),
      10u);
  auto over =
      Candidates(R"({"fromTime":"2023-12-31T23:49:00Z","attemptName":"a","dryRun":true})", 10);
  EXPECT_TRUE(std::holds_alternative<Refusal>(over));
}

TEST_F(BackfillPlanner, EndedScheduleHasNoCandidatesPastItsEnd) {
  schedule_ = Compile(R"({"daily>":"09:00:00","end":"2024-01-08"})", "Asia/Tokyo");
  EXPECT_EQ(Times(With("")), (std::vector<std::string>{"2024-01-08T00:00:00+09:00"}));
}

TEST_F(BackfillPlanner, NewSessionsQueueTheFirstAndBlockTheRest) {
  auto r = PlanFor(With(""), {});
  const Plan& plan = std::get<Plan>(r);
  ASSERT_EQ(plan.items.size(), 3u);
  EXPECT_EQ(plan.items[0].action, Action::kCreateSession);
  EXPECT_FALSE(plan.items[0].blocked);
  EXPECT_TRUE(plan.items[1].blocked);
  EXPECT_TRUE(plan.items[2].blocked);
  for (const auto& item : plan.items) EXPECT_EQ(item.index, 1);
  EXPECT_EQ(
      ParamsJson(schedule_, plan.items[0]),
      R"({"last_session_time":"2024-01-07T00:00:00+09:00","next_session_time":"2024-01-09T00:00:00+09:00"})");
  EXPECT_EQ(
      ParamsJson(schedule_, plan.items[1]),
      R"({"last_session_time":"2024-01-08T00:00:00+09:00","next_session_time":"2024-01-10T00:00:00+09:00","last_executed_session_time":"2024-01-08T00:00:00+09:00"})");
  EXPECT_FALSE(plan.pointer_moves);
  EXPECT_EQ(plan.pointer_after, context_.pointer);
}

TEST_F(BackfillPlanner, LastExecutedSessionTimeSeesSessionsBeforeAndBetween) {
  // A session before the range, and one at a non-schedule time between two candidates.
  std::vector<ExistingSession> existing = {{200, "u", T("2024-01-08T12:00:00+09:00"), {}}};
  auto r = PlanFor(With(""), existing, T("2024-01-05T00:00:00+09:00"));
  const Plan& plan = std::get<Plan>(r);
  EXPECT_NE(ParamsJson(schedule_, plan.items[0])
                .find(R"("last_executed_session_time":"2024-01-05T00:00:00+09:00")"),
            std::string::npos);
  EXPECT_NE(ParamsJson(schedule_, plan.items[1])
                .find(R"("last_executed_session_time":"2024-01-08T12:00:00+09:00")"),
            std::string::npos);
}

TEST_F(BackfillPlanner, LastExecutedSessionTimeIsTheLatestSessionOfAnyKindBeforeEachCandidate) {
  // Off-schedule sessions between the candidates: before 01-09 the latest is 01-08 18:00 (not
  // 12:00, not the candidate 01-08); before 01-10 it is 01-09 23:00, and a session at exactly
  // 01-10 is that candidate's own, not its predecessor.
  std::vector<ExistingSession> existing = {
      {200, "a", T("2024-01-08T12:00:00+09:00"), {}},
      {201, "b", T("2024-01-08T18:00:00+09:00"), {}},
      {202, "c", T("2024-01-09T23:00:00+09:00"), {}},
      {203, "d", T("2024-01-10T00:00:00+09:00"), {{std::nullopt, 1}}}};
  const Plan plan = std::get<Plan>(PlanFor(With(""), existing, T("2024-01-07T06:00:00+09:00")));
  ASSERT_EQ(plan.items.size(), 3u);
  auto last_executed = [this](const PlannedItem& item) {
    const auto v = boost::json::parse(ParamsJson(schedule_, item));
    const auto* t = v.as_object().if_contains("last_executed_session_time");
    return t ? std::string(t->as_string()) : std::string("<none>");
  };
  EXPECT_EQ(last_executed(plan.items[0]), "2024-01-07T06:00:00+09:00");
  EXPECT_EQ(last_executed(plan.items[1]), "2024-01-08T18:00:00+09:00");
  EXPECT_EQ(last_executed(plan.items[2]), "2024-01-09T23:00:00+09:00");
  EXPECT_EQ(plan.items[2].action, Action::kReuseSession);
  EXPECT_EQ(plan.items[2].session_id, 203);
  // No session before the first candidate: no last_executed_session_time there.
  const Plan none = std::get<Plan>(PlanFor(With(""), {}));
  EXPECT_EQ(last_executed(none.items[0]), "<none>");
}

TEST_F(BackfillPlanner, SameNameAttemptIsAConflictOnTheFirstCandidate) {
  std::vector<ExistingSession> existing = {
      {101, "u1", T("2024-01-09T00:00:00+09:00"), {{"fix", 1}}},
      {102, "u2", T("2024-01-10T00:00:00+09:00"), {{"fix", 1}}}};
  auto r = PlanFor(With(""), existing);
  const auto& e = std::get<Refusal>(r);
  EXPECT_EQ(e.reason, Refusal::kConflict);
  EXPECT_EQ(e.message,
            "Attempt of project id=1 workflow=load instant=2024-01-08T15:00:00Z attempt name=fix "
            "already exists");
}

TEST_F(BackfillPlanner, ReusedSessionGetsTheNextIndexAndKeepsItsIdentity) {
  std::vector<ExistingSession> existing = {
      {102, "uuid-102", T("2024-01-10T00:00:00+09:00"), {{std::nullopt, 1}, {"b", 3}}}};
  const Plan plan = std::get<Plan>(PlanFor(With(""), existing));
  EXPECT_EQ(plan.items[2].action, Action::kReuseSession);
  EXPECT_EQ(plan.items[2].session_id, 102);
  EXPECT_EQ(plan.reused_uuids, std::vector<std::string>{"uuid-102"});
  EXPECT_EQ(plan.items[2].index, 4);
}

TEST_F(BackfillPlanner, SkipExistingReusesASessionWithoutAttempts) {
  // skipExisting with a session without attempts: the session is reused, not skipped.
  std::vector<ExistingSession> existing = {{101, "u", T("2024-01-09T00:00:00+09:00"), {}}};
  const Plan plan = std::get<Plan>(PlanFor(
      R"({"fromTime":"2024-01-08T00:00:00+09:00","skipExisting":true,"dryRun":false})", existing));
  EXPECT_EQ(plan.items[1].action, Action::kReuseSession);
  EXPECT_EQ(plan.items[1].index, 1);
}

TEST_F(BackfillPlanner, ANamedAttemptConflictsWithThatNameOnly) {
  // The unnamed attempt and other names are no conflict for "fix"; only "fix" itself is, and the
  // name is compared exactly. (An unnamed request needs skipExisting, so it never reaches a session
  // that has attempts: it skips them.)
  std::vector<ExistingSession> existing = {
      {101, "u1", T("2024-01-09T00:00:00+09:00"), {{std::nullopt, 1}, {"Fix", 2}, {"fix2", 3}}}};
  const Plan plan = std::get<Plan>(PlanFor(With(""), existing));
  EXPECT_EQ(plan.items[1].action, Action::kReuseSession);
  EXPECT_EQ(plan.items[1].index, 4);
  existing[0].attempts.push_back({"fix", 4});
  const auto conflict = PlanFor(With(""), existing);
  ASSERT_TRUE(std::holds_alternative<Refusal>(conflict));
  EXPECT_EQ(std::get<Refusal>(conflict).reason, Refusal::kConflict);
}

TEST_F(BackfillPlanner, NextIndexIsTheHighestPlusOneWhateverTheOrderAndGaps) {
  // Indexes need not be contiguous (attempts are deleted, fixtures carry any) nor come sorted: the
  // next is the highest + 1, not the count + 1 nor the last one's + 1.
  std::vector<ExistingSession> existing = {
      {101, "u1", T("2024-01-08T00:00:00+09:00"), {{"b", 7}, {std::nullopt, 2}}},
      {102, "u2", T("2024-01-10T00:00:00+09:00"), {{std::nullopt, 3}}}};
  const Plan plan = std::get<Plan>(PlanFor(With(""), existing));
  ASSERT_EQ(plan.items.size(), 3u);
  EXPECT_EQ(plan.items[0].index, 8);
  EXPECT_EQ(plan.items[1].index, 1);
  EXPECT_EQ(plan.items[2].index, 4);
}

TEST_F(BackfillPlanner, TheFirstCreatedAttemptIsQueuedWhenTheFirstCandidateIsSkipped) {
  // "blocked" follows the attempts this request creates, not the candidates' positions.
  std::vector<ExistingSession> existing = {
      {100, "u0", T("2024-01-08T00:00:00+09:00"), {{std::nullopt, 1}}}};
  const Plan plan = std::get<Plan>(PlanFor(
      R"({"fromTime":"2024-01-08T00:00:00+09:00","skipExisting":true,"dryRun":false})", existing));
  ASSERT_EQ(plan.items.size(), 3u);
  EXPECT_EQ(plan.items[0].action, Action::kSkip);
  EXPECT_EQ(plan.items[1].action, Action::kCreateSession);
  EXPECT_FALSE(plan.items[1].blocked);
  EXPECT_TRUE(plan.items[2].blocked);
}

TEST_F(BackfillPlanner, SkipExistingSkipsSessionsWithAnyAttemptAndCountsThem) {
  std::vector<ExistingSession> existing = {
      {101, "u", T("2024-01-09T00:00:00+09:00"), {{std::nullopt, 1}}}};
  const Plan plan = std::get<Plan>(PlanFor(
      R"({"fromTime":"2024-01-08T00:00:00+09:00","skipExisting":true,"dryRun":false})", existing));
  ASSERT_EQ(plan.items.size(), 3u);
  EXPECT_EQ(plan.items[1].action, Action::kSkip);
  EXPECT_EQ(plan.items[1].session_id, 101);
  EXPECT_FALSE(plan.items[0].blocked);
  EXPECT_TRUE(plan.items[2].blocked);
  EXPECT_NE(ParamsJson(schedule_, plan.items[2])
                .find(R"("last_executed_session_time":"2024-01-09T00:00:00+09:00")"),
            std::string::npos);
  const Plan two = std::get<Plan>(PlanFor(
      R"({"fromTime":"2024-01-08T00:00:00+09:00","skipExisting":true,"dryRun":false,"count":2})",
      existing));
  ASSERT_EQ(two.items.size(), 2u);
  EXPECT_EQ(two.items[1].action, Action::kSkip);
}

TEST_F(BackfillPlanner, AdvanceModeTakesASessionWhoseRunTimeIsExactlyNow) {
  // The session of 2024-01-12 (Tokyo) runs at 2024-01-12T09:00:00+09:00 = 00:00:00Z: `run time <=
  // now`, so it is in at that very second and out one second before.
  const char* advance = R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false})";
  now_ = T("2024-01-12T00:00:00Z");
  EXPECT_EQ(Times(advance),
            (std::vector<std::string>{"2024-01-11T00:00:00+09:00", "2024-01-12T00:00:00+09:00"}));
  now_ = T("2024-01-11T23:59:59Z");
  EXPECT_EQ(Times(advance), (std::vector<std::string>{"2024-01-11T00:00:00+09:00"}));
}

TEST_F(BackfillPlanner, AdvanceMovesThePointerForwardOnly) {
  const Plan plan =
      std::get<Plan>(PlanFor(R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false})", {}));
  EXPECT_TRUE(plan.pointer_moves);
  EXPECT_EQ(schedule_.FormatLocal(plan.pointer_after.next_schedule_time),
            "2024-01-13T00:00:00+09:00");
  EXPECT_EQ(FormatUtc(plan.pointer_after.next_run_time), "2024-01-13T00:00:00Z");
  EXPECT_EQ(plan.pointer_after.last_session_time, T("2024-01-12T00:00:00+09:00"));
  // From an earlier time, ending before the pointer: the pointer stays.
  now_ = T("2024-01-09T03:00:00Z");
  const Plan early = std::get<Plan>(PlanFor(
      R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false,"fromTime":"2024-01-05T00:00:00Z"})",
      {}));
  EXPECT_FALSE(early.items.empty());
  EXPECT_FALSE(early.pointer_moves);
  EXPECT_EQ(early.pointer_after, context_.pointer);
}

TEST_F(BackfillPlanner, AdvanceEndingJustBeforeThePointerLeavesItAlone) {
  // The clock at 2024-01-10T03:00:00Z: the last candidate is 01-10 (it ran at 00:00Z), and its
  // step is 01-11, the pointer itself. The pointer moves only when that step is later than it, so
  // it stays, lastSessionTime (none yet, a new schedule) included, and nothing is written to it.
  now_ = T("2024-01-10T03:00:00Z");
  const Plan plan = std::get<Plan>(PlanFor(
      R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false,"fromTime":"2024-01-05T00:00:00Z"})",
      {}));
  ASSERT_EQ(plan.items.size(), 6u);
  EXPECT_EQ(schedule_.FormatLocal(plan.items.back().session_time), "2024-01-10T00:00:00+09:00");
  EXPECT_EQ(schedule_.Step(plan.items.back().session_time), context_.pointer.next_schedule_time);
  EXPECT_FALSE(plan.pointer_moves);
  EXPECT_EQ(plan.pointer_after, context_.pointer);
}

TEST_F(BackfillPlanner, EtagChangesWhenThePlanDoes) {
  const Plan a = std::get<Plan>(PlanFor(With(""), {}));
  const Plan b = std::get<Plan>(PlanFor(With(""), {}));
  EXPECT_EQ(a.etag, b.etag);
  EXPECT_EQ(a.etag.size(), 18u);
  // The hash's text is part of the contract: a client may keep an ETag across a host's upgrade.
  EXPECT_EQ(a.etag, "\"375b761a820e612a\"");
  const Plan c =
      std::get<Plan>(PlanFor(With(""), {{101, "u", T("2024-01-09T00:00:00+09:00"), {}}}));
  EXPECT_NE(a.etag, c.etag);
  const Plan d = std::get<Plan>(PlanFor(With(R"(,"count":2)"), {}));
  EXPECT_NE(a.etag, d.etag);
}

TEST_F(BackfillPlanner, EtagChangesWhenOnlyAnAttemptIndexDoes) {
  // A dry run plans index 2 on session 102; another backfill then adds index 2 there. The plan is
  // the same but for that index, and an If-Match of the first plan must not match the second.
  std::vector<ExistingSession> existing = {
      {102, "u2", T("2024-01-10T00:00:00+09:00"), {{std::nullopt, 1}}}};
  const Plan before = std::get<Plan>(PlanFor(With(""), existing));
  existing[0].attempts.push_back({"other", 2});
  const Plan after = std::get<Plan>(PlanFor(With(""), existing));
  ASSERT_EQ(before.items.size(), after.items.size());
  for (size_t i = 0; i < before.items.size(); ++i) {
    EXPECT_EQ(before.items[i].session_time, after.items[i].session_time);
    EXPECT_EQ(before.items[i].action, after.items[i].action);
    EXPECT_EQ(before.items[i].session_id, after.items[i].session_id);
    EXPECT_EQ(ParamsJson(schedule_, before.items[i]), ParamsJson(schedule_, after.items[i]));
  }
  EXPECT_EQ(before.items[2].index, 2);
  EXPECT_EQ(after.items[2].index, 3);
  EXPECT_NE(before.etag, after.etag);
}

}  // namespace
}  // namespace wfp::backfill
