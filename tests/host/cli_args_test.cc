// The CLI's argument parser and the demo fixture.
#include "cli/cli_args.h"

#include <gtest/gtest.h>

#include "cli/demo_fixture.h"
#include "common/time_text.h"

namespace wfp::host {
namespace {

const std::vector<OptionSpec> kSpecs = {{"db"}, {"plugin", true, true}, {"verbose", false, false}};

TEST(Args, ParsesValuesRepeatsFlagsAndPositionals) {
  Args a;
  const Status parsed = a.Parse({"POST", "--db", "x.db", "--plugin=a.so", "/path", "--plugin",
                                 "b.so", "--verbose", "{\"k\":1}"},
                                kSpecs);
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(*a.Get("db"), "x.db");
  EXPECT_EQ(a.All("plugin"), (std::vector<std::string>{"a.so", "b.so"}));
  EXPECT_TRUE(a.Has("verbose"));
  EXPECT_EQ(a.positionals(), (std::vector<std::string>{"POST", "/path", "{\"k\":1}"}));
}

TEST(Args, DoubleDashEndsOptions) {
  Args a;
  const Status parsed = a.Parse({"--db", "x", "--", "--plugin", "-1"}, kSpecs);
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(a.positionals(), (std::vector<std::string>{"--plugin", "-1"}));
  EXPECT_FALSE(a.Has("plugin"));
}

TEST(Args, RejectsBadCommandLines) {
  Args a;
  const auto refused = [&a](const std::vector<std::string>& args) {
    const Status parsed = a.Parse(args, kSpecs);
    EXPECT_EQ(parsed.code(), WFP_ERR_INVALID_ARGUMENT);
    return parsed.message();
  };
  EXPECT_EQ(refused({"--nope"}), "unknown option --nope");
  EXPECT_EQ(refused({"--db"}), "--db needs a value");
  EXPECT_EQ(refused({"--db", "a", "--db", "b"}), "--db given twice");
  EXPECT_EQ(refused({"--verbose=1"}), "--verbose takes no value");
  EXPECT_EQ(refused({"-x"}), "unknown option -x");
  EXPECT_EQ(a.Parse({"--nope"}, kSpecs, " (see --help)").message(),
            "unknown option --nope (see --help)");
}

TEST(DemoFixture, PointersSitAroundNow) {
  const int64_t now = *ParseInstantMicros("2024-01-12T03:00:00Z") / 1000000;
  DemoInfo info;
  const auto f = DemoFixture(now, &info);
  const auto& schedules = f.at("schedules").as_array();
  ASSERT_EQ(schedules.size(), 4u);
  // daily 09:00 Tokyo: next run at 2024-01-13T00:00Z (09:00 Tokyo), session Tokyo midnight.
  EXPECT_EQ(schedules[0].at("nextRunTime"), "2024-01-13T00:00:00Z");
  EXPECT_EQ(schedules[0].at("nextScheduleTime"), "2024-01-12T15:00:00Z");
  // hourly 05:00 UTC: next run 03:05, session 03:00.
  EXPECT_EQ(schedules[1].at("nextRunTime"), "2024-01-12T03:05:00Z");
  EXPECT_EQ(schedules[1].at("nextScheduleTime"), "2024-01-12T03:00:00Z");
  // cron 30 2 * * * Los Angeles (UTC-8 in January): 2024-01-12T02:30-08:00 = 10:30Z.
  EXPECT_EQ(schedules[2].at("nextRunTime"), "2024-01-12T10:30:00Z");
  EXPECT_EQ(info.api_key, "demo-key");
  EXPECT_EQ(info.daily_from_time, "2024-01-10T00:00:00+09:00");
  EXPECT_EQ(info.hourly_from_time, "2024-01-11T21:00:00Z");
}

}  // namespace
}  // namespace wfp::host
