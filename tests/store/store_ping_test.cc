// The store's readiness ping (Store::Ping): a read of the store's own, answered within its bound
// (1 s) however long the read takes; and a store destroyed while that read hangs leaves nothing of
// it behind: no connection open, no thread still reading, no line written to a log that is gone.
// The read hangs behind another holder of the store's locks: another process holding an SQLite
// file's WAL locks, a write transaction holding an in-memory store's gate, a PostgreSQL session
// holding the schedules table.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
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

// Waits (at most `bound`) until `sql` on `connection` returns no row; whether it did.
bool AwaitNoRows(StoreConnection& connection, const std::string& sql, seconds bound) {
  std::string error;
  std::optional<std::vector<std::vector<std::string>>> found;
  const auto deadline = Clock::now() + bound;
  while ((found = QueryForTesting(connection, sql, &error)) && !found->empty() &&
         Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return found && found->empty();
}

class StorePingPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testing_util::Unavailable(Backend::kPostgres); !why.empty())
      GTEST_SKIP() << why;
  }

  // A store whose ping waits for the schedules table, which `holder` (a connection of the store's)
  // holds ACCESS EXCLUSIVE in an open transaction; `pid`, the waiting backend's.
  struct StuckPing {
    std::unique_ptr<Store> store;
    std::unique_ptr<StoreConnection> holder;
    std::string pid;
  };
  // Opens it at `url` with `options` and a lock timeout of a minute (call in
  // ASSERT_NO_FATAL_FAILURE).
  static void StickAPing(const std::string& url, StoreOptions options, StuckPing* out) {
    options.busy_timeout = seconds(60);
    Result<std::unique_ptr<Store>> opened = Store::Open(url, options);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    out->store = std::move(*opened);
    ASSERT_TRUE(out->store->Ping().ok());
    Result<std::unique_ptr<StoreConnection>> holder = out->store->Connect();
    ASSERT_TRUE(holder.ok()) << holder.status().message();
    out->holder = std::move(*holder);
    std::string error;
    ASSERT_TRUE(ExecForTesting(*out->holder, "BEGIN; LOCK TABLE schedules IN ACCESS EXCLUSIVE MODE",
                               &error))
        << error;
    ASSERT_EQ(out->store->Ping().code(), WFP_ERR_BUSY);
    // The server's side of the ping: the backend waiting for the holder.
    std::optional<std::vector<std::vector<std::string>>> waiting = QueryForTesting(
        *out->holder,
        "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'schedules'::regclass", &error);
    ASSERT_TRUE(waiting) << error;
    ASSERT_EQ(waiting->size(), 1u);
    out->pid = waiting->at(0).at(0);
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
  StuckPing stuck;
  ASSERT_NO_FATAL_FAILURE(StickAPing(schema.url(), options, &stuck));
  // The schema's own, the holder's and the store's two.
  const int64_t connections = OpenStoreConnections();

  const auto start = Clock::now();
  stuck.store.reset();
  const auto took = Clock::now() - start;
  const int64_t left_open = OpenStoreConnections();
  sink.reset();
  // The store had two: the ping's and the one it opened with (the holder's stays).
  EXPECT_EQ(left_open, connections - 2) << "the ping's connection outlived its store";
  EXPECT_LT(took, kAtOnce);
  std::string error;
  ASSERT_TRUE(ExecForTesting(*stuck.holder, "ROLLBACK", &error)) << error;
  // The ping's backend finds its client gone once it has the lock and answers; until then it holds
  // what it has locked, which the schema's DROP at the end would deadlock with.
  EXPECT_TRUE(AwaitNoRows(*stuck.holder, "SELECT 1 FROM pg_stat_activity WHERE pid = " + stuck.pid,
                          seconds(30)))
      << "the ping's backend " << stuck.pid << " is still there";
  stuck.holder.reset();
  EXPECT_TRUE(AwaitOpenConnections(connections - 3));
}

// The value of `key` in the query of the tests' server URL
// ("postgresql:///db?host=DIR&port=N&..."), percent-decoded; empty when absent.
std::string UrlQueryValue(const std::string& url, const std::string& key) {
  const size_t query = url.find('?');
  if (query == std::string::npos) return "";
  size_t at = query + 1;
  while (at < url.size()) {
    const size_t end = std::min(url.find('&', at), url.size());
    const std::string pair = url.substr(at, end - at);
    at = end + 1;
    if (pair.rfind(key + "=", 0) != 0) continue;
    std::string out;
    for (size_t i = key.size() + 1; i < pair.size(); ++i) {
      if (pair[i] == '%' && i + 2 < pair.size()) {
        out += static_cast<char>(std::stoi(pair.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += pair[i];
      }
    }
    return out;
  }
  return "";
}

// A server on 127.0.0.1 (a port of its own) for a store's URL, in one of three moods: kRelay
// passes each connection it accepts on to the tests' PostgreSQL server (its Unix socket: the
// cluster has no TCP); kHang accepts connections and never answers (a server that hangs, as far
// as a client can tell before its connect_timeout); kClose accepts and closes them at once.
class TcpServer {
 public:
  enum class Mood { kRelay, kHang, kClose };
  explicit TcpServer(std::string unix_path) : unix_path_(std::move(unix_path)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), size) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &size) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~TcpServer() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    for (std::thread& t : relays_) t.join();
    for (int fd : held_) ::close(fd);
    if (listener_ >= 0) ::close(listener_);
  }
  int port() const { return port_; }
  void Set(Mood mood) { mood_ = mood; }

 private:
  // Waits up to 50 ms for `fd` to be readable; false when it was not, or when stopping.
  bool Readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return !stop_ && ::poll(&p, 1, 50) > 0;
  }
  void Accept() {
    while (!stop_) {
      if (!Readable(listener_)) continue;
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      switch (mood_.load()) {
        case Mood::kHang:
          held_.push_back(client);  // closed by the destructor
          break;
        case Mood::kClose:
          ::close(client);
          break;
        case Mood::kRelay:
          relays_.emplace_back([this, client] { Relay(client); });
          break;
      }
    }
  }
  void Relay(int client) {
    const int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, unix_path_.c_str(), sizeof addr.sun_path - 1);
    if (server >= 0 && ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      char buffer[8192];
      for (bool open = true; open && !stop_;) {
        pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        if (::poll(p, 2, 50) <= 0) continue;
        for (int i = 0; i < 2 && open; ++i) {
          if (!p[i].revents) continue;
          const ssize_t n = ::read(p[i].fd, buffer, sizeof buffer);
          open = n > 0 && ::write(p[1 - i].fd, buffer, static_cast<size_t>(n)) == n;
        }
      }
    }
    if (server >= 0) ::close(server);
    ::close(client);
  }

  std::string unix_path_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<Mood> mood_{Mood::kRelay};
  std::thread acceptor_;
  std::vector<std::thread> relays_;  // the acceptor's until it is joined
  std::vector<int> held_;            // the acceptor's until it is joined
};

// A URL of the store in `schema` reached through `server` (TCP on 127.0.0.1), with a password
// (the cluster trusts its users; the password is there to be hidden in messages).
std::string UrlThrough(const TcpServer& server, const testing_util::PgTestSchema& schema) {
  const std::string url = testing_util::PostgresUrl();
  const size_t path = url.find("///");
  const std::string db = url.substr(path + 3, url.find('?') - path - 3);
  return fmt::format(
      "host=127.0.0.1 port={} dbname={} user={} password=s3cret sslmode=disable "
      "connect_timeout=10 options='-csearch_path={}'",
      server.port(), db, UrlQueryValue(url, "user"), schema.name());
}

std::string ServerSocketPath() {
  const std::string url = testing_util::PostgresUrl();
  return fmt::format("{}/.s.PGSQL.{}", UrlQueryValue(url, "host"), UrlQueryValue(url, "port"));
}

// The ping connects on a thread of its own, within its bound: a server that accepts the
// connection and never answers makes Ping "did not answer" within about a second (not libpq's
// connect_timeout, 10 s), the next Ping waits for the same connect, and the store's destruction
// ends the connect at once. The store is opened through a relay to the tests' server (Open
// connects and migrates); the server turns to hanging before the first Ping, whose connection is
// the first made after Open.
TEST_F(StorePingPostgres, APingConnectingToAServerThatHangsAnswersWithinItsBound) {
  testing_util::PgTestSchema schema;
  ASSERT_FALSE(schema.url().empty());
  TcpServer server(ServerSocketPath());
  ASSERT_NE(server.port(), 0);
  Result<std::unique_ptr<Store>> opened = Store::Open(UrlThrough(server, schema));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);
  server.Set(TcpServer::Mood::kHang);

  for (int i = 0; i < 2; ++i) {
    const auto start = Clock::now();
    const Status ping = store->Ping();
    const auto took = Clock::now() - start;
    EXPECT_EQ(ping.code(), WFP_ERR_BUSY) << ping.message();
    EXPECT_NE(ping.message().find("did not answer a read within 1000 ms"), std::string::npos)
        << ping.message();
    EXPECT_LT(took, std::chrono::milliseconds(1500)) << "ping " << i;
  }
  const auto start = Clock::now();
  store.reset();
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(500));
}

// A ping whose connect fails says so: what failed, and the URL without its password.
TEST_F(StorePingPostgres, APingThatCannotConnectSaysWhy) {
  testing_util::PgTestSchema schema;
  ASSERT_FALSE(schema.url().empty());
  TcpServer server(ServerSocketPath());
  ASSERT_NE(server.port(), 0);
  Result<std::unique_ptr<Store>> opened = Store::Open(UrlThrough(server, schema));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);
  server.Set(TcpServer::Mood::kClose);

  const Status ping = store->Ping();
  EXPECT_EQ(ping.code(), WFP_ERR_INTERNAL) << ping.message();
  EXPECT_NE(ping.message().find("cannot connect to the store host=127.0.0.1"), std::string::npos)
      << ping.message();
  EXPECT_NE(ping.message().find("password=***"), std::string::npos) << ping.message();
  EXPECT_EQ(ping.message().find("s3cret"), std::string::npos) << ping.message();
  server.Set(TcpServer::Mood::kRelay);
  EXPECT_TRUE(store->Ping().ok());  // the next ping connects again
}

// A ping waiting for a lock when its store is destroyed: the server stops the wait (a cancel
// request) rather than letting the backend wait out its lock timeout (a minute here), holding
// its place in the lock's queue meanwhile.
TEST_F(StorePingPostgres, AStoreDestroyedWhileItsPingWaitsForALockStopsTheBackend) {
  testing_util::PgTestSchema schema;
  ASSERT_FALSE(schema.url().empty());
  StuckPing stuck;
  ASSERT_NO_FATAL_FAILURE(StickAPing(schema.url(), StoreOptions{}, &stuck));

  stuck.store.reset();
  // Gone, or at least no longer running its statement (idle in its aborted transaction until it
  // reads the end of its connection).
  const std::string& pid = stuck.pid;
  EXPECT_TRUE(
      AwaitNoRows(*stuck.holder,
                  "SELECT state FROM pg_stat_activity WHERE pid = " + pid + " AND state = 'active'",
                  seconds(5)))
      << "the ping's backend " << pid << " still waits";

  std::string error;
  ASSERT_TRUE(ExecForTesting(*stuck.holder, "ROLLBACK", &error)) << error;
  // Before the schema's DROP: the backend gone (it finds its client gone once it runs again).
  EXPECT_TRUE(
      AwaitNoRows(*stuck.holder, "SELECT 1 FROM pg_stat_activity WHERE pid = " + pid, seconds(30)))
      << "the ping's backend " << pid << " is still there";
}

}  // namespace
}  // namespace wfp::host
