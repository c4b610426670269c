// The SQLite backend of the store: opening handles (WAL, foreign keys, busy timeout), the schema
// and its migration (PRAGMA user_version), connections and their statement cache, the in-memory
// gate, the ABI transaction, API-key lookup, and the SQL session Seed and Dump run on.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include "store/backends.h"
#include "store/internal.h"
#include "store/observer.h"
#include "store/store.h"

namespace wfp::host::store_internal {
namespace {

// Serialises the users of one shared (in-memory) SQLite handle. Unlike std::timed_mutex it may be
// released by another thread than the one that acquired it.
class Gate {
 public:
  bool Acquire(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return !held_; })) return false;
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

// Schema version 1. Times are integer epoch seconds (UTC). The unique indexes carry the invariants:
// one session per (project, workflow, session time); one attempt per (session, index) and per
// (session, name) — NULLs are distinct in a UNIQUE index, so the unnamed attempt gets its own
// partial unique index.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE sites (
  id INTEGER PRIMARY KEY
);
CREATE TABLE api_keys (
  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),
  site_id INTEGER NOT NULL REFERENCES sites(id)
) WITHOUT ROWID;
CREATE INDEX api_keys_site ON api_keys(site_id);
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  site_id INTEGER NOT NULL REFERENCES sites(id),
  name TEXT NOT NULL,
  UNIQUE (site_id, name)
);
CREATE TABLE workflows (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  schedule TEXT,
  pool_id TEXT
);
CREATE INDEX workflows_project ON workflows(project_id, name);
CREATE TABLE schedules (
  id INTEGER PRIMARY KEY,
  workflow_id INTEGER NOT NULL UNIQUE REFERENCES workflows(id),
  next_schedule_time INTEGER NOT NULL,
  next_run_time INTEGER NOT NULL,
  last_session_time INTEGER,
  disabled_at INTEGER
);
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  workflow_name TEXT NOT NULL,
  session_time INTEGER NOT NULL,
  uuid TEXT,
  UNIQUE (project_id, workflow_name, session_time)
);
CREATE TABLE attempts (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  name TEXT,
  "index" INTEGER NOT NULL,
  done INTEGER NOT NULL CHECK (done IN (0, 1)),
  success INTEGER NOT NULL CHECK (success IN (0, 1)),
  cancel_requested INTEGER NOT NULL CHECK (cancel_requested IN (0, 1)),
  state INTEGER NOT NULL CHECK (state IN (0, 1, 2)),
  params TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  pool_id TEXT,
  depends_on_session_id INTEGER REFERENCES sessions(id),
  UNIQUE (session_id, "index"),
  UNIQUE (session_id, name)
);
CREATE UNIQUE INDEX attempts_unnamed ON attempts(session_id) WHERE name IS NULL;
CREATE INDEX attempts_depends_on ON attempts(depends_on_session_id)
  WHERE depends_on_session_id IS NOT NULL;
)sql";

constexpr std::array<const char*, static_cast<size_t>(Stmt::kCount)> kSql = {
    "BEGIN IMMEDIATE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT wfp_batch",
    "RELEASE wfp_batch",
    "ROLLBACK TO wfp_batch",
    // kLoadSchedule
    "SELECT sc.id, p.site_id, p.id, p.name, w.id, w.name, w.timezone, w.schedule, w.pool_id,"
    " sc.next_schedule_time, sc.next_run_time, sc.last_session_time, sc.disabled_at"
    " FROM schedules sc JOIN workflows w ON w.id = sc.workflow_id"
    " JOIN projects p ON p.id = w.project_id WHERE sc.id = ?1 AND p.site_id = ?2",
    // kListSessions
    "SELECT s.id, s.uuid, s.session_time, a.id, a.name, a.\"index\""
    " FROM sessions s LEFT JOIN attempts a ON a.session_id = s.id"
    " WHERE s.project_id = ?1 AND s.workflow_name = ?2 AND s.session_time >= ?3"
    " AND s.session_time < ?4 ORDER BY s.session_time, a.\"index\"",
    // kLatestSessionBefore
    "SELECT session_time FROM sessions WHERE project_id = ?1 AND workflow_name = ?2"
    " AND session_time < ?3 ORDER BY session_time DESC LIMIT 1",
    // kInsertSession
    "INSERT INTO sessions (project_id, workflow_name, session_time, uuid) VALUES (?1, ?2, ?3, ?4)",
    // kInsertAttempt
    "INSERT INTO attempts (session_id, name, \"index\", done, success, cancel_requested, state,"
    " params, created_at, finished_at, pool_id, depends_on_session_id)"
    " VALUES (?1, ?2, ?3, 0, 0, 0, ?4, ?5, ?6, NULL, ?7, ?8)",
    // kSelectPointer
    "SELECT next_schedule_time FROM schedules WHERE id = ?1",
    // kUpdatePointer
    "UPDATE schedules SET next_schedule_time = ?2, next_run_time = ?3, last_session_time = ?4"
    " WHERE id = ?1",
    // kSiteForKey
    "SELECT hash, site_id FROM api_keys WHERE hash = ?1",
};

// SQLite result code -> ABI status: BUSY/LOCKED -> WFP_ERR_BUSY, a foreign key ->
// WFP_ERR_NOT_FOUND, another constraint -> WFP_ERR_CONFLICT, anything else -> WFP_ERR_INTERNAL.
wfp_status MapSqliteError(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
      return WFP_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return WFP_ERR_BUSY;
    case SQLITE_CONSTRAINT:
      return rc == SQLITE_CONSTRAINT_FOREIGNKEY ? WFP_ERR_NOT_FOUND : WFP_ERR_CONFLICT;
    default:
      return WFP_ERR_INTERNAL;
  }
}

// Runs every statement of `sql`; false + *error on failure.
bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  *error = message ? message : sqlite3_errmsg(db);
  sqlite3_free(message);
  return false;
}

// Text of a column (empty for NULL).
std::string_view ColumnText(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string_view();
}

void BindText(sqlite3_stmt* s, int i, wfp_str v) {
  if (v.data)
    sqlite3_bind_text64(s, i, v.data, v.size, SQLITE_TRANSIENT, SQLITE_UTF8);
  else
    sqlite3_bind_null(s, i);
}

// Opens and configures a handle (WAL for files, foreign keys, busy timeout).
std::shared_ptr<Db> OpenHandle(const std::string& path, bool memory, std::string* error) {
  auto db = std::make_shared<Db>();
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                    (memory ? SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_MEMORY : SQLITE_OPEN_NOMUTEX);
  if (int rc = sqlite3_open_v2(memory ? ":memory:" : path.c_str(), &db->handle, flags, nullptr);
      rc != SQLITE_OK) {
    *error = fmt::format("cannot open the store {}: {}", path,
                         db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc));
    return nullptr;
  }
  sqlite3_extended_result_codes(db->handle, 1);
  sqlite3_busy_timeout(db->handle, 5000);
  std::string e;
  if (!Exec(db->handle, "PRAGMA foreign_keys = ON", &e)) {
    *error = fmt::format("cannot configure the store {}: {}", path, e);
    return nullptr;
  }
  if (!memory) {
    sqlite3_stmt* s = nullptr;
    std::string mode;
    if (sqlite3_prepare_v2(db->handle, "PRAGMA journal_mode = WAL", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      mode = ColumnText(s, 0);
    sqlite3_finalize(s);
    if (mode != "wal") {
      *error = fmt::format("cannot put the store {} in WAL mode: {}", path,
                           mode.empty() ? sqlite3_errmsg(db->handle) : mode);
      return nullptr;
    }
    if (!Exec(db->handle, "PRAGMA synchronous = NORMAL", &e)) {
      *error = fmt::format("cannot configure the store {}: {}", path, e);
      return nullptr;
    }
  }
  return db;
}

class Txn;

// One SQLite connection (with its cached prepared statements).
class Connection final : public StoreConnection {
 public:
  Connection(std::shared_ptr<Db> db, std::shared_ptr<Gate> gate,
             std::chrono::milliseconds busy_timeout, StoreLog log)
      : db_(std::move(db)),
        gate_(std::move(gate)),
        busy_timeout_(busy_timeout),
        log_(std::move(log)) {
    ApplyBusyTimeout();
  }
  ~Connection() override;

  void SetBusyTimeout(std::chrono::milliseconds timeout) override {
    busy_timeout_ = timeout;
    ApplyBusyTimeout();
  }
  bool ExecForTesting(const std::string& sql, std::string* error) override;
  std::optional<std::vector<std::vector<std::string>>> QueryForTesting(const std::string& sql,
                                                                       std::string* error) override;
  wfp_status BeginTransaction(bool read_only, wfp_txn** out) override;

  sqlite3* handle() const { return db_->handle; }
  // The cached statement, reset and with its bindings cleared; nullptr on a prepare failure.
  sqlite3_stmt* Get(Stmt which);
  // BEGIN IMMEDIATE (write) or BEGIN (read), through the in-memory gate where there is one.
  // WFP_ERR_BUSY when the gate or the lock is not had in time; another status + *error otherwise.
  wfp_status Begin(bool write, std::string* error);
  // COMMIT (or ROLLBACK when !commit or when COMMIT fails), then leaves the gate.
  bool CommitOrRollback(bool commit, std::string* error);
  // The site of an API key's hash (outside any transaction: one statement).
  Store::KeyLookup SiteForKeyHash(const std::array<unsigned char, 32>& hash);
  void Detach(Txn* txn) {
    if (txn_ == txn) txn_ = nullptr;
  }
  // A line of the store's log.
  void Log(std::string_view message) const { WriteLog(log_, message); }

 private:
  void ApplyBusyTimeout() {
    if (!gate_) sqlite3_busy_timeout(handle(), static_cast<int>(busy_timeout_.count()));
  }
  bool Enter() { return !gate_ || gate_->Acquire(busy_timeout_); }
  void Leave() {
    if (gate_) gate_->Release();
  }

  std::shared_ptr<Db> db_;
  // Set for an in-memory store: held for each transaction on the shared handle.
  std::shared_ptr<Gate> gate_;
  std::chrono::milliseconds busy_timeout_;
  StoreLog log_;
  std::array<sqlite3_stmt*, static_cast<size_t>(Stmt::kCount)> stmts_{};
  // The ABI transaction open on this connection, if any.
  Txn* txn_ = nullptr;
};

// Steps a statement with no result rows to completion.
int StepDone(sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// The ABI transaction on SQLite.
class Txn final : public wfp_txn {
 public:
  explicit Txn(Connection* c) : c_(c) {}
  ~Txn() override {
    if (!ended_) {
      std::string ignored;
      c_->CommitOrRollback(false, &ignored);
    }
    c_->Detach(this);
  }

  wfp_status Commit() override {
    std::string error;
    ended_ = true;
    if (c_->CommitOrRollback(true, &error)) return WFP_OK;
    const wfp_status st = MapSqliteError(sqlite3_extended_errcode(c_->handle()));
    last_error = error;
    c_->Log(error);
    return st == WFP_OK ? WFP_ERR_INTERNAL : st;
  }
  void Rollback() override {
    if (ended_) return;
    ended_ = true;
    std::string ignored;
    c_->CommitOrRollback(false, &ignored);
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
    return st == WFP_OK ? WFP_ERR_INTERNAL : st;
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

// ---- Connection -------------------------------------------------------------------------------

Connection::~Connection() {
  // A transaction left open (a contract breach: it must be finished first) is rolled back here, so
  // an in-memory store's gate is not held forever; its call is not touched (it may be gone).
  if (txn_) {
    Txn* txn = txn_;
    txn->call = nullptr;
    delete txn;  // rolls back and detaches
  }
  for (sqlite3_stmt*& s : stmts_) {
    if (s) sqlite3_finalize(s);
    s = nullptr;
  }
}

sqlite3_stmt* Connection::Get(Stmt which) {
  sqlite3_stmt*& s = stmts_[static_cast<size_t>(which)];
  if (!s) {
    if (sqlite3_prepare_v3(handle(), kSql[static_cast<size_t>(which)], -1,
                           SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      Log(fmt::format("cannot prepare a statement: {}", sqlite3_errmsg(handle())));
      s = nullptr;
      return nullptr;
    }
    return s;
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

wfp_status Connection::Begin(bool write, std::string* error) {
  if (!Enter()) {
    *error = "the store is busy (in-memory store held by another transaction)";
    return WFP_ERR_BUSY;
  }
  sqlite3_stmt* s = Get(write ? Stmt::kBeginImmediate : Stmt::kBeginDeferred);
  int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
  if (s) sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    *error = fmt::format("{}: {}", write ? "BEGIN IMMEDIATE" : "BEGIN", sqlite3_errmsg(handle()));
    // Read before leaving the gate: then another thread may use a shared (in-memory) handle.
    const wfp_status st = MapSqliteError(sqlite3_extended_errcode(handle()));
    Leave();
    return st == WFP_OK ? WFP_ERR_INTERNAL : st;
  }
  return WFP_OK;
}

bool Connection::CommitOrRollback(bool commit, std::string* error) {
  bool ok = true;
  if (commit) {
    sqlite3_stmt* s = Get(Stmt::kCommit);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    if (s) sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
      *error = fmt::format("COMMIT: {}", sqlite3_errmsg(handle()));
      ok = false;
    }
  }
  if (!commit || !ok) {
    if (sqlite3_get_autocommit(handle()) == 0) {
      if (sqlite3_stmt* s = Get(Stmt::kRollback)) {
        sqlite3_step(s);
        sqlite3_reset(s);
      } else {
        sqlite3_exec(handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      }
    }
  }
  Leave();
  return ok;
}

wfp_status Connection::BeginTransaction(bool read_only, wfp_txn** out) {
  if (txn_) return WFP_ERR_STATE;
  // A write transaction takes the write lock at once (the schedule lock on SQLite); a read-only
  // one reads a WAL snapshot and never waits for writers.
  std::string error;
  if (const wfp_status st = Begin(!read_only, &error); st != WFP_OK) {
    if (st == WFP_ERR_INTERNAL) Log(error);
    return st;
  }
  auto txn = std::make_unique<Txn>(this);
  txn_ = txn.get();
  *out = txn.release();
  return WFP_OK;
}

bool Connection::ExecForTesting(const std::string& sql, std::string* error) {
  if (!Enter()) {
    *error = "busy";
    return false;
  }
  bool ok = Exec(handle(), sql.c_str(), error);
  Leave();
  return ok;
}

std::optional<std::vector<std::vector<std::string>>> Connection::QueryForTesting(
    const std::string& sql, std::string* error) {
  if (!Enter()) {
    *error = "busy";
    return std::nullopt;
  }
  std::vector<std::vector<std::string>> rows;
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(handle(), sql.c_str(), -1, &s, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    std::vector<std::string>& row = rows.emplace_back();
    for (int i = 0; i < sqlite3_column_count(s); ++i)
      row.emplace_back(sqlite3_column_type(s, i) == SQLITE_NULL ? "NULL" : ColumnText(s, i));
    rc = SQLITE_OK;
  }
  if (rc != SQLITE_DONE) *error = sqlite3_errmsg(handle());
  sqlite3_finalize(s);
  Leave();
  if (rc != SQLITE_DONE) return std::nullopt;
  return rows;
}

Store::KeyLookup Connection::SiteForKeyHash(const std::array<unsigned char, 32>& hash) {
  Store::KeyLookup found;
  if (!Enter()) {
    found.failed = true;
    return found;
  }
  // The lookup is by the key's SHA-256, so its timing tells nothing usable about the key; the
  // stored hash is then compared in constant time all the same.
  sqlite3_stmt* s = Get(Stmt::kSiteForKey);
  if (!s) {
    found.failed = true;
  } else {
    sqlite3_bind_blob(s, 1, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32 &&
        CRYPTO_memcmp(sqlite3_column_blob(s, 0), hash.data(), hash.size()) == 0)
      found.site = sqlite3_column_int64(s, 1);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      found.failed = true;
      Log(fmt::format("API key lookup: {}", sqlite3_errmsg(handle())));
    }
    sqlite3_reset(s);
  }
  Leave();
  return found;
}

// ---- the ABI transaction ----------------------------------------------------------------------

wfp_status Txn::LoadSchedule(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out) {
  sqlite3_stmt* s = c_->Get(Stmt::kLoadSchedule);
  if (!s) return Fail("load_schedule", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, schedule_id);
  sqlite3_bind_int64(s, 2, site_id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(s);
    return WFP_ERR_NOT_FOUND;
  }
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return Fail("load_schedule", rc);
  }
  auto keep = [&](int col) -> wfp_str {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return wfp_str{nullptr, 0};
    return Keep(ColumnText(s, col));
  };
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
}

wfp_status Txn::ListSessions(int64_t project_id, std::string_view workflow_name, int64_t from,
                             int64_t to, wfp_session_visitor visitor, void* user_data) {
  sqlite3_stmt* s = c_->Get(Stmt::kListSessions);
  if (!s) return Fail("list_sessions", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, project_id);
  sqlite3_bind_text64(s, 2, workflow_name.data(), workflow_name.size(), SQLITE_TRANSIENT,
                      SQLITE_UTF8);
  sqlite3_bind_int64(s, 3, from);
  sqlite3_bind_int64(s, 4, to);
  SessionGrouper grouper(visitor, user_data);
  int rc;
  bool stopped = false;
  auto opt_text = [&](int col) -> std::optional<std::string_view> {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
    return ColumnText(s, col);
  };
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const bool has_attempt = sqlite3_column_type(s, 3) != SQLITE_NULL;  // LEFT JOIN
    if (!grouper.Row(sqlite3_column_int64(s, 0), opt_text(1), sqlite3_column_int64(s, 2),
                     has_attempt, opt_text(4), sqlite3_column_int(s, 5))) {
      stopped = true;
      break;
    }
  }
  if (!stopped && rc != SQLITE_DONE) {
    const wfp_status st = Fail("list_sessions", rc);
    sqlite3_reset(s);
    return st;
  }
  sqlite3_reset(s);
  grouper.Finish();
  return WFP_OK;
}

wfp_status Txn::LatestSessionBefore(int64_t project_id, std::string_view workflow_name,
                                    int64_t before, int32_t* out_found, int64_t* out_time) {
  sqlite3_stmt* s = c_->Get(Stmt::kLatestSessionBefore);
  if (!s) return Fail("latest_session_before", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, project_id);
  sqlite3_bind_text64(s, 2, workflow_name.data(), workflow_name.size(), SQLITE_TRANSIENT,
                      SQLITE_UTF8);
  sqlite3_bind_int64(s, 3, before);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *out_found = 1;
    *out_time = sqlite3_column_int64(s, 0);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail("latest_session_before", rc);
  return WFP_OK;
}

wfp_status Txn::CreateSessions(const wfp_new_session* sessions, size_t count, int64_t* out_ids) {
  Batch batch(c_);
  if (int rc = batch.Open(); rc != SQLITE_OK) return Fail("create_sessions", rc);
  sqlite3_stmt* s = c_->Get(Stmt::kInsertSession);
  if (!s) return Fail("create_sessions", SQLITE_ERROR);
  for (size_t i = 0; i < count; ++i) {
    const wfp_new_session& n = sessions[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, n.project_id);
    BindText(s, 2, n.workflow_name);
    sqlite3_bind_int64(s, 3, n.session_time);
    BindText(s, 4, n.uuid);
    if (int rc = StepDone(s); rc != SQLITE_OK)
      return Fail(fmt::format("create_sessions[{}]", i), rc);
    out_ids[i] = sqlite3_last_insert_rowid(c_->handle());
  }
  if (int rc = batch.Release(); rc != SQLITE_OK) return Fail("create_sessions", rc);
  return WFP_OK;
}

wfp_status Txn::CreateAttempts(const wfp_new_attempt* attempts, size_t count, int64_t* out_ids) {
  Batch batch(c_);
  if (int rc = batch.Open(); rc != SQLITE_OK) return Fail("create_attempts", rc);
  sqlite3_stmt* s = c_->Get(Stmt::kInsertAttempt);
  if (!s) return Fail("create_attempts", SQLITE_ERROR);
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
      return Fail(fmt::format("create_attempts[{}]", i), rc);
    out_ids[i] = sqlite3_last_insert_rowid(c_->handle());
  }
  if (int rc = batch.Release(); rc != SQLITE_OK) return Fail("create_attempts", rc);
  return WFP_OK;
}

wfp_status Txn::MoveSchedulePointer(int64_t schedule_id, const wfp_schedule_pointer& pointer) {
  sqlite3_stmt* s = c_->Get(Stmt::kSelectPointer);
  if (!s) return Fail("move_schedule_pointer", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, schedule_id);
  int rc = sqlite3_step(s);
  const int64_t current = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) return WFP_ERR_NOT_FOUND;
  if (rc != SQLITE_ROW) return Fail("move_schedule_pointer", rc);
  if (pointer.next_schedule_time < current) {
    last_error = fmt::format("move_schedule_pointer: {} is before the current {}",
                             pointer.next_schedule_time, current);
    return WFP_ERR_INVALID_ARGUMENT;
  }
  s = c_->Get(Stmt::kUpdatePointer);
  if (!s) return Fail("move_schedule_pointer", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, schedule_id);
  sqlite3_bind_int64(s, 2, pointer.next_schedule_time);
  sqlite3_bind_int64(s, 3, pointer.next_run_time);
  if (pointer.has_last_session_time)
    sqlite3_bind_int64(s, 4, pointer.last_session_time);
  else
    sqlite3_bind_null(s, 4);
  if (rc = StepDone(s); rc != SQLITE_OK) return Fail("move_schedule_pointer", rc);
  return WFP_OK;
}

// ---- the SQL session of Seed and Dump ---------------------------------------------------------

class Row final : public SqlRow {
 public:
  explicit Row(sqlite3_stmt* s) : s_(s) {}
  bool IsNull(int c) const override { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  int64_t Int(int c) const override { return sqlite3_column_int64(s_, c); }
  std::string_view Text(int c) const override { return ColumnText(s_, c); }

 private:
  sqlite3_stmt* s_;
};

// Statements prepared once per SQL text for the session's life.
class Session final : public SqlSession {
 public:
  explicit Session(sqlite3* db) : db_(db) {}
  ~Session() override {
    for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  }
  Outcome Run(const char* sql, std::initializer_list<SqlValue> params, const RowFn& row,
              std::string* error) override {
    auto it = cache_.find(std::string_view(sql));
    if (it == cache_.end()) it = cache_.emplace(sql, nullptr).first;
    sqlite3_stmt*& s = it->second;
    if (!s && sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
      *error = sqlite3_errmsg(db_);
      return Outcome::kError;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    int i = 1;
    for (const SqlValue& v : params) {
      switch (v.kind) {
        case SqlValue::Kind::kNull:
          sqlite3_bind_null(s, i);
          break;
        case SqlValue::Kind::kInt:
          sqlite3_bind_int64(s, i, v.i);
          break;
        case SqlValue::Kind::kText:
          sqlite3_bind_text64(s, i, v.s.data(), v.s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
          break;
        case SqlValue::Kind::kBytes:
          sqlite3_bind_blob64(s, i, v.s.data(), v.s.size(), SQLITE_TRANSIENT);
          break;
      }
      ++i;
    }
    int rc;
    const Row r(s);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (row && !row(r)) {
        sqlite3_reset(s);
        return Outcome::kError;
      }
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return Outcome::kOk;
    *error = sqlite3_errmsg(db_);
    return (rc & 0xff) == SQLITE_CONSTRAINT ? Outcome::kConstraint : Outcome::kError;
  }

 private:
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;  // keyed by the SQL text
};

// ---- the store --------------------------------------------------------------------------------

bool Migrate(Connection* c, std::string* error) {
  if (c->Begin(true, error) != WFP_OK) return false;
  int version = -1;
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(c->handle(), "PRAGMA user_version", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
  }
  bool ok = true;
  if (version < 0) {
    *error = fmt::format("cannot read the schema version: {}", sqlite3_errmsg(c->handle()));
    ok = false;
  } else if (version > kStoreSchemaVersion) {
    *error = fmt::format("the store has schema version {}, newer than this host's ({})", version,
                         kStoreSchemaVersion);
    ok = false;
  } else if (version == 0) {
    ok = Exec(c->handle(), kSchemaV1, error) &&
         Exec(c->handle(), fmt::format("PRAGMA user_version = {}", kStoreSchemaVersion).c_str(),
              error);
    if (!ok) *error = "creating the schema: " + *error;
  }
  std::string ignored;
  if (!c->CommitOrRollback(ok, ok ? error : &ignored)) return false;
  return ok;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, bool memory, const StoreOptions& options)
      : path_(std::move(path)),
        memory_(memory),
        busy_timeout_ms_(options.busy_timeout.count()),
        log_(options.log) {}

  bool Init(std::string* error) {
    if (memory_) {
      shared_db_ = OpenHandle(path_, true, error);
      if (!shared_db_) return false;
      gate_ = std::make_shared<Gate>();
    }
    std::unique_ptr<Connection> first = NewConnection(error);
    if (!first) return false;
    std::string e;
    if (!Migrate(first.get(), &e)) {
      *error = fmt::format("store {}: {}", path_, e);
      return false;
    }
    idle_.push_back(std::move(first));
    return true;
  }

  Kind kind() const override { return Kind::kSqlite; }

  std::unique_ptr<StoreConnection> Connect(std::string* error) override {
    return NewConnection(error);
  }

  void SetBusyTimeout(std::chrono::milliseconds timeout) override {
    busy_timeout_ms_ = timeout.count();
    std::lock_guard lock(pool_mu_);
    for (auto& c : idle_) c->SetBusyTimeout(timeout);
  }

  KeyLookup LookUpApiKey(std::string_view key) override {
    if (key.empty()) return {};
    std::string error;
    std::unique_ptr<Connection> c = Lease(&error);
    if (!c) return {std::nullopt, true};
    const KeyLookup found = c->SiteForKeyHash(HashApiKey(key));
    Return(std::move(c));
    return found;
  }

 protected:
  bool RunInTransaction(bool write, const SessionBody& body, std::string* error) override {
    std::unique_ptr<Connection> c = Lease(error);
    if (!c) return false;
    bool ok = c->Begin(write, error) == WFP_OK;
    if (ok) {
      bool done;
      {
        Session session(c->handle());
        done = body(session, error);
      }
      std::string ignored;
      ok = c->CommitOrRollback(write && done, done ? error : &ignored) && done;
    }
    Return(std::move(c));
    return ok;
  }

 private:
  std::unique_ptr<Connection> NewConnection(std::string* error) {
    std::shared_ptr<Db> db = shared_db_;
    if (!memory_) {
      db = OpenHandle(path_, false, error);
      if (!db) return nullptr;
    }
    return std::make_unique<Connection>(std::move(db), gate_,
                                        std::chrono::milliseconds(busy_timeout_ms_.load()), log_);
  }
  // A pooled connection for one Store call.
  std::unique_ptr<Connection> Lease(std::string* error) {
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    return NewConnection(error);
  }
  void Return(std::unique_ptr<Connection> c) {
    std::lock_guard lock(pool_mu_);
    idle_.push_back(std::move(c));
  }

  std::string path_;
  bool memory_;
  // For an in-memory store: the one handle and its gate, shared by every connection.
  std::shared_ptr<Db> shared_db_;
  std::shared_ptr<Gate> gate_;
  std::atomic<int64_t> busy_timeout_ms_;
  const StoreLog log_;
  // Connections for Seed, Dump and SiteForApiKey, reused.
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

std::unique_ptr<Store> OpenSqlite(const std::string& path, const StoreOptions& options,
                                  std::string* error) {
  auto store = std::make_unique<SqliteStore>(path, path == ":memory:", options);
  if (!store->Init(error)) return nullptr;
  return store;
}

}  // namespace wfp::host::store_internal
