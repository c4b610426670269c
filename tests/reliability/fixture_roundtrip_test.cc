// Regressions found by fuzzing the fixture loader (fuzz/fixture): every fixture Seed accepts must
// dump as a fixture Seed accepts again, with the same content (API-key counts aside: keys never
// leave the store). Found: an instant before year 1000 (e.g. "0976-12-27T23:11:44Z", accepted by
// Seed) was dumped as "976-12-27T23:11:44Z", which is not ISO-8601 and which Seed then refuses.
// On SQLite ":memory:" and on PostgreSQL (a schema of its own per store).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <iterator>
#include <memory>
#include <string>
#include <tuple>

#include "store/store.h"
#include "test_util.h"

namespace wfp::host {
namespace {

using testing_util::Backend;
using testing_util::FreshStore;

std::string FixtureAt(const std::string& next_run_time) {
  return R"({"sites": [{"id": 1, "apiKeys": ["k1"]}],
    "projects": [{"id": 1, "siteId": 1, "name": "p"}],
    "workflows": [{"id": 11, "projectId": 1, "name": "wf", "timezone": "Asia/Tehran",
                   "schedule": {"hourly>": "41:44"}}],
    "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2012-12-28T02:00:00+03:30",
                   "nextRunTime": ")" +
         next_run_time + R"(", "lastSessionTime": null, "disabledAt": null}],
    "sessions": []})";
}

// "yyyy-MM-ddTHH:mm:ssZ" exactly (no std::regex: GCC 12 warns inside it under the sanitizers).
bool IsUtcInstant(const std::string& t) {
  const std::string shape = "dddd-dd-ddTdd:dd:ddZ";
  if (t.size() != shape.size()) return false;
  for (size_t i = 0; i < t.size(); ++i)
    if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i]) return false;
  return true;
}

boost::json::value WithoutKeyCounts(boost::json::value v) {
  for (auto& site : v.at("sites").as_array()) site.as_object().erase("apiKeyCount");
  return v;
}

class FixtureRoundTrip : public ::testing::TestWithParam<std::tuple<Backend, const char*>> {
 protected:
  void SetUp() override {
    if (std::string why = testing_util::Unavailable(backend()); !why.empty()) GTEST_SKIP() << why;
  }
  Backend backend() const { return std::get<0>(GetParam()); }
};

TEST_P(FixtureRoundTrip, TheDumpIsIso8601AndSeedsTheSameStore) {
  FreshStore first(backend());
  ASSERT_TRUE(first);
  const std::string fixture = FixtureAt(std::get<1>(GetParam()));
  if (const Status seeded = first->Seed(boost::json::parse(fixture)); !seeded.ok()) {
    // Refusing such an instant is a valid answer too; accepting it commits to dumping it.
    SUCCEED() << "refused: " << seeded.message();
    return;
  }
  const Result<boost::json::value> dumped = first->Dump();
  ASSERT_TRUE(dumped.ok()) << dumped.status().message();
  const boost::json::value& dump = *dumped;
  const std::string written(dump.at("schedules").at(0).at("nextRunTime").as_string());
  EXPECT_TRUE(IsUtcInstant(written)) << "dumped as '" << written << "'";

  FreshStore second(backend());
  ASSERT_TRUE(second);
  const Status reseeded = second->Seed(dump);
  ASSERT_TRUE(reseeded.ok()) << "its own dump refused: " << reseeded.message() << "\n"
                             << boost::json::serialize(dump);
  const Result<boost::json::value> again = second->Dump();
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(WithoutKeyCounts(*again), WithoutKeyCounts(dump));
}

const char* const kInstants[] = {"0976-12-27T23:11:44Z",       // found by the fuzzer
                                 "0001-01-01T00:00:00Z",       // year 1
                                 "0999-12-31T23:59:59Z",       // last 3-digit year
                                 "1000-01-01T00:00:00Z",       // first 4-digit year
                                 "0000-01-01T00:00:00Z",       // year 0
                                 "0000-01-01T00:00:00+00:01",  // year -1 in UTC
                                 "9999-12-31T23:59:59Z",       // last 4-digit year
                                 "9999-12-31T23:59:59-00:01",  // year 10000 in UTC
                                 "2012-12-27T23:11:44Z"};

// Named <backend>_<index in kInstants>.
INSTANTIATE_TEST_SUITE_P(Years, FixtureRoundTrip,
                         ::testing::Combine(::testing::Values(Backend::kMemory, Backend::kPostgres),
                                            ::testing::ValuesIn(kInstants)),
                         [](const auto& info) {
                           const char* instant = std::get<1>(info.param);
                           const auto index =
                               std::find(std::begin(kInstants), std::end(kInstants), instant) -
                               std::begin(kInstants);
                           return std::string(testing_util::BackendName(std::get<0>(info.param))) +
                                  "_" + std::to_string(index);
                         });

}  // namespace
}  // namespace wfp::host
