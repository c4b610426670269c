// The store's log: what the store cannot hand back to a caller (here a statement that no longer
// prepares) goes to the log it was opened with, and to stderr as "wfp store: ..." when it was
// opened without one. SQLite only: the log is the store's, not a backend's. (And where a store is:
// a libpq keyword/value string is PostgreSQL, its password never shown.)
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "sql_for_testing.h"
#include "store/store.h"
#include "test_util.h"

namespace wfp::host {
namespace {

using testing_util::Call;
using testing_util::ExecForTesting;
using testing_util::S;
using testing_util::TempDir;

int32_t CountSessions(void*, const wfp_session_info*) { return 0; }

// Breaks the store under list_sessions (its table is gone) and calls it; the call fails.
void ListSessionsOnABrokenStore(Store& store) {
  Call c(store);
  std::string error;
  ASSERT_TRUE(ExecForTesting(*c.connection, "DROP TABLE attempts", &error)) << error;
  wfp_txn* txn = nullptr;
  ASSERT_EQ(StoreApi()->begin(&c.call, &txn), WFP_OK);
  EXPECT_NE(StoreApi()->list_sessions(txn, 1, S("w"), 0, 86400, CountSessions, nullptr), WFP_OK);
  StoreApi()->rollback(txn);
}

TEST(StoreLog, FailuresGoToTheLogTheStoreWasOpenedWith) {
  TempDir dir;
  std::mutex mu;
  std::vector<std::string> lines;
  StoreOptions options;
  options.log = [&](std::string_view message) {
    std::lock_guard lock(mu);
    lines.emplace_back(message);
  };
  Result<std::unique_ptr<Store>> opened = Store::Open(dir.File("s.db"), options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store* store = opened->get();
  ::testing::internal::CaptureStderr();
  ListSessionsOnABrokenStore(*store);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("wfp store:"), std::string::npos) << err;
  std::lock_guard lock(mu);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("cannot prepare a statement: no such table: attempts"), std::string::npos)
      << lines[0];
}

TEST(StoreLog, WithoutALogFailuresGoToStderr) {
  TempDir dir;
  Result<std::unique_ptr<Store>> opened = Store::Open(dir.File("s.db"));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store* store = opened->get();
  ::testing::internal::CaptureStderr();
  ListSessionsOnABrokenStore(*store);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("wfp store: cannot prepare a statement: no such table: attempts\n"),
            std::string::npos)
      << err;
}

// libpq's keyword/value form is a PostgreSQL location too ("anything libpq takes"), never an SQLite
// file name: its password must not come back in a message.
TEST(StoreLocation, ALibpqKeywordValueStringIsPostgresAndItsPasswordIsNeverShown) {
  for (const char* location :
       {"host=/nonexist user=wfp password=KVSECRET4 dbname=postgres",
        "  dbname=postgres password=KVSECRET4", "user=wfp password=KVSECRET4"})
    EXPECT_EQ(Store::KindOf(location), Store::Kind::kPostgres) << location;
  for (const char* location : {"store.db", "./host=x.db", ":memory:", "/tmp/user=a.db"})
    EXPECT_EQ(Store::KindOf(location), Store::Kind::kSqlite) << location;
  const std::string location = "host=/nonexist user=wfp password=KVSECRET4 dbname=postgres";
  EXPECT_EQ(Store::Redact(location).find("KVSECRET4"), std::string::npos)
      << Store::Redact(location);
  Result<std::unique_ptr<Store>> opened = Store::Open(location);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message().find("KVSECRET4"), std::string::npos)
      << opened.status().message();
}

}  // namespace
}  // namespace wfp::host
