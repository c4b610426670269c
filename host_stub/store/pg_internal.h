// The PostgreSQL backend's inside, shared by its files: pg_txn.cc (the ABI transaction and its
// statements) and pg_store.cc (connections, the SQL session of Seed and Dump, the store). The
// backend's policies (locks, isolation, batching, reconnecting) are described in pg_store.cc.
#ifndef WFP_HOST_STUB_STORE_PG_INTERNAL_H_
#define WFP_HOST_STUB_STORE_PG_INTERNAL_H_

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/internal.h"
#include "store/pg/pg.h"
#include "store/store.h"

namespace wfp::host::store_internal::pg_backend {

using pg::Param;

inline constexpr const char* kBeginWrite = "BEGIN ISOLATION LEVEL READ COMMITTED";
inline constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// A connection made ready for a new transaction: reconnected if the server went away.
Status Ready(pg::Connection& c);

// True when `e` says the connection is gone (the server restarted, or ended this backend) rather
// than that the statement failed: no SQLSTATE, or an operator-intervention (57P) or connection
// (08) one, and libpq has marked the connection bad. Such a failure of the first statement of a
// transaction, or of a lone statement, is safe to retry on a new connection: nothing was done.
bool ConnectionLost(pg::Connection& c, const pg::Error& e);

// Runs `statement` (a transaction's first statement, or a lone one: nothing done yet) on `c`; when
// it finds the connection lost (e.g. the server restarted meanwhile), reconnects and runs it once
// more. `statement` returns something false on failure (bool, std::optional) and sets *e.
template <typename Statement>
auto OnLiveConnection(pg::Connection& c, const pg::Error& e, Statement statement) {
  auto result = statement();
  if (!result && ConnectionLost(c, e) && c.Reset()) result = statement();
  return result;
}

class PgTxn;

class PgConnection final : public StoreConnection {
 public:
  PgConnection(std::unique_ptr<pg::Connection> c, StoreLog log,
               std::shared_ptr<WriteFaults> write_faults)
      : StoreConnection(std::move(write_faults)), c_(std::move(c)), log_(std::move(log)) {}
  ~PgConnection() override;

  void SetBusyTimeout(std::chrono::milliseconds timeout) override {
    pg::Error e;
    if (!c_->SetLockTimeout(timeout, &e))
      Log(fmt::format("cannot set lock_timeout: {}", e.message));
  }
  wfp_status BeginTransaction(bool read_only, wfp_txn** out) override;

  pg::Connection& conn() { return *c_; }
  void Detach(PgTxn* txn) {
    if (txn_ == txn) txn_ = nullptr;
  }
  // A line of the store's log (none once interrupted: the failures that follow are the store's
  // own doing).
  void Log(std::string_view message) const {
    if (!interrupted()) WriteLog(log_, message);
  }

 protected:
  // The statement the connection waits for fails at once (its socket shut down).
  void InterruptBackend() override { c_->Interrupt(); }

 private:
  std::unique_ptr<pg::Connection> c_;
  StoreLog log_;
  PgTxn* txn_ = nullptr;
};

// The ABI transaction on PostgreSQL.
class PgTxn final : public wfp_txn {
 public:
  // `begin` (kBeginRead or kBeginWrite) is sent with the transaction's first statement.
  PgTxn(PgConnection* c, const char* begin) : c_(c), begin_(begin) {}
  ~PgTxn() override {
    Rollback();
    c_->Detach(this);
  }

  wfp_status Commit() override;
  void Rollback() override;
  void Log(std::string_view message) const override { c_->Log(message); }

  wfp_status LoadSchedule(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out) override;
  wfp_status ListSessions(int64_t project_id, std::string_view workflow_name, int64_t from,
                          int64_t to, wfp_session_visitor visitor, void* user_data) override;
  wfp_status LatestSessionBefore(int64_t project_id, std::string_view workflow_name, int64_t before,
                                 int32_t* out_found, int64_t* out_time) override;
  // One round trip: the schedule load (locking in a write transaction), the window's sessions and
  // the latest session before it, the last two found through the schedule's row as the first.
  wfp_status LoadScheduleWindow(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out,
                                wfp_session_window* window) override;
  wfp_status CreateSessions(const wfp_new_session* sessions, size_t count,
                            int64_t* out_ids) override;
  wfp_status CreateAttempts(const wfp_new_attempt* attempts, size_t count,
                            int64_t* out_ids) override;
  wfp_status MoveSchedulePointer(int64_t schedule_id, const wfp_schedule_pointer& p) override;

 private:
  wfp_status Fail(std::string_view what, const pg::Error& e) {
    const wfp_status st = pg::MapError(e);
    last_error = fmt::format("{}: {}{}{}", what, e.message, e.sqlstate.empty() ? "" : " SQLSTATE ",
                             e.sqlstate);
    if (st == WFP_ERR_INTERNAL) Log(last_error);
    return FailureCode(st);
  }
  // Runs `statements` as the transaction's next ones, in one round trip. The transaction's first
  // statements carry its BEGIN, and are run once more on a new connection when the connection is
  // found lost (nothing was done yet). One Result per statement, or nullopt + *e.
  std::optional<std::vector<pg::Result>> Run(std::vector<pg::Connection::Statement> statements,
                                             pg::Error* e);
  std::optional<pg::Result> Run(const char* sql, std::span<const Param> params, pg::Error* e);
  // Sends the BEGIN alone, if it is still to be sent: before a statement Run cannot carry (Exec,
  // COPY).
  bool Begun(pg::Error* e);
  // The schedule of load_schedule's columns, from column `col` of `row` of `r`, into `out` (its
  // strings kept).
  void ReadSchedule(const pg::Result& r, int row, int col, wfp_schedule_info* out);
  // Visits the sessions of list_sessions' columns, from column `col` of rows [first, end) of `r`.
  static void VisitSessions(const pg::Result& r, int first, int end, int col,
                            wfp_session_visitor visitor, void* user_data);
  // load_schedule_window as a read-only transaction's only read: kWindowAloneSql.
  wfp_status LoadWindowAlone(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out,
                             wfp_session_window* window);
  // Answers a window read: whether it was complete and its latest session before (`time`), which
  // a read-only transaction also keeps for a listing to come.
  void AnswerWindow(const wfp_schedule_info& schedule, bool complete, std::optional<int64_t> time,
                    wfp_session_window* window);
  // Ids for `count` new rows from a sequence, ascending.
  bool NextIds(const char* sql, size_t count, int64_t* out, pg::Error* e);
  // Runs `write` inside a savepoint: all of it or, on failure, none of it, the transaction usable.
  template <typename Write>
  wfp_status InSavepoint(std::string_view what, Write write);

  PgConnection* c_;
  // The BEGIN still to be sent, or nullptr once it has been.
  const char* begin_;
  bool ended_ = false;
  // A read-only transaction's first ListSessions reads, in the same round trip, the latest
  // session before its range: what a plugin asks next (its dependency chain); so does its
  // LoadScheduleWindow. LatestSessionBefore with the same arguments answers from it; the snapshot
  // of the transaction guarantees the same answer.
  struct LatestBefore {
    int64_t project_id;
    std::string workflow_name;
    int64_t before;
    std::optional<int64_t> time;
  };
  std::optional<LatestBefore> latest_before_;
  bool listed_ = false;  // ListSessions or LoadScheduleWindow has run in this transaction
};

}  // namespace wfp::host::store_internal::pg_backend

#endif  // WFP_HOST_STUB_STORE_PG_INTERNAL_H_
