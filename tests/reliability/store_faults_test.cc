// Fault injection at the store boundary, through the real backfill plugin in an in-process Host on
// a real store, an SQLite file or PostgreSQL (a schema of its own: tests/store/test_util.h): a
// write that fails (the k-th of create_sessions, create_attempts, move_schedule_pointer, commit) is
// a 500 with a generic message; a lock held by another connection past the busy timeout (SQLite:
// the whole store, BEGIN IMMEDIATE; PostgreSQL: the schedule's row, SELECT ... FOR UPDATE) is a 503
// with Retry-After. Either way nothing is written (the dump equals the one before) and the next
// request succeeds. The unfaulted baseline is read back too: what a backfill writes (statuses,
// dependsOnSessionId, indexes, params, the pointer) as the store holds it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "runtime/host.h"
#include "sql_for_testing.h"
#include "store/store.h"
#include "test_util.h"

namespace wfp::host {
namespace {

using testing_util::Backend;
using testing_util::ExecForTesting;
using testing_util::IsOk;

// 2024-01-12T03:00:00Z.
constexpr int64_t kNowMicros = 1705028400LL * 1000000;

// A daily schedule whose pointer is a week behind "now": an advance backfill creates 8 sessions,
// 8 attempts and moves the pointer, i.e. every kind of write.
constexpr const char* kFixture = R"({
  "sites": [{"id": 1, "apiKeys": ["k1"]}],
  "projects": [{"id": 1, "siteId": 1, "name": "p"}],
  "workflows": [{"id": 11, "projectId": 1, "name": "wf", "timezone": "UTC",
                 "schedule": {"daily>": "00:00:00"}}],
  "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-05T00:00:00Z",
                 "nextRunTime": "2024-01-05T00:00:00Z", "lastSessionTime": null,
                 "disabledAt": null}],
  "sessions": []
})";
constexpr const char* kAdvance =
    R"({"dryRun": false, "skipExisting": true, "advanceSchedule": true})";

// The backends of these suites.
const auto kBackends = ::testing::Values(Backend::kFile, Backend::kPostgres);

class StoreFaultsBase : public ::testing::Test {
 protected:
  explicit StoreFaultsBase(Backend backend) : backend_(backend) {}

  void SetUp() override {
    if (std::string why = testing_util::Unavailable(backend_); !why.empty()) GTEST_SKIP() << why;
    StoreOptions so;
    so.busy_timeout = std::chrono::milliseconds(100);
    so.write_faults = faults_;
    fresh_ = std::make_unique<testing_util::FreshStore>(backend_, so);
    ASSERT_TRUE(*fresh_);
    store_ = fresh_->get();
    ASSERT_TRUE(IsOk(store_->Seed(boost::json::parse(kFixture))));

    HostOptions o;
    o.fixed_now_micros = kNowMicros;
    o.store = StoreApi();
    Store* store = store_;
    o.connect = [store]() -> Result<std::shared_ptr<StoreConnection>> {
      Result<std::unique_ptr<StoreConnection>> c = store->Connect();
      if (!c.ok()) return c.status();
      return std::shared_ptr<StoreConnection>(std::move(*c));
    };
    o.authenticate = [store](std::string_view key) {
      const Store::KeyLookup found = store->LookUpApiKey(key);
      if (!found.ok()) return HostOptions::Authentication(std::nullopt, /*unavailable=*/true);
      return HostOptions::Authentication(*found);
    };
    o.log_sink = [this](std::string_view line) { log_ += std::string(line) + "\n"; };
    host_ = std::make_unique<Host>(std::move(o));
    ASSERT_TRUE(IsOk(host_->LoadPlugin(WFP_BACKFILL_PLUGIN)));
  }

  void TearDown() override {
    host_.reset();
    fresh_.reset();
  }

  // Another connection (another host) takes the lock a backfill of schedule 5 needs: the whole
  // store on SQLite, the schedule's row on PostgreSQL. Released with ROLLBACK.
  std::unique_ptr<StoreConnection> HoldScheduleLock() {
    Result<std::unique_ptr<StoreConnection>> connected = store_->Connect();
    EXPECT_TRUE(IsOk(connected.status()));
    if (!connected.ok()) return nullptr;
    std::unique_ptr<StoreConnection> holder = std::move(*connected);
    std::string error;
    const char* sql = backend_ == Backend::kPostgres
                          ? "BEGIN; SELECT id FROM schedules WHERE id = 5 FOR UPDATE"
                          : "BEGIN IMMEDIATE";
    EXPECT_TRUE(ExecForTesting(*holder, sql, &error)) << error;
    return holder;
  }

  HttpResponse Backfill(const std::string& body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/api/schedules/5/backfill";
    r.headers.emplace_back("authorization", "Bearer k1");
    r.headers.emplace_back("content-type", "application/json");
    r.body = body;
    return host_->Handle(std::move(r));
  }

  boost::json::value Dump() {
    Result<boost::json::value> d = store_->Dump();
    EXPECT_TRUE(IsOk(d.status()));
    if (!d.ok()) return nullptr;
    return std::move(*d);
  }

  static size_t Count(const boost::json::value& dump, const char* what) {
    return dump.as_object().at(what).as_array().size();
  }

  Backend backend_;
  // The store's write faults (StoreOptions::write_faults): none until a test calls FailAt.
  std::shared_ptr<testing_util::FailAtWrite> faults_ =
      std::make_shared<testing_util::FailAtWrite>();
  std::unique_ptr<testing_util::FreshStore> fresh_;
  Store* store_ = nullptr;
  std::unique_ptr<Host> host_;
  std::string log_;
};

class StoreFaultsTest : public StoreFaultsBase, public ::testing::WithParamInterface<Backend> {
 protected:
  StoreFaultsTest() : StoreFaultsBase(GetParam()) {}
};
INSTANTIATE_TEST_SUITE_P(Stores, StoreFaultsTest, kBackends, testing_util::BackendParamName());

// The message of an error body, which must not leak store internals.
std::string Message(const HttpResponse& r) {
  boost::json::error_code ec;
  const boost::json::value v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("message"))
    return "<no message: " + r.body + ">";
  return std::string(v.as_object().at("message").as_string());
}

// A message shows nothing of the store behind it.
void ExpectNoStoreInternals(const std::string& message) {
  for (const char* word : {"sqlite", "SQLite", "postgres", "PostgreSQL", "SQLSTATE", "lock_timeout",
                           "database is locked"})
    EXPECT_EQ(message.find(word), std::string::npos) << word << " in: " << message;
}

// One attempt as the store holds it, with its session, for a compact comparison.
struct Written {
  std::string session_time;
  int64_t session_id;
  int64_t index;
  std::string name;    // "<null>" for the unnamed attempt
  std::string status;  // queued, blocked, ...
  int64_t depends_on;  // 0 for null
  std::string params;  // serialized
};

// Every attempt of the dump, by session time then index.
std::vector<Written> Attempts(const boost::json::value& dump) {
  std::vector<Written> out;
  for (const auto& sv : dump.at("sessions").as_array()) {
    const auto& s = sv.as_object();
    for (const auto& av : s.at("attempts").as_array()) {
      const auto& a = av.as_object();
      out.push_back(
          Written{std::string(s.at("sessionTime").as_string()), s.at("id").as_int64(),
                  a.at("index").as_int64(),
                  a.at("name").is_null() ? "<null>" : std::string(a.at("name").as_string()),
                  std::string(a.at("status").as_string()),
                  a.at("dependsOnSessionId").is_null() ? 0 : a.at("dependsOnSessionId").as_int64(),
                  boost::json::serialize(a.at("params"))});
    }
  }
  std::sort(out.begin(), out.end(), [](const Written& x, const Written& y) {
    return std::tie(x.session_time, x.index) < std::tie(y.session_time, y.index);
  });
  return out;
}

TEST_P(StoreFaultsTest, TheUnfaultedBackfillWritesEveryKind) {
  // The baseline the fault cases rely on: this request does 4 writes (sessions, attempts, pointer,
  // commit). Each is read back from the store: 8 sessions (2024-01-05 to 01-12, run time <= now),
  // one unnamed attempt each, the first queued and each later one blocked on the session before it,
  // and the pointer one day past the last session.
  const HttpResponse r = Backfill(kAdvance);
  ASSERT_EQ(r.status, 200) << r.body;
  const boost::json::value after = Dump();
  ASSERT_EQ(Count(after, "sessions"), 8u);
  const std::vector<Written> attempts = Attempts(after);
  ASSERT_EQ(attempts.size(), 8u);
  for (size_t i = 0; i < attempts.size(); ++i) {
    const Written& a = attempts[i];
    EXPECT_EQ(a.session_time, fmt::format("2024-01-{:02}T00:00:00Z", 5 + i));
    EXPECT_EQ(a.index, 1);
    EXPECT_EQ(a.name, "<null>");
    EXPECT_EQ(a.status, i == 0 ? "queued" : "blocked") << a.session_time;
    EXPECT_EQ(a.depends_on, i == 0 ? 0 : attempts[i - 1].session_id) << a.session_time;
  }
  EXPECT_EQ(
      attempts[0].params,
      R"({"last_session_time":"2024-01-04T00:00:00+00:00","next_session_time":"2024-01-06T00:00:00+00:00"})");
  EXPECT_EQ(
      attempts[1].params,
      R"({"last_session_time":"2024-01-05T00:00:00+00:00","next_session_time":"2024-01-07T00:00:00+00:00","last_executed_session_time":"2024-01-05T00:00:00+00:00"})");
  const auto& pointer = after.at("schedules").at(0).as_object();
  EXPECT_EQ(pointer.at("nextScheduleTime"), boost::json::value("2024-01-13T00:00:00Z"));
  EXPECT_EQ(pointer.at("nextRunTime"), boost::json::value("2024-01-13T00:00:00Z"));
  EXPECT_EQ(pointer.at("lastSessionTime"), boost::json::value("2024-01-12T00:00:00Z"));
}

TEST_P(StoreFaultsTest, ASkippedSessionIsNeitherQueuedNorDependedOn) {
  // Sessions 01-05, 01-07 and 01-08 have an attempt already (any attempt, named or not: skipped).
  // Created: 01-06 queued (the first created, though not the first candidate), 01-09 blocked on
  // 01-06 (not on the skipped 01-07 or 01-08), 01-10 blocked on 01-09, and so on.
  ASSERT_TRUE(IsOk(store_->Seed(boost::json::parse(R"({"sessions": [
    {"id": 100, "projectId": 1, "workflowName": "wf", "sessionTime": "2024-01-05T00:00:00Z",
     "attempts": [{"index": 1, "status": "success", "createdAt": "2024-01-05T00:00:00Z"}]},
    {"id": 101, "projectId": 1, "workflowName": "wf", "sessionTime": "2024-01-07T00:00:00Z",
     "attempts": [{"index": 1, "status": "error", "createdAt": "2024-01-07T00:00:00Z"}]},
    {"id": 102, "projectId": 1, "workflowName": "wf", "sessionTime": "2024-01-08T00:00:00Z",
     "attempts": [{"index": 4, "name": "x", "status": "success",
                   "createdAt": "2024-01-08T00:00:00Z"}]}]})"))));
  const HttpResponse r = Backfill(kAdvance);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<Written> created;
  for (const Written& a : Attempts(Dump()))
    if (a.session_id < 100 || a.session_id > 102) created.push_back(a);
  ASSERT_EQ(created.size(), 5u);
  const char* const times[] = {"2024-01-06T00:00:00Z", "2024-01-09T00:00:00Z",
                               "2024-01-10T00:00:00Z", "2024-01-11T00:00:00Z",
                               "2024-01-12T00:00:00Z"};
  for (size_t i = 0; i < created.size(); ++i) {
    EXPECT_EQ(created[i].session_time, times[i]);
    EXPECT_EQ(created[i].status, i == 0 ? "queued" : "blocked") << created[i].session_time;
    EXPECT_EQ(created[i].depends_on, i == 0 ? 0 : created[i - 1].session_id)
        << created[i].session_time;
  }
  // 01-09's predecessor is the skipped 01-08, which exists: last_executed_session_time is it.
  EXPECT_NE(created[1].params.find(R"("last_executed_session_time":"2024-01-08T00:00:00+00:00")"),
            std::string::npos)
      << created[1].params;
}

class FailAtWrite : public StoreFaultsBase,
                    public ::testing::WithParamInterface<std::tuple<Backend, int>> {
 protected:
  FailAtWrite() : StoreFaultsBase(std::get<0>(GetParam())) {}
};

TEST_P(FailAtWrite, Is500WritesNothingAndTheNextRequestSucceeds) {
  const boost::json::value before = Dump();
  faults_->FailAt(std::get<1>(GetParam()));
  const HttpResponse r = Backfill(kAdvance);
  faults_->FailAt(0);
  EXPECT_EQ(r.status, 500) << r.body;
  const std::string message = Message(r);
  EXPECT_EQ(message, "Internal server error");
  ExpectNoStoreInternals(message);
  EXPECT_EQ(Dump(), before) << "a failed backfill left rows behind";

  const HttpResponse next = Backfill(kAdvance);
  ASSERT_EQ(next.status, 200) << next.body;
  const boost::json::value after = Dump();
  ASSERT_EQ(Count(after, "sessions"), 8u);
  // The ids of the rolled-back sessions: SQLite gives them again (a rowid is the highest + 1);
  // PostgreSQL does not (a sequence never goes back), so once create_sessions has run (the fault
  // comes later: k >= 2; k = 1 fails before the store is asked) the sessions start after its 8.
  const bool ids_consumed = backend_ == Backend::kPostgres && std::get<1>(GetParam()) >= 2;
  EXPECT_EQ(after.at("sessions").at(0).at("id"), boost::json::value(ids_consumed ? 9 : 1));
}

// 1: create_sessions, 2: create_attempts, 3: move_schedule_pointer, 4: commit.
INSTANTIATE_TEST_SUITE_P(EachWrite, FailAtWrite,
                         ::testing::Combine(kBackends, ::testing::Values(1, 2, 3, 4)),
                         [](const auto& info) {
                           return std::string(testing_util::BackendName(std::get<0>(info.param))) +
                                  "_" + std::to_string(std::get<1>(info.param));
                         });

TEST_P(StoreFaultsTest, AFifthWriteDoesNotExistSoK5Succeeds) {
  // Shows the numbering above covers every write of the request: k = 5 is never reached.
  faults_->FailAt(5);
  const HttpResponse r = Backfill(kAdvance);
  faults_->FailAt(0);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_P(StoreFaultsTest, ALockTimeoutIs503WithRetryAfterAndWritesNothing) {
  const boost::json::value before = Dump();
  std::unique_ptr<StoreConnection> holder = HoldScheduleLock();
  ASSERT_TRUE(holder);

  const HttpResponse r = Backfill(kAdvance);
  EXPECT_EQ(r.status, 503) << r.body;
  const std::string* retry = FindHeader(r.headers, "retry-after");
  ASSERT_NE(retry, nullptr) << "503 without Retry-After";
  EXPECT_FALSE(retry->empty());
  EXPECT_NE(Message(r).find("retry"), std::string::npos) << r.body;
  ExpectNoStoreInternals(Message(r));

  std::string error;

  ASSERT_TRUE(ExecForTesting(*holder, "ROLLBACK", &error)) << error;
  EXPECT_EQ(Dump(), before);
  const HttpResponse next = Backfill(kAdvance);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(Count(Dump(), "sessions"), 8u);
}

TEST_P(StoreFaultsTest, ALockTimeoutOnADryRunDoesNotBlockIt) {
  // A dry run reads a snapshot (ABI 1.1 begin_read): a held write lock does not make it 503.
  std::unique_ptr<StoreConnection> holder = HoldScheduleLock();
  ASSERT_TRUE(holder);
  std::string error;
  const HttpResponse r =
      Backfill(R"({"dryRun": true, "skipExisting": true, "advanceSchedule": true})");
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(ExecForTesting(*holder, "ROLLBACK", &error)) << error;
}

TEST_P(StoreFaultsTest, ATransactionAPluginLeavesOpenDoesNotLockTheRealStore) {
  // tests/host checks the rollback against a fake store; here the leaked transaction is real: on
  // SQLite a BEGIN IMMEDIATE write lock (unless the host rolls it back, the backfill after it would
  // wait out the busy timeout and answer 503); on PostgreSQL an open transaction left on a pooled
  // connection (a later begin on it would fail).
  ASSERT_TRUE(IsOk(host_->LoadPlugin(WFP_TEST_PLUGIN_DIR "/libwfp_tp_handler_leaks_txn.so")));
  HttpRequest fault;
  fault.method = "GET";
  fault.target = "/fault";
  fault.headers.emplace_back("authorization", "Bearer k1");
  const HttpResponse f = host_->Handle(std::move(fault));
  EXPECT_EQ(f.status, 500) << f.body;
  EXPECT_NE(log_.find("left a store transaction open (rolled back)"), std::string::npos) << log_;
  const HttpResponse r = Backfill(kAdvance);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Count(Dump(), "sessions"), 8u);
}

}  // namespace
}  // namespace wfp::host
