// The SQLite store's schema (version 1) and its migration, the statements a connection prepares,
// opening and configuring a handle, and the small helpers over SQLite's C API.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iterator>
#include <string>
#include <system_error>

#include "store/sqlite_internal.h"

namespace wfp::host::store_internal::sqlite_backend {
namespace {

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

}  // namespace

const char* SqlOf(Stmt which) { return kSql[static_cast<size_t>(which)]; }

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

Status Exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::Ok();
  Status failed = Status::Failure(MapSqliteError(rc), message ? message : sqlite3_errmsg(db));
  sqlite3_free(message);
  return failed;
}

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

namespace {

// Puts a file's handle in WAL mode: the first statement on it, so the first lock. Busy: another
// process holds the file alone, or (`exclusive`) has it open at all.
Status UseWal(sqlite3* h, const std::string& path, bool exclusive) {
  sqlite3_stmt* s = nullptr;
  std::string mode;
  int rc = sqlite3_prepare_v2(h, "PRAGMA journal_mode = WAL", -1, &s, nullptr);
  if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) mode = ColumnText(s, 0);
  sqlite3_finalize(s);
  if (mode == "wal") return Status::Ok();
  if ((rc & 0xff) == SQLITE_BUSY)
    return Status::Busy(
        exclusive
            ? fmt::format("cannot hold the store {} alone: another process has it open ({})", path,
                          sqlite3_errstr(rc))
            : fmt::format("the store {} is locked by another process, which may hold it alone ({})",
                          path, sqlite3_errstr(rc)));
  return Status::Internal(fmt::format("cannot put the store {} in WAL mode: {}", path,
                                      mode.empty() ? sqlite3_errmsg(h) : mode));
}

// A VFS that is another (`real`) but for its name, its xOpen (which opens through `real`, so that
// the file is exactly the one `real` would open) and its xSleep. `vfs` first: SQLite's pointer to
// it is one to the whole.
struct InterruptibleVfs {
  sqlite3_vfs vfs;
  sqlite3_vfs* real;
  std::string name;
};

InterruptibleVfs* Outer(sqlite3_vfs* vfs) { return reinterpret_cast<InterruptibleVfs*>(vfs); }

int OpenThroughReal(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
                    int* out_flags) {
  sqlite3_vfs* real = Outer(vfs)->real;
  return real->xOpen(real, name, file, flags, out_flags);
}

// SQLite sleeps here between WAL lock retries (up to about 10 s in all before it gives up).
int SleepUnlessInterrupted(sqlite3_vfs* vfs, int microseconds) {
  if (Interrupted()) return 0;
  sqlite3_vfs* real = Outer(vfs)->real;
  return real->xSleep(real, microseconds);
}

// Registers "wfp-<real's name>" over `real` (never unregistered: SQLite keeps it); nullptr when
// there is no such VFS or SQLite refused it.
InterruptibleVfs* RegisterOver(sqlite3_vfs* real) {
  if (!real) return nullptr;
  auto* shim = new InterruptibleVfs{*real, real, std::string("wfp-") + real->zName};
  shim->vfs.pNext = nullptr;
  shim->vfs.zName = shim->name.c_str();
  shim->vfs.xOpen = OpenThroughReal;
  shim->vfs.xSleep = SleepUnlessInterrupted;
  if (sqlite3_vfs_register(&shim->vfs, /*makeDflt=*/0) != SQLITE_OK) {
    delete shim;
    return nullptr;
  }
  return shim;
}

}  // namespace

const char* FileVfs(bool exclusive) {
  // `unix-excl`: the first lock this process takes on the file is a write lock it keeps until its
  // last connection closes; its connections then lock among themselves in memory, and the WAL index
  // is in memory instead of the -shm file. (SQLite tells it by the name of the VFS a file is opened
  // through: hence xOpen through the real one.)
  static InterruptibleVfs* const shared = RegisterOver(sqlite3_vfs_find(nullptr));
  static InterruptibleVfs* const alone = RegisterOver(sqlite3_vfs_find("unix-excl"));
  if (exclusive) return alone ? alone->name.c_str() : "unix-excl";
  return shared ? shared->name.c_str() : nullptr;
}

namespace {

// Why sqlite3_open_v2 failed: SQLite's message, and the system's reason when there is one
// ("unable to open database file (No such file or directory)").
std::string OpenError(const Db& db, int rc) {
  if (!db.handle) return sqlite3_errstr(rc);
  const int system_errno = sqlite3_system_errno(db.handle);
  if (system_errno == 0) return sqlite3_errmsg(db.handle);
  return fmt::format("{} ({})", sqlite3_errmsg(db.handle),
                     std::generic_category().message(system_errno));
}

}  // namespace

Result<std::shared_ptr<Db>> OpenHandle(const std::string& path, bool memory, bool exclusive) {
  // Once, before the first connection: SQLite's memory statistics off. With them, each of SQLite's
  // allocations takes a process-wide mutex that the server's threads contend for, and nothing here
  // reads the statistics. (A call after SQLite has started fails harmlessly and changes nothing.)
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  auto db = std::make_shared<Db>();
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                    (memory ? SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_MEMORY : SQLITE_OPEN_NOMUTEX);
  const char* vfs = memory ? nullptr : FileVfs(exclusive);
  if (int rc = sqlite3_open_v2(memory ? ":memory:" : path.c_str(), &db->handle, flags, vfs);
      rc != SQLITE_OK)
    return Status::Internal(fmt::format("cannot open the store {}: {}", path, OpenError(*db, rc)));
  sqlite3_extended_result_codes(db->handle, 1);
  SetBusyWait(db->handle, 5000);
  if (const Status e = Exec(db->handle, "PRAGMA foreign_keys = ON"); !e.ok())
    return e.WithContext(fmt::format("cannot configure the store {}: ", path));
  if (!memory) {
    if (const Status wal = UseWal(db->handle, path, exclusive); !wal.ok()) return wal;
    if (const Status e = Exec(db->handle, "PRAGMA synchronous = NORMAL"); !e.ok())
      return e.WithContext(fmt::format("cannot configure the store {}: ", path));
  }
  return db;
}

namespace {

std::atomic<int64_t> g_lock_retries{0};

// The busy handler SetBusyWait installs; `arg` is the timeout in milliseconds. `tries`: how many
// times it was called before for this statement. 0: give up (SQLITE_BUSY), at once on a thread
// whose read was interrupted.
int BusyWait(void* arg, int tries) {
  if (Interrupted()) return 0;
  constexpr int kSleepsMs[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  constexpr int kSleeps = static_cast<int>(std::size(kSleepsMs));
  const int64_t timeout_ms = reinterpret_cast<intptr_t>(arg);
  int64_t slept_ms = 0;  // before this call
  for (int i = 0; i < std::min(tries, kSleeps); ++i) slept_ms += kSleepsMs[i];
  if (tries > kSleeps) slept_ms += int64_t{kSleepsMs[kSleeps - 1]} * (tries - kSleeps);
  const int64_t sleep_ms =
      std::min<int64_t>(kSleepsMs[std::min(tries, kSleeps - 1)], timeout_ms - slept_ms);
  if (sleep_ms <= 0) return 0;
  g_lock_retries.fetch_add(1, std::memory_order_relaxed);
  sqlite3_sleep(static_cast<int>(sleep_ms));
  return 1;
}

}  // namespace

void SetBusyWait(sqlite3* db, int64_t timeout_ms) {
  if (timeout_ms <= 0) {
    sqlite3_busy_handler(db, nullptr, nullptr);
    return;
  }
  sqlite3_busy_handler(db, BusyWait, reinterpret_cast<void*>(static_cast<intptr_t>(timeout_ms)));
}

int64_t SqliteLockRetries() { return g_lock_retries.load(std::memory_order_relaxed); }

// Steps a statement with no result rows to completion.
int StepDone(sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

Status Migrate(Connection* c) {
  if (Status begun = c->Begin(true); !begun.ok()) return begun;
  int version = -1;
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(c->handle(), "PRAGMA user_version", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
  }
  Status migrated;
  if (version < 0) {
    migrated = Status::Internal(
        fmt::format("cannot read the schema version: {}", sqlite3_errmsg(c->handle())));
  } else if (version > kStoreSchemaVersion) {
    migrated = Status::Unsupported(
        fmt::format("the store has schema version {}, newer than this host's ({})", version,
                    kStoreSchemaVersion));
  } else if (version == 0) {
    migrated = Exec(c->handle(), kSchemaV1);
    if (migrated.ok())
      migrated =
          Exec(c->handle(), fmt::format("PRAGMA user_version = {}", kStoreSchemaVersion).c_str());
    migrated = migrated.WithContext("creating the schema: ");
  }
  const Status ended = c->CommitOrRollback(migrated.ok());
  return migrated.ok() ? ended : migrated;
}

}  // namespace wfp::host::store_internal::sqlite_backend
