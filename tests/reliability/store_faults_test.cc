// Fault injection at the store boundary, through the real backfill plugin in an in-process Host on
// a real SQLite store: a write that fails (the k-th of create_sessions, create_attempts,
// move_schedule_pointer, commit) is a 500 with a generic message; a lock held by another connection
// past the busy timeout is a 503 with Retry-After. Either way nothing is written (the dump equals
// the one before) and the next request succeeds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "runtime/host.h"
#include "store/store.h"

namespace wfp::host {
namespace {

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

class StoreFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wfp_reliability_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::string error;
    StoreOptions so;
    so.busy_timeout = std::chrono::milliseconds(100);
    store_ = Store::Open((dir_ / "store.db").string(), so, &error);
    ASSERT_TRUE(store_) << error;
    ASSERT_TRUE(store_->Seed(boost::json::parse(kFixture), &error)) << error;

    HostOptions o;
    o.fixed_now_micros = kNowMicros;
    o.store = StoreApi();
    Store* store = store_.get();
    o.connect = [store](std::string* error) -> std::shared_ptr<StoreConnection> {
      return std::shared_ptr<StoreConnection>(store->Connect(error));
    };
    o.authenticate = [store](std::string_view key) { return store->SiteForApiKey(key); };
    o.log_sink = [this](std::string_view line) { log_ += std::string(line) + "\n"; };
    host_ = std::make_unique<Host>(std::move(o));
    ASSERT_TRUE(host_->LoadPlugin(WFP_BACKFILL_PLUGIN, &error)) << error;
  }

  void TearDown() override {
    SetFailAtWriteForTesting(0);
    host_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
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

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Host> host_;
  std::string log_;
};

// The message of an error body, which must not leak store internals.
std::string Message(const HttpResponse& r) {
  boost::json::error_code ec;
  const boost::json::value v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("message"))
    return "<no message: " + r.body + ">";
  return std::string(v.as_object().at("message").as_string());
}

TEST_F(StoreFaultsTest, TheUnfaultedBackfillWritesEveryKind) {
  // The baseline the fault cases rely on: this request does 4 writes (sessions, attempts, pointer,
  // commit) and changes the dump.
  const boost::json::value before = Dump();
  const HttpResponse r = Backfill(kAdvance);
  ASSERT_EQ(r.status, 200) << r.body;
  const boost::json::value after = Dump();
  EXPECT_EQ(Count(after, "sessions"), 8u);
  EXPECT_NE(after.at("schedules"), before.at("schedules"));  // the pointer moved
}

class FailAtWrite : public StoreFaultsTest, public ::testing::WithParamInterface<int> {};

TEST_P(FailAtWrite, Is500WritesNothingAndTheNextRequestSucceeds) {
  const boost::json::value before = Dump();
  SetFailAtWriteForTesting(GetParam());
  const HttpResponse r = Backfill(kAdvance);
  SetFailAtWriteForTesting(0);
  EXPECT_EQ(r.status, 500) << r.body;
  const std::string message = Message(r);
  EXPECT_EQ(message, "Internal server error");
  EXPECT_EQ(message.find("sqlite"), std::string::npos);
  EXPECT_EQ(Dump(), before) << "a failed backfill left rows behind";

  const HttpResponse next = Backfill(kAdvance);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(Count(Dump(), "sessions"), 8u);
}

// 1: create_sessions, 2: create_attempts, 3: move_schedule_pointer, 4: commit.
INSTANTIATE_TEST_SUITE_P(EachWrite, FailAtWrite, ::testing::Values(1, 2, 3, 4));

TEST_F(StoreFaultsTest, AFifthWriteDoesNotExistSoK5Succeeds) {
  // Shows the numbering above covers every write of the request: k = 5 is never reached.
  SetFailAtWriteForTesting(5);
  const HttpResponse r = Backfill(kAdvance);
  SetFailAtWriteForTesting(0);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(StoreFaultsTest, ALockTimeoutIs503WithRetryAfterAndWritesNothing) {
  const boost::json::value before = Dump();
  std::string error;
  std::unique_ptr<StoreConnection> holder = store_->Connect(&error);
  ASSERT_TRUE(holder) << error;
  ASSERT_TRUE(holder->ExecForTesting("BEGIN IMMEDIATE", &error)) << error;

  const HttpResponse r = Backfill(kAdvance);
  EXPECT_EQ(r.status, 503) << r.body;
  const std::string* retry = FindHeader(r.headers, "retry-after");
  ASSERT_NE(retry, nullptr) << "503 without Retry-After";
  EXPECT_FALSE(retry->empty());
  EXPECT_NE(Message(r).find("retry"), std::string::npos) << r.body;

  ASSERT_TRUE(holder->ExecForTesting("ROLLBACK", &error)) << error;
  EXPECT_EQ(Dump(), before);
  const HttpResponse next = Backfill(kAdvance);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(Count(Dump(), "sessions"), 8u);
}

TEST_F(StoreFaultsTest, ALockTimeoutOnADryRunDoesNotBlockIt) {
  // A dry run reads a snapshot (ABI 1.1 begin_read): a held write lock does not make it 503.
  std::string error;
  std::unique_ptr<StoreConnection> holder = store_->Connect(&error);
  ASSERT_TRUE(holder) << error;
  ASSERT_TRUE(holder->ExecForTesting("BEGIN IMMEDIATE", &error)) << error;
  const HttpResponse r =
      Backfill(R"({"dryRun": true, "skipExisting": true, "advanceSchedule": true})");
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(holder->ExecForTesting("ROLLBACK", &error)) << error;
}

TEST_F(StoreFaultsTest, ATransactionAPluginLeavesOpenDoesNotLockTheRealStore) {
  // tests/host checks the rollback against a fake store; here the leaked BEGIN IMMEDIATE is a real
  // SQLite write lock: unless the host rolls it back, the backfill after it would wait out the busy
  // timeout and answer 503.
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
