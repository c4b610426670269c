// Every line of tests/conformance/schedule-cases.jsonl: a backfill over an empty store computed
// by Digdag's own scheduler. The candidates are first(fromTime), then step() of each, strictly
// before nextScheduleTime; `count` takes the first `count`, or fails with Digdag's message.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "schedule/schedule.h"
#include "test_util.h"

namespace wfp::schedule {
namespace {

using testing::FormatUtc;
using testing::ParseIso;

struct Case {
  std::string id;
  std::string line;
};

std::vector<Case> LoadCases() {
  std::vector<Case> cases;
  std::ifstream in(std::string(WFP_CONFORMANCE_DIR) + "/schedule-cases.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto v = boost::json::parse(line);
    cases.push_back({std::string(v.at("id").as_string()), line});
  }
  return cases;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = LoadCases();
  return cases;
}

// The 1392 cases computed by Digdag's scheduler are there (cases may be added, never lost).
TEST(ScheduleConformance, FileHasAllCases) { EXPECT_GE(Cases().size(), 1392u); }

// Checks one case; failures are reported with the case id.
void CheckCase(const Case& c) {
  SCOPED_TRACE(c.id);
  const auto v = boost::json::parse(c.line);
  const auto& o = v.as_object();
  auto parsed = Schedule::Parse(o.at("schedule"), std::string_view(o.at("timezone").as_string()));
  ASSERT_TRUE(std::holds_alternative<Schedule>(parsed)) << std::get<ParseError>(parsed).message;
  const Schedule& s = std::get<Schedule>(parsed);

  // The schedule's pointer must itself be consistent with the definition.
  const Instant next_schedule = ParseIso(o.at("nextScheduleTime").as_string());
  EXPECT_EQ(FormatUtc(s.RunTime(next_schedule)), std::string(o.at("nextRunTime").as_string()));

  bool fraction = false;
  const Instant from = ParseIso(o.at("fromTime").as_string(), &fraction);
  const auto& count_v = o.at("count");
  const int64_t count = count_v.is_null() ? -1 : count_v.to_number<int64_t>();

  std::vector<Instant> candidates;
  for (Instant t = s.First(from, fraction); t != kEndMarker && t < next_schedule; t = s.Step(t)) {
    if (count >= 0 && static_cast<int64_t>(candidates.size()) == count) break;
    candidates.push_back(t);
    ASSERT_LT(candidates.size(), 100000u) << "runaway enumeration";
  }

  const auto& expect = o.at("expect").as_object();
  if (expect.at("status").as_int64() == 400) {
    ASSERT_TRUE(count >= 0 && static_cast<int64_t>(candidates.size()) < count)
        << "expected a count error, got " << candidates.size() << " candidates";
    std::string message = "count is set to " + std::to_string(count) + " but there are only " +
                          std::to_string(candidates.size()) +
                          " attempts until the next schedule time";
    EXPECT_EQ(message, std::string(expect.at("message").as_string()));
    return;
  }
  ASSERT_EQ(expect.at("status").as_int64(), 200);
  if (count >= 0) {
    ASSERT_EQ(static_cast<int64_t>(candidates.size()), count) << "count error not expected";
  }
  const auto& sessions = expect.at("sessions").as_array();
  ASSERT_EQ(candidates.size(), sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    const auto& e = sessions[i].as_object();
    const Instant t = candidates[i];
    SCOPED_TRACE("session " + std::to_string(i));
    EXPECT_EQ(s.FormatLocal(t), std::string(e.at("sessionTime").as_string()));
    EXPECT_EQ(FormatUtc(s.RunTime(t)), std::string(e.at("runTime").as_string()));
    const auto& params = e.at("params").as_object();
    EXPECT_EQ(s.FormatLocal(s.Last(t)), std::string(params.at("last_session_time").as_string()));
    EXPECT_EQ(s.FormatLocal(s.Step(t)), std::string(params.at("next_session_time").as_string()));
  }
}

// One test over all cases (one process under ctest, not 1392), naming every failing case.
TEST(ScheduleConformance, EveryCaseMatchesDigdag) {
  const ::testing::TestResult* result =
      ::testing::UnitTest::GetInstance()->current_test_info()->result();
  std::vector<std::string> failed;
  for (const Case& c : Cases()) {
    const int before = result->total_part_count();
    CheckCase(c);
    if (result->total_part_count() != before) failed.push_back(c.id);
  }
  std::string ids;
  for (const auto& id : failed) ids += " " + id;
  EXPECT_TRUE(failed.empty()) << failed.size() << " of " << Cases().size() << " cases fail:" << ids;
  std::printf("schedule conformance: %zu of %zu cases pass\n", Cases().size() - failed.size(),
              Cases().size());
}

}  // namespace
}  // namespace wfp::schedule
