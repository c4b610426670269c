// The ABI's store table on SQLite. Every entry point is noexcept in effect: the only things that
// can throw here are allocations, and those are caught and reported as WFP_ERR_INTERNAL.
#include <fmt/format.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <string_view>

#include "store/internal.h"
#include "store/store.h"

namespace wfp::host {
namespace {

using store_internal::MapSqliteError;
using store_internal::Stmt;

// Attempt state column values.
constexpr int kStateQueued = 0;
constexpr int kStateBlocked = 1;

std::atomic<int> g_fail_at{0};
std::atomic<int> g_write_count{0};

// True when this write operation is the one chosen to fail.
bool InjectedFailure() {
  const int k = g_fail_at.load();
  return k > 0 && g_write_count.fetch_add(1) + 1 == k;
}

std::string_view View(wfp_str s) { return s.data ? std::string_view(s.data, s.size) : ""; }

wfp_str Str(const std::string& s) { return wfp_str{s.data(), s.size()}; }

// Records an SQLite failure on the transaction and maps it to a status.
wfp_status Fail(wfp_txn* txn, std::string_view what, int rc) {
  const wfp_status st = MapSqliteError(rc);
  txn->last_error = fmt::format("{}: {} ({})", what, sqlite3_errmsg(txn->connection->handle()), rc);
  if (st == WFP_ERR_INTERNAL) fmt::print(stderr, "wfp store: {}\n", txn->last_error);
  return st;
}

wfp_status Invalid(wfp_txn* txn, std::string message) {
  txn->last_error = std::move(message);
  return WFP_ERR_INVALID_ARGUMENT;
}

void BindText(sqlite3_stmt* s, int i, wfp_str v) {
  if (v.data)
    sqlite3_bind_text64(s, i, v.data, v.size, SQLITE_TRANSIENT, SQLITE_UTF8);
  else
    sqlite3_bind_null(s, i);
}

// Finishes the transaction: the connection leaves the gate, the call forgets it, the txn is freed.
void Finish(wfp_txn* txn) {
  if (txn->call && txn->call->open_txn == txn) txn->call->open_txn = nullptr;
  if (txn->connection->txn == txn) txn->connection->txn = nullptr;
  delete txn;
}

// Steps a statement with no result rows to completion.
int StepDone(sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// A savepoint around a batch: rolled back (and released) unless Release() succeeded, so a
// conflict leaves the transaction usable with nothing of the batch written.
class Batch {
 public:
  explicit Batch(wfp_txn* txn) : txn_(txn) {}
  int Open() {
    sqlite3_stmt* s = txn_->connection->Get(Stmt::kSavepoint);
    if (!s) return SQLITE_ERROR;
    int rc = StepDone(s);
    open_ = rc == SQLITE_OK;
    return rc;
  }
  int Release() {
    sqlite3_stmt* s = txn_->connection->Get(Stmt::kRelease);
    int rc = s ? StepDone(s) : SQLITE_ERROR;
    if (rc == SQLITE_OK) open_ = false;
    return rc;
  }
  ~Batch() {
    if (!open_) return;
    if (sqlite3_stmt* s = txn_->connection->Get(Stmt::kRollbackTo)) StepDone(s);
    if (sqlite3_stmt* s = txn_->connection->Get(Stmt::kRelease)) StepDone(s);
  }

 private:
  wfp_txn* txn_;
  bool open_ = false;
};

// ---- begin / commit / rollback ----------------------------------------------------------------

wfp_status BeginTransaction(wfp_call* call, wfp_txn** out_txn, bool read_only) {
  if (!call || !out_txn || !call->store) return WFP_ERR_INVALID_ARGUMENT;
  *out_txn = nullptr;
  StoreConnection::Impl* c = call->store->impl();
  if (call->open_txn || c->txn) return WFP_ERR_STATE;
  try {
    auto txn = std::make_unique<wfp_txn>();
    txn->call = call;
    txn->connection = c;
    txn->read_only = read_only;
    if (!c->Enter()) return WFP_ERR_BUSY;
    // A write transaction takes the write lock at once (the schedule lock on SQLite); a read-only
    // one reads a WAL snapshot and never waits for writers.
    sqlite3_stmt* s = c->Get(read_only ? Stmt::kBeginDeferred : Stmt::kBeginImmediate);
    int rc = s ? StepDone(s) : SQLITE_ERROR;
    if (rc != SQLITE_OK) {
      c->Leave();
      const wfp_status st = MapSqliteError(rc);
      if (st == WFP_ERR_INTERNAL)
        fmt::print(stderr, "wfp store: BEGIN: {}\n", sqlite3_errmsg(c->handle()));
      return st == WFP_OK ? WFP_ERR_INTERNAL : st;
    }
    c->txn = txn.get();
    call->open_txn = txn.get();
    *out_txn = txn.release();
    return WFP_OK;
  } catch (...) {
    return WFP_ERR_INTERNAL;
  }
}

wfp_status Begin(wfp_call* call, wfp_txn** out_txn) {
  return BeginTransaction(call, out_txn, false);
}
wfp_status BeginRead(wfp_call* call, wfp_txn** out_txn) {
  return BeginTransaction(call, out_txn, true);
}

void Rollback(wfp_txn* txn) {
  if (!txn) return;
  std::string ignored;
  store_internal::CommitOrRollback(txn->connection, false, &ignored);
  Finish(txn);
}

wfp_status Commit(wfp_txn* txn) {
  if (!txn) return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing) return WFP_ERR_STATE;
  if (InjectedFailure()) {
    Rollback(txn);
    return WFP_ERR_INTERNAL;
  }
  std::string error;
  if (store_internal::CommitOrRollback(txn->connection, true, &error)) {
    Finish(txn);
    return WFP_OK;
  }
  const wfp_status st = MapSqliteError(sqlite3_extended_errcode(txn->connection->handle()));
  fmt::print(stderr, "wfp store: {}\n", error);
  Finish(txn);
  return st == WFP_OK ? WFP_ERR_INTERNAL : st;
}

// ---- reads ------------------------------------------------------------------------------------

wfp_status LoadSchedule(wfp_txn* txn, int64_t site_id, int64_t schedule_id,
                        wfp_schedule_info* out) {
  if (!txn || !out || !WFP_HAS_FIELD(wfp_schedule_info, out, disabled_at))
    return WFP_ERR_INVALID_ARGUMENT;
  try {
    sqlite3_stmt* s = txn->connection->Get(Stmt::kLoadSchedule);
    if (!s) return Fail(txn, "load_schedule", SQLITE_ERROR);
    sqlite3_bind_int64(s, 1, schedule_id);
    sqlite3_bind_int64(s, 2, site_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
      sqlite3_reset(s);
      return WFP_ERR_NOT_FOUND;
    }
    if (rc != SQLITE_ROW) {
      sqlite3_reset(s);
      return Fail(txn, "load_schedule", rc);
    }
    auto keep = [&](int col) -> wfp_str {
      if (sqlite3_column_type(s, col) == SQLITE_NULL) return wfp_str{nullptr, 0};
      return Str(txn->strings.emplace_back(store_internal::ColumnText(s, col)));
    };
    const uint32_t size = out->struct_size;
    *out = wfp_schedule_info{};
    out->struct_size = size;
    out->schedule_id = sqlite3_column_int64(s, 0);
    out->site_id = sqlite3_column_int64(s, 1);
    out->project_id = sqlite3_column_int64(s, 2);
    out->project_name = keep(3);
    out->workflow_definition_id = sqlite3_column_int64(s, 4);
    out->workflow_name = keep(5);
    out->timezone = keep(6);
    out->schedule_json = keep(7);
    out->pool_id = keep(8);
    out->next_schedule_time = sqlite3_column_int64(s, 9);
    out->next_run_time = sqlite3_column_int64(s, 10);
    out->has_last_session_time = sqlite3_column_type(s, 11) != SQLITE_NULL;
    out->last_session_time = out->has_last_session_time ? sqlite3_column_int64(s, 11) : 0;
    out->has_disabled_at = sqlite3_column_type(s, 12) != SQLITE_NULL;
    out->disabled_at = out->has_disabled_at ? sqlite3_column_int64(s, 12) : 0;
    sqlite3_reset(s);
    return WFP_OK;
  } catch (...) {
    return WFP_ERR_INTERNAL;
  }
}

wfp_status ListSessions(wfp_txn* txn, int64_t project_id, wfp_str workflow_name,
                        wfp_epoch_seconds from, wfp_epoch_seconds to, wfp_session_visitor visitor,
                        void* user_data) {
  if (!txn || !visitor || !workflow_name.data) return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing) return WFP_ERR_STATE;
  try {
    sqlite3_stmt* s = txn->connection->Get(Stmt::kListSessions);
    if (!s) return Fail(txn, "list_sessions", SQLITE_ERROR);
    sqlite3_bind_int64(s, 1, project_id);
    BindText(s, 2, workflow_name);
    sqlite3_bind_int64(s, 3, from);
    sqlite3_bind_int64(s, 4, to);
    txn->listing = true;

    // One session's worth of rows, buffered until the next session (or the end) shows up.
    struct Pending {
      int64_t id = 0;
      int64_t time = 0;
      bool uuid_null = true;
      std::string uuid;
      std::vector<std::optional<std::string>> names;
      std::vector<int32_t> indexes;
    } pending;
    bool have = false;
    std::vector<wfp_attempt_ref> refs;
    auto emit = [&]() -> int32_t {
      refs.clear();
      for (size_t i = 0; i < pending.names.size(); ++i)
        refs.push_back(wfp_attempt_ref{
            pending.names[i] ? Str(*pending.names[i]) : wfp_str{nullptr, 0}, pending.indexes[i]});
      wfp_session_info info{};
      info.struct_size = sizeof info;
      info.session_id = pending.id;
      info.uuid = pending.uuid_null ? wfp_str{nullptr, 0} : Str(pending.uuid);
      info.session_time = pending.time;
      info.attempts = refs.empty() ? nullptr : refs.data();
      info.attempt_count = refs.size();
      return visitor(user_data, &info);
    };
    int rc;
    bool stopped = false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const int64_t id = sqlite3_column_int64(s, 0);
      if (!have || id != pending.id) {
        if (have && emit() != 0) {
          stopped = true;
          break;
        }
        have = true;
        pending.id = id;
        pending.uuid_null = sqlite3_column_type(s, 1) == SQLITE_NULL;
        pending.uuid = store_internal::ColumnText(s, 1);
        pending.time = sqlite3_column_int64(s, 2);
        pending.names.clear();
        pending.indexes.clear();
      }
      if (sqlite3_column_type(s, 3) != SQLITE_NULL) {  // LEFT JOIN: a session without attempts
        if (sqlite3_column_type(s, 4) == SQLITE_NULL)
          pending.names.emplace_back(std::nullopt);
        else
          pending.names.emplace_back(store_internal::ColumnText(s, 4));
        pending.indexes.push_back(sqlite3_column_int(s, 5));
      }
    }
    if (!stopped && rc != SQLITE_DONE) {
      const wfp_status st = Fail(txn, "list_sessions", rc);
      sqlite3_reset(s);
      txn->listing = false;
      return st;
    }
    sqlite3_reset(s);
    if (!stopped && have) emit();
    txn->listing = false;
    return WFP_OK;
  } catch (...) {
    txn->listing = false;
    return WFP_ERR_INTERNAL;
  }
}

wfp_status LatestSessionBefore(wfp_txn* txn, int64_t project_id, wfp_str workflow_name,
                               wfp_epoch_seconds before, int32_t* out_found,
                               wfp_epoch_seconds* out_time) {
  if (!txn || !out_found || !out_time || !workflow_name.data) return WFP_ERR_INVALID_ARGUMENT;
  sqlite3_stmt* s = txn->connection->Get(Stmt::kLatestSessionBefore);
  if (!s) return Fail(txn, "latest_session_before", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, project_id);
  BindText(s, 2, workflow_name);
  sqlite3_bind_int64(s, 3, before);
  int rc = sqlite3_step(s);
  *out_found = 0;
  *out_time = 0;
  if (rc == SQLITE_ROW) {
    *out_found = 1;
    *out_time = sqlite3_column_int64(s, 0);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail(txn, "latest_session_before", rc);
  return WFP_OK;
}

// ---- writes -----------------------------------------------------------------------------------

wfp_status CreateSessions(wfp_txn* txn, const wfp_new_session* sessions, size_t count,
                          int64_t* out_ids) {
  if (!txn || (count > 0 && (!sessions || !out_ids))) return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing || txn->read_only) return WFP_ERR_STATE;
  for (size_t i = 0; i < count; ++i) {
    const wfp_new_session& n = sessions[i];
    if (!WFP_HAS_FIELD(wfp_new_session, &n, uuid))
      return Invalid(txn,
                     fmt::format("create_sessions: sessions[{}] struct_size {}", i, n.struct_size));
    if (!n.workflow_name.data)
      return Invalid(txn, fmt::format("create_sessions: sessions[{}] has no workflow name", i));
  }
  if (InjectedFailure()) return WFP_ERR_INTERNAL;
  if (count == 0) return WFP_OK;
  Batch batch(txn);
  if (int rc = batch.Open(); rc != SQLITE_OK) return Fail(txn, "create_sessions", rc);
  sqlite3_stmt* s = txn->connection->Get(Stmt::kInsertSession);
  if (!s) return Fail(txn, "create_sessions", SQLITE_ERROR);
  for (size_t i = 0; i < count; ++i) {
    const wfp_new_session& n = sessions[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, n.project_id);
    BindText(s, 2, n.workflow_name);
    sqlite3_bind_int64(s, 3, n.session_time);
    BindText(s, 4, n.uuid);
    if (int rc = StepDone(s); rc != SQLITE_OK)
      return Fail(txn, fmt::format("create_sessions[{}]", i), rc);
    out_ids[i] = sqlite3_last_insert_rowid(txn->connection->handle());
  }
  if (int rc = batch.Release(); rc != SQLITE_OK) return Fail(txn, "create_sessions", rc);
  return WFP_OK;
}

wfp_status CreateAttempts(wfp_txn* txn, const wfp_new_attempt* attempts, size_t count,
                          int64_t* out_ids) {
  if (!txn || (count > 0 && (!attempts || !out_ids))) return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing || txn->read_only) return WFP_ERR_STATE;
  try {
    for (size_t i = 0; i < count; ++i) {
      const wfp_new_attempt& a = attempts[i];
      if (!WFP_HAS_FIELD(wfp_new_attempt, &a, depends_on_session_id))
        return Invalid(
            txn, fmt::format("create_attempts: attempts[{}] struct_size {}", i, a.struct_size));
      if (a.state != WFP_ATTEMPT_QUEUED && a.state != WFP_ATTEMPT_BLOCKED)
        return Invalid(txn, fmt::format("create_attempts: attempts[{}] state {}", i, a.state));
      boost::json::error_code ec;
      const boost::json::value params = boost::json::parse(View(a.params_json), ec);
      if (ec || !params.is_object())
        return Invalid(
            txn, fmt::format("create_attempts: attempts[{}] params are not a JSON object", i));
    }
    if (InjectedFailure()) return WFP_ERR_INTERNAL;
    if (count == 0) return WFP_OK;
    Batch batch(txn);
    if (int rc = batch.Open(); rc != SQLITE_OK) return Fail(txn, "create_attempts", rc);
    sqlite3_stmt* s = txn->connection->Get(Stmt::kInsertAttempt);
    if (!s) return Fail(txn, "create_attempts", SQLITE_ERROR);
    for (size_t i = 0; i < count; ++i) {
      const wfp_new_attempt& a = attempts[i];
      sqlite3_reset(s);
      sqlite3_bind_int64(s, 1, a.session_id);
      BindText(s, 2, a.name);
      sqlite3_bind_int(s, 3, a.index);
      sqlite3_bind_int(s, 4, a.state == WFP_ATTEMPT_BLOCKED ? kStateBlocked : kStateQueued);
      BindText(s, 5, a.params_json);
      sqlite3_bind_int64(s, 6, a.created_at);
      BindText(s, 7, a.pool_id);
      if (a.depends_on_session_id != 0)
        sqlite3_bind_int64(s, 8, a.depends_on_session_id);
      else
        sqlite3_bind_null(s, 8);
      if (int rc = StepDone(s); rc != SQLITE_OK)
        return Fail(txn, fmt::format("create_attempts[{}]", i), rc);
      out_ids[i] = sqlite3_last_insert_rowid(txn->connection->handle());
    }
    if (int rc = batch.Release(); rc != SQLITE_OK) return Fail(txn, "create_attempts", rc);
    return WFP_OK;
  } catch (...) {
    return WFP_ERR_INTERNAL;
  }
}

wfp_status MoveSchedulePointer(wfp_txn* txn, int64_t schedule_id,
                               const wfp_schedule_pointer* pointer) {
  if (!txn || !pointer || !WFP_HAS_FIELD(wfp_schedule_pointer, pointer, last_session_time))
    return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing || txn->read_only) return WFP_ERR_STATE;
  if (InjectedFailure()) return WFP_ERR_INTERNAL;
  sqlite3_stmt* s = txn->connection->Get(Stmt::kSelectPointer);
  if (!s) return Fail(txn, "move_schedule_pointer", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, schedule_id);
  int rc = sqlite3_step(s);
  const int64_t current = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) return WFP_ERR_NOT_FOUND;
  if (rc != SQLITE_ROW) return Fail(txn, "move_schedule_pointer", rc);
  if (pointer->next_schedule_time < current)
    return Invalid(txn, fmt::format("move_schedule_pointer: {} is before the current {}",
                                    pointer->next_schedule_time, current));
  s = txn->connection->Get(Stmt::kUpdatePointer);
  if (!s) return Fail(txn, "move_schedule_pointer", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, schedule_id);
  sqlite3_bind_int64(s, 2, pointer->next_schedule_time);
  sqlite3_bind_int64(s, 3, pointer->next_run_time);
  if (pointer->has_last_session_time)
    sqlite3_bind_int64(s, 4, pointer->last_session_time);
  else
    sqlite3_bind_null(s, 4);
  if (rc = StepDone(s); rc != SQLITE_OK) return Fail(txn, "move_schedule_pointer", rc);
  return WFP_OK;
}

const wfp_store_api kStoreApi = {
    sizeof(wfp_store_api),
    Begin,
    Commit,
    Rollback,
    LoadSchedule,
    ListSessions,
    LatestSessionBefore,
    CreateSessions,
    CreateAttempts,
    MoveSchedulePointer,
    BeginRead,
};

}  // namespace

const wfp_store_api* StoreApi() { return &kStoreApi; }

void SetFailAtWriteForTesting(int k) {
  g_write_count = 0;
  g_fail_at = k;
}

}  // namespace wfp::host
