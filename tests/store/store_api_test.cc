// The ABI store table (StoreApi()) on every backend (an SQLite file, SQLite ":memory:",
// PostgreSQL): load_schedule, list_sessions, latest_session_before, load_schedule_window,
// create_*, move_schedule_pointer, transactions and their bookkeeping in wfp_call, locks and BUSY,
// fault injection, concurrent use; and the schema's invariants. What differs between the backends
// (the lock is the whole store on SQLite, the schedule's row on PostgreSQL; SQL dialects; ids of
// rolled-back inserts) is asserted per backend, in the suites SqliteStoreApiTest and
// PostgresStoreApiTest, or in the test itself.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "call.h"
#include "sql_for_testing.h"
#include "store/internal.h"  // wfp_txn::last_error, for messages
#include "store/observer.h"
#include "store/pg_statements.h"
#include "store/sqlite_internal.h"
#include "store/store.h"
#include "test_util.h"

namespace wfp::host {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using testing_util::Backend;
using testing_util::Call;
using testing_util::ExecForTesting;
using testing_util::IsOk;
using testing_util::J;
using testing_util::QueryForTesting;
using testing_util::S;
using testing_util::V;

constexpr int64_t kJan1 = 1704067200;  // 2024-01-01T00:00:00Z
constexpr int64_t kDay = 86400;

constexpr const char* kBase = R"({
  "sites": [{"id": 1, "apiKeys": ["k1"]}, {"id": 2, "apiKeys": ["k2"]}],
  "projects": [{"id": 1, "siteId": 1, "name": "etl"}, {"id": 2, "siteId": 2, "name": "other"}],
  "workflows": [{"id": 11, "projectId": 1, "name": "load", "timezone": "Asia/Tokyo",
                 "schedule": {"daily>": "09:00:00"}, "poolId": "42"},
                {"id": 12, "projectId": 2, "name": "x", "schedule": {"hourly>": "00:00"}}],
  "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-11T00:00:00+09:00",
                 "nextRunTime": "2024-01-11T00:00:00Z", "lastSessionTime": "2024-01-10T00:00:00+09:00"},
                {"id": 6, "workflowId": 12, "nextScheduleTime": "2024-01-11T00:00:00Z",
                 "nextRunTime": "2024-01-11T00:00:00Z", "disabledAt": "2024-01-05T00:00:00Z"}],
  "sessions": [
    {"id": 100, "projectId": 1, "workflowName": "load", "sessionTime": "2024-01-01T00:00:00Z",
     "uuid": "00000000-0000-4000-8000-000000000100",
     "attempts": [{"index": 1, "status": "success", "createdAt": "2024-01-01T00:00:00Z"},
                  {"index": 3, "name": "a", "status": "error", "createdAt": "2024-01-01T00:00:00Z"},
                  {"index": 2, "name": "b", "status": "error", "createdAt": "2024-01-01T00:00:00Z"}]},
    {"id": 101, "projectId": 1, "workflowName": "load", "sessionTime": "2024-01-02T00:00:00Z"},
    {"id": 102, "projectId": 1, "workflowName": "load", "sessionTime": "2024-01-03T00:00:00Z",
     "attempts": [{"index": 1, "name": "a", "status": "running", "createdAt": "2024-01-03T00:00:00Z"}]},
    {"id": 103, "projectId": 1, "workflowName": "other", "sessionTime": "2024-01-02T12:00:00Z"},
    {"id": 104, "projectId": 2, "workflowName": "load", "sessionTime": "2024-01-02T06:00:00Z"}]
})";

wfp_new_session NewSession(int64_t project, const char* workflow, int64_t time,
                           const char* uuid = "00000000-0000-4000-8000-00000000abcd") {
  return wfp_new_session{sizeof(wfp_new_session), project, S(workflow), time, S(uuid)};
}

wfp_new_attempt NewAttempt(int64_t session, const char* name, int32_t index,
                           wfp_attempt_state state = WFP_ATTEMPT_QUEUED,
                           const char* params = "{}") {
  wfp_new_attempt a{};
  a.struct_size = sizeof a;
  a.session_id = session;
  a.name = name ? S(name) : wfp_str{nullptr, 0};
  a.index = index;
  a.state = state;
  a.params_json = S(params);
  a.created_at = kJan1 + 10 * kDay;
  return a;
}

// What list_sessions visited, flattened.
struct Visited {
  int64_t id;
  std::string uuid;
  int64_t time;
  std::vector<std::pair<std::string, int32_t>> attempts;  // name ("<none>" for unnamed), index
  bool operator==(const Visited&) const = default;
};
struct Visits {
  std::vector<Visited> sessions;
  size_t stop_after = SIZE_MAX;
};
int32_t Visit(void* user_data, const wfp_session_info* s) {
  auto* v = static_cast<Visits*>(user_data);
  Visited x{s->session_id, std::string(V(s->uuid)), s->session_time, {}};
  for (size_t i = 0; i < s->attempt_count; ++i)
    x.attempts.emplace_back(
        s->attempts[i].name.data ? std::string(V(s->attempts[i].name)) : "<none>",
        s->attempts[i].index);
  v->sessions.push_back(std::move(x));
  return v->sessions.size() >= v->stop_after ? 1 : 0;
}

const wfp_store_api& Api() { return *StoreApi(); }

// A fresh store of one backend, seeded with kBase.
class StoreTest : public ::testing::Test {
 protected:
  explicit StoreTest(Backend backend) : backend_(backend) {}
  void SetUp() override {
    if (std::string why = testing_util::Unavailable(backend_); !why.empty()) GTEST_SKIP() << why;
    StoreOptions options;
    options.write_faults = faults_;
    fresh_ = std::make_unique<testing_util::FreshStore>(backend_, options);
    ASSERT_TRUE(*fresh_);
    store_ = fresh_->get();
    ASSERT_TRUE(IsOk(store_->Seed(J(kBase))));
  }

  bool postgres() const { return backend_ == Backend::kPostgres; }
  json::value Dump() {
    Result<json::value> d = store_->Dump();
    EXPECT_TRUE(IsOk(d.status()));
    if (!d.ok()) return nullptr;
    EXPECT_TRUE(d->is_object());
    return std::move(*d);
  }
  json::value SessionDump(int64_t id) {
    const json::value dump = Dump();
    for (const json::value& s : dump.at("sessions").as_array())
      if (s.at("id").as_int64() == id) return s;
    return nullptr;
  }
  wfp_txn* Begin(Call& c) {
    wfp_txn* txn = nullptr;
    EXPECT_EQ(Api().begin(&c.call, &txn), WFP_OK);
    return txn;
  }
  static wfp_status Load(wfp_txn* txn, int64_t site, int64_t schedule) {
    wfp_schedule_info info{};
    info.struct_size = sizeof info;
    return Api().load_schedule(txn, site, schedule, &info);
  }
  // What a backfill of schedule 5 holds once it has written: a write transaction that loaded
  // (locked) the schedule and created a session. Null on failure (the test has failed).
  wfp_txn* HoldSchedule5(Call& c) {
    wfp_txn* txn = Begin(c);
    if (!txn) return nullptr;
    const wfp_new_session s =
        NewSession(1, "load", kJan1 + 50 * kDay, "00000000-0000-4000-8000-0000000000ff");
    int64_t id = 0;
    if (Load(txn, 1, 5) != WFP_OK || Api().create_sessions(txn, &s, 1, &id) != WFP_OK) {
      ADD_FAILURE() << "cannot hold schedule 5: " << txn->last_error;
      Api().rollback(txn);
      return nullptr;
    }
    return txn;
  }

  Backend backend_;
  // The store's write faults (StoreOptions::write_faults): none until a test calls FailAt.
  std::shared_ptr<testing_util::FailAtWrite> faults_ =
      std::make_shared<testing_util::FailAtWrite>();
  std::unique_ptr<testing_util::FreshStore> fresh_;
  Store* store_ = nullptr;
};

// What every backend does alike.
class StoreApiTest : public StoreTest, public ::testing::WithParamInterface<Backend> {
 protected:
  StoreApiTest() : StoreTest(GetParam()) {}
};
INSTANTIATE_TEST_SUITE_P(Stores, StoreApiTest,
                         ::testing::Values(Backend::kFile, Backend::kMemory, Backend::kPostgres),
                         testing_util::BackendParamName());

// SQLite only: the write lock is the whole store, taken by begin (BEGIN IMMEDIATE, or the gate of
// ":memory:"); PRAGMAs and query plans.
class SqliteStoreApiTest : public StoreTest, public ::testing::WithParamInterface<Backend> {
 protected:
  SqliteStoreApiTest() : StoreTest(GetParam()) {}
};
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteStoreApiTest,
                         ::testing::Values(Backend::kFile, Backend::kMemory),
                         testing_util::BackendParamName());

// PostgreSQL only: the lock is the schedule's row, taken by load_schedule in a write transaction;
// the schema's bookkeeping and query plans.
class PostgresStoreApiTest : public StoreTest {
 protected:
  PostgresStoreApiTest() : StoreTest(Backend::kPostgres) {}
};

TEST_P(StoreApiTest, TableIsComplete) {
  EXPECT_EQ(Api().struct_size, sizeof(wfp_store_api));
  EXPECT_TRUE(Api().begin && Api().commit && Api().rollback && Api().load_schedule &&
              Api().list_sessions && Api().latest_session_before && Api().create_sessions &&
              Api().create_attempts && Api().move_schedule_pointer && Api().begin_read &&
              Api().load_schedule_window);
}

TEST_P(StoreApiTest, BeginRecordsTheTransactionOnTheCall) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  ASSERT_NE(txn, nullptr);
  EXPECT_EQ(c.call.store.open_txn, txn);
  wfp_txn* second = nullptr;
  EXPECT_EQ(Api().begin(&c.call, &second), WFP_ERR_STATE);
  EXPECT_EQ(Api().commit(txn), WFP_OK);
  EXPECT_EQ(c.call.store.open_txn, nullptr);
  txn = Begin(c);
  EXPECT_EQ(c.call.store.open_txn, txn);
  Api().rollback(txn);
  EXPECT_EQ(c.call.store.open_txn, nullptr);

  wfp_call no_store;
  EXPECT_EQ(Api().begin(&no_store, &txn), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(Api().begin(nullptr, &txn), WFP_ERR_INVALID_ARGUMENT);
}

TEST_P(StoreApiTest, LoadScheduleReturnsTheScheduleOfTheSite) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(Api().load_schedule(txn, 1, 5, &info), WFP_OK);
  EXPECT_EQ(info.schedule_id, 5);
  EXPECT_EQ(info.site_id, 1);
  EXPECT_EQ(info.project_id, 1);
  EXPECT_EQ(info.workflow_definition_id, 11);
  EXPECT_EQ(info.next_schedule_time, kJan1 + 10 * kDay - 9 * 3600);
  EXPECT_EQ(info.next_run_time, kJan1 + 10 * kDay);
  EXPECT_EQ(info.has_last_session_time, 1);
  EXPECT_EQ(info.last_session_time, kJan1 + 9 * kDay - 9 * 3600);
  EXPECT_EQ(info.has_disabled_at, 0);

  // Another load in the same transaction leaves the first one's strings valid.
  wfp_schedule_info other{};
  other.struct_size = sizeof other;
  ASSERT_EQ(Api().load_schedule(txn, 2, 6, &other), WFP_OK);
  EXPECT_EQ(V(info.project_name), "etl");
  EXPECT_EQ(V(info.workflow_name), "load");
  EXPECT_EQ(V(info.timezone), "Asia/Tokyo");
  EXPECT_EQ(json::parse(V(info.schedule_json)), J(R"({"daily>": "09:00:00"})"));
  EXPECT_EQ(V(info.pool_id), "42");
  EXPECT_EQ(other.pool_id.data, nullptr);  // no pool: absent
  EXPECT_EQ(V(other.timezone), "UTC");
  EXPECT_EQ(other.has_last_session_time, 0);
  EXPECT_EQ(other.has_disabled_at, 1);
  EXPECT_EQ(other.disabled_at, kJan1 + 4 * kDay);

  EXPECT_EQ(Api().load_schedule(txn, 2, 5, &info), WFP_ERR_NOT_FOUND);  // another site's
  EXPECT_EQ(Api().load_schedule(txn, 1, 7, &info), WFP_ERR_NOT_FOUND);
  wfp_schedule_info small{};
  small.struct_size = offsetof(wfp_schedule_info, disabled_at);
  EXPECT_EQ(Api().load_schedule(txn, 1, 5, &small), WFP_ERR_INVALID_ARGUMENT);
  Api().rollback(txn);
}

TEST_P(StoreApiTest, ListSessionsVisitsTheRangeWithAttemptsByIndex) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  Visits v;
  ASSERT_EQ(Api().list_sessions(txn, 1, S("load"), kJan1, kJan1 + 2 * kDay, Visit, &v), WFP_OK);
  const std::vector<Visited> want = {
      {100, "00000000-0000-4000-8000-000000000100", kJan1, {{"<none>", 1}, {"b", 2}, {"a", 3}}},
      {101, "", kJan1 + kDay, {}}};
  EXPECT_EQ(v.sessions, want);

  Visits all;  // `to` is exclusive, `from` inclusive; other workflows and projects are not listed
  ASSERT_EQ(Api().list_sessions(txn, 1, S("load"), kJan1 + kDay, kJan1 + 2 * kDay + 1, Visit, &all),
            WFP_OK);
  ASSERT_EQ(all.sessions.size(), 2u);
  EXPECT_EQ(all.sessions[0].id, 101);
  EXPECT_EQ(all.sessions[1].id, 102);
  EXPECT_EQ(all.sessions[1].attempts, (std::vector<std::pair<std::string, int32_t>>{{"a", 1}}));

  Visits stop;
  stop.stop_after = 1;
  EXPECT_EQ(Api().list_sessions(txn, 1, S("load"), 0, kJan1 + 10 * kDay, Visit, &stop), WFP_OK);
  EXPECT_EQ(stop.sessions.size(), 1u);

  Visits none;
  EXPECT_EQ(
      Api().list_sessions(txn, 1, S("load"), kJan1 + 5 * kDay, kJan1 + 9 * kDay, Visit, &none),
      WFP_OK);
  EXPECT_TRUE(none.sessions.empty());
  EXPECT_EQ(Api().list_sessions(txn, 1, wfp_str{nullptr, 0}, 0, 1, Visit, &none),
            WFP_ERR_INVALID_ARGUMENT);
  Api().rollback(txn);
}

// ABI compatibility by size: a caller built against a newer minor hands larger structs. The store
// writes only the bytes it knows into them and says so in struct_size (it does not echo the
// caller's size, which would claim fields it never wrote), and leaves the rest alone.
TEST_P(StoreApiTest, LoadScheduleIntoALargerStructWritesOnlyWhatItKnows) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  struct {
    wfp_schedule_info info;
    unsigned char newer_fields[24];  // what a 1.2 caller's struct would have past 1.1's
  } newer;
  std::memset(&newer, 0xa5, sizeof newer);
  newer.info.struct_size = sizeof newer;
  ASSERT_EQ(Api().load_schedule(txn, 1, 5, &newer.info), WFP_OK);
  EXPECT_EQ(newer.info.struct_size, sizeof(wfp_schedule_info));
  EXPECT_EQ(newer.info.schedule_id, 5);
  EXPECT_EQ(V(newer.info.workflow_name), "load");
  for (unsigned char b : newer.newer_fields) EXPECT_EQ(b, 0xa5) << "written past what it knows";
  Api().rollback(txn);
}

// The elements of an array are as far apart as the caller's struct_size, not the store's sizeof.
TEST_P(StoreApiTest, ArraysFromANewerCallerAreWalkedWithItsStride) {
  struct NewerSession {
    wfp_new_session s;
    uint64_t newer[3];
  };
  struct NewerAttempt {
    wfp_new_attempt a;
    uint64_t newer[3];
  };
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  NewerSession sessions[2] = {
      {NewSession(1, "load", kJan1 + 5 * kDay, "00000000-0000-4000-8000-000000000001"), {7, 7, 7}},
      {NewSession(1, "load", kJan1 + 6 * kDay, "00000000-0000-4000-8000-000000000002"), {7, 7, 7}}};
  for (auto& n : sessions) n.s.struct_size = sizeof(NewerSession);
  int64_t ids[2] = {};
  ASSERT_EQ(Api().create_sessions(txn, &sessions[0].s, 2, ids), WFP_OK) << txn->last_error;
  NewerAttempt attempts[2] = {{NewAttempt(ids[0], "fix", 1), {7, 7, 7}},
                              {NewAttempt(ids[1], "fix", 1, WFP_ATTEMPT_BLOCKED), {7, 7, 7}}};
  attempts[1].a.depends_on_session_id = ids[0];
  for (auto& n : attempts) n.a.struct_size = sizeof(NewerAttempt);
  int64_t attempt_ids[2] = {};
  ASSERT_EQ(Api().create_attempts(txn, &attempts[0].a, 2, attempt_ids), WFP_OK) << txn->last_error;
  ASSERT_EQ(Api().commit(txn), WFP_OK);
  const json::value second = SessionDump(ids[1]);
  ASSERT_TRUE(second.is_object());
  EXPECT_EQ(second.at("uuid"), json::value("00000000-0000-4000-8000-000000000002"));
  EXPECT_EQ(second.at("sessionTime"), json::value("2024-01-07T00:00:00Z"));
  EXPECT_EQ(second.at("attempts").at(0).at("status"), json::value("blocked"));
  EXPECT_EQ(second.at("attempts").at(0).at("dependsOnSessionId"), json::value(ids[0]));
}

TEST_P(StoreApiTest, AnArrayWhoseElementsDifferInSizeIsRefused) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  struct {
    wfp_new_session s;
    uint64_t newer[3];
  } mixed[2] = {{NewSession(1, "load", kJan1 + 5 * kDay), {}},
                {NewSession(1, "load", kJan1 + 6 * kDay), {}}};
  mixed[0].s.struct_size = sizeof mixed[0];  // the second keeps sizeof(wfp_new_session)
  int64_t ids[2] = {};
  EXPECT_EQ(Api().create_sessions(txn, &mixed[0].s, 2, ids), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(txn->last_error.find("sessions[1] struct_size"), std::string::npos) << txn->last_error;
  Api().rollback(txn);
}

TEST_P(StoreApiTest, LatestSessionBeforeIsStrictAndCountsSessionsWithoutAttempts) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  int32_t found = -1;
  int64_t time = -1;
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1 + 2 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(found, 1);
  EXPECT_EQ(time, kJan1 + kDay);  // session 101 has no attempts
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1, &found, &time), WFP_OK);
  EXPECT_EQ(found, 0);
  ASSERT_EQ(Api().latest_session_before(txn, 2, S("load"), kJan1 + 9 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(found, 1);
  EXPECT_EQ(time, kJan1 + kDay + 6 * 3600);
  Api().rollback(txn);
}

// PostgreSQL reads the latest session before a read transaction's listing with the listing (one
// round trip); latest_session_before answers for its own arguments all the same.
TEST_P(StoreApiTest, LatestSessionBeforeAfterAListingAnswersForItsOwnArguments) {
  Call c(*store_);
  wfp_txn* txn = nullptr;
  ASSERT_EQ(Api().begin_read(&c.call, &txn), WFP_OK);
  Visits v;
  ASSERT_EQ(Api().list_sessions(txn, 1, S("load"), kJan1 + 2 * kDay, kJan1 + 100 * kDay, Visit, &v),
            WFP_OK);
  int32_t found = -1;
  int64_t time = -1;
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1 + 2 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(found, 1);
  EXPECT_EQ(time, kJan1 + kDay);
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1, &found, &time), WFP_OK);
  EXPECT_EQ(found, 0);  // another time
  ASSERT_EQ(Api().latest_session_before(txn, 2, S("load"), kJan1 + 2 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(found, 1);  // another project
  EXPECT_EQ(time, kJan1 + kDay + 6 * 3600);
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("lo"), kJan1 + 2 * kDay, &found, &time), WFP_OK);
  EXPECT_EQ(found, 0);  // another workflow
  Api().rollback(txn);
}

TEST_P(StoreApiTest, CreatedSessionsAndAttemptsAreStored) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  const wfp_new_session sessions[] = {
      NewSession(1, "load", kJan1 + 5 * kDay, "00000000-0000-4000-8000-000000000001"),
      NewSession(1, "load", kJan1 + 6 * kDay, "00000000-0000-4000-8000-000000000002")};
  int64_t session_ids[2] = {};
  ASSERT_EQ(Api().create_sessions(txn, sessions, 2, session_ids), WFP_OK);
  EXPECT_GT(session_ids[0], 104);
  EXPECT_GT(session_ids[1], session_ids[0]);

  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(Api().load_schedule(txn, 1, 5, &info), WFP_OK);
  wfp_new_attempt attempts[] = {
      NewAttempt(101, "fix", 1, WFP_ATTEMPT_QUEUED, R"({"k": "v"})"),
      NewAttempt(session_ids[0], "fix", 1, WFP_ATTEMPT_BLOCKED),
      NewAttempt(session_ids[1], "fix", 1, WFP_ATTEMPT_BLOCKED),
  };
  attempts[1].depends_on_session_id = 101;
  attempts[2].depends_on_session_id = session_ids[0];
  for (auto& a : attempts) a.pool_id = info.pool_id;
  int64_t attempt_ids[3] = {};
  ASSERT_EQ(Api().create_attempts(txn, attempts, 3, attempt_ids), WFP_OK);
  EXPECT_EQ(Api().commit(txn), WFP_OK);

  const json::value s101 = SessionDump(101);
  ASSERT_TRUE(s101.is_object());
  EXPECT_EQ(s101.at("attempts"),
            J(fmt::format(R"([{{"id": {}, "index": 1, "name": "fix", "status": "queued",
                "params": {{"k": "v"}}, "createdAt": "2024-01-11T00:00:00Z", "finishedAt": null,
                "poolId": "42", "dependsOnSessionId": null}}])",
                          attempt_ids[0])));
  const json::value s2 = SessionDump(session_ids[1]);
  ASSERT_TRUE(s2.is_object());
  EXPECT_EQ(s2.at("uuid"), json::value("00000000-0000-4000-8000-000000000002"));
  EXPECT_EQ(s2.at("sessionTime"), json::value("2024-01-07T00:00:00Z"));
  EXPECT_EQ(s2.at("attempts").at(0).at("id"), json::value(attempt_ids[2]));
  EXPECT_EQ(s2.at("attempts").at(0).at("status"), json::value("blocked"));
  EXPECT_EQ(s2.at("attempts").at(0).at("dependsOnSessionId"), json::value(session_ids[0]));
}

TEST_P(StoreApiTest, ASessionConflictCreatesNothingOfTheBatchAndTheTransactionGoesOn) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  const wfp_new_session batch[] = {NewSession(1, "load", kJan1 + 5 * kDay),
                                   NewSession(1, "load", kJan1 + kDay)};  // 101 exists
  int64_t ids[2] = {};
  EXPECT_EQ(Api().create_sessions(txn, batch, 2, ids), WFP_ERR_CONFLICT);
  const wfp_new_session again[] = {NewSession(1, "load", kJan1 + 5 * kDay)};
  ASSERT_EQ(Api().create_sessions(txn, again, 1, ids), WFP_OK);  // the first was not kept
  ASSERT_EQ(Api().commit(txn), WFP_OK);
  int n = 0;
  const json::value dump = Dump();
  for (const json::value& s : dump.at("sessions").as_array())
    n += s.at("sessionTime") == json::value("2024-01-06T00:00:00Z");
  EXPECT_EQ(n, 1);
}

TEST_P(StoreApiTest, AttemptConflictsCoverTheUnnamedAttempt) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  int64_t id = 0;
  wfp_new_attempt unnamed = NewAttempt(100, nullptr, 4);
  EXPECT_EQ(Api().create_attempts(txn, &unnamed, 1, &id), WFP_ERR_CONFLICT);
  wfp_new_attempt named = NewAttempt(100, "a", 4);
  EXPECT_EQ(Api().create_attempts(txn, &named, 1, &id), WFP_ERR_CONFLICT);
  wfp_new_attempt same_index = NewAttempt(100, "zz", 1);
  EXPECT_EQ(Api().create_attempts(txn, &same_index, 1, &id), WFP_ERR_CONFLICT);
  // Two unnamed attempts on a session without any: the batch is refused whole.
  const wfp_new_attempt two_unnamed[] = {NewAttempt(101, nullptr, 1), NewAttempt(101, nullptr, 2)};
  int64_t ids[2] = {};
  EXPECT_EQ(Api().create_attempts(txn, two_unnamed, 2, ids), WFP_ERR_CONFLICT);
  wfp_new_attempt fresh = NewAttempt(100, "c", 4);
  EXPECT_EQ(Api().create_attempts(txn, &fresh, 1, &id), WFP_OK);
  ASSERT_EQ(Api().commit(txn), WFP_OK);
  EXPECT_TRUE(SessionDump(101).at("attempts").as_array().empty());
  EXPECT_EQ(SessionDump(100).at("attempts").as_array().size(), 4u);
}

TEST_P(StoreApiTest, BadAttemptsAreRefused) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  int64_t id = 0;
  wfp_new_attempt a = NewAttempt(999, "x", 1);
  EXPECT_EQ(Api().create_attempts(txn, &a, 1, &id), WFP_ERR_NOT_FOUND);
  a = NewAttempt(101, "x", 1);
  a.depends_on_session_id = 999;
  EXPECT_EQ(Api().create_attempts(txn, &a, 1, &id), WFP_ERR_NOT_FOUND);
  a = NewAttempt(101, "x", 1, 7);
  EXPECT_EQ(Api().create_attempts(txn, &a, 1, &id), WFP_ERR_INVALID_ARGUMENT);
  a = NewAttempt(101, "x", 1, WFP_ATTEMPT_QUEUED, "[1]");
  EXPECT_EQ(Api().create_attempts(txn, &a, 1, &id), WFP_ERR_INVALID_ARGUMENT);
  a = NewAttempt(101, "x", 1, WFP_ATTEMPT_QUEUED, "{");
  EXPECT_EQ(Api().create_attempts(txn, &a, 1, &id), WFP_ERR_INVALID_ARGUMENT);
  a = NewAttempt(101, "x", 1);
  a.struct_size = offsetof(wfp_new_attempt, depends_on_session_id);
  EXPECT_EQ(Api().create_attempts(txn, &a, 1, &id), WFP_ERR_INVALID_ARGUMENT);
  wfp_new_session s = NewSession(1, "load", kJan1 + 20 * kDay);
  s.struct_size = offsetof(wfp_new_session, uuid);
  EXPECT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_ERR_INVALID_ARGUMENT);
  s = NewSession(9, "load", kJan1 + 20 * kDay);  // no project 9
  EXPECT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_ERR_NOT_FOUND);
  // Still usable: nothing above was written.
  a = NewAttempt(101, "x", 1);
  EXPECT_EQ(Api().create_attempts(txn, &a, 1, &id), WFP_OK);
  ASSERT_EQ(Api().commit(txn), WFP_OK);
  EXPECT_EQ(SessionDump(101).at("attempts").as_array().size(), 1u);
}

TEST_P(StoreApiTest, ThePointerMovesForwardOnly) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  const int64_t current = kJan1 + 10 * kDay - 9 * 3600;
  wfp_schedule_pointer p{sizeof(wfp_schedule_pointer), current - 1, current, 1, current - kDay};
  EXPECT_EQ(Api().move_schedule_pointer(txn, 5, &p), WFP_ERR_INVALID_ARGUMENT);
  p.next_schedule_time = current + kDay;
  EXPECT_EQ(Api().move_schedule_pointer(txn, 7, &p), WFP_ERR_NOT_FOUND);
  p.struct_size = offsetof(wfp_schedule_pointer, last_session_time);
  EXPECT_EQ(Api().move_schedule_pointer(txn, 5, &p), WFP_ERR_INVALID_ARGUMENT);
  p.struct_size = sizeof p;
  p.next_run_time = current + kDay + 60;
  p.last_session_time = current;
  ASSERT_EQ(Api().move_schedule_pointer(txn, 5, &p), WFP_OK);
  ASSERT_EQ(Api().commit(txn), WFP_OK);
  EXPECT_EQ(Dump().at("schedules").at(0),
            J(R"({"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-11T15:00:00Z",
                 "nextRunTime": "2024-01-11T15:01:00Z", "lastSessionTime": "2024-01-10T15:00:00Z",
                 "disabledAt": null})"));

  txn = Begin(c);
  wfp_schedule_pointer same{sizeof(wfp_schedule_pointer), current + kDay, current + kDay, 0, 0};
  ASSERT_EQ(Api().move_schedule_pointer(txn, 5, &same), WFP_OK);  // not backwards
  ASSERT_EQ(Api().commit(txn), WFP_OK);
  EXPECT_EQ(Dump().at("schedules").at(0).at("lastSessionTime"), json::value(nullptr));
}

TEST_P(StoreApiTest, RollbackLeavesNothing) {
  const json::value before = Dump();
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  const wfp_new_session s = NewSession(1, "load", kJan1 + 5 * kDay);
  int64_t id = 0, attempt = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
  wfp_new_attempt a = NewAttempt(id, nullptr, 1);
  ASSERT_EQ(Api().create_attempts(txn, &a, 1, &attempt), WFP_OK);
  wfp_schedule_pointer p{sizeof(wfp_schedule_pointer), kJan1 + 30 * kDay, kJan1 + 30 * kDay, 1,
                         kJan1 + 5 * kDay};
  ASSERT_EQ(Api().move_schedule_pointer(txn, 5, &p), WFP_OK);
  Api().rollback(txn);
  EXPECT_EQ(c.call.store.open_txn, nullptr);
  EXPECT_EQ(Dump(), before);
}

TEST_P(StoreApiTest, ATransactionLeftOpenIsRolledBackByTheRuntimesRollback) {
  const json::value before = Dump();
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  const wfp_new_session s = NewSession(1, "load", kJan1 + 5 * kDay);
  int64_t id = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
  // What the runtime does after a handler returned with a transaction open.
  wfp_txn* open = c.call.store.open_txn;
  c.call.store.open_txn = nullptr;
  Api().rollback(open);
  EXPECT_EQ(Dump(), before);
  // The connection is free again.
  txn = Begin(c);
  ASSERT_NE(txn, nullptr);
  Api().rollback(txn);
}

TEST_P(StoreApiTest, DestroyingAConnectionRollsBackItsOpenTransaction) {
  const json::value before = Dump();
  {
    Call c(*store_);
    wfp_txn* txn = Begin(c);
    ASSERT_EQ(Load(txn, 1, 5), WFP_OK);  // the schedule lock (PostgreSQL: its row)
    const wfp_new_session s = NewSession(1, "load", kJan1 + 5 * kDay);
    int64_t id = 0;
    ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
    c.call.store.open_txn = nullptr;  // forgotten: Call's destructor will not roll it back
  }
  Call other(*store_);
  other.connection->SetBusyTimeout(milliseconds(50));
  wfp_txn* txn = nullptr;
  ASSERT_EQ(Api().begin(&other.call, &txn), WFP_OK);  // the lock was released
  EXPECT_EQ(Load(txn, 1, 5), WFP_OK);
  Api().rollback(txn);
  EXPECT_EQ(Dump(), before);
}

TEST_P(SqliteStoreApiTest, AHeldWriteLockIsBusyAfterTheTimeout) {
  Call holder(*store_);
  Call waiter(*store_);
  waiter.connection->SetBusyTimeout(std::chrono::milliseconds(50));
  wfp_txn* held = Begin(holder);
  ASSERT_NE(held, nullptr);
  wfp_txn* txn = nullptr;
  EXPECT_EQ(Api().begin(&waiter.call, &txn), WFP_ERR_BUSY);
  EXPECT_EQ(txn, nullptr);
  EXPECT_EQ(waiter.call.store.open_txn, nullptr);
  Api().rollback(held);
  txn = Begin(waiter);
  ASSERT_NE(txn, nullptr);
  Api().rollback(txn);
}

TEST_P(StoreApiTest, AReadTransactionRefusesWritesAndDoesNotWaitForAWriter) {
  const json::value before = Dump();
  Call reader(*store_);
  wfp_txn* txn = nullptr;
  ASSERT_EQ(Api().begin_read(&reader.call, &txn), WFP_OK);
  EXPECT_EQ(reader.call.store.open_txn, txn);
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(Api().load_schedule(txn, 1, 5, &info), WFP_OK);
  const wfp_new_session session =
      NewSession(1, "load", kJan1 + 5 * kDay, "00000000-0000-4000-8000-000000000001");
  int64_t id = 0;
  EXPECT_EQ(Api().create_sessions(txn, &session, 1, &id), WFP_ERR_STATE);
  const wfp_new_attempt attempt = NewAttempt(101, "fix", 1, WFP_ATTEMPT_QUEUED);
  EXPECT_EQ(Api().create_attempts(txn, &attempt, 1, &id), WFP_ERR_STATE);
  wfp_schedule_pointer pointer{sizeof(wfp_schedule_pointer), info.next_schedule_time + 60,
                               info.next_run_time + 60, 0, 0};
  EXPECT_EQ(Api().move_schedule_pointer(txn, 5, &pointer), WFP_ERR_STATE);
  EXPECT_EQ(Api().commit(txn), WFP_OK);
  EXPECT_EQ(Dump(), before);

  if (backend_ == Backend::kMemory) return;  // one gate serialises every transaction
  // A reader reads its snapshot while a writer holds the schedule's lock and has written.
  Call writer(*store_);
  wfp_txn* held = HoldSchedule5(writer);
  ASSERT_NE(held, nullptr);
  reader.connection->SetBusyTimeout(milliseconds(50));
  ASSERT_EQ(Api().begin_read(&reader.call, &txn), WFP_OK);
  EXPECT_EQ(Api().load_schedule(txn, 1, 5, &info), WFP_OK);
  Visits v;
  EXPECT_EQ(Api().list_sessions(txn, 1, S("load"), kJan1, kJan1 + 100 * kDay, Visit, &v), WFP_OK);
  EXPECT_EQ(v.sessions.size(), 3u);  // not the writer's uncommitted session
  Api().rollback(txn);
  Api().rollback(held);
}

TEST_P(StoreApiTest, StoreBusyTimeoutAppliesToNewConnections) {
  store_->SetBusyTimeout(milliseconds(20));
  Call holder(*store_);
  Call waiter(*store_);
  wfp_txn* held = HoldSchedule5(holder);
  ASSERT_NE(held, nullptr);
  wfp_txn* txn = nullptr;
  if (postgres()) {
    // The lock is the schedule's row: begin takes none, load_schedule waits for it.
    ASSERT_EQ(Api().begin(&waiter.call, &txn), WFP_OK);
    EXPECT_EQ(Load(txn, 1, 5), WFP_ERR_BUSY);
    Api().rollback(txn);
  } else {
    EXPECT_EQ(Api().begin(&waiter.call, &txn), WFP_ERR_BUSY);
  }
  // A Seed waits for every writer (PostgreSQL: it locks every table against writes).
  const Status refused = store_->Seed(J(R"({"sites": [{"id": 50}]})"));
  EXPECT_EQ(refused.code(), WFP_ERR_BUSY) << refused.message();
  const std::string& error = refused.message();
  EXPECT_TRUE(error.find("busy") != std::string::npos ||              // PostgreSQL, ":memory:"
              error.find("database is locked") != std::string::npos)  // an SQLite file
      << error;
  Api().rollback(held);
  EXPECT_TRUE(IsOk(store_->Seed(J(R"({"sites": [{"id": 50}]})"))));
}

TEST_P(StoreApiTest, InjectedWriteFaultsAreInternalErrors) {
  const json::value before = Dump();
  Call c(*store_);
  // The 2nd write fails: create_sessions passes, create_attempts fails.
  faults_->FailAt(2);
  wfp_txn* txn = Begin(c);
  const wfp_new_session s = NewSession(1, "load", kJan1 + 5 * kDay);
  int64_t id = 0, attempt = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
  wfp_new_attempt a = NewAttempt(id, nullptr, 1);
  EXPECT_EQ(Api().create_attempts(txn, &a, 1, &attempt), WFP_ERR_INTERNAL);
  Api().rollback(txn);
  // The 3rd write (the commit) fails: rolled back and freed all the same.
  faults_->FailAt(3);
  txn = Begin(c);
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
  a = NewAttempt(id, nullptr, 1);
  ASSERT_EQ(Api().create_attempts(txn, &a, 1, &attempt), WFP_OK);
  EXPECT_EQ(Api().commit(txn), WFP_ERR_INTERNAL);
  EXPECT_EQ(c.call.store.open_txn, nullptr);
  faults_->FailAt(0);
  EXPECT_EQ(Dump(), before);
  // Disabled again: the same transaction commits.
  txn = Begin(c);
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
  EXPECT_EQ(Api().commit(txn), WFP_OK);
  EXPECT_TRUE(SessionDump(id).is_object());
}

// Each thread creates its own sessions: every transaction lands, whatever the interleaving.
TEST_P(StoreApiTest, ConcurrentWritersAllLand) {
  constexpr int kThreads = 4, kEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      Call c(*store_);
      for (int i = 0; i < kEach; ++i) {
        wfp_txn* txn = nullptr;
        if (Api().begin(&c.call, &txn) != WFP_OK) {
          ++failures;
          continue;
        }
        const int64_t time = kJan1 + 100 * kDay + (t * kEach + i) * 3600;
        const wfp_new_session s = NewSession(1, "load", time);
        int64_t id = 0, attempt = 0;
        wfp_status st = Api().create_sessions(txn, &s, 1, &id);
        wfp_new_attempt a = NewAttempt(id, "t", 1);
        if (st == WFP_OK) st = Api().create_attempts(txn, &a, 1, &attempt);
        if (st == WFP_OK)
          st = Api().commit(txn);
        else
          Api().rollback(txn);
        if (st != WFP_OK) ++failures;
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  Visits v;
  ASSERT_EQ(
      Api().list_sessions(txn, 1, S("load"), kJan1 + 100 * kDay, kJan1 + 200 * kDay, Visit, &v),
      WFP_OK);
  Api().rollback(txn);
  EXPECT_EQ(v.sessions.size(), static_cast<size_t>(kThreads * kEach));
  for (const Visited& s : v.sessions) EXPECT_EQ(s.attempts.size(), 1u);
}

// All threads race for the same session times with check-then-create, each after loading the
// schedule as a backfill does: the schedule lock (BEGIN IMMEDIATE on SQLite, the schedule's row on
// PostgreSQL, where READ COMMITTED then reads what the previous holder committed) serialises them,
// so no check is ever stale (no CONFLICT) and each time is created exactly once.
TEST_P(StoreApiTest, TheWriteLockSerialisesCheckThenCreate) {
  constexpr int kThreads = 4, kTimes = 20;
  std::atomic<int> created{0}, conflicts{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      Call c(*store_);
      for (int i = 0; i < kTimes; ++i) {
        const int64_t time = kJan1 + 100 * kDay + i * kDay;
        wfp_txn* txn = nullptr;
        if (Api().begin(&c.call, &txn) != WFP_OK) {
          ++failures;
          continue;
        }
        wfp_status st = Load(txn, 1, 5);
        Visits v;
        if (st == WFP_OK) st = Api().list_sessions(txn, 1, S("load"), time, time + 1, Visit, &v);
        // Widen the window between check and create, so that without the lock they interleave.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (st == WFP_OK && v.sessions.empty()) {
          const wfp_new_session s = NewSession(1, "load", time);
          int64_t id = 0;
          st = Api().create_sessions(txn, &s, 1, &id);
          if (st == WFP_OK) ++created;
          if (st == WFP_ERR_CONFLICT) ++conflicts;
        }
        if (st == WFP_OK)
          st = Api().commit(txn);
        else
          Api().rollback(txn);
        if (st != WFP_OK && st != WFP_ERR_CONFLICT) ++failures;
      }
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(conflicts, 0);
  EXPECT_EQ(created, kTimes);
}

TEST_P(StoreApiTest, KeysAndDumpsWhileWriting) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    Call c(*store_);
    for (int i = 0; i < 50; ++i) {
      wfp_txn* txn = Begin(c);
      if (!txn) break;
      const wfp_new_session s = NewSession(1, "load", kJan1 + 300 * kDay + i);
      int64_t id = 0;
      EXPECT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
      EXPECT_EQ(Api().commit(txn), WFP_OK);
    }
    stop = true;
  });
  int lookups = 0;
  while (!stop || lookups < 10) {
    EXPECT_EQ(store_->SiteForApiKey("k2"), 2);
    const json::value d = Dump();
    EXPECT_GE(d.at("sessions").as_array().size(), 5u);
    ++lookups;
  }
  writer.join();
  EXPECT_EQ(Dump().at("sessions").as_array().size(), 55u);
}

// Ids of rolled-back inserts: SQLite gives the next insert the same id again (a rowid is the
// highest id + 1), PostgreSQL does not (a sequence never goes back: pg/schema.cc). Either way ids
// ascend and are never those of committed rows.
TEST_P(StoreApiTest, IdsOfRolledBackInserts) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  const wfp_new_session s = NewSession(1, "load", kJan1 + 5 * kDay);
  int64_t session = 0, attempt = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &session), WFP_OK);
  wfp_new_attempt a = NewAttempt(session, nullptr, 1);
  ASSERT_EQ(Api().create_attempts(txn, &a, 1, &attempt), WFP_OK);
  EXPECT_EQ(session, 105);  // after the seeded ones (a Seed moves the sequences past its ids)
  Api().rollback(txn);

  txn = Begin(c);
  int64_t session2 = 0, attempt2 = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &session2), WFP_OK);
  a = NewAttempt(session2, nullptr, 1);
  ASSERT_EQ(Api().create_attempts(txn, &a, 1, &attempt2), WFP_OK);
  ASSERT_EQ(Api().commit(txn), WFP_OK);
  if (postgres()) {
    EXPECT_EQ(session2, session + 1);
    EXPECT_EQ(attempt2, attempt + 1);
  } else {
    EXPECT_EQ(session2, session);
    EXPECT_EQ(attempt2, attempt);
  }
  EXPECT_EQ(SessionDump(session2).at("attempts").at(0).at("id"), json::value(attempt2));
}

// A Seed assigning ids (after the highest ones) while a writer creates sessions and attempts: no
// id of one collides with the other's, so the writer never sees a CONFLICT it did not cause.
// (PostgreSQL: the writer's ids come from the sequences, the Seed's from max(id).)
TEST_P(StoreApiTest, ASeedAndAConcurrentWriterDoNotCollideOnIds) {
  constexpr int kWrites = 60;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    Call c(*store_);
    for (int i = 0; i < kWrites; ++i) {
      wfp_txn* txn = nullptr;
      wfp_status st = Api().begin(&c.call, &txn);
      if (st == WFP_OK) {
        const wfp_new_session s = NewSession(1, "load", kJan1 + 1000 * kDay + i * 60);
        int64_t id = 0, attempt = 0;
        st = Api().create_sessions(txn, &s, 1, &id);
        const wfp_new_attempt a = NewAttempt(id, nullptr, 1);
        if (st == WFP_OK) st = Api().create_attempts(txn, &a, 1, &attempt);
        if (st == WFP_OK) {
          st = Api().commit(txn);
        } else {
          ADD_FAILURE() << "write " << i << ": " << txn->last_error;
          Api().rollback(txn);
        }
      }
      if (st != WFP_OK) ++failures;
    }
    done = true;
  });
  int seeds = 0;
  while (!done && seeds < 1000) {  // (SQLite's busy handler may let the Seeds starve the writer)
    const json::value f = J(fmt::format(
        R"({{"sessions": [{{"projectId": 2, "workflowName": "load",
              "sessionTime": "2030-01-01T{:02}:{:02}:{:02}Z",
              "attempts": [{{"status": "success", "createdAt": "2024-01-01T00:00:00Z"}}]}}]}})",
        seeds / 3600, seeds / 60 % 60, seeds % 60));
    EXPECT_TRUE(IsOk(store_->Seed(f)));
    ++seeds;
  }
  writer.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(Dump().at("sessions").as_array().size(), static_cast<size_t>(5 + kWrites + seeds));
}

// A Seed while a backfill is under way (it has created sessions; it then moves the pointer and
// commits): the Seed waits for it, then goes in. (PostgreSQL: the Seed must lock the tables in the
// order a backfill writes them, sessions, attempts, schedules; the other way round they deadlock.)
TEST_P(StoreApiTest, ASeedWaitsForABackfillInProgress) {
  Call c(*store_);
  wfp_txn* held = HoldSchedule5(c);
  ASSERT_NE(held, nullptr);
  Status seeded;
  std::thread seeder([&] { seeded = store_->Seed(J(R"({"sites": [{"id": 50}]})")); });
  std::this_thread::sleep_for(milliseconds(300));  // the Seed waits for the lock meanwhile
  const wfp_schedule_pointer p{sizeof(wfp_schedule_pointer), kJan1 + 60 * kDay, kJan1 + 60 * kDay,
                               0, 0};
  EXPECT_EQ(Api().move_schedule_pointer(held, 5, &p), WFP_OK) << held->last_error;
  EXPECT_EQ(Api().commit(held), WFP_OK);
  seeder.join();
  EXPECT_TRUE(IsOk(seeded));
  const json::value dump = Dump();
  EXPECT_EQ(dump.at("sites").as_array().size(), 3u);
  EXPECT_EQ(dump.at("schedules").at(0).at("nextScheduleTime"), json::value("2024-03-01T00:00:00Z"));
}

// ---- PostgreSQL: the schedule lock is the schedule's row ----------------------------------------

// Another host holds schedule 5's row (as its backfill's load_schedule does): a write transaction's
// load_schedule of that schedule waits for it and is BUSY after the timeout; a backfill of another
// schedule and readers do not wait.
TEST_F(PostgresStoreApiTest, AHeldScheduleRowIsBusyForThatScheduleOnly) {
  Result<std::unique_ptr<StoreConnection>> connected = store_->Connect();
  ASSERT_TRUE(IsOk(connected.status()));
  std::unique_ptr<StoreConnection> holder = std::move(*connected);
  std::string error;
  ASSERT_TRUE(
      ExecForTesting(*holder, "BEGIN; SELECT id FROM schedules WHERE id = 5 FOR UPDATE", &error))
      << error;

  Call waiter(*store_);
  waiter.connection->SetBusyTimeout(milliseconds(100));
  wfp_txn* txn = Begin(waiter);  // takes no lock
  ASSERT_NE(txn, nullptr);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Load(txn, 1, 5), WFP_ERR_BUSY);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(90));
  EXPECT_NE(txn->last_error.find("55P03"), std::string::npos) << txn->last_error;
  // The failed statement aborted the transaction: it can only be rolled back.
  EXPECT_EQ(Api().commit(txn), WFP_ERR_STATE);
  EXPECT_EQ(waiter.call.store.open_txn, nullptr);

  // A whole backfill of schedule 6 (site 2) goes through meanwhile, with the same short timeout.
  txn = Begin(waiter);
  ASSERT_NE(txn, nullptr);
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(Api().load_schedule(txn, 2, 6, &info), WFP_OK) << txn->last_error;
  const wfp_new_session s = NewSession(2, "x", kJan1 + 10 * kDay);
  int64_t session = 0, attempt = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &session), WFP_OK) << txn->last_error;
  const wfp_new_attempt a = NewAttempt(session, nullptr, 1);
  ASSERT_EQ(Api().create_attempts(txn, &a, 1, &attempt), WFP_OK) << txn->last_error;
  const wfp_schedule_pointer p{sizeof(wfp_schedule_pointer), info.next_schedule_time + 3600,
                               info.next_run_time + 3600, 1, kJan1 + 10 * kDay};
  ASSERT_EQ(Api().move_schedule_pointer(txn, 6, &p), WFP_OK) << txn->last_error;
  ASSERT_EQ(Api().commit(txn), WFP_OK);

  // A read transaction reads schedule 5 without waiting.
  ASSERT_EQ(Api().begin_read(&waiter.call, &txn), WFP_OK);
  EXPECT_EQ(Load(txn, 1, 5), WFP_OK) << txn->last_error;
  Api().rollback(txn);

  ASSERT_TRUE(ExecForTesting(*holder, "ROLLBACK", &error)) << error;
  txn = Begin(waiter);
  EXPECT_EQ(Load(txn, 1, 5), WFP_OK) << txn->last_error;
  Api().rollback(txn);
  EXPECT_EQ(SessionDump(session).at("attempts").at(0).at("id"), json::value(attempt));
}

// Two backfills through the ABI, of different schedules, one after writing: neither waits.
TEST_F(PostgresStoreApiTest, BackfillsOfDifferentSchedulesDoNotWaitForEachOther) {
  Call first(*store_);
  wfp_txn* held = HoldSchedule5(first);
  ASSERT_NE(held, nullptr);
  int64_t id = 0;
  wfp_new_attempt a = NewAttempt(101, "first", 1);
  ASSERT_EQ(Api().create_attempts(held, &a, 1, &id), WFP_OK) << held->last_error;
  const wfp_schedule_pointer p5{sizeof(wfp_schedule_pointer), kJan1 + 60 * kDay, kJan1 + 60 * kDay,
                                0, 0};
  ASSERT_EQ(Api().move_schedule_pointer(held, 5, &p5), WFP_OK) << held->last_error;

  Call second(*store_);
  second.connection->SetBusyTimeout(milliseconds(50));
  wfp_txn* txn = Begin(second);
  ASSERT_EQ(Load(txn, 2, 6), WFP_OK) << txn->last_error;
  const wfp_new_session s = NewSession(2, "x", kJan1 + 10 * kDay);
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK) << txn->last_error;
  a = NewAttempt(id, nullptr, 1);
  ASSERT_EQ(Api().create_attempts(txn, &a, 1, &id), WFP_OK) << txn->last_error;
  const wfp_schedule_pointer p6{sizeof(wfp_schedule_pointer), kJan1 + 60 * kDay, kJan1 + 60 * kDay,
                                0, 0};
  ASSERT_EQ(Api().move_schedule_pointer(txn, 6, &p6), WFP_OK) << txn->last_error;
  ASSERT_EQ(Api().commit(txn), WFP_OK);
  EXPECT_EQ(Api().commit(held), WFP_OK);
  const json::value dump = Dump();
  EXPECT_EQ(dump.at("schedules").at(0).at("nextScheduleTime"), json::value("2024-03-01T00:00:00Z"));
  EXPECT_EQ(dump.at("schedules").at(1).at("nextScheduleTime"), json::value("2024-03-01T00:00:00Z"));
}

// The second writer of a schedule waits for the first and then reads what it committed (READ
// COMMITTED): its pointer and sessions.
TEST_F(PostgresStoreApiTest, TheNextWriterOfAScheduleWaitsAndSeesTheCommittedBackfill) {
  std::latch holding(1);
  std::atomic<bool> committing{false};
  std::thread first_writer([&] {  // a transaction belongs to the thread that began it
    Call first(*store_);
    wfp_txn* held = HoldSchedule5(first);  // created a session at kJan1 + 50 days
    const wfp_schedule_pointer p{sizeof(wfp_schedule_pointer), kJan1 + 51 * kDay, kJan1 + 51 * kDay,
                                 1, kJan1 + 50 * kDay};
    const bool moved = held && Api().move_schedule_pointer(held, 5, &p) == WFP_OK;
    EXPECT_TRUE(moved);
    holding.count_down();
    if (!moved) return;  // Call's destructor rolls back
    std::this_thread::sleep_for(milliseconds(300));
    committing = true;
    EXPECT_EQ(Api().commit(held), WFP_OK);
  });
  holding.wait();

  Call second(*store_);  // the default timeout: 5 s
  wfp_txn* txn = Begin(second);
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  const wfp_status st = Api().load_schedule(txn, 1, 5, &info);
  // It returned only once the first writer was committing: it waited for the lock (an ordering, not
  // a duration, so a loaded machine cannot fail it).
  const bool returned_after_commit_began = committing.load();
  first_writer.join();
  ASSERT_EQ(st, WFP_OK) << txn->last_error;
  EXPECT_TRUE(returned_after_commit_began);
  EXPECT_EQ(info.next_schedule_time, kJan1 + 51 * kDay);
  EXPECT_EQ(info.has_last_session_time, 1);
  EXPECT_EQ(info.last_session_time, kJan1 + 50 * kDay);
  Visits v;
  ASSERT_EQ(Api().list_sessions(txn, 1, S("load"), kJan1 + 50 * kDay, kJan1 + 51 * kDay, Visit, &v),
            WFP_OK);
  EXPECT_EQ(v.sessions.size(), 1u);
  const wfp_new_session again = NewSession(1, "load", kJan1 + 50 * kDay);
  int64_t id = 0;
  EXPECT_EQ(Api().create_sessions(txn, &again, 1, &id), WFP_ERR_CONFLICT);
  Api().rollback(txn);
}

// ---- load_schedule_window ---------------------------------------------------------------------

// What load_schedule_window answered, or load_schedule, list_sessions and latest_session_before.
struct WindowAnswer {
  wfp_status status = -1;
  wfp_schedule_info info{};
  Visits visits;
  int32_t complete = -1;
  int32_t has_latest_before = -1;
  int64_t latest_before = -1;
  std::deque<std::string> kept;  // KeepStrings: info's strings, once its transaction has ended
};

// Copies info's strings (the transaction's until it ends) into the answer itself.
void KeepStrings(WindowAnswer* a) {
  for (wfp_str* s : {&a->info.project_name, &a->info.workflow_name, &a->info.timezone,
                     &a->info.schedule_json, &a->info.pool_id}) {
    if (!s->data) continue;
    const std::string& copy = a->kept.emplace_back(s->data, s->size);
    *s = wfp_str{copy.data(), copy.size()};
  }
}

wfp_session_window MakeWindow(int64_t from, int64_t to, uint32_t max_sessions, Visits* visits) {
  wfp_session_window w{};
  w.struct_size = sizeof w;
  w.from = from;
  w.to = to;
  w.max_sessions = max_sessions;
  w.visitor = Visit;
  w.user_data = visits;
  w.complete = w.has_latest_before = -1;
  w.latest_before = -1;
  return w;
}

WindowAnswer LoadWindow(wfp_txn* txn, int64_t site, int64_t schedule, int64_t from, int64_t to,
                        uint32_t max_sessions, size_t stop_after = SIZE_MAX, uint32_t flags = 0) {
  WindowAnswer a;
  a.info.struct_size = sizeof a.info;
  a.visits.stop_after = stop_after;
  wfp_session_window w = MakeWindow(from, to, max_sessions, &a.visits);
  w.flags = flags;
  a.status = Api().load_schedule_window(txn, site, schedule, &a.info, &w);
  EXPECT_EQ(w.struct_size, sizeof w);  // an in-out struct: its size is left alone
  a.complete = w.complete;
  a.has_latest_before = w.has_latest_before;
  a.latest_before = w.latest_before;
  return a;
}

// The three calls in order, every session of the range visited.
WindowAnswer ThreeCalls(wfp_txn* txn, int64_t site, int64_t schedule, int64_t from, int64_t to) {
  WindowAnswer a;
  a.info.struct_size = sizeof a.info;
  a.status = Api().load_schedule(txn, site, schedule, &a.info);
  if (a.status != WFP_OK) return a;
  EXPECT_EQ(
      Api().list_sessions(txn, a.info.project_id, a.info.workflow_name, from, to, Visit, &a.visits),
      WFP_OK);
  EXPECT_EQ(Api().latest_session_before(txn, a.info.project_id, a.info.workflow_name, from,
                                        &a.has_latest_before, &a.latest_before),
            WFP_OK);
  return a;
}

void ExpectSameSchedule(const wfp_schedule_info& got, const wfp_schedule_info& want) {
  EXPECT_EQ(got.struct_size, want.struct_size);
  EXPECT_EQ(got.schedule_id, want.schedule_id);
  EXPECT_EQ(got.site_id, want.site_id);
  EXPECT_EQ(got.project_id, want.project_id);
  EXPECT_EQ(V(got.project_name), V(want.project_name));
  EXPECT_EQ(got.workflow_definition_id, want.workflow_definition_id);
  EXPECT_EQ(V(got.workflow_name), V(want.workflow_name));
  EXPECT_EQ(V(got.timezone), V(want.timezone));
  EXPECT_EQ(V(got.schedule_json), V(want.schedule_json));
  EXPECT_EQ(got.pool_id.data == nullptr, want.pool_id.data == nullptr);
  EXPECT_EQ(V(got.pool_id), V(want.pool_id));
  EXPECT_EQ(got.next_schedule_time, want.next_schedule_time);
  EXPECT_EQ(got.next_run_time, want.next_run_time);
  EXPECT_EQ(got.has_last_session_time, want.has_last_session_time);
  EXPECT_EQ(got.last_session_time, want.last_session_time);
  EXPECT_EQ(got.has_disabled_at, want.has_disabled_at);
  EXPECT_EQ(got.disabled_at, want.disabled_at);
}

// The window answers what the three calls answer in the same transaction, its visits cut at
// max_sessions; complete says whether a session of the range was left unvisited (exactly: a window
// that ends at its max_sessions-th session is complete). In a write and in a read transaction.
TEST_P(StoreApiTest, LoadScheduleWindowAnswersAsTheThreeCalls) {
  struct Case {
    int64_t from, to;
    uint32_t max_sessions;
    size_t visited;
    int32_t complete;
  };
  // Schedule 5's workflow has sessions at kJan1 (3 attempts), kJan1 + 1 day (none), + 2 days (1).
  const Case cases[] = {
      {0, kJan1 + 10 * kDay, 5, 3, 1},                    // fewer than max
      {0, kJan1 + 10 * kDay, 3, 3, 1},                    // exactly max
      {0, kJan1 + 10 * kDay, 2, 2, 0},                    // more than max
      {0, kJan1 + 10 * kDay, 1, 1, 0},                    //
      {kJan1 + kDay, kJan1 + 10 * kDay, 10, 2, 1},        // a latest before
      {kJan1 + kDay, kJan1 + 2 * kDay + 1, 1, 1, 0},      // `to` exclusive, `from` inclusive
      {kJan1 + 5 * kDay, kJan1 + 9 * kDay, 4, 0, 1},      // an empty range
      {kJan1 + kDay, kJan1 + kDay, 1, 0, 1},              // from == to
      {kJan1 + 2 * kDay, kJan1 + 2 * kDay + 1, 1, 1, 1},  // one session, max one
      {0, kJan1 + 10 * kDay, UINT32_MAX, 3, 1},           // the largest max
  };
  // A read transaction's only read (WFP_WINDOW_LAST_READ; PostgreSQL: one statement, no BEGIN)
  // is compared with the three calls of a read transaction after it.
  enum Mode { kWrite, kRead, kOnlyRead };
  for (const Mode mode : {kWrite, kRead, kOnlyRead}) {
    for (const Case& k : cases) {
      SCOPED_TRACE(::testing::Message() << "mode " << mode << " " << k.from << ".." << k.to
                                        << " max " << k.max_sessions);
      Call c(*store_);
      wfp_txn* txn = nullptr;
      ASSERT_EQ(mode == kWrite ? Api().begin(&c.call, &txn) : Api().begin_read(&c.call, &txn),
                WFP_OK);
      WindowAnswer got = LoadWindow(txn, 1, 5, k.from, k.to, k.max_sessions, SIZE_MAX,
                                    mode == kOnlyRead ? WFP_WINDOW_LAST_READ : 0u);
      ASSERT_EQ(got.status, WFP_OK) << txn->last_error;
      if (mode == kOnlyRead) {
        KeepStrings(&got);
        ASSERT_EQ(Api().commit(txn), WFP_OK) << txn->last_error;
        ASSERT_EQ(Api().begin_read(&c.call, &txn), WFP_OK);
      }
      const WindowAnswer want = ThreeCalls(txn, 1, 5, k.from, k.to);
      ASSERT_EQ(want.status, WFP_OK);
      ExpectSameSchedule(got.info, want.info);
      std::vector<Visited> first(want.visits.sessions.begin(),
                                 want.visits.sessions.begin() +
                                     std::min<size_t>(k.max_sessions, want.visits.sessions.size()));
      EXPECT_EQ(got.visits.sessions, first);
      EXPECT_EQ(got.visits.sessions.size(), k.visited);
      EXPECT_EQ(got.complete, k.complete);
      EXPECT_EQ(got.has_latest_before, want.has_latest_before);
      EXPECT_EQ(got.latest_before, got.has_latest_before ? want.latest_before : 0);
      EXPECT_EQ(got.has_latest_before, k.from > kJan1 ? 1 : 0);
      Api().rollback(txn);
    }
  }
}

// The sessions come with their attempts by index; another workflow's, project's and site's
// sessions are not the schedule's; a session the transaction created is seen.
TEST_P(StoreApiTest, LoadScheduleWindowVisitsTheSchedulesSessionsWithTheirAttempts) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  WindowAnswer got = LoadWindow(txn, 1, 5, kJan1, kJan1 + 2 * kDay + 1, 2);
  ASSERT_EQ(got.status, WFP_OK) << txn->last_error;
  const std::vector<Visited> want = {
      {100, "00000000-0000-4000-8000-000000000100", kJan1, {{"<none>", 1}, {"b", 2}, {"a", 3}}},
      {101, "", kJan1 + kDay, {}}};
  EXPECT_EQ(got.visits.sessions, want);
  EXPECT_EQ(got.complete, 0);
  EXPECT_EQ(got.has_latest_before, 0);
  EXPECT_EQ(got.latest_before, 0);
  EXPECT_EQ(V(got.info.workflow_name), "load");
  EXPECT_EQ(V(got.info.pool_id), "42");
  Api().rollback(txn);

  // Schedule 6 (site 2, project 2, workflow "x") has no sessions: project 2's "load" is not its.
  txn = Begin(c);
  got = LoadWindow(txn, 2, 6, 0, kJan1 + 100 * kDay, 10);
  ASSERT_EQ(got.status, WFP_OK) << txn->last_error;
  EXPECT_TRUE(got.visits.sessions.empty());
  EXPECT_EQ(got.complete, 1);
  EXPECT_EQ(got.has_latest_before, 0);
  EXPECT_EQ(got.info.has_disabled_at, 1);
  EXPECT_EQ(got.info.pool_id.data, nullptr);
  // A session of the schedule's workflow, created in this transaction, is seen by the next window.
  const wfp_new_session s = NewSession(2, "x", kJan1 + 3 * kDay);
  int64_t id = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK) << txn->last_error;
  got = LoadWindow(txn, 2, 6, kJan1 + 4 * kDay, kJan1 + 100 * kDay, 10);
  ASSERT_EQ(got.status, WFP_OK) << txn->last_error;
  EXPECT_TRUE(got.visits.sessions.empty());
  EXPECT_EQ(got.has_latest_before, 1);
  EXPECT_EQ(got.latest_before, kJan1 + 3 * kDay);
  got = LoadWindow(txn, 2, 6, 0, kJan1 + 100 * kDay, 10);
  ASSERT_EQ(got.visits.sessions.size(), 1u);
  EXPECT_EQ(got.visits.sessions[0].id, id);
  Api().rollback(txn);
}

// PostgreSQL answers a read transaction's latest_session_before from what the window read;
// latest_session_before and list_sessions answer for their own arguments all the same.
TEST_P(StoreApiTest, ReadsAfterAWindowAnswerForTheirOwnArguments) {
  Call c(*store_);
  wfp_txn* txn = nullptr;
  ASSERT_EQ(Api().begin_read(&c.call, &txn), WFP_OK);
  const WindowAnswer got = LoadWindow(txn, 1, 5, kJan1 + 2 * kDay, kJan1 + 100 * kDay, 1);
  ASSERT_EQ(got.status, WFP_OK) << txn->last_error;
  EXPECT_EQ(got.latest_before, kJan1 + kDay);
  int32_t found = -1;
  int64_t time = -1;
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1 + 2 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(found, 1);
  EXPECT_EQ(time, kJan1 + kDay);
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1 + kDay, &found, &time), WFP_OK);
  EXPECT_EQ(found, 1);  // another time
  EXPECT_EQ(time, kJan1);
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1 + 100 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(time, kJan1 + 2 * kDay);  // the window's `to`
  ASSERT_EQ(Api().latest_session_before(txn, 2, S("load"), kJan1 + 2 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(time, kJan1 + kDay + 6 * 3600);  // another project
  // A listing after the window (a dry run's next batch) lists, then latest_session_before still
  // answers for its own arguments.
  Visits v;
  ASSERT_EQ(Api().list_sessions(txn, 1, S("load"), kJan1 + kDay, kJan1 + 100 * kDay, Visit, &v),
            WFP_OK);
  EXPECT_EQ(v.sessions.size(), 2u);
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1 + kDay, &found, &time), WFP_OK);
  EXPECT_EQ(found, 1);
  EXPECT_EQ(time, kJan1);
  ASSERT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1 + 2 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(time, kJan1 + kDay);
  Api().rollback(txn);
}

// Another site's schedule, or none: NOT_FOUND, nothing visited, nothing found before; the
// transaction goes on (also after a window asked as a read transaction's last read).
TEST_P(StoreApiTest, LoadScheduleWindowOfAnotherSitesScheduleIsNotFound) {
  for (const int mode : {0, 1, 2}) {  // write, read, read with WFP_WINDOW_LAST_READ
    Call c(*store_);
    wfp_txn* txn = nullptr;
    ASSERT_EQ(mode ? Api().begin_read(&c.call, &txn) : Api().begin(&c.call, &txn), WFP_OK);
    for (const auto& [site, schedule] : {std::pair<int64_t, int64_t>{2, 5}, {1, 6}, {1, 7}}) {
      const WindowAnswer got = LoadWindow(txn, site, schedule, 0, kJan1 + 100 * kDay, 10, SIZE_MAX,
                                          mode == 2 ? WFP_WINDOW_LAST_READ : 0u);
      EXPECT_EQ(got.status, WFP_ERR_NOT_FOUND) << site << "/" << schedule;
      EXPECT_TRUE(got.visits.sessions.empty());
      EXPECT_EQ(got.complete, 0);
      EXPECT_EQ(got.has_latest_before, 0);
      EXPECT_EQ(got.latest_before, 0);
    }
    EXPECT_EQ(Load(txn, 1, 5), WFP_OK) << txn->last_error;
    EXPECT_EQ(Api().commit(txn), WFP_OK);
  }
}

TEST_P(StoreApiTest, LoadScheduleWindowRefusesBadArguments) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  Visits v;
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  const wfp_session_window good = MakeWindow(0, kJan1 + 10 * kDay, 5, &v);
  auto refused = [&](wfp_session_window w) {
    return Api().load_schedule_window(txn, 1, 5, &info, &w) == WFP_ERR_INVALID_ARGUMENT;
  };
  wfp_session_window w = good;
  w.struct_size = offsetof(wfp_session_window, latest_before);  // no room for a 1.4 field
  EXPECT_TRUE(refused(w));
  w = good;
  w.struct_size = 0;
  EXPECT_TRUE(refused(w));
  w = good;
  w.visitor = nullptr;
  EXPECT_TRUE(refused(w));
  w = good;
  w.from = w.to + 1;
  EXPECT_TRUE(refused(w));
  w = good;
  w.max_sessions = 0;
  EXPECT_TRUE(refused(w));
  w = good;
  EXPECT_EQ(Api().load_schedule_window(txn, 1, 5, nullptr, &w), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(Api().load_schedule_window(txn, 1, 5, &info, nullptr), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(Api().load_schedule_window(nullptr, 1, 5, &info, &w), WFP_ERR_INVALID_ARGUMENT);
  wfp_schedule_info small{};
  small.struct_size = offsetof(wfp_schedule_info, disabled_at);
  EXPECT_EQ(Api().load_schedule_window(txn, 1, 5, &small, &w), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_TRUE(v.sessions.empty());
  EXPECT_EQ(info.schedule_id, 0);  // nothing loaded
  // The transaction is usable: nothing was sent.
  wfp_session_window ok = good;
  ASSERT_EQ(Api().load_schedule_window(txn, 1, 5, &info, &ok), WFP_OK) << txn->last_error;
  EXPECT_EQ(v.sessions.size(), 3u);
  EXPECT_EQ(Api().commit(txn), WFP_OK);
}

// A window from a newer caller (a larger struct) is read as far as this host knows it; the
// outputs are written in place and the bytes past them left alone.
TEST_P(StoreApiTest, LoadScheduleWindowFromANewerCallerIsReadAsFarAsItIsKnown) {
  struct Newer {
    wfp_session_window window;
    int64_t later_field;
  };
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  Visits v;
  Newer n{MakeWindow(kJan1 + kDay, kJan1 + 10 * kDay, 5, &v), 77};
  n.window.struct_size = sizeof n;
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(Api().load_schedule_window(txn, 1, 5, &info, &n.window), WFP_OK) << txn->last_error;
  EXPECT_EQ(n.window.struct_size, sizeof n);
  EXPECT_EQ(n.later_field, 77);
  EXPECT_EQ(v.sessions.size(), 2u);
  EXPECT_EQ(n.window.complete, 1);
  EXPECT_EQ(n.window.has_latest_before, 1);
  EXPECT_EQ(n.window.latest_before, kJan1);
  Api().rollback(txn);
}

// A visitor that stops ends the visits (complete 0, even on the range's last session: the visits
// were stopped); the latest session before is answered all the same. A visitor cannot call the
// store meanwhile.
TEST_P(StoreApiTest, AVisitorThatStopsEndsTheWindowsVisits) {
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  WindowAnswer got = LoadWindow(txn, 1, 5, kJan1 + kDay, kJan1 + 10 * kDay, 5, /*stop_after=*/1);
  ASSERT_EQ(got.status, WFP_OK) << txn->last_error;
  ASSERT_EQ(got.visits.sessions.size(), 1u);
  EXPECT_EQ(got.visits.sessions[0].id, 101);
  EXPECT_EQ(got.complete, 0);
  EXPECT_EQ(got.has_latest_before, 1);
  EXPECT_EQ(got.latest_before, kJan1);
  got = LoadWindow(txn, 1, 5, kJan1 + kDay, kJan1 + 10 * kDay, 5, /*stop_after=*/2);
  EXPECT_EQ(got.visits.sessions.size(), 2u);
  EXPECT_EQ(got.complete, 0);

  struct Nested {
    wfp_txn* txn;
    std::vector<wfp_status> answers;
  } nested{txn, {}};
  wfp_session_window w{};
  w.struct_size = sizeof w;
  w.from = 0;
  w.to = kJan1 + 10 * kDay;
  w.max_sessions = 1;
  w.user_data = &nested;
  w.visitor = [](void* user_data, const wfp_session_info*) -> int32_t {
    auto* n = static_cast<Nested*>(user_data);
    int32_t found = 0;
    int64_t time = 0;
    n->answers.push_back(Api().latest_session_before(n->txn, 1, S("load"), kJan1, &found, &time));
    wfp_schedule_info info{};
    info.struct_size = sizeof info;
    n->answers.push_back(Api().load_schedule(n->txn, 1, 5, &info));
    n->answers.push_back(Api().commit(n->txn));
    return 0;
  };
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(Api().load_schedule_window(txn, 1, 5, &info, &w), WFP_OK) << txn->last_error;
  EXPECT_EQ(nested.answers, (std::vector<wfp_status>{WFP_ERR_STATE, WFP_ERR_STATE, WFP_ERR_STATE}));
  EXPECT_EQ(w.complete, 0);
  EXPECT_EQ(Api().commit(txn), WFP_OK);
}

// A write transaction's window holds the schedule lock as load_schedule does: another writer of
// that schedule is BUSY after its timeout (SQLite: at begin, the lock being the whole store;
// PostgreSQL: at its own window, the lock being the schedule's row, so another schedule's writer
// goes through), a reader is not kept waiting; once the first rolls back, the second goes on.
TEST_P(StoreApiTest, AWriteTransactionsWindowHoldsTheScheduleLock) {
  Call first(*store_);
  wfp_txn* held = Begin(first);
  ASSERT_EQ(LoadWindow(held, 1, 5, 0, kJan1 + 10 * kDay, 5).status, WFP_OK) << held->last_error;

  Call second(*store_);
  second.connection->SetBusyTimeout(milliseconds(100));
  wfp_txn* txn = nullptr;
  if (postgres()) {
    txn = Begin(second);
    ASSERT_NE(txn, nullptr);
    const WindowAnswer busy = LoadWindow(txn, 1, 5, 0, kJan1 + 10 * kDay, 5);
    EXPECT_EQ(busy.status, WFP_ERR_BUSY);
    EXPECT_NE(txn->last_error.find("55P03"), std::string::npos) << txn->last_error;
    EXPECT_TRUE(busy.visits.sessions.empty());
    EXPECT_EQ(Api().commit(txn), WFP_ERR_STATE);  // aborted: it can only be rolled back
    txn = Begin(second);
    EXPECT_EQ(LoadWindow(txn, 2, 6, 0, kJan1 + 10 * kDay, 5).status, WFP_OK) << txn->last_error;
    Api().rollback(txn);
  } else {
    EXPECT_EQ(Api().begin(&second.call, &txn), WFP_ERR_BUSY);
  }
  if (backend_ != Backend::kMemory) {  // ":memory:" has one gate for every transaction
    ASSERT_EQ(Api().begin_read(&second.call, &txn), WFP_OK);
    const WindowAnswer read = LoadWindow(txn, 1, 5, 0, kJan1 + 10 * kDay, 5);
    EXPECT_EQ(read.status, WFP_OK) << txn->last_error;
    EXPECT_EQ(read.visits.sessions.size(), 3u);
    Api().rollback(txn);
  }
  Api().rollback(held);
  txn = Begin(second);
  ASSERT_NE(txn, nullptr);
  EXPECT_EQ(LoadWindow(txn, 1, 5, 0, kJan1 + 10 * kDay, 5).status, WFP_OK) << txn->last_error;
  Api().rollback(txn);
}

// The store observer sees a write transaction's lock wait once, whether load_schedule or the
// window took the lock, and a BUSY window.
class CountingObserver final : public StoreObserver {
 public:
  void Transaction(bool, double) override {}
  void LockWait(double) override { ++lock_waits; }
  void Busy() override { ++busy; }
  std::atomic<int> lock_waits{0};
  std::atomic<int> busy{0};
};

TEST_P(StoreApiTest, AWindowReportsTheLockWaitOnceAndBusy) {
  CountingObserver observer;
  SetStoreObserver(&observer);
  Call c(*store_);
  wfp_txn* txn = Begin(c);
  EXPECT_EQ(LoadWindow(txn, 1, 5, 0, kJan1, 1).status, WFP_OK);
  EXPECT_EQ(LoadWindow(txn, 1, 5, 0, kJan1, 1).status, WFP_OK);
  EXPECT_EQ(Load(txn, 1, 5), WFP_OK);
  EXPECT_EQ(observer.lock_waits, 1);
  Visits v;
  wfp_session_window bad = MakeWindow(1, 0, 1, &v);
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  EXPECT_EQ(Api().load_schedule_window(txn, 1, 5, &info, &bad), WFP_ERR_INVALID_ARGUMENT);
  Api().rollback(txn);
  ASSERT_EQ(Api().begin_read(&c.call, &txn), WFP_OK);
  EXPECT_EQ(LoadWindow(txn, 1, 5, 0, kJan1, 1).status, WFP_OK);  // a reader waits for no lock
  Api().rollback(txn);
  EXPECT_EQ(observer.lock_waits, 1);
  if (postgres()) {
    Call holder(*store_);
    wfp_txn* held = Begin(holder);
    ASSERT_EQ(Load(held, 1, 5), WFP_OK);
    c.connection->SetBusyTimeout(milliseconds(50));
    txn = Begin(c);
    EXPECT_EQ(LoadWindow(txn, 1, 5, 0, kJan1, 1).status, WFP_ERR_BUSY);
    EXPECT_EQ(observer.busy, 1);
    EXPECT_EQ(observer.lock_waits, 3);  // the holder's, then the BUSY window's
    Api().rollback(txn);
    Api().rollback(held);
  }
  SetStoreObserver(nullptr);
}

// A lock not had in time is reported to the observer (wfp_store_busy_total) where it is missed:
// SQLite's at begin (the lock is the whole store), PostgreSQL's at load_schedule (the schedule's
// row), as it is for load_schedule_window above.
TEST_P(StoreApiTest, ABusyLoadScheduleIsReported) {
  Call holder(*store_);
  wfp_txn* held = HoldSchedule5(holder);
  ASSERT_NE(held, nullptr);
  CountingObserver observer;
  SetStoreObserver(&observer);
  Call c(*store_);
  c.connection->SetBusyTimeout(milliseconds(50));
  wfp_txn* txn = nullptr;
  const wfp_status begun = Api().begin(&c.call, &txn);
  if (postgres()) {
    ASSERT_EQ(begun, WFP_OK);
    EXPECT_EQ(Load(txn, 1, 5), WFP_ERR_BUSY);
    Api().rollback(txn);
  } else {
    EXPECT_EQ(begun, WFP_ERR_BUSY);
  }
  EXPECT_EQ(observer.busy, 1);
  SetStoreObserver(nullptr);
  Api().rollback(held);
}

// The catalog the host's own routes read (Store::ListProjects, ListSchedules) is the site's, by
// every filter: another site's schedule, project or workflow is never listed, whatever its id.
TEST_P(StoreApiTest, TheCatalogIsTheSitesByEveryFilter) {
  auto schedules = [&](int64_t site, Store::ScheduleFilter filter) {
    const Result<std::vector<Store::ScheduleRecord>> got = store_->ListSchedules(site, filter);
    EXPECT_TRUE(IsOk(got.status()));
    std::vector<int64_t> ids;
    if (got.ok())
      for (const Store::ScheduleRecord& s : *got) ids.push_back(s.id);
    return ids;
  };
  auto projects = [&](int64_t site, std::optional<std::string> name) {
    const Result<std::vector<Store::ProjectRecord>> got = store_->ListProjects(site, name);
    EXPECT_TRUE(IsOk(got.status()));
    std::vector<int64_t> ids;
    if (got.ok())
      for (const Store::ProjectRecord& p : *got) ids.push_back(p.id);
    return ids;
  };
  auto by = [](std::optional<int64_t> schedule, std::optional<int64_t> project,
               std::optional<std::string> workflow = std::nullopt) {
    Store::ScheduleFilter filter;
    filter.schedule_id = schedule;
    filter.project_id = project;
    filter.workflow_name = std::move(workflow);
    return filter;
  };
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(schedules(1, {}), Ids{5});
  EXPECT_EQ(schedules(2, {}), Ids{6});
  EXPECT_EQ(schedules(1, by(5, std::nullopt)), Ids{5});
  EXPECT_EQ(schedules(1, by(6, std::nullopt)), Ids{});
  EXPECT_EQ(schedules(2, by(std::nullopt, 2)), Ids{6});
  EXPECT_EQ(schedules(1, by(std::nullopt, 2)), Ids{});
  EXPECT_EQ(schedules(2, by(std::nullopt, 2, "x")), Ids{6});
  EXPECT_EQ(schedules(1, by(std::nullopt, 2, "x")), Ids{});
  EXPECT_EQ(projects(1, std::nullopt), Ids{1});
  EXPECT_EQ(projects(2, "other"), Ids{2});
  EXPECT_EQ(projects(1, "other"), Ids{});
}

// WFP_WINDOW_LAST_READ: a read-only transaction reads nothing after the window (the backend may
// have ended its snapshot with it: PostgreSQL sends the ROLLBACK with the reads); commit and
// rollback still end it, and its connection serves the next transaction. A write transaction
// ignores the flag.
TEST_P(StoreApiTest, AfterALastReadWindowReadsAreRefused) {
  Call c(*store_);
  for (bool commit : {false, true}) {
    wfp_txn* txn = nullptr;
    ASSERT_EQ(Api().begin_read(&c.call, &txn), WFP_OK);
    const WindowAnswer got =
        LoadWindow(txn, 1, 5, kJan1, kJan1 + 100 * kDay, 5, SIZE_MAX, WFP_WINDOW_LAST_READ);
    ASSERT_EQ(got.status, WFP_OK) << txn->last_error;
    const WindowAnswer want = ThreeCalls(txn, 1, 5, kJan1, kJan1 + 100 * kDay);
    EXPECT_EQ(want.status, WFP_ERR_STATE);  // its load_schedule is refused
    EXPECT_NE(txn->last_error.find("WFP_WINDOW_LAST_READ"), std::string::npos) << txn->last_error;
    int32_t found = -1;
    int64_t time = -1;
    EXPECT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1, &found, &time), WFP_ERR_STATE);
    Visits v;
    EXPECT_EQ(Api().list_sessions(txn, 1, S("load"), 0, kJan1 + 100 * kDay, Visit, &v),
              WFP_ERR_STATE);
    EXPECT_TRUE(v.sessions.empty());
    EXPECT_EQ(LoadWindow(txn, 1, 5, 0, kJan1, 1).status, WFP_ERR_STATE);
    if (commit)
      EXPECT_EQ(Api().commit(txn), WFP_OK) << txn->last_error;
    else
      Api().rollback(txn);
  }
  // The same connection: a read-only transaction as before, its answers those of the three calls.
  wfp_txn* txn = nullptr;
  ASSERT_EQ(Api().begin_read(&c.call, &txn), WFP_OK);
  const WindowAnswer got =
      LoadWindow(txn, 1, 5, kJan1, kJan1 + 100 * kDay, 5, SIZE_MAX, WFP_WINDOW_LAST_READ);
  ASSERT_EQ(got.status, WFP_OK) << txn->last_error;
  Api().rollback(txn);
  ASSERT_EQ(Api().begin_read(&c.call, &txn), WFP_OK);
  const WindowAnswer want = ThreeCalls(txn, 1, 5, kJan1, kJan1 + 100 * kDay);
  ASSERT_EQ(want.status, WFP_OK) << txn->last_error;
  Api().rollback(txn);
  EXPECT_EQ(got.visits.sessions.size(), std::min<size_t>(5, want.visits.sessions.size()));
  EXPECT_EQ(got.latest_before, want.latest_before);
  // A write transaction reads on.
  ASSERT_EQ(Api().begin(&c.call, &txn), WFP_OK);
  ASSERT_EQ(
      LoadWindow(txn, 1, 5, kJan1, kJan1 + 100 * kDay, 5, SIZE_MAX, WFP_WINDOW_LAST_READ).status,
      WFP_OK)
      << txn->last_error;
  EXPECT_EQ(ThreeCalls(txn, 1, 5, kJan1, kJan1 + 100 * kDay).status, WFP_OK) << txn->last_error;
  EXPECT_EQ(Api().commit(txn), WFP_OK) << txn->last_error;
}

// ---- the schema -------------------------------------------------------------------------------

std::vector<std::vector<std::string>> Query(StoreConnection& c, const std::string& sql) {
  std::string error;
  auto rows = QueryForTesting(c, sql, &error);
  EXPECT_TRUE(rows) << sql << ": " << error;
  return rows.value_or(std::vector<std::vector<std::string>>{});
}

// On PostgreSQL the last-read window's ROLLBACK goes with its reads: once the window is answered,
// the transaction's backend is idle, not idle in a transaction holding its snapshot (as it is after
// a window without the flag, until the rollback). That holds for a window after another read (its
// transaction begun) as for a window that is the only read (one statement, no transaction).
TEST_F(PostgresStoreApiTest, ALastReadWindowEndsTheSnapshotInItsRoundTrip) {
  Call c(*store_);
  Call other(*store_);
  // That backend's state only: other tests run beside this one on the same database.
  const auto pid = Query(*c.connection, "SELECT pg_backend_pid()");
  ASSERT_EQ(pid.size(), 1u);
  const std::string idle_in_transaction =
      "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid[0][0] +
      " AND state = 'idle in transaction'";
  for (const bool read_before : {false, true}) {
    for (uint32_t flags : {0u, WFP_WINDOW_LAST_READ}) {
      wfp_txn* txn = nullptr;
      ASSERT_EQ(Api().begin_read(&c.call, &txn), WFP_OK);
      if (read_before) {
        ASSERT_EQ(Load(txn, 1, 5), WFP_OK) << txn->last_error;
      }
      ASSERT_EQ(LoadWindow(txn, 1, 5, kJan1, kJan1 + 100 * kDay, 5, SIZE_MAX, flags).status, WFP_OK)
          << txn->last_error;
      const auto rows = Query(*other.connection, idle_in_transaction);
      ASSERT_EQ(rows.size(), 1u);
      EXPECT_EQ(rows[0][0], flags ? "0" : "1")
          << "flags " << flags << ", read before " << read_before;
      Api().rollback(txn);
    }
  }
}

// A connection the server ended while it was idle (a restart, a failover, an idle timeout) is found
// lost by the first statement of the next transaction, opened again, and that statement retried
// there (nothing was done yet): the transaction goes through, a write as a read-only one whose only
// read is a last-read window (one statement without BEGIN).
TEST_F(PostgresStoreApiTest, AConnectionTheServerEndedIsOpenedAgainForTheNextTransaction) {
  Call c(*store_);
  Call admin(*store_);
  for (const bool read : {false, true}) {
    const auto pid = Query(*c.connection, "SELECT pg_backend_pid()");
    ASSERT_EQ(pid.size(), 1u);
    ASSERT_EQ(Query(*admin.connection, "SELECT pg_terminate_backend(" + pid[0][0] + ", 5000)"),
              (std::vector<std::vector<std::string>>{{"t"}}));
    wfp_txn* txn = nullptr;
    ASSERT_EQ(read ? Api().begin_read(&c.call, &txn) : Api().begin(&c.call, &txn), WFP_OK);
    if (read) {
      const WindowAnswer got =
          LoadWindow(txn, 1, 5, kJan1, kJan1 + 100 * kDay, 5, SIZE_MAX, WFP_WINDOW_LAST_READ);
      EXPECT_EQ(got.status, WFP_OK) << txn->last_error;
      EXPECT_EQ(got.visits.sessions.size(), 3u);
    } else {
      EXPECT_EQ(Load(txn, 1, 5), WFP_OK) << txn->last_error;
    }
    EXPECT_EQ(Api().commit(txn), WFP_OK);
    EXPECT_NE(Query(*c.connection, "SELECT pg_backend_pid()"), pid);  // a new backend
  }
}

// A COMMIT that fails answers the code of its own failure (here a foreign key checked only at
// COMMIT: not found), not whatever the ROLLBACK after it left in the handle; nothing is kept.
TEST_P(SqliteStoreApiTest, ACommitThatFailsAnswersItsOwnCode) {
  const json::value before = Dump();
  Call c(*store_);
  std::string error;
  ASSERT_TRUE(ExecForTesting(*c.connection, "PRAGMA defer_foreign_keys = ON", &error)) << error;
  wfp_txn* txn = Begin(c);
  ASSERT_NE(txn, nullptr);
  const wfp_new_session s = NewSession(999, "load", kJan1 + 5 * kDay);  // no project 999
  int64_t id = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
  EXPECT_EQ(Api().commit(txn), WFP_ERR_NOT_FOUND);
  EXPECT_EQ(c.call.store.open_txn, nullptr);
  EXPECT_EQ(Dump(), before);
  // The failed COMMIT left no transaction open (SQLite keeps one open after a deferred foreign key
  // refused it, holding the write lock): this connection writes again, and so does another.
  Call other(*store_);
  for (Call* writer : {&c, &other}) {
    writer->connection->SetBusyTimeout(milliseconds(100));
    txn = Begin(*writer);
    ASSERT_NE(txn, nullptr);
    const wfp_new_session fine = NewSession(1, "load", kJan1 + (writer == &c ? 5 : 6) * kDay);
    ASSERT_EQ(Api().create_sessions(txn, &fine, 1, &id), WFP_OK) << txn->last_error;
    EXPECT_EQ(Api().commit(txn), WFP_OK) << txn->last_error;
  }
  EXPECT_EQ(Dump().at("sessions").as_array().size(), 7u);
}

TEST_P(SqliteStoreApiTest, SchemaIsVersionedAndConnectionsAreConfigured) {
  Call c(*store_);
  EXPECT_EQ(Query(*c.connection, "PRAGMA user_version"),
            (std::vector<std::vector<std::string>>{{std::to_string(kStoreSchemaVersion)}}));
  EXPECT_EQ(Query(*c.connection, "PRAGMA foreign_keys"),
            (std::vector<std::vector<std::string>>{{"1"}}));
  if (backend_ == Backend::kFile) {
    EXPECT_EQ(Query(*c.connection, "PRAGMA journal_mode"),
              (std::vector<std::vector<std::string>>{{"wal"}}));
  }
}

TEST_F(PostgresStoreApiTest, SchemaIsVersionedAndConnectionsAreConfigured) {
  Call c(*store_);
  EXPECT_EQ(Query(*c.connection, "SELECT version FROM wfp_schema"),
            (std::vector<std::vector<std::string>>{{std::to_string(kStoreSchemaVersion)}}));
  // The tables are in the first schema of the search_path: the test's own.
  const std::string& url = fresh_->location();
  const std::string schema = url.substr(url.rfind("%3D") + 3);
  EXPECT_EQ(Query(*c.connection, "SELECT current_schema()"),
            (std::vector<std::vector<std::string>>{{schema}}));
  EXPECT_EQ(Query(*c.connection,
                  "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"),
            (std::vector<std::vector<std::string>>{{"8"}}));  // 7 and wfp_schema
  // The busy timeout is the lock timeout.
  EXPECT_EQ(Query(*c.connection, "SHOW lock_timeout"),
            (std::vector<std::vector<std::string>>{{"5s"}}));
  c.connection->SetBusyTimeout(milliseconds(250));
  EXPECT_EQ(Query(*c.connection, "SHOW lock_timeout"),
            (std::vector<std::vector<std::string>>{{"250ms"}}));
}

// The words of each backend's constraint errors.
std::string UniqueViolation(Backend b) {
  return b == Backend::kPostgres ? "violates unique constraint" : "UNIQUE";
}
std::string ForeignKeyViolation(Backend b) {
  return b == Backend::kPostgres ? "violates foreign key constraint" : "FOREIGN KEY";
}

TEST_P(StoreApiTest, SchemaRefusesTwoUnnamedAttemptsOnOneSession) {
  Call c(*store_);
  std::string error;
  constexpr const char* insert =
      "INSERT INTO attempts (session_id, name, \"index\", done, success, cancel_requested, state,"
      " params, created_at) VALUES (101, {}, {}, 0, 0, 0, 0, '{{}}', 0)";
  ASSERT_TRUE(ExecForTesting(*c.connection, fmt::format(fmt::runtime(insert), "NULL", 1), &error))
      << error;
  EXPECT_FALSE(ExecForTesting(*c.connection, fmt::format(fmt::runtime(insert), "NULL", 2), &error));
  EXPECT_NE(error.find(UniqueViolation(backend_)), std::string::npos) << error;
  if (postgres()) {
    EXPECT_NE(error.find("attempts_unnamed"), std::string::npos) << error;
  }
  ASSERT_TRUE(ExecForTesting(*c.connection, fmt::format(fmt::runtime(insert), "'n'", 2), &error))
      << error;
  EXPECT_FALSE(ExecForTesting(*c.connection, fmt::format(fmt::runtime(insert), "'n'", 3), &error));
  EXPECT_NE(error.find(UniqueViolation(backend_)), std::string::npos) << error;
  EXPECT_FALSE(
      ExecForTesting(*c.connection, fmt::format(fmt::runtime(insert), "'m'", 2), &error));  // index
  EXPECT_NE(error.find(UniqueViolation(backend_)), std::string::npos) << error;
  ASSERT_TRUE(ExecForTesting(*c.connection, fmt::format(fmt::runtime(insert), "'m'", 3), &error))
      << error;
  // An unnamed attempt on another session is fine.
  ASSERT_TRUE(ExecForTesting(
      *c.connection,
      "INSERT INTO attempts (session_id, name, \"index\", done, success, cancel_requested, state,"
      " params, created_at) VALUES (103, NULL, 1, 0, 0, 0, 0, '{}', 0)",
      &error))
      << error;
}

TEST_P(StoreApiTest, SchemaRefusesDuplicateSessionTimesAndDanglingRows) {
  Call c(*store_);
  std::string error;
  EXPECT_FALSE(ExecForTesting(*c.connection,
                              "INSERT INTO sessions (project_id, workflow_name, session_time) "
                              "VALUES (1, 'load', 1704067200)",
                              &error));
  EXPECT_NE(error.find(UniqueViolation(backend_)), std::string::npos) << error;
  EXPECT_FALSE(ExecForTesting(
      *c.connection,
      "INSERT INTO sessions (project_id, workflow_name, session_time) VALUES (9, 'load', 1)",
      &error));
  EXPECT_NE(error.find(ForeignKeyViolation(backend_)), std::string::npos) << error;
  // (Schedules take explicit ids on PostgreSQL: only the workflow's schedule collides.)
  EXPECT_FALSE(
      ExecForTesting(*c.connection,
                     "INSERT INTO schedules (id, workflow_id, next_schedule_time, next_run_time)"
                     " VALUES (77, 11, 0, 0)",
                     &error));
  EXPECT_NE(error.find(UniqueViolation(backend_)), std::string::npos) << error;
}

// The plan the backend chooses for a query: the EXPLAIN's last column, one line per row.
std::string PlanOf(StoreConnection& c, const std::string& explain) {
  std::string plan;
  for (const auto& row : Query(c, explain)) plan += row.back() + "\n";
  return plan;
}

// On PostgreSQL, the plan of one of the store's own statements (store/pg_statements.h) run with
// `args`, as the store runs it: prepared, then executed.
std::string PlanOfPrepared(StoreConnection& c, const char* sql, const std::string& args) {
  std::string error;
  EXPECT_TRUE(ExecForTesting(c, fmt::format("PREPARE wfp_explained AS {}", sql), &error)) << error;
  std::string plan = PlanOf(c, fmt::format("EXPLAIN EXECUTE wfp_explained({})", args));
  EXPECT_TRUE(ExecForTesting(c, "DEALLOCATE wfp_explained", &error)) << error;
  return plan;
}

// The store's own statements for list_sessions and latest_session_before (sqlite_schema.cc), with
// their parameters unbound.
TEST_P(SqliteStoreApiTest, SessionQueriesUseTheSessionTimeIndex) {
  Call c(*store_);
  namespace sq = store_internal::sqlite_backend;
  for (sq::Stmt which : {sq::Stmt::kLatestSessionBefore, sq::Stmt::kListSessions}) {
    const std::string plan =
        PlanOf(*c.connection, std::string("EXPLAIN QUERY PLAN ") + sq::SqlOf(which));
    EXPECT_NE(plan.find("INDEX sqlite_autoindex_sessions_1 (project_id=? AND "
                        "workflow_name=? AND session_time"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("SCAN s\n"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  }
}

// The queries of list_sessions and latest_session_before (pg_txn.cc) can use the unique index
// of (project, workflow, session time) for the range. On a handful of rows the planner prefers a
// sequential scan, so the test forbids it: what it checks is that the index fits the query.
TEST_F(PostgresStoreApiTest, SessionQueriesUseTheSessionTimeIndex) {
  Call c(*store_);
  std::string error;
  ASSERT_TRUE(ExecForTesting(*c.connection, "SET enable_seqscan = off", &error)) << error;
  namespace pgs = store_internal::pg_backend;
  for (const std::string& plan :
       {PlanOfPrepared(*c.connection, pgs::kLatestSessionBeforeSql, "1, 'load', 5"),
        PlanOfPrepared(*c.connection, pgs::kListSessionsSql, "1, 'load', 1, 5")}) {
    EXPECT_NE(plan.find("using sessions_project_id_workflow_name_session_time_key on sessions"),
              std::string::npos)
        << plan;
    EXPECT_NE(plan.find("Index Cond: ((project_id = '1'::bigint) AND (workflow_name = "
                        "'load'::text) AND (session_time"),
              std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("Seq Scan on sessions"), std::string::npos) << plan;
  }
}

// load_schedule_window's two reads (pg_txn.cc), which find the project and workflow through the
// schedule: the schedule by its key, then the same index of sessions as list_sessions' and
// latest_session_before's, read in session time order up to the limit (no sort of the range).
TEST_F(PostgresStoreApiTest, WindowQueriesUseTheSessionTimeIndex) {
  Call c(*store_);
  std::string error;
  ASSERT_TRUE(ExecForTesting(*c.connection, "SET enable_seqscan = off", &error)) << error;
  namespace pgs = store_internal::pg_backend;
  for (const std::string& plan :
       {PlanOfPrepared(*c.connection, pgs::kWindowSessionsSql, "5, 1, 1, 5, 11"),
        PlanOfPrepared(*c.connection, pgs::kWindowLatestBeforeSql, "5, 1, 5"),
        PlanOfPrepared(*c.connection, pgs::kWindowAloneSql, "5, 1, 1, 5, 11")}) {
    EXPECT_NE(plan.find("using sessions_project_id_workflow_name_session_time_key on sessions"),
              std::string::npos)
        << plan;
    EXPECT_NE(plan.find("using schedules_pkey on schedules"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
    // The sessions come from the index in order up to the limit: no sort of the range (only the
    // limited sessions' rows with their attempts are sorted, by session time and attempt index).
    EXPECT_EQ(plan.find("Sort Key: se.session_time\n"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Sort Key: se.session_time DESC"), std::string::npos) << plan;
    EXPECT_NE(plan.find("Limit"), std::string::npos) << plan;
  }
}

// ---- file stores only -------------------------------------------------------------------------

TEST(StoreFile, ReopeningKeepsTheData) {
  testing_util::TempDir dir;
  {
    auto store = Store::Open(dir.File("s.db"));
    ASSERT_TRUE(IsOk(store.status()));
    ASSERT_TRUE(IsOk((*store)->Seed(J(kBase))));
  }
  auto store = Store::Open(dir.File("s.db"));
  ASSERT_TRUE(IsOk(store.status()));
  const Result<json::value> dump = (*store)->Dump();
  ASSERT_TRUE(IsOk(dump.status()));
  EXPECT_EQ(dump->at("sessions").as_array().size(), 5u);
  EXPECT_EQ((*store)->SiteForApiKey("k1"), 1);
}

TEST(StoreFile, ANewerSchemaIsRefused) {
  testing_util::TempDir dir;
  {
    auto store = Store::Open(dir.File("s.db"));
    ASSERT_TRUE(IsOk(store.status()));
    auto c = (*store)->Connect();
    ASSERT_TRUE(IsOk(c.status()));
    std::string error;
    ASSERT_TRUE(ExecForTesting(**c, "PRAGMA user_version = 99", &error)) << error;
  }
  const Result<std::unique_ptr<Store>> refused = Store::Open(dir.File("s.db"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), WFP_ERR_UNSUPPORTED);
  EXPECT_NE(refused.status().message().find("schema version 99"), std::string::npos)
      << refused.status().message();
}

TEST(StoreFile, AnUnopenablePathIsAnError) {
  const Result<std::unique_ptr<Store>> unopenable = Store::Open("/nonexistent-dir/x/s.db");
  ASSERT_FALSE(unopenable.ok());
  EXPECT_NE(unopenable.status().message().find("/nonexistent-dir/x/s.db"), std::string::npos)
      << unopenable.status().message();
  const Result<std::unique_ptr<Store>> empty = Store::Open("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), WFP_ERR_INVALID_ARGUMENT);
}

TEST(StoreFile, AnExclusiveStoreKeepsItsWalIndexInMemory) {
  StoreOptions exclusive;
  exclusive.exclusive = true;
  for (const char* location : {":memory:", "postgresql://u:secret@127.0.0.1:1/db"}) {
    const Result<std::unique_ptr<Store>> refused = Store::Open(location, exclusive);
    ASSERT_FALSE(refused.ok()) << location;
    EXPECT_EQ(refused.status().code(), WFP_ERR_INVALID_ARGUMENT) << refused.status().message();
  }
  testing_util::TempDir dir;
  for (const bool alone : {false, true}) {
    const std::string path = dir.File(alone ? "alone.db" : "shared.db");
    StoreOptions options;
    options.exclusive = alone;
    auto store = Store::Open(path, options);
    ASSERT_TRUE(IsOk(store.status()));
    ASSERT_TRUE(IsOk((*store)->Seed(J(kBase))));
    EXPECT_EQ((*store)->SiteForApiKey("k1"), 1);
    // Held alone, no other process needs the index: no -shm file; shared, there is one.
    EXPECT_EQ(std::filesystem::exists(path + "-shm"), !alone) << path;
  }
}

// A writer that finds another of this process's transactions holding the write lock waits for it in
// the host, woken when it is let go: it never meets SQLite's busy handler, which sleeps 1 to 100 ms
// between tries (the long tail of writes under a mixed load). The busy handler is left for other
// processes' locks. Shared and held alone (unix-excl, whose connections lock in memory) alike.
TEST(StoreFile, WritersOfOneStoreWaitInTheHostNotInSqlitesBusyHandler) {
  testing_util::TempDir dir;
  for (const bool alone : {false, true}) {
    StoreOptions options;
    options.exclusive = alone;
    auto store = Store::Open(dir.File(alone ? "alone.db" : "shared.db"), options);
    ASSERT_TRUE(IsOk(store.status()));
    ASSERT_TRUE(IsOk((*store)->Seed(J(kBase))));
    Call holder(**store);
    Call waiter(**store);
    wfp_txn* held = nullptr;
    ASSERT_EQ(Api().begin(&holder.call, &held), WFP_OK);
    const int64_t retries = store_internal::sqlite_backend::SqliteLockRetries();
    std::atomic<int> begun{-1};
    std::thread second([&] {
      wfp_txn* txn = nullptr;
      begun = Api().begin(&waiter.call, &txn);
      if (begun == WFP_OK) Api().rollback(txn);
    });
    std::this_thread::sleep_for(milliseconds(100));  // long enough for the second to be waiting
    EXPECT_EQ(begun.load(), -1) << "the second writer began while the first held the lock";
    Api().rollback(held);
    second.join();
    EXPECT_EQ(begun.load(), WFP_OK);
    EXPECT_EQ(store_internal::sqlite_backend::SqliteLockRetries(), retries)
        << (alone ? "alone" : "shared");
  }
}

// Another process's write lock (here another Store of the file, whose writers take turns apart from
// this one's) makes a write BUSY once SQLite's busy handler gives up on it. That writer lets go of
// its turn among this store's writers all the same: once the lock is free, the next write goes
// through (and does not wait for a turn nobody will give back).
TEST(StoreFile, AWriteRefusedForAnotherProcesssLockLeavesTheTurnToTheNext) {
  testing_util::TempDir dir;
  auto store = Store::Open(dir.File("s.db"));
  ASSERT_TRUE(IsOk(store.status()));
  ASSERT_TRUE(IsOk((*store)->Seed(J(kBase))));
  auto other = Store::Open(dir.File("s.db"));
  ASSERT_TRUE(IsOk(other.status()));
  Call holder(**other);
  wfp_txn* held = nullptr;
  ASSERT_EQ(Api().begin(&holder.call, &held), WFP_OK);
  Call refused(**store);
  refused.connection->SetBusyTimeout(milliseconds(50));
  wfp_txn* txn = nullptr;
  EXPECT_EQ(Api().begin(&refused.call, &txn), WFP_ERR_BUSY);
  Api().rollback(held);
  Call next(**store);
  for (Call* writer : {&refused, &next}) {
    writer->connection->SetBusyTimeout(milliseconds(1000));
    ASSERT_EQ(Api().begin(&writer->call, &txn), WFP_OK);
    Api().rollback(txn);
  }
}

TEST(StoreMemory, EachMemoryStoreIsItsOwn) {
  auto a = Store::Open(":memory:");
  auto b = Store::Open(":memory:");
  ASSERT_TRUE(IsOk(a.status()));
  ASSERT_TRUE(IsOk(b.status()));
  ASSERT_TRUE(IsOk((*a)->Seed(J(R"({"sites": [{"id": 1, "apiKeys": ["k"]}]})"))));
  EXPECT_EQ((*a)->SiteForApiKey("k"), 1);
  EXPECT_EQ((*b)->SiteForApiKey("k"), std::nullopt);
}

// Seeds kBase, opens a call's connection, destroys the store with `close`, then reads through the
// connection: what a connection needs of its store lives as long as the connection.
void ExpectConnectionsOutliveTheStore(Store& store, const std::function<void()>& close) {
  ASSERT_TRUE(IsOk(store.Seed(J(kBase))));
  Call c(store);
  close();
  wfp_txn* txn = nullptr;
  ASSERT_EQ(Api().begin(&c.call, &txn), WFP_OK);
  int32_t found = 0;
  int64_t time = 0;
  EXPECT_EQ(Api().latest_session_before(txn, 1, S("load"), kJan1 + 9 * kDay, &found, &time),
            WFP_OK);
  EXPECT_EQ(found, 1);
  Api().rollback(txn);
}

TEST(StoreMemory, ConnectionsOutliveTheStore) {
  auto opened = Store::Open(":memory:");
  ASSERT_TRUE(IsOk(opened.status()));
  std::unique_ptr<Store> store = std::move(*opened);
  ExpectConnectionsOutliveTheStore(*store, [&] { store.reset(); });
}

// ---- PostgreSQL stores -------------------------------------------------------------------------

class StorePostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testing_util::Unavailable(Backend::kPostgres); !why.empty())
      GTEST_SKIP() << why;
  }
};

TEST_F(StorePostgres, ReopeningKeepsTheData) {
  testing_util::FreshStore store(Backend::kPostgres);
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(kBase))));
  ASSERT_TRUE(IsOk(store.Reopen()));
  const Result<json::value> dump = store->Dump();
  ASSERT_TRUE(IsOk(dump.status()));
  EXPECT_EQ(dump->at("sessions").as_array().size(), 5u);
  EXPECT_EQ(store->SiteForApiKey("k1"), 1);
  // And new sessions continue after the stored ones.
  Call c(*store);
  wfp_txn* txn = nullptr;
  ASSERT_EQ(Api().begin(&c.call, &txn), WFP_OK);
  const wfp_new_session s = NewSession(1, "load", kJan1 + 5 * kDay);
  int64_t id = 0;
  ASSERT_EQ(Api().create_sessions(txn, &s, 1, &id), WFP_OK);
  EXPECT_EQ(id, 105);
  EXPECT_EQ(Api().commit(txn), WFP_OK);
}

TEST_F(StorePostgres, ANewerSchemaIsRefused) {
  testing_util::FreshStore store(Backend::kPostgres);
  ASSERT_TRUE(store);
  {
    auto c = store->Connect();
    ASSERT_TRUE(IsOk(c.status()));
    std::string error;
    ASSERT_TRUE(ExecForTesting(**c, "UPDATE wfp_schema SET version = 99", &error)) << error;
  }
  store.reset();
  const Result<std::unique_ptr<Store>> refused = Store::Open(store.location());
  ASSERT_FALSE(refused.ok());
  // The same code as SQLite's (StoreFile.ANewerSchemaIsRefused): the host cannot use the store.
  EXPECT_EQ(refused.status().code(), WFP_ERR_UNSUPPORTED);
  const std::string error = refused.status().message();
  EXPECT_NE(error.find("the store has schema version 99, newer than this host's (1)"),
            std::string::npos)
      << error;
}

TEST_F(StorePostgres, ASearchPathWithoutAnExistingSchemaIsRefused) {
  const std::string url =
      testing_util::WithSearchPath(testing_util::PostgresUrl(), "no_such_schema_wfp");
  const Result<std::unique_ptr<Store>> refused = Store::Open(url);
  ASSERT_FALSE(refused.ok());
  const std::string error = refused.status().message();
  EXPECT_NE(error.find("no schema to create the store in"), std::string::npos) << error;
}

// Needs no server: nothing listens there.
TEST(StorePostgresUnreachable, IsAClearErrorThatNeverShowsThePassword) {
  for (const char* url : {"postgresql://u:secret@/db?host=/nonexistent-wfp-dir",
                          "postgres://u@/db?host=/nonexistent-wfp-dir&password=secret"}) {
    const Result<std::unique_ptr<Store>> refused = Store::Open(url);
    EXPECT_FALSE(refused.ok()) << url;
    const std::string error = refused.status().message();
    EXPECT_FALSE(error.empty()) << url;
    EXPECT_EQ(error.find("secret"), std::string::npos) << error;
#ifdef WFP_TEST_HAVE_POSTGRES
    EXPECT_NE(error.find("/nonexistent-wfp-dir"), std::string::npos) << error;  // says where
#endif
    EXPECT_EQ(Store::Redact(url).find("secret"), std::string::npos) << Store::Redact(url);
  }
}

// Two hosts on one database: two Stores on the same schema see each other's commits, and the
// schedule lock of one holds off the other.
TEST_F(StorePostgres, TwoStoresOnOneSchemaShareRowsAndScheduleLocks) {
  testing_util::FreshStore store(Backend::kPostgres);
  ASSERT_TRUE(store);
  ASSERT_TRUE(IsOk(store->Seed(J(kBase))));
  Result<std::unique_ptr<Store>> opened = Store::Open(store.location());
  ASSERT_TRUE(IsOk(opened.status()));
  std::unique_ptr<Store> other = std::move(*opened);
  EXPECT_EQ(other->SiteForApiKey("k2"), 2);

  Call a(*store);
  Call b(*other);
  b.connection->SetBusyTimeout(milliseconds(50));
  wfp_txn* held = nullptr;
  ASSERT_EQ(Api().begin(&a.call, &held), WFP_OK);
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(Api().load_schedule(held, 1, 5, &info), WFP_OK);
  const wfp_new_session s = NewSession(1, "load", kJan1 + 5 * kDay);
  int64_t id = 0;
  ASSERT_EQ(Api().create_sessions(held, &s, 1, &id), WFP_OK);

  wfp_txn* txn = nullptr;
  ASSERT_EQ(Api().begin(&b.call, &txn), WFP_OK);
  EXPECT_EQ(Api().load_schedule(txn, 1, 5, &info), WFP_ERR_BUSY);
  Api().rollback(txn);
  ASSERT_EQ(Api().commit(held), WFP_OK);

  ASSERT_EQ(Api().begin(&b.call, &txn), WFP_OK);
  ASSERT_EQ(Api().load_schedule(txn, 1, 5, &info), WFP_OK);
  int64_t again = 0;
  EXPECT_EQ(Api().create_sessions(txn, &s, 1, &again), WFP_ERR_CONFLICT);  // the other's
  Api().rollback(txn);
  const Result<json::value> dump = other->Dump();
  ASSERT_TRUE(IsOk(dump.status()));
  EXPECT_EQ(dump->at("sessions").as_array().size(), 6u);
}

TEST_F(StorePostgres, ConnectionsOutliveTheStore) {
  testing_util::FreshStore store(Backend::kPostgres);
  ASSERT_TRUE(store);
  ExpectConnectionsOutliveTheStore(*store, [&] { store.reset(); });
}

}  // namespace
}  // namespace wfp::host
