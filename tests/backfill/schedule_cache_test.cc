// The plugin's cache of compiled schedules: one compile per (definition, zone), errors not cached,
// safe under concurrent use.
#include "backfill/schedule_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace wfp::backfill {
namespace {

using Compiled = std::shared_ptr<const schedule::Schedule>;

TEST(ScheduleCache, CompilesADefinitionOncePerZone) {
  ScheduleCache cache;
  auto a = cache.Get(R"({"daily>": "09:00:00"})", "Asia/Tokyo");
  auto b = cache.Get(R"({"daily>": "09:00:00"})", "Asia/Tokyo");
  ASSERT_TRUE(std::holds_alternative<Compiled>(a));
  ASSERT_TRUE(std::holds_alternative<Compiled>(b));
  EXPECT_EQ(std::get<Compiled>(a), std::get<Compiled>(b));
  EXPECT_EQ(cache.compiles(), 1u);
  auto utc = cache.Get(R"({"daily>": "09:00:00"})", "UTC");  // another zone: another schedule
  ASSERT_TRUE(std::holds_alternative<Compiled>(utc));
  EXPECT_NE(std::get<Compiled>(utc), std::get<Compiled>(a));
  EXPECT_NE(std::get<Compiled>(utc)->Step(0), std::get<Compiled>(a)->Step(0));
  EXPECT_EQ(cache.compiles(), 2u);
}

TEST(ScheduleCache, ErrorsAreReturnedEachTimeAndNotCached) {
  ScheduleCache cache;
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(std::holds_alternative<ScheduleCache::NotJson>(cache.Get("{nope", "UTC")));
    auto bad = cache.Get(R"({"hourly>": "not a time"})", "UTC");
    ASSERT_TRUE(std::holds_alternative<schedule::ParseError>(bad));
    EXPECT_FALSE(std::get<schedule::ParseError>(bad).message.empty());
  }
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ScheduleCache, IsBoundedByItsCapacity) {
  ScheduleCache cache(4);
  for (int m = 0; m < 10; ++m)
    ASSERT_TRUE(std::holds_alternative<Compiled>(
        cache.Get(R"({"minutes_interval>": )" + std::to_string(m + 1) + "}", "UTC")));
  EXPECT_LE(cache.size(), 4u);
  EXPECT_EQ(cache.compiles(), 10u);
}

TEST(ScheduleCache, ServesConcurrentRequests) {
  ScheduleCache cache(8);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const int m = (i + t) % 12 + 1;  // more definitions than the capacity: it starts over too
        auto got = cache.Get(R"({"minutes_interval>": )" + std::to_string(m) + "}", "UTC");
        if (!std::holds_alternative<Compiled>(got) || std::get<Compiled>(got)->Step(0) != m * 60)
          ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace wfp::backfill
