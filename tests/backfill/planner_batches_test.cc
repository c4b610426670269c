// The planner in batches (CandidateCursor, PlanBuilder): for many schedules, requests and sets of
// existing sessions, every batch size gives what one batch of everything gives (EnumerateCandidates
// and BuildPlan): the same items, reused UUIDs, pointer, ETag, or the same refusal.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <random>
#include <set>

#include "backfill/planner.h"
#include "backfill/time_format.h"

namespace wfp::backfill {
namespace {

schedule::Schedule Compile(std::string_view definition, std::string_view zone) {
  auto r = schedule::Schedule::Parse(boost::json::parse(definition), zone);
  if (auto* e = std::get_if<schedule::ParseError>(&r)) ADD_FAILURE() << e->message;
  return std::get<schedule::Schedule>(r);
}

// One case: a schedule, its pointer, a request, the sessions that exist, the clock.
struct Case {
  const schedule::Schedule* schedule;
  PlanContext context;
  BackfillRequest request;
  std::vector<ExistingSession> existing;  // ascending, every time once
  Instant now = 0;
  uint64_t max_sessions = kDefaultMaxSessions;
};

std::optional<Instant> LatestBefore(const Case& c, Instant t) {
  std::optional<Instant> latest;
  for (const ExistingSession& s : c.existing)
    if (s.session_time < t) latest = s.session_time;
  return latest;
}

// The sessions in [from, to).
std::vector<ExistingSession> Between(const Case& c, Instant from, Instant to) {
  std::vector<ExistingSession> out;
  for (const ExistingSession& s : c.existing)
    if (s.session_time >= from && s.session_time < to) out.push_back(s);
  return out;
}

// Everything in one batch: what the planner answered before batches.
std::variant<Plan, Refusal> Whole(const Case& c) {
  auto candidates =
      EnumerateCandidates(*c.schedule, c.request, c.context.pointer, c.now, c.max_sessions);
  if (auto* e = std::get_if<Refusal>(&candidates)) return *e;
  const auto& times = std::get<std::vector<Instant>>(candidates);
  if (times.empty()) return BuildPlan(*c.schedule, c.context, c.request, times, {}, std::nullopt);
  return BuildPlan(*c.schedule, c.context, c.request, times,
                   Between(c, times.front(), times.back() + 1), LatestBefore(c, times.front()));
}

// In batches of `n`, the way a dry run's first pass goes: each batch is given the sessions after
// the previous batch's last candidate up to its own last; a 409 is kept while the candidates are
// still enumerated, since a 400 of the enumeration comes first.
std::variant<Plan, Refusal> Batched(const Case& c, size_t n) {
  CandidateCursor cursor(*c.schedule, c.request, c.context.pointer, c.now, c.max_sessions);
  std::optional<PlanBuilder> builder;
  std::optional<Refusal> conflict;
  std::vector<Instant> batch;
  std::vector<PlannedItem> items;
  std::vector<std::string> reused;
  std::optional<Instant> from;
  do {  // at least once: a count refused when there is no candidate at all
    if (auto e = cursor.Next(n, &batch)) return *e;
    if (batch.empty() || conflict) continue;
    if (!builder) {
      from = batch.front();
      builder.emplace(*c.schedule, c.context, c.request, LatestBefore(c, *from));
    }
    const auto existing = Between(c, *from, batch.back() + 1);
    from = batch.back() + 1;
    std::vector<PlannedItem> batch_items;  // appended to what the caller already has
    if (auto e = builder->Add(batch, existing, &batch_items, &reused)) conflict = e;
    items.insert(items.end(), batch_items.begin(), batch_items.end());
  } while (!cursor.done());
  if (conflict) return *conflict;
  if (!builder) builder.emplace(*c.schedule, c.context, c.request, std::nullopt);
  Plan plan = builder->Finish();
  plan.items = std::move(items);
  plan.reused_uuids = std::move(reused);
  return plan;
}

void ExpectSame(const std::variant<Plan, Refusal>& want, const std::variant<Plan, Refusal>& got,
                const std::string& what) {
  if (const auto* e = std::get_if<Refusal>(&want)) {
    const auto* g = std::get_if<Refusal>(&got);
    ASSERT_NE(g, nullptr) << what << ": want " << e->message;
    EXPECT_EQ(g->reason, e->reason) << what;
    EXPECT_EQ(g->message, e->message) << what;
    return;
  }
  const auto* g = std::get_if<Plan>(&got);
  ASSERT_NE(g, nullptr) << what << ": " << std::get<Refusal>(got).message;
  const Plan& w = std::get<Plan>(want);
  EXPECT_EQ(g->items, w.items) << what;
  EXPECT_EQ(g->reused_uuids, w.reused_uuids) << what;
  EXPECT_EQ(g->pointer_after, w.pointer_after) << what;
  EXPECT_EQ(g->pointer_moves, w.pointer_moves) << what;
  EXPECT_EQ(g->etag, w.etag) << what;
}

// Sessions around the candidates' grid: on it (some with attempts, some named "fix", which is a
// conflict unless skipped) and off it (between two schedule times).
std::vector<ExistingSession> RandomSessions(std::mt19937& rng, const schedule::Schedule& s,
                                            Instant from, int conflict_per_mille) {
  std::set<Instant> times;
  Instant t = s.First(from, false);
  for (int i = 0; i < 40; ++i, t = s.Step(t)) {
    if (rng() % 3 == 0) times.insert(t);
    if (rng() % 4 == 0) times.insert(t + 1 + static_cast<Instant>(rng() % 3600));
  }
  std::vector<ExistingSession> out;
  int64_t id = 500;
  for (Instant time : times) {
    ExistingSession e{id, "uuid-" + std::to_string(id), time, {}};
    ++id;
    const int attempts = static_cast<int>(rng() % 3);
    for (int k = 0; k < attempts; ++k) {
      std::optional<std::string> name;
      if (rng() % 1000 < static_cast<unsigned>(conflict_per_mille))
        name = "fix";
      else if (rng() % 2)
        name = "other" + std::to_string(k);
      e.attempts.push_back({name, static_cast<int32_t>(1 + rng() % 9)});
    }
    out.push_back(std::move(e));
  }
  return out;
}

BackfillRequest RandomRequest(std::mt19937& rng, Instant from) {
  BackfillRequest r;
  r.advance_schedule = rng() % 4 == 0;
  r.skip_existing = r.advance_schedule || rng() % 2;
  if (!r.skip_existing || rng() % 2) r.attempt_name = "fix";
  if (!r.advance_schedule || rng() % 2) r.from_time = ParsedInstant{from, rng() % 5 == 0};
  if (rng() % 3 == 0) r.count = 1 + rng() % 30;
  return r;
}

TEST(BackfillPlannerBatches, EveryBatchSizeGivesTheWholePlan) {
  const schedule::Schedule schedules[] = {
      Compile(R"({"daily>":"09:00:00"})", "Asia/Tokyo"),
      Compile(R"({"hourly>":"10:00"})", "UTC"),
      Compile(R"({"cron>":"0 2 * * 1-5"})", "America/New_York"),
  };
  std::mt19937 rng(16);
  size_t plans = 0, refusals = 0, conflicts = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const schedule::Schedule& s = schedules[trial % 3];
    const Instant base = 1704067200 + static_cast<Instant>(rng() % (40 * 86400));  // 2024-01
    Case c{&s, {}, {}, {}, base + static_cast<Instant>(rng() % (30 * 86400)), kDefaultMaxSessions};
    c.context.project_id = 1;
    c.context.workflow_name = "load";
    const Instant next = s.First(base + static_cast<Instant>(rng() % (20 * 86400)), false);
    c.context.pointer = {next, s.RunTime(next), std::nullopt};
    const Instant from = base - static_cast<Instant>(rng() % (10 * 86400));
    c.request = RandomRequest(rng, from);
    c.existing = RandomSessions(rng, s, from - 2 * 86400, trial % 2 ? 0 : 150);
    if (trial % 7 == 0) c.max_sessions = 1 + rng() % 12;
    const auto whole = Whole(c);
    plans += std::holds_alternative<Plan>(whole);
    if (const auto* e = std::get_if<Refusal>(&whole))
      ++(e->reason == Refusal::kConflict ? conflicts : refusals);
    for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, SIZE_MAX})
      ExpectSame(whole, Batched(c, n),
                 "trial " + std::to_string(trial) + ", batch " + std::to_string(n));
  }
  // The cases cover plans, the enumeration's refusals and conflicts.
  EXPECT_GT(plans, 200u);
  EXPECT_GT(refusals, 30u);
  EXPECT_GT(conflicts, 15u);
}

TEST(BackfillPlannerBatches, TheCursorKnowsItIsDoneWithTheLastCandidate) {
  const schedule::Schedule s = Compile(R"({"daily>":"09:00:00"})", "UTC");
  BackfillRequest r;
  r.attempt_name = "fix";
  r.from_time = ParsedInstant{1704067200, false};  // 2024-01-01: 4 candidates before 01-05
  const SchedulePointer pointer{1704412800, 1704412800 + 9 * 3600, std::nullopt};
  CandidateCursor cursor(s, r, pointer, 1704412800, kDefaultMaxSessions);
  std::vector<Instant> batch;
  EXPECT_FALSE(cursor.Next(2, &batch));
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_FALSE(cursor.done());
  EXPECT_FALSE(cursor.Next(2, &batch));
  EXPECT_EQ(batch, (std::vector<Instant>{1704240000, 1704326400}));
  EXPECT_TRUE(cursor.done());
  EXPECT_FALSE(cursor.Next(2, &batch));
  EXPECT_TRUE(batch.empty());
  // A count the candidates fall short of is refused with the batch that ends them.
  r.count = 5;
  CandidateCursor short_of(s, r, pointer, 1704412800, kDefaultMaxSessions);
  EXPECT_FALSE(short_of.Next(3, &batch));
  const auto e = short_of.Next(3, &batch);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message,
            "count is set to 5 but there are only 4 attempts until the next schedule "
            "time");
}

}  // namespace
}  // namespace wfp::backfill
