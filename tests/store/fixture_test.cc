// Store::Seed / Store::Dump: the fixture format (spec/stub-host.md) — normalisation, validation
// errors with their JSON paths (and nothing written), API keys, and a round trip over every fixture
// of the route conformance cases; on an SQLite ":memory:" store and on PostgreSQL (a schema of its
// own per store), which must give the same dumps and the same errors.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <string_view>
#include <tuple>

#include "sql_for_testing.h"
#include "store/store.h"
#include "test_util.h"

namespace wfp::host {
namespace {

namespace json = boost::json;
using testing_util::Backend;
using testing_util::FreshStore;
using testing_util::IsOk;
using testing_util::J;
using testing_util::QueryForTesting;

// A valid fixture with one of everything, times with offsets, optional fields omitted.
constexpr const char* kFixture = R"({
  "sites": [{"id": 1, "apiKeys": ["k-site1", "k-site1-b"]}, {"id": 2}],
  "projects": [{"id": 1, "siteId": 1, "name": "etl"}, {"id": 2, "siteId": 2, "name": "etl"}],
  "workflows": [{"id": 11, "projectId": 1, "name": "load", "timezone": "Asia/Tokyo",
                 "schedule": {"daily>": "09:00:00"}, "poolId": "42"},
                {"id": 12, "projectId": 1, "name": "adhoc"}],
  "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-11T00:00:00+09:00",
                 "nextRunTime": "2024-01-11T00:00:00Z"}],
  "sessions": [{"id": 100, "projectId": 1, "workflowName": "load",
                "sessionTime": "2024-01-10T00:00:00+09:00",
                "uuid": "2b91a014-076e-4c6d-8b51-f4f91089cab2",
                "attempts": [{"id": 1000, "index": 1, "name": null, "status": "success",
                              "params": {"a": 1}, "createdAt": "2024-01-10T00:00:00Z",
                              "finishedAt": "2024-01-10T00:10:00Z"},
                             {"id": 1001, "name": "fix", "status": "killed",
                              "createdAt": "2024-01-10T01:00:00.000+01:00"}]},
               {"id": 99, "projectId": 1, "workflowName": "load",
                "sessionTime": "2024-01-08T15:00:00Z", "attempts": []}]
})";

// What Dump gives for kFixture: every field filled, UTC with Z, objects in id order, no keys.
constexpr const char* kDumped = R"({
  "sites": [{"id": 1, "apiKeys": [], "apiKeyCount": 2}, {"id": 2, "apiKeys": [], "apiKeyCount": 0}],
  "projects": [{"id": 1, "siteId": 1, "name": "etl"}, {"id": 2, "siteId": 2, "name": "etl"}],
  "workflows": [{"id": 11, "projectId": 1, "name": "load", "timezone": "Asia/Tokyo",
                 "schedule": {"daily>": "09:00:00"}, "poolId": "42"},
                {"id": 12, "projectId": 1, "name": "adhoc", "timezone": "UTC", "schedule": null,
                 "poolId": null}],
  "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-10T15:00:00Z",
                 "nextRunTime": "2024-01-11T00:00:00Z", "lastSessionTime": null,
                 "disabledAt": null}],
  "sessions": [{"id": 99, "projectId": 1, "workflowName": "load",
                "sessionTime": "2024-01-08T15:00:00Z", "uuid": null, "attempts": []},
               {"id": 100, "projectId": 1, "workflowName": "load",
                "sessionTime": "2024-01-09T15:00:00Z",
                "uuid": "2b91a014-076e-4c6d-8b51-f4f91089cab2",
                "attempts": [{"id": 1000, "index": 1, "name": null, "status": "success",
                              "params": {"a": 1}, "createdAt": "2024-01-10T00:00:00Z",
                              "finishedAt": "2024-01-10T00:10:00Z", "poolId": null,
                              "dependsOnSessionId": null},
                             {"id": 1001, "index": 2, "name": "fix", "status": "killed",
                              "params": {}, "createdAt": "2024-01-10T00:00:00Z",
                              "finishedAt": null, "poolId": null, "dependsOnSessionId": null}]}]
})";

constexpr const char* kEmptyDump =
    R"({"sites": [], "projects": [], "workflows": [], "schedules": [], "sessions": []})";

// The backends of these suites: the fixture code is shared, the SQL sessions under it are not.
const auto kBackends = ::testing::Values(Backend::kMemory, Backend::kPostgres);

// Suites on one backend each (the parameter); NewStore() makes a fresh, empty store of it.
class FixtureTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (std::string why = testing_util::Unavailable(GetParam()); !why.empty()) GTEST_SKIP() << why;
  }
  FreshStore NewStore() const { return FreshStore(GetParam()); }
};
class StoreSeed : public FixtureTest {};
class StoreApiKeys : public FixtureTest {};
INSTANTIATE_TEST_SUITE_P(Stores, StoreSeed, kBackends, testing_util::BackendParamName());
INSTANTIATE_TEST_SUITE_P(Stores, StoreApiKeys, kBackends, testing_util::BackendParamName());

json::value DumpOf(Store& store) {
  Result<json::value> dump = store.Dump();
  EXPECT_TRUE(IsOk(dump.status()));
  if (!dump.ok()) return nullptr;
  EXPECT_TRUE(dump->is_object());
  return std::move(*dump);
}

TEST_P(StoreSeed, DumpIsTheNormalisedFixture) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(kFixture))));
  EXPECT_EQ(DumpOf(*store), J(kDumped)) << json::serialize(DumpOf(*store));
}

TEST_P(StoreSeed, EmptyFixtureAndEmptyStore) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  EXPECT_EQ(DumpOf(*store), J(kEmptyDump));
  ASSERT_TRUE(IsOk(store->Seed(J("{}"))));
  ASSERT_TRUE(IsOk(store->Seed(J(R"({"sites": [], "sessions": null})"))));
  EXPECT_EQ(DumpOf(*store), J(kEmptyDump));
}

TEST_P(StoreSeed, EveryStatusComesBack) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  json::value f = J(R"({"sites": [{"id": 1}], "projects": [{"id": 1, "siteId": 1, "name": "p"}],
                        "sessions": [{"id": 1, "projectId": 1, "workflowName": "w",
                                      "sessionTime": "2024-01-01T00:00:00Z", "attempts": []}]})");
  const char* statuses[] = {"success", "killed",  "error", "canceling",
                            "blocked", "running", "queued"};
  json::array& attempts = f.at("sessions").at(0).at("attempts").as_array();
  for (const char* s : statuses)
    attempts.push_back(
        json::object{{"name", s}, {"status", s}, {"createdAt", "2024-01-01T00:00:00Z"}});
  ASSERT_TRUE(IsOk(store->Seed(f)));
  const json::value dump = DumpOf(*store);
  const json::array& dumped = dump.at("sessions").at(0).at("attempts").as_array();
  ASSERT_EQ(dumped.size(), std::size(statuses));
  for (size_t i = 0; i < dumped.size(); ++i) {
    EXPECT_EQ(dumped[i].at("status"), json::value(statuses[i]));
    EXPECT_EQ(dumped[i].at("index"), json::value(static_cast<int64_t>(i + 1)));  // assigned
  }
}

TEST_P(StoreSeed, OmittedIdsAreAssignedAfterTheHighestOne) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(R"({"sites": [{}, {"id": 7}, {}]})"))));
  ASSERT_TRUE(IsOk(store->Seed(J(R"({"sites": [{}],
                                "projects": [{"siteId": 9, "name": "p"}]})"))));
  EXPECT_EQ(
      DumpOf(*store).at("sites"),
      J(R"([{"id": 7, "apiKeys": [], "apiKeyCount": 0}, {"id": 8, "apiKeys": [], "apiKeyCount": 0},
                  {"id": 9, "apiKeys": [], "apiKeyCount": 0}, {"id": 10, "apiKeys": [], "apiKeyCount": 0}])"));
  EXPECT_EQ(DumpOf(*store).at("projects"), J(R"([{"id": 1, "siteId": 9, "name": "p"}])"));
}

TEST_P(StoreSeed, ReferencesMayPointIntoTheStore) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(kFixture))));
  ASSERT_TRUE(IsOk(store->Seed(J(R"({"workflows": [{"id": 13, "projectId": 2, "name": "w",
                                               "schedule": {"hourly>": "00:00"}}],
                                "schedules": [{"workflowId": 13, "nextScheduleTime": "2024-01-01T00:00:00Z",
                                               "nextRunTime": "2024-01-01T00:00:00Z"}],
                                "sessions": [{"projectId": 2, "workflowName": "w",
                                              "sessionTime": "2024-01-01T00:00:00Z",
                                              "attempts": [{"status": "blocked", "dependsOnSessionId": 100,
                                                            "createdAt": "2024-01-01T00:00:00Z"}]}]})"))));
  const json::value dump = DumpOf(*store);
  EXPECT_EQ(dump.at("schedules").at(1).at("id"), json::value(6));
  EXPECT_EQ(dump.at("sessions").at(2).at("id"), json::value(101));
  EXPECT_EQ(dump.at("sessions").at(2).at("attempts").at(0).at("id"), json::value(1002));
  EXPECT_EQ(dump.at("sessions").at(2).at("attempts").at(0).at("dependsOnSessionId"),
            json::value(100));
}

TEST_P(StoreSeed, ADumpSeedsAgain) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(kFixture))));
  const json::value dump = DumpOf(*store);
  auto copy = NewStore();
  ASSERT_TRUE(copy);
  ASSERT_TRUE(IsOk(copy->Seed(dump)));
  json::value again = DumpOf(*copy);
  // Keys never leave a store, so the copy has none.
  for (json::value& site : again.at("sites").as_array())
    site.as_object()["apiKeyCount"] = dump.at("sites").at(0).at("id") == site.at("id") ? 2 : 0;
  EXPECT_EQ(again, dump);
}

TEST_P(StoreApiKeys, KeysSelectTheirSiteAndAreStoredAsHashes) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(kFixture))));
  ASSERT_TRUE(IsOk(store->Seed(J(R"({"sites": [{"id": 3, "apiKeys": ["k3"]}]})"))));
  EXPECT_EQ(store->SiteForApiKey("k-site1"), 1);
  EXPECT_EQ(store->SiteForApiKey("k-site1-b"), 1);
  EXPECT_EQ(store->SiteForApiKey("k3"), 3);
  EXPECT_EQ(store->SiteForApiKey("k-site"), std::nullopt);
  EXPECT_EQ(store->SiteForApiKey("k-site1 "), std::nullopt);
  EXPECT_EQ(store->SiteForApiKey(""), std::nullopt);

  auto connection = store->Connect();
  ASSERT_TRUE(IsOk(connection.status()));
  std::string error;
  const bool postgres = GetParam() == Backend::kPostgres;
  auto rows = QueryForTesting(
      **connection,
      postgres ? "SELECT length(hash), pg_typeof(hash), position('k-site1'::bytea IN hash)"
                 " FROM api_keys"
               : "SELECT length(hash), typeof(hash), instr(hash, 'k-site1') FROM api_keys",
      &error);
  ASSERT_TRUE(rows) << error;
  ASSERT_EQ(rows->size(), 3u);
  for (const auto& row : *rows)
    EXPECT_EQ(row, (std::vector<std::string>{"32", postgres ? "bytea" : "blob", "0"}));
  EXPECT_EQ(json::serialize(DumpOf(*store)).find("k-site1"), std::string::npos);
}

TEST_P(StoreApiKeys, AKeyAlreadyStoredIsRefused) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(R"({"sites": [{"id": 1, "apiKeys": ["k"]}]})"))));
  const Status refused = store->Seed(J(R"({"sites": [{"id": 2, "apiKeys": ["k"]}]})"));
  EXPECT_EQ(refused.code(), WFP_ERR_CONFLICT);
  const std::string& error = refused.message();
  EXPECT_EQ(error.rfind("$.sites[0].apiKeys[0]: conflicts with the store", 0), 0u) << error;
  EXPECT_EQ(error.find("\"k\""), std::string::npos) << "the key is not echoed: " << error;
  EXPECT_EQ(DumpOf(*store).at("sites").as_array().size(), 1u);
}

// ---- validation: each error names its path, and nothing is written ------------------------------

struct BadFixture {
  const char* name;
  const char* fixture;  // kept small; every one starts with valid rows that would be written
  const char* error;
};

#define VALID_HEAD \
  R"("sites": [{"id": 1, "apiKeys": ["k"]}], "projects": [{"id": 1, "siteId": 1, "name": "p"}],)"
#define SESSION(extra)                                                                              \
  R"({"id": 100, "projectId": 1, "workflowName": "w", "sessionTime": "2024-01-01T00:00:00Z")" extra \
  "}"
#define ATTEMPT(extra) R"({"status": "success", "createdAt": "2024-01-01T00:00:00Z")" extra "}"

const BadFixture kBadFixtures[] = {
    {"NotAnObject", "[]", "$: expected an object"},
    {"UnknownTopLevelKey", "{" VALID_HEAD R"("site": []})", "$.site: unknown key"},
    {"UnknownNestedKey",
     "{" VALID_HEAD
     R"("sessions": [)" SESSION(R"(, "attempts": [)" ATTEMPT(R"(, "nmae": "x")") "]") "]}",
     "$.sessions[0].attempts[0].nmae: unknown key"},
    {"ArrayOfWrongType", "{" VALID_HEAD R"("workflows": {}})", "$.workflows: expected an array"},
    {"IdOfWrongType", R"({"sites": [{"id": "1"}]})", "$.sites[0].id: expected an integer"},
    {"FractionalId", R"({"sites": [{"id": 1.5}]})", "$.sites[0].id: expected an integer"},
    {"NegativeId", R"({"sites": [{"id": -1}]})", "$.sites[0].id: expected a positive integer id"},
    {"NameOfWrongType", "{" VALID_HEAD R"("workflows": [{"projectId": 1, "name": 3}]})",
     "$.workflows[0].name: expected a string"},
    {"MissingField", "{" VALID_HEAD R"("workflows": [{"projectId": 1}]})",
     "$.workflows[0].name: missing"},
    {"NullRequiredField", R"({"sites": [{"id": 1}], "projects": [{"siteId": null, "name": "p"}]})",
     "$.projects[0].siteId: must not be null"},
    {"ScheduleNotAnObject",
     "{" VALID_HEAD R"("workflows": [{"projectId": 1, "name": "w", "schedule": "daily"}]})",
     "$.workflows[0].schedule: expected an object"},
    {"ParamsNotAnObject",
     "{" VALID_HEAD
     R"("sessions": [)" SESSION(R"(, "attempts": [)" ATTEMPT(R"(, "params": [])") "]") "]}",
     "$.sessions[0].attempts[0].params: expected an object"},
    {"ProjectOfMissingSite",
     R"({"sites": [{"id": 1}], "projects": [{"id": 1, "siteId": 2, "name": "p"}]})",
     "$.projects[0].siteId: no site 2"},
    {"WorkflowOfMissingProject", "{" VALID_HEAD R"("workflows": [{"projectId": 2, "name": "w"}]})",
     "$.workflows[0].projectId: no project 2"},
    {"ScheduleOfMissingWorkflow",
     "{" VALID_HEAD R"("schedules": [{"workflowId": 11, "nextScheduleTime": "2024-01-01T00:00:00Z",
                       "nextRunTime": "2024-01-01T00:00:00Z"}]})",
     "$.schedules[0].workflowId: no workflow 11"},
    {"ScheduleOfWorkflowWithoutScheduleObject",
     "{" VALID_HEAD R"("workflows": [{"id": 11, "projectId": 1, "name": "w"}],
                       "schedules": [{"workflowId": 11, "nextScheduleTime": "2024-01-01T00:00:00Z",
                       "nextRunTime": "2024-01-01T00:00:00Z"}]})",
     "$.schedules[0].workflowId: workflow 11 has no schedule object"},
    {"TwoSchedulesForOneWorkflow",
     "{" VALID_HEAD
     R"("workflows": [{"id": 11, "projectId": 1, "name": "w", "schedule": {"daily>": "00:00:00"}}],
                       "schedules": [{"workflowId": 11, "nextScheduleTime": "2024-01-01T00:00:00Z",
                                      "nextRunTime": "2024-01-01T00:00:00Z"},
                                     {"workflowId": 11, "nextScheduleTime": "2024-01-01T00:00:00Z",
                                      "nextRunTime": "2024-01-01T00:00:00Z"}]})",
     "$.schedules[1].workflowId: workflow 11 has two schedules (also $.schedules[0])"},
    {"SessionOfMissingProject",
     R"({"sites": [{"id": 1}], "sessions": [{"projectId": 1, "workflowName": "w",
                                            "sessionTime": "2024-01-01T00:00:00Z"}]})",
     "$.sessions[0].projectId: no project 1"},
    {"AttemptDependingOnMissingSession",
     "{" VALID_HEAD R"("sessions": [)" SESSION(
         R"(, "attempts": [)" ATTEMPT(R"(, "dependsOnSessionId": 7)") "]") "]}",
     "$.sessions[0].attempts[0].dependsOnSessionId: no session 7"},
    {"DuplicateSiteId", R"({"sites": [{"id": 1}, {"id": 1}]})",
     "$.sites[1].id: duplicate site id 1 (also $.sites[0])"},
    {"DuplicateAttemptId",
     "{" VALID_HEAD R"("sessions": [)" SESSION(R"(, "attempts": [)" ATTEMPT(
         R"(, "id": 5)") "]") ", "
                              R"({"projectId": 1, "workflowName": "w", "sessionTime": "2024-01-02T00:00:00Z", "attempts": [)" ATTEMPT(
                                  R"(, "id": 5)") "]}]}",
     "$.sessions[1].attempts[0].id: duplicate attempt id 5 (also $.sessions[0].attempts[0])"},
    {"DuplicateSessionTime",
     "{" VALID_HEAD R"("sessions": [)" SESSION("") R"(, {"projectId": 1, "workflowName": "w",
                                     "sessionTime": "2024-01-01T09:00:00+09:00"}]})",
     "$.sessions[1].sessionTime: duplicate session time 2024-01-01T00:00:00Z for project 1 "
     "workflow 'w' (session 100)"},
    {"DuplicateAttemptName",
     "{" VALID_HEAD R"("sessions": [)" SESSION(R"(, "attempts": [)" ATTEMPT(
         R"(, "name": "x")") ", " ATTEMPT(R"(, "name": "x")") "]") "]}",
     "$.sessions[0].attempts[1].name: duplicate attempt name 'x' in session 100"},
    {"DuplicateUnnamedAttempt",
     "{" VALID_HEAD R"("sessions": [)" SESSION(
         R"(, "attempts": [)" ATTEMPT("") ", " ATTEMPT(R"(, "name": null)") "]") "]}",
     "$.sessions[0].attempts[1].name: duplicate unnamed attempt in session 100"},
    {"DuplicateAttemptIndex",
     "{" VALID_HEAD R"("sessions": [)" SESSION(R"(, "attempts": [)" ATTEMPT(
         R"(, "index": 1, "name": "a")") ", " ATTEMPT(R"(, "index": 1, "name": "b")") "]") "]}",
     "$.sessions[0].attempts[1].index: duplicate attempt index 1 in session 100"},
    {"DuplicateProjectName",
     R"({"sites": [{"id": 1}], "projects": [{"siteId": 1, "name": "p"}, {"siteId": 1, "name": "p"}]})",
     "$.projects[1].name: duplicate project name 'p' in site 1 (also $.projects[0])"},
    {"DuplicateApiKey", R"({"sites": [{"id": 1, "apiKeys": ["k"]}, {"id": 2, "apiKeys": ["k"]}]})",
     "$.sites[1].apiKeys[0]: duplicate API key"},
    {"BadStatus",
     "{" VALID_HEAD R"("sessions": [)" SESSION(
         R"(, "attempts": [{"status": "done", "createdAt": "2024-01-01T00:00:00Z"}])") "]}",
     "$.sessions[0].attempts[0].status: unknown status 'done' (one of success, killed, error, "
     "canceling, blocked, running, queued)"},
    {"TimeWithoutOffset",
     "{" VALID_HEAD
     R"("sessions": [{"projectId": 1, "workflowName": "w", "sessionTime": "2024-01-01T00:00:00"}]})",
     "$.sessions[0].sessionTime: not an ISO-8601 instant with an offset in whole seconds: "
     "'2024-01-01T00:00:00'"},
    {"TimeNotADate",
     "{" VALID_HEAD R"("sessions": [)" SESSION(
         R"(, "attempts": [{"status": "error", "createdAt": "2024-02-30T00:00:00Z"}])") "]}",
     "$.sessions[0].attempts[0].createdAt: not an ISO-8601 instant with an offset in whole "
     "seconds: '2024-02-30T00:00:00Z'"},
    {"TimeWithSpaces",
     "{" VALID_HEAD
     R"("sessions": [{"projectId": 1, "workflowName": "w", "sessionTime": " 2024-01-01T00:00:00Z"}]})",
     "$.sessions[0].sessionTime: not an ISO-8601 instant with an offset in whole seconds: "
     "' 2024-01-01T00:00:00Z'"},
    {"TimeWithFraction",
     "{" VALID_HEAD
     R"("sessions": [{"projectId": 1, "workflowName": "w", "sessionTime": "2024-01-01T00:00:00.5Z"}]})",
     "$.sessions[0].sessionTime: not an ISO-8601 instant with an offset in whole seconds: "
     "'2024-01-01T00:00:00.5Z'"},
    {"TimePastYear9999InUtc",
     "{" VALID_HEAD
     R"("sessions": [{"projectId": 1, "workflowName": "w", "sessionTime": "9999-12-31T23:59:59-00:01"}]})",
     "$.sessions[0].sessionTime: not an ISO-8601 instant with an offset in whole seconds: "
     "'9999-12-31T23:59:59-00:01'"},
    {"TimeOfWrongType",
     "{" VALID_HEAD
     R"("sessions": [{"projectId": 1, "workflowName": "w", "sessionTime": 1704067200}]})",
     "$.sessions[0].sessionTime: expected a time string"},
};

void PrintTo(const BadFixture& f, std::ostream* os) { *os << f.name; }

class StoreSeedRefuses : public ::testing::TestWithParam<std::tuple<Backend, BadFixture>> {
 protected:
  void SetUp() override {
    if (std::string why = testing_util::Unavailable(backend()); !why.empty()) GTEST_SKIP() << why;
  }
  Backend backend() const { return std::get<0>(GetParam()); }
  const BadFixture& bad() const { return std::get<1>(GetParam()); }
};

TEST_P(StoreSeedRefuses, WithThePathAndWritesNothing) {
  FreshStore store(backend());
  ASSERT_TRUE(store);
  const json::value fixture = J(bad().fixture);
  const Status refused = store->Seed(fixture);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(), bad().error);
  // A reference to a row that is nowhere is "not found"; anything else is the fixture's own fault.
  const bool dangling = std::string_view(bad().error).find(": no ") != std::string_view::npos;
  EXPECT_EQ(refused.code(), dangling ? WFP_ERR_NOT_FOUND : WFP_ERR_INVALID_ARGUMENT)
      << StatusCodeName(refused.code());
  EXPECT_EQ(DumpOf(*store), J(kEmptyDump));
  EXPECT_EQ(store->SiteForApiKey("k"), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StoreSeedRefuses,
                         ::testing::Combine(kBackends, ::testing::ValuesIn(kBadFixtures)),
                         [](const auto& info) {
                           return fmt::format("{}_{}", std::get<1>(info.param).name,
                                              testing_util::BackendName(std::get<0>(info.param)));
                         });

TEST_P(StoreSeed, TimesWithOffsetsAreAccepted) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J("{" VALID_HEAD R"("sessions": [
      {"projectId": 1, "workflowName": "w", "sessionTime": "2012-08-28T00:00:00+12:45"},
      {"projectId": 1, "workflowName": "w", "sessionTime": "2012-08-28T00:00:00-03:30"},
      {"projectId": 1, "workflowName": "w", "sessionTime": "1999-12-31T23:59:59.000Z"}]})"))));
  const json::value dump = DumpOf(*store);
  EXPECT_EQ(dump.at("sessions").at(0).at("sessionTime"), json::value("2012-08-27T11:15:00Z"));
  EXPECT_EQ(dump.at("sessions").at(1).at("sessionTime"), json::value("2012-08-28T03:30:00Z"));
  EXPECT_EQ(dump.at("sessions").at(2).at("sessionTime"), json::value("1999-12-31T23:59:59Z"));
}

TEST_P(StoreSeed, IdsCollidingWithTheStoreAreRefusedWithTheirPath) {
  auto store = NewStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(kFixture))));
  const json::value before = DumpOf(*store);
  Status refused = store->Seed(J(R"({"sites": [{"id": 9}], "sessions": [{"id": 100, "projectId": 1,
      "workflowName": "other", "sessionTime": "2024-01-01T00:00:00Z"}]})"));
  EXPECT_EQ(refused.code(), WFP_ERR_CONFLICT);
  EXPECT_EQ(refused.message().rfind("$.sessions[0]: conflicts with the store", 0), 0u)
      << refused.message();
  refused = store->Seed(J(R"({"sessions": [{"projectId": 1, "workflowName": "load",
      "sessionTime": "2024-01-10T00:00:00+09:00"}]})"));
  EXPECT_EQ(refused.code(), WFP_ERR_CONFLICT);
  EXPECT_EQ(refused.message().rfind("$.sessions[0]: conflicts with the store", 0), 0u)
      << refused.message();
  refused = store->Seed(J(R"({"schedules": [{"workflowId": 11,
      "nextScheduleTime": "2024-01-01T00:00:00Z", "nextRunTime": "2024-01-01T00:00:00Z"}]})"));
  EXPECT_EQ(refused.code(), WFP_ERR_CONFLICT);
  EXPECT_EQ(refused.message(),
            "$.schedules[0].workflowId: workflow 11 has a schedule already (schedule 5)");
  EXPECT_EQ(DumpOf(*store), before);
}

// ---- every fixture of the route conformance cases ----------------------------------------------

// The normal form the spec describes, computed here independently of the store.
json::value Normalised(const json::value& fixture) {
  json::object out;
  auto objects = [&](const char* key) {
    json::array a;
    if (const json::value* v = fixture.as_object().if_contains(key))
      for (const json::value& x : v->as_array()) a.push_back(x);
    return a;
  };
  auto by_id = [](json::array& a) {
    std::sort(a.begin(), a.end(), [](const json::value& x, const json::value& y) {
      return x.at("id").as_int64() < y.at("id").as_int64();
    });
  };
  auto time = [](json::object& o, const char* key) {
    if (json::value* v = o.if_contains(key); v && v->is_string())
      *v = testing_util::ToUtcZ(std::string(v->as_string()));
    else
      o[key] = nullptr;
  };
  auto fill = [](json::object& o, const char* key, json::value v) {
    if (!o.contains(key)) o[key] = std::move(v);
  };
  json::array sites = objects("sites");
  for (json::value& s : sites) {
    json::object& o = s.as_object();
    o["apiKeyCount"] = o.contains("apiKeys") ? o["apiKeys"].as_array().size() : 0;
    o["apiKeys"] = json::array();
  }
  json::array workflows = objects("workflows");
  for (json::value& w : workflows) {
    fill(w.as_object(), "timezone", "UTC");
    fill(w.as_object(), "schedule", nullptr);
    fill(w.as_object(), "poolId", nullptr);
  }
  json::array schedules = objects("schedules");
  for (json::value& s : schedules)
    for (const char* k : {"nextScheduleTime", "nextRunTime", "lastSessionTime", "disabledAt"})
      time(s.as_object(), k);
  json::array sessions = objects("sessions");
  for (json::value& s : sessions) {
    json::object& o = s.as_object();
    time(o, "sessionTime");
    fill(o, "uuid", nullptr);
    fill(o, "attempts", json::array());
    for (json::value& a : o["attempts"].as_array()) {
      json::object& ao = a.as_object();
      for (const char* k : {"createdAt", "finishedAt"}) time(ao, k);
      for (const char* k : {"name", "poolId", "dependsOnSessionId"}) fill(ao, k, nullptr);
      fill(ao, "params", json::object());
    }
    by_id(o["attempts"].as_array());
  }
  json::array projects = objects("projects");
  for (json::array* a : {&sites, &projects, &workflows, &schedules, &sessions}) by_id(*a);
  out["sites"] = std::move(sites);
  out["projects"] = std::move(projects);
  out["workflows"] = std::move(workflows);
  out["schedules"] = std::move(schedules);
  out["sessions"] = std::move(sessions);
  return out;
}

TEST_P(StoreSeed, EveryRouteCaseFixtureSeedsAndDumpsNormalised) {
  std::ifstream in(std::string(WFP_CONFORMANCE_DIR) + "/route-cases.jsonl");
  ASSERT_TRUE(in) << "no route-cases.jsonl under " << WFP_CONFORMANCE_DIR;
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json::value c = J(line);
    const std::string id(c.at("id").as_string());
    const json::value& fixture = c.at("fixture");
    auto store = NewStore();
    ASSERT_TRUE(store);
    ASSERT_TRUE(IsOk(store->Seed(fixture))) << id;
    const json::value dump = DumpOf(*store);
    EXPECT_EQ(dump, Normalised(fixture)) << id << ": " << json::serialize(dump);
    ++cases;
  }
  EXPECT_GE(cases, 250);  // the original 250; cases may be added
}

}  // namespace
}  // namespace wfp::host
