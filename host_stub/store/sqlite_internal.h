// The SQLite backend's inside, shared by its files: sqlite_schema.cc (the schema, the statements,
// opening a handle, the migration), sqlite_txn.cc (the ABI transaction) and sqlite_store.cc
// (connections, the in-memory gate, the SQL session of Seed and Dump, the store).
#ifndef WFP_HOST_STUB_STORE_SQLITE_INTERNAL_H_
#define WFP_HOST_STUB_STORE_SQLITE_INTERNAL_H_

#include <fmt/format.h>
#include <sqlite3.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/internal.h"
#include "store/observer.h"
#include "store/store.h"

namespace wfp::host::store_internal::sqlite_backend {

// Serialises the users of one shared (in-memory) SQLite handle. Unlike std::timed_mutex it may be
// released by another thread than the one that acquired it.
class Gate {
 public:
  // False when the gate was not had within `timeout`, or the thread's read was interrupted
  // (store_internal::Interrupted(); WakeAll() has it look).
  bool Acquire(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !held_ || Interrupted(); })) return false;
    if (Interrupted()) {
      if (!held_) cv_.notify_one();  // a Release may have woken this waiter: wake another instead
      return false;
    }
    held_ = true;
    return true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    cv_.notify_one();
  }
  // Has every waiter look at its thread's interruption again.
  void WakeAll() {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
};

// An open SQLite handle; closed when the last owner lets go.
struct Db {
  sqlite3* handle = nullptr;
  Db() { CountStoreConnection(+1); }
  ~Db() {
    if (handle) sqlite3_close_v2(handle);
    CountStoreConnection(-1);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
};

// The statements a connection prepares once and reuses.
enum class Stmt {
  kBeginImmediate,
  kBeginDeferred,
  kCommit,
  kRollback,
  kSavepoint,
  kRelease,
  kRollbackTo,
  kLoadSchedule,
  kListSessions,
  kLatestSessionBefore,
  kInsertSession,
  kInsertAttempt,
  kSelectPointer,
  kUpdatePointer,
  kSiteForKey,
  kCount,
};

// The SQL text of a statement.
const char* SqlOf(Stmt which);

// SQLite result code -> ABI status: BUSY/LOCKED -> WFP_ERR_BUSY, a foreign key ->
// WFP_ERR_NOT_FOUND, another constraint -> WFP_ERR_CONFLICT, anything else -> WFP_ERR_INTERNAL.
wfp_status MapSqliteError(int rc);
// Runs every statement of `sql`; the failure (its code by MapSqliteError) otherwise.
Status Exec(sqlite3* db, const char* sql);
// Text of a column (empty for NULL).
std::string_view ColumnText(sqlite3_stmt* s, int i);
void BindText(sqlite3_stmt* s, int i, wfp_str v);
// Steps a statement with no result rows to completion.
int StepDone(sqlite3_stmt* s);
// Waits on a locked file as sqlite3_busy_timeout(db, timeout_ms) would (sleeps of 1, 2, 5, 10, 15,
// 20, 25, 25, 25, 50, 50, then 100 ms between tries, within the timeout; none when it is 0), and
// counts each sleep in SqliteLockRetries().
void SetBusyWait(sqlite3* db, int64_t timeout_ms);
// How many times, in this process, a statement found an SQLite file locked by another connection
// and slept before trying again.
int64_t SqliteLockRetries();
// Opens and configures a handle (WAL for files, foreign keys, busy timeout); never null when ok().
// A file through FileVfs(exclusive).
Result<std::shared_ptr<Db>> OpenHandle(const std::string& path, bool memory, bool exclusive);
// The VFS a file store opens its files through: SQLite's default one, or its `unix-excl` when
// `exclusive` (StoreOptions::exclusive), under a name of wfp's whose only difference is that its
// sleeps between lock retries (those of a WAL read, which no busy handler sees) end at once on a
// thread whose read was interrupted (store_internal::Interrupted()).
const char* FileVfs(bool exclusive);

class Txn;

// One SQLite connection (with its cached prepared statements).
class Connection final : public StoreConnection {
 public:
  Connection(std::shared_ptr<Db> db, std::shared_ptr<Gate> gate, std::shared_ptr<Gate> writers,
             std::chrono::milliseconds busy_timeout, StoreLog log,
             std::shared_ptr<WriteFaults> write_faults)
      : StoreConnection(std::move(write_faults)),
        db_(std::move(db)),
        gate_(std::move(gate)),
        writers_(std::move(writers)),
        busy_timeout_(busy_timeout),
        log_(std::move(log)) {
    ApplyBusyTimeout();
  }
  ~Connection() override;

  void SetBusyTimeout(std::chrono::milliseconds timeout) override {
    busy_timeout_ = timeout;
    ApplyBusyTimeout();
  }
  wfp_status BeginTransaction(bool read_only, wfp_txn** out) override;

  // Runs `f(handle)` outside any transaction of the ABI, through the in-memory gate where there is
  // one; false (f not run) when the gate is not had within the busy timeout.
  template <typename F>
  bool WithHandle(F f) {
    if (!Enter()) return false;
    f(handle());
    Leave();
    return true;
  }

  sqlite3* handle() const { return db_->handle; }
  // The cached statement, reset and with its bindings cleared; nullptr on a prepare failure.
  sqlite3_stmt* Get(Stmt which);
  // BEGIN IMMEDIATE (write) or BEGIN (read), through the in-memory gate where there is one; a
  // write on a file first waits its turn among the store's writers. WFP_ERR_BUSY when the gate,
  // the turn or the lock is not had within the busy timeout; another failure otherwise.
  Status Begin(bool write);
  // COMMIT (or ROLLBACK when !commit or when COMMIT fails), then leaves the gate. A failed COMMIT
  // answers its own SQLite code, mapped ("COMMIT: ..."; a foreign key checked at COMMIT: not
  // found), read before the ROLLBACK.
  Status CommitOrRollback(bool commit);
  // The site of an API key's hash (outside any transaction: one statement).
  Store::KeyLookup SiteForKeyHash(const std::array<unsigned char, 32>& hash);
  void Detach(Txn* txn) {
    if (txn_ == txn) txn_ = nullptr;
  }
  // A line of the store's log (none once interrupted: the failures that follow are the store's
  // own doing).
  void Log(std::string_view message) const {
    if (!interrupted()) WriteLog(log_, message);
  }

 protected:
  // The statement running on a file's own handle stops (sqlite3_interrupt); the waits it has no
  // hold on look at the thread's interruption (the busy handler, FileVfs' sleeps, the gate).
  void InterruptBackend() override;

 private:
  void ApplyBusyTimeout() {
    if (!gate_) SetBusyWait(handle(), busy_timeout_.count());
  }
  bool Enter() { return !gate_ || gate_->Acquire(busy_timeout_); }
  // Waits for the store's other writers (within the busy timeout); *waited: how long. False when
  // the turn did not come in time.
  bool AwaitWriteTurn(std::chrono::milliseconds* waited);
  // BEGIN IMMEDIATE or BEGIN; SQLite's code.
  int StepBegin(bool write);
  // Lets go of the write turn, if held, and of the in-memory gate.
  void Leave();

  std::shared_ptr<Db> db_;
  // Set for an in-memory store: held for each transaction on the shared handle.
  std::shared_ptr<Gate> gate_;
  // Set for a file: the store's writers take turns here before BEGIN IMMEDIATE, woken as soon as
  // the one before lets go, so two of them never meet in SQLite's busy handler (which polls,
  // sleeping up to 100 ms between tries). Held from Begin(true) to CommitOrRollback.
  std::shared_ptr<Gate> writers_;
  bool has_write_turn_ = false;
  std::chrono::milliseconds busy_timeout_;
  StoreLog log_;
  std::array<sqlite3_stmt*, static_cast<size_t>(Stmt::kCount)> stmts_{};
  // The ABI transaction open on this connection, if any.
  Txn* txn_ = nullptr;
};

// The ABI transaction on SQLite.
class Txn final : public wfp_txn {
 public:
  explicit Txn(Connection* c) : c_(c) {}
  ~Txn() override {
    if (!ended_) (void)c_->CommitOrRollback(false);  // a rollback does not fail
    c_->Detach(this);
  }

  wfp_status Commit() override {
    ended_ = true;
    const Status committed = c_->CommitOrRollback(true);
    if (committed.ok()) return WFP_OK;
    last_error = committed.message();
    c_->Log(committed.message());
    return committed.code();
  }
  void Rollback() override {
    if (ended_) return;
    ended_ = true;
    (void)c_->CommitOrRollback(false);
  }
  void Log(std::string_view message) const override { c_->Log(message); }

  wfp_status LoadSchedule(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out) override;
  wfp_status ListSessions(int64_t project_id, std::string_view workflow_name, int64_t from,
                          int64_t to, wfp_session_visitor visitor, void* user_data) override;
  wfp_status LatestSessionBefore(int64_t project_id, std::string_view workflow_name, int64_t before,
                                 int32_t* out_found, int64_t* out_time) override;
  wfp_status CreateSessions(const wfp_new_session* sessions, size_t count,
                            int64_t* out_ids) override;
  wfp_status CreateAttempts(const wfp_new_attempt* attempts, size_t count,
                            int64_t* out_ids) override;
  wfp_status MoveSchedulePointer(int64_t schedule_id, const wfp_schedule_pointer& p) override;

 private:
  // Records an SQLite failure and maps it to a status.
  wfp_status Fail(std::string_view what, int rc) {
    const wfp_status st = MapSqliteError(rc);
    last_error = fmt::format("{}: {} ({})", what, sqlite3_errmsg(c_->handle()), rc);
    if (st == WFP_ERR_INTERNAL) c_->Log(last_error);
    return FailureCode(st);
  }

  // A savepoint around a batch: rolled back (and released) unless Release() succeeded, so a
  // conflict leaves the transaction usable with nothing of the batch written.
  class Batch {
   public:
    explicit Batch(Connection* c) : c_(c) {}
    int Open() {
      sqlite3_stmt* s = c_->Get(Stmt::kSavepoint);
      int rc = s ? StepDone(s) : SQLITE_ERROR;
      open_ = rc == SQLITE_OK;
      return rc;
    }
    int Release() {
      sqlite3_stmt* s = c_->Get(Stmt::kRelease);
      int rc = s ? StepDone(s) : SQLITE_ERROR;
      if (rc == SQLITE_OK) open_ = false;
      return rc;
    }
    ~Batch() {
      if (!open_) return;
      if (sqlite3_stmt* s = c_->Get(Stmt::kRollbackTo)) StepDone(s);
      if (sqlite3_stmt* s = c_->Get(Stmt::kRelease)) StepDone(s);
    }

   private:
    Connection* c_;
    bool open_ = false;
  };

  Connection* c_;
  bool ended_ = false;
};

// Creates the schema in an empty store, refuses a store of a newer schema (WFP_ERR_UNSUPPORTED).
Status Migrate(Connection* c);

}  // namespace wfp::host::store_internal::sqlite_backend

#endif  // WFP_HOST_STUB_STORE_SQLITE_INTERNAL_H_
