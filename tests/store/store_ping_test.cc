// The store's readiness ping (Store::Ping): a read of the store's own, answered within its bound
// (1 s) however long the read takes; and a store destroyed while that read hangs leaves nothing of
// it behind: no connection open, no thread still reading, no line written to a log that is gone.
// The read hangs behind another holder of the store's locks: another process holding an SQLite
// file's WAL locks, a write transaction holding an in-memory store's gate, a PostgreSQL session
// holding the schedules table.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sql_for_testing.h"
#include "store/observer.h"
#include "store/store.h"
#include "test_util.h"

namespace wfp::host {
namespace {

using std::chrono::seconds;
using testing_util::Backend;
using testing_util::Call;
using testing_util::ExecForTesting;
using testing_util::QueryForTesting;
using testing_util::TempDir;
using Clock = std::chrono::steady_clock;

// What "at once" means for a store's destruction here: far more than it takes, far less than the
// reads it must not wait for (SQLite's WAL retries give up after about 10 s; the other holds here
// last a minute).
constexpr seconds kAtOnce{5};

// A child process that holds SQLite's WAL locks (bytes 120..127 of the -shm file) until killed:
// no connection can begin reading the database meanwhile.
class ShmLocker {
 public:
  explicit ShmLocker(const std::string& shm) {
    int ready[2];
    if (::pipe(ready) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(shm.c_str(), O_RDWR);
      struct flock lock {};
      lock.l_type = F_WRLCK;
      lock.l_whence = SEEK_SET;
      lock.l_start = 120;
      lock.l_len = 8;
      const char ok = fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0 ? '1' : '0';
      (void)!::write(ready[1], &ok, 1);
      for (;;) ::pause();
    }
    char ok = '0';
    (void)!::read(ready[0], &ok, 1);
    locked_ = ok == '1';
    ::close(ready[0]);
    ::close(ready[1]);
  }
  ~ShmLocker() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  bool locked() const { return locked_; }

 private:
  pid_t pid_ = -1;
  bool locked_ = false;
};

// A store's log whose lines are kept in an object of its own, which the test frees when it is done
// with the store (as a host's log goes with the host): a line written after that is a
// use-after-free, which the ASan build reports. (The mutex is reached through a pointer in the
// object: ASan sees that read, not the one inside pthread_mutex_lock, which hangs on freed memory.)
struct LogLines {
  std::unique_ptr<std::mutex> mu = std::make_unique<std::mutex>();
  std::vector<std::string> lines;
};
StoreLog LogInto(LogLines* sink) {
  return [sink](std::string_view message) {
    std::lock_guard lock(*sink->mu);
    sink->lines.emplace_back(message);
  };
}

// Waits (at most 30 s) until the process has `count` store connections open.
bool AwaitOpenConnections(int64_t count) {
  const auto deadline = Clock::now() + seconds(30);
  while (OpenStoreConnections() != count && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return OpenStoreConnections() == count;
}

// Readiness must read the database: with its read locks held by another process, every real read
// fails (after about 10 s), and so must Ping, within its bound (1 s; 5 s allowed here).
TEST(StorePing, FailsWhileAnotherProcessHoldsTheReadLocks) {
  TempDir dir;
  Result<std::unique_ptr<Store>> opened = Store::Open(dir.File("s.db"));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store& store = **opened;
  ASSERT_TRUE(store.Ping().ok());
  {
    ShmLocker locker(dir.File("s.db") + "-shm");
    ASSERT_TRUE(locker.locked());
    const auto start = Clock::now();
    const Status ping = store.Ping();
    EXPECT_FALSE(ping.ok());
    EXPECT_LT(Clock::now() - start, seconds(5));
  }
  Status again;
  for (int i = 0; i < 30 && !(again = store.Ping()).ok(); ++i) {
  }
  EXPECT_TRUE(again.ok()) << again.message();  // once the locks are gone, ready again
}

// The host exits while its readiness ping hangs: the store is destroyed, then the host's log. The
// ping's read must end with the store: its connection closed by the time the destructor returns,
// which returns at once (it does not wait for SQLite to give up on the locks), and nothing
// written to the log afterwards. The locks stay held until the ping's read would have failed by
// itself (about 10 s), so that a read left running fails and logs into the freed log.
TEST(StorePing, AStoreDestroyedWhileItsPingHangsEndsThePing) {
  TempDir dir;
  auto sink = std::make_unique<LogLines>();
  StoreOptions options;
  options.log = LogInto(sink.get());
  const int64_t connections = OpenStoreConnections();
  Result<std::unique_ptr<Store>> opened = Store::Open(dir.File("s.db"), options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);
  ASSERT_TRUE(store->Ping().ok());
  ShmLocker locker(dir.File("s.db") + "-shm");
  ASSERT_TRUE(locker.locked());
  ASSERT_EQ(store->Ping().code(), WFP_ERR_BUSY);  // the read hangs past the bound

  const auto start = Clock::now();
  store.reset();
  const auto took = Clock::now() - start;
  const int64_t left_open = OpenStoreConnections() - connections;
  sink.reset();
  EXPECT_EQ(left_open, 0) << "the ping's connection outlived its store";
  EXPECT_LT(took, kAtOnce);
  EXPECT_TRUE(AwaitOpenConnections(connections));
}

// An in-memory store's ping waits for its gate, held by a write transaction: destroying the store
// ends that wait instead of waiting for the gate (here for up to a minute).
TEST(StorePing, AMemoryStoreDestroyedWhileItsPingWaitsForTheGateEndsThePing) {
  auto sink = std::make_unique<LogLines>();
  StoreOptions options;
  options.log = LogInto(sink.get());
  options.busy_timeout = seconds(60);
  Result<std::unique_ptr<Store>> opened = Store::Open(":memory:", options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);
  ASSERT_TRUE(store->Ping().ok());
  Call holder(*store);
  wfp_txn* held = nullptr;
  ASSERT_EQ(StoreApi()->begin(&holder.call, &held), WFP_OK);
  ASSERT_EQ(store->Ping().code(), WFP_ERR_BUSY);

  const auto start = Clock::now();
  store.reset();
  EXPECT_LT(Clock::now() - start, kAtOnce);
  sink.reset();
  StoreApi()->rollback(held);  // the gate is free: a ping still waiting would read now
}

// ---- PostgreSQL
// ----------------------------------------------------------------------------------

class StorePingPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testing_util::Unavailable(Backend::kPostgres); !why.empty())
      GTEST_SKIP() << why;
  }
};

// The ping's read waits for the schedules table, which another session holds ACCESS EXCLUSIVE
// (for up to the store's lock timeout, a minute here): the store's destruction ends it at once.
TEST_F(StorePingPostgres, AStoreDestroyedWhileItsPingWaitsForALockEndsThePing) {
  testing_util::PgTestSchema schema;
  ASSERT_FALSE(schema.url().empty());
  auto sink = std::make_unique<LogLines>();
  StoreOptions options;
  options.log = LogInto(sink.get());
  options.busy_timeout = seconds(60);
  Result<std::unique_ptr<Store>> opened = Store::Open(schema.url(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);
  ASSERT_TRUE(store->Ping().ok());
  Result<std::unique_ptr<StoreConnection>> holder = store->Connect();
  ASSERT_TRUE(holder.ok()) << holder.status().message();
  // The schema's own, the holder's and the store's two.
  const int64_t connections = OpenStoreConnections();
  std::string error;
  ASSERT_TRUE(
      ExecForTesting(**holder, "BEGIN; LOCK TABLE schedules IN ACCESS EXCLUSIVE MODE", &error))
      << error;
  ASSERT_EQ(store->Ping().code(), WFP_ERR_BUSY);

  // The server's side of the ping: the backend waiting for the holder.
  std::optional<std::vector<std::vector<std::string>>> waiting = QueryForTesting(
      **holder, "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'schedules'::regclass",
      &error);
  ASSERT_TRUE(waiting) << error;
  ASSERT_EQ(waiting->size(), 1u);

  const auto start = Clock::now();
  store.reset();
  const auto took = Clock::now() - start;
  const int64_t left_open = OpenStoreConnections();
  sink.reset();
  // The store had two: the ping's and the one it opened with (the holder's stays).
  EXPECT_EQ(left_open, connections - 2) << "the ping's connection outlived its store";
  EXPECT_LT(took, kAtOnce);
  ASSERT_TRUE(ExecForTesting(**holder, "ROLLBACK", &error)) << error;
  // The ping's backend finds its client gone once it has the lock and answers; until then it holds
  // what it has locked, which the schema's DROP at the end would deadlock with.
  for (const std::vector<std::string>& row : *waiting) {
    const std::string gone = "SELECT 1 FROM pg_stat_activity WHERE pid = " + row.at(0);
    std::optional<std::vector<std::vector<std::string>>> found;
    const auto deadline = Clock::now() + seconds(30);
    while ((found = QueryForTesting(**holder, gone, &error)) && !found->empty() &&
           Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(found && found->empty()) << "the ping's backend " << row.at(0) << " is still there";
  }
  holder->reset();
  EXPECT_TRUE(AwaitOpenConnections(connections - 3));
}

// A ping waiting for a lock when its store is destroyed: the server stops the wait (a cancel
// request) rather than letting the backend wait out its lock timeout (a minute here), holding
// its place in the lock's queue meanwhile.
TEST_F(StorePingPostgres, AStoreDestroyedWhileItsPingWaitsForALockStopsTheBackend) {
  testing_util::PgTestSchema schema;
  ASSERT_FALSE(schema.url().empty());
  StoreOptions options;
  options.busy_timeout = seconds(60);
  Result<std::unique_ptr<Store>> opened = Store::Open(schema.url(), options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);
  ASSERT_TRUE(store->Ping().ok());
  Result<std::unique_ptr<StoreConnection>> holder = store->Connect();
  ASSERT_TRUE(holder.ok()) << holder.status().message();
  std::string error;
  ASSERT_TRUE(
      ExecForTesting(**holder, "BEGIN; LOCK TABLE schedules IN ACCESS EXCLUSIVE MODE", &error))
      << error;
  ASSERT_EQ(store->Ping().code(), WFP_ERR_BUSY);
  std::optional<std::vector<std::vector<std::string>>> waiting = QueryForTesting(
      **holder, "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'schedules'::regclass",
      &error);
  ASSERT_TRUE(waiting) << error;
  ASSERT_EQ(waiting->size(), 1u);
  const std::string pid = waiting->at(0).at(0);

  store.reset();
  // Gone, or at least no longer running its statement (idle in its aborted transaction until it
  // reads the end of its connection).
  const std::string active =
      "SELECT state FROM pg_stat_activity WHERE pid = " + pid + " AND state = 'active'";
  std::optional<std::vector<std::vector<std::string>>> found;
  const auto deadline = Clock::now() + seconds(5);
  while ((found = QueryForTesting(**holder, active, &error)) && !found->empty() &&
         Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(found && found->empty()) << "the ping's backend " << pid << " still waits";

  ASSERT_TRUE(ExecForTesting(**holder, "ROLLBACK", &error)) << error;
  // Before the schema's DROP: the backend gone (it finds its client gone once it runs again).
  const std::string gone = "SELECT 1 FROM pg_stat_activity WHERE pid = " + pid;
  const auto end = Clock::now() + seconds(30);
  while ((found = QueryForTesting(**holder, gone, &error)) && !found->empty() && Clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(found && found->empty()) << "the ping's backend " << pid << " is still there";
}

}  // namespace
}  // namespace wfp::host
