// Fault injection at the store boundary, through the real backfill plugin in an in-process Host on
// a real store, an SQLite file or PostgreSQL (a schema of its own: tests/store/test_util.h): a
// write that fails (the k-th of create_sessions, create_attempts, move_schedule_pointer, commit) is
// a 500 with a generic message; a lock held by another connection past the busy timeout (SQLite:
// the whole store, BEGIN IMMEDIATE; PostgreSQL: the schedule's row, SELECT ... FOR UPDATE) is a 503
// with Retry-After. Either way nothing is written (the dump equals the one before) and the next
// request succeeds.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <tuple>

#include "runtime/host.h"
#include "store/store.h"
#include "test_util.h"

namespace wfp::host {
namespace {

using testing_util::Backend;

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
    fresh_ = std::make_unique<testing_util::FreshStore>(backend_, so);
    ASSERT_TRUE(*fresh_);
    store_ = fresh_->get();
    std::string error;
    ASSERT_TRUE(store_->Seed(boost::json::parse(kFixture), &error)) << error;

    HostOptions o;
    o.fixed_now_micros = kNowMicros;
    o.store = StoreApi();
    Store* store = store_;
    o.connect = [store](std::string* error) -> std::shared_ptr<StoreConnection> {
      return std::shared_ptr<StoreConnection>(store->Connect(error));
    };
    o.authenticate = [store](std::string_view key) {
      const Store::KeyLookup found = store->LookUpApiKey(key);
      return HostOptions::Authentication(found.site, found.failed);
    };
    o.log_sink = [this](std::string_view line) { log_ += std::string(line) + "\n"; };
    host_ = std::make_unique<Host>(std::move(o));
    ASSERT_TRUE(host_->LoadPlugin(WFP_BACKFILL_PLUGIN, &error)) << error;
  }

  void TearDown() override {
    SetFailAtWriteForTesting(0);
    host_.reset();
    fresh_.reset();
  }

  // Another connection (another host) takes the lock a backfill of schedule 5 needs: the whole
  // store on SQLite, the schedule's row on PostgreSQL. Released with ROLLBACK.
  std::unique_ptr<StoreConnection> HoldScheduleLock() {
    std::string error;
    std::unique_ptr<StoreConnection> holder = store_->Connect(&error);
    EXPECT_TRUE(holder) << error;
    if (!holder) return nullptr;
    const char* sql = backend_ == Backend::kPostgres
                          ? "BEGIN; SELECT id FROM schedules WHERE id = 5 FOR UPDATE"
                          : "BEGIN IMMEDIATE";
    EXPECT_TRUE(holder->ExecForTesting(sql, &error)) << error;
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
    std::string error;
    boost::json::value d = store_->Dump(&error);
    EXPECT_FALSE(d.is_null()) << error;
    return d;
  }

  static size_t Count(const boost::json::value& dump, const char* what) {
    return dump.as_object().at(what).as_array().size();
  }

  Backend backend_;
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

TEST_P(StoreFaultsTest, TheUnfaultedBackfillWritesEveryKind) {
  // The baseline the fault cases rely on: this request does 4 writes (sessions, attempts, pointer,
  // commit) and changes the dump.
  const boost::json::value before = Dump();
  const HttpResponse r = Backfill(kAdvance);
  ASSERT_EQ(r.status, 200) << r.body;
  const boost::json::value after = Dump();
  EXPECT_EQ(Count(after, "sessions"), 8u);
  EXPECT_NE(after.at("schedules"), before.at("schedules"));  // the pointer moved
}

class FailAtWrite : public StoreFaultsBase,
                    public ::testing::WithParamInterface<std::tuple<Backend, int>> {
 protected:
  FailAtWrite() : StoreFaultsBase(std::get<0>(GetParam())) {}
};

TEST_P(FailAtWrite, Is500WritesNothingAndTheNextRequestSucceeds) {
  const boost::json::value before = Dump();
  SetFailAtWriteForTesting(std::get<1>(GetParam()));
  const HttpResponse r = Backfill(kAdvance);
  SetFailAtWriteForTesting(0);
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
  SetFailAtWriteForTesting(5);
  const HttpResponse r = Backfill(kAdvance);
  SetFailAtWriteForTesting(0);
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

  ASSERT_TRUE(holder->ExecForTesting("ROLLBACK", &error)) << error;
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
  ASSERT_TRUE(holder->ExecForTesting("ROLLBACK", &error)) << error;
}

TEST_P(StoreFaultsTest, ATransactionAPluginLeavesOpenDoesNotLockTheRealStore) {
  // tests/host checks the rollback against a fake store; here the leaked transaction is real: on
  // SQLite a BEGIN IMMEDIATE write lock (unless the host rolls it back, the backfill after it would
  // wait out the busy timeout and answer 503); on PostgreSQL an open transaction left on a pooled
  // connection (a later begin on it would fail).
  std::string error;
  ASSERT_TRUE(host_->LoadPlugin(WFP_TEST_PLUGIN_DIR "/libwfp_tp_handler_leaks_txn.so", &error))
      << error;
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
