// The store's lifecycle: opening SQLite handles, the schema and its migration, connections and
// their statement cache, API-key lookup, and the small shared helpers of internal.h.
#include "store/store.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include "store/internal.h"

namespace wfp::host {
namespace store_internal {
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

bool Migrate(StoreConnection::Impl* c, std::string* error) {
  if (!BeginImmediate(c, error)) return false;
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
  if (!CommitOrRollback(c, ok, ok ? error : &ignored)) return false;
  return ok;
}

}  // namespace

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

bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  *error = message ? message : sqlite3_errmsg(db);
  sqlite3_free(message);
  return false;
}

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

namespace {

// BEGIN IMMEDIATE or BEGIN on a connection, through the in-memory gate where there is one.
bool BeginWith(StoreConnection::Impl* c, Stmt begin, std::string_view what, std::string* error) {
  if (!c->Enter()) {
    *error = "the store is busy (in-memory store held by another transaction)";
    return false;
  }
  sqlite3_stmt* s = c->Get(begin);
  int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
  if (s) sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    *error = fmt::format("{}: {}", what, sqlite3_errmsg(c->handle()));
    c->Leave();
    return false;
  }
  return true;
}

}  // namespace

bool BeginImmediate(StoreConnection::Impl* c, std::string* error) {
  return BeginWith(c, Stmt::kBeginImmediate, "BEGIN IMMEDIATE", error);
}

bool BeginDeferred(StoreConnection::Impl* c, std::string* error) {
  return BeginWith(c, Stmt::kBeginDeferred, "BEGIN", error);
}

bool CommitOrRollback(StoreConnection::Impl* c, bool commit, std::string* error) {
  bool ok = true;
  if (commit) {
    sqlite3_stmt* s = c->Get(Stmt::kCommit);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    if (s) sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
      *error = fmt::format("COMMIT: {}", sqlite3_errmsg(c->handle()));
      ok = false;
    }
  }
  if (!commit || !ok) {
    if (sqlite3_get_autocommit(c->handle()) == 0) {
      sqlite3_stmt* s = c->Get(Stmt::kRollback);
      if (s) {
        sqlite3_step(s);
        sqlite3_reset(s);
      } else {
        sqlite3_exec(c->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
      }
    }
  }
  c->Leave();
  return ok;
}

// The instants a fixture can hold: UTC years 0000 to 9999, the ones "yyyy-MM-ddTHH:mm:ssZ" writes.
constexpr int64_t kFirstInstant = -62167219200;  // 0000-01-01T00:00:00Z
constexpr int64_t kLastInstant = 253402300799;   // 9999-12-31T23:59:59Z

std::string FormatUtc(int64_t epoch_seconds) {
  // Four digits for the year, always (cctz's %Y writes 976 for 976): Seed reads what Dump writes.
  const cctz::civil_second cs = cctz::civil_second(1970, 1, 1, 0, 0, 0) + epoch_seconds;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", cs.year(), cs.month(), cs.day(),
                     cs.hour(), cs.minute(), cs.second());
}

std::optional<int64_t> ParseInstant(std::string_view t) {
  // The shape first: cctz::parse alone also takes spaces, one-digit fields and a 60th second.
  auto digits = [&](size_t from, size_t n) {
    if (t.size() < from + n) return false;
    for (size_t i = from; i < from + n; ++i)
      if (t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  if (!digits(0, 4) || t[4] != '-' || !digits(5, 2) || t[7] != '-' || !digits(8, 2) ||
      t[10] != 'T' || !digits(11, 2) || t[13] != ':' || !digits(14, 2) || t[16] != ':' ||
      !digits(17, 2) || t[17] > '5')
    return std::nullopt;
  size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (t[i] != '0') return std::nullopt;  // the store keeps whole seconds only
      ++i;
    }
    if (i == start || i - start > 9) return std::nullopt;
  }
  std::string_view zone = t.substr(i);
  if (!(zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
                        digits(i + 1, 2) && zone[3] == ':' && digits(i + 4, 2))))
    return std::nullopt;
  cctz::time_point<cctz::seconds> tp;
  if (!cctz::parse("%Y-%m-%dT%H:%M:%E*S%Ez", std::string(t), cctz::utc_time_zone(), &tp))
    return std::nullopt;
  const int64_t seconds = tp.time_since_epoch().count();
  // An offset can carry 0000-01-01 or 9999-12-31 past what FormatUtc can write back.
  if (seconds < kFirstInstant || seconds > kLastInstant) return std::nullopt;
  return seconds;
}

std::array<unsigned char, 32> HashApiKey(std::string_view key) {
  std::array<unsigned char, 32> out{};
  unsigned int size = 0;
  EVP_Digest(key.data(), key.size(), out.data(), &size, EVP_sha256(), nullptr);
  return out;
}

}  // namespace store_internal

using store_internal::Stmt;

// ---- StoreConnection --------------------------------------------------------------------------

StoreConnection::Impl::~Impl() {
  // A transaction left open (a contract breach: it must be finished first) is rolled back here, so
  // an in-memory store's gate is not held forever; its call is not touched (it may be gone).
  if (txn) {
    std::string ignored;
    store_internal::CommitOrRollback(this, false, &ignored);
    delete txn;
    txn = nullptr;
  }
  for (sqlite3_stmt*& s : stmts) {
    if (s) sqlite3_finalize(s);
    s = nullptr;
  }
}

sqlite3_stmt* StoreConnection::Impl::Get(Stmt which) {
  sqlite3_stmt*& s = stmts[static_cast<size_t>(which)];
  if (!s) {
    if (sqlite3_prepare_v3(handle(), store_internal::kSql[static_cast<size_t>(which)], -1,
                           SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      fmt::print(stderr, "wfp store: cannot prepare a statement: {}\n", sqlite3_errmsg(handle()));
      s = nullptr;
      return nullptr;
    }
    return s;
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

void StoreConnection::Impl::ApplyBusyTimeout() {
  if (!gate) sqlite3_busy_timeout(handle(), static_cast<int>(busy_timeout.count()));
}

bool StoreConnection::Impl::Enter() { return !gate || gate->Acquire(busy_timeout); }

void StoreConnection::Impl::Leave() {
  if (gate) gate->Release();
}

StoreConnection::StoreConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StoreConnection::~StoreConnection() = default;

void StoreConnection::SetBusyTimeout(std::chrono::milliseconds timeout) {
  impl_->busy_timeout = timeout;
  impl_->ApplyBusyTimeout();
}

bool StoreConnection::ExecForTesting(const std::string& sql, std::string* error) {
  if (!impl_->Enter()) {
    *error = "busy";
    return false;
  }
  bool ok = store_internal::Exec(impl_->handle(), sql.c_str(), error);
  impl_->Leave();
  return ok;
}

std::optional<std::vector<std::vector<std::string>>> StoreConnection::QueryForTesting(
    const std::string& sql, std::string* error) {
  if (!impl_->Enter()) {
    *error = "busy";
    return std::nullopt;
  }
  std::vector<std::vector<std::string>> rows;
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(impl_->handle(), sql.c_str(), -1, &s, nullptr);
  while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    std::vector<std::string>& row = rows.emplace_back();
    for (int i = 0; i < sqlite3_column_count(s); ++i)
      row.push_back(sqlite3_column_type(s, i) == SQLITE_NULL ? "NULL"
                                                             : store_internal::ColumnText(s, i));
    rc = SQLITE_OK;
  }
  if (rc != SQLITE_DONE) *error = sqlite3_errmsg(impl_->handle());
  sqlite3_finalize(s);
  impl_->Leave();
  if (rc != SQLITE_DONE) return std::nullopt;
  return rows;
}

// ---- Store ------------------------------------------------------------------------------------

std::unique_ptr<StoreConnection> Store::Impl::NewConnection(std::string* error) {
  auto c = std::make_unique<StoreConnection::Impl>();
  if (memory) {
    c->db = shared_db;
    c->gate = gate;
  } else {
    c->db = store_internal::OpenHandle(path, false, error);
    if (!c->db) return nullptr;
  }
  c->busy_timeout = std::chrono::milliseconds(busy_timeout_ms.load());
  c->ApplyBusyTimeout();
  return std::make_unique<StoreConnection>(std::move(c));
}

Store::Impl::Lease::Lease(Impl* store, std::string* error) : store_(store) {
  {
    std::lock_guard lock(store->pool_mu);
    if (!store->idle.empty()) {
      connection_ = std::move(store->idle.back());
      store->idle.pop_back();
    }
  }
  if (!connection_) connection_ = store->NewConnection(error);
}

Store::Impl::Lease::~Lease() {
  if (!connection_) return;
  std::lock_guard lock(store_->pool_mu);
  store_->idle.push_back(std::move(connection_));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() = default;

std::unique_ptr<Store> Store::Open(const std::string& path, std::string* error) {
  return Open(path, StoreOptions{}, error);
}

std::unique_ptr<Store> Store::Open(const std::string& path, const StoreOptions& options,
                                   std::string* error) {
  if (path.empty()) {
    *error = "the store path is empty";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->memory = path == ":memory:";
  impl->busy_timeout_ms = options.busy_timeout.count();
  if (impl->memory) {
    impl->shared_db = store_internal::OpenHandle(path, true, error);
    if (!impl->shared_db) return nullptr;
    impl->gate = std::make_shared<store_internal::Gate>();
  }
  std::unique_ptr<StoreConnection> first = impl->NewConnection(error);
  if (!first) return nullptr;
  std::string e;
  if (!store_internal::Migrate(first->impl(), &e)) {
    *error = fmt::format("store {}: {}", path, e);
    return nullptr;
  }
  impl->idle.push_back(std::move(first));
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

std::unique_ptr<StoreConnection> Store::Connect(std::string* error) {
  return impl_->NewConnection(error);
}

void Store::SetBusyTimeout(std::chrono::milliseconds timeout) {
  impl_->busy_timeout_ms = timeout.count();
  std::lock_guard lock(impl_->pool_mu);
  for (auto& c : impl_->idle) c->SetBusyTimeout(timeout);
}

std::optional<int64_t> Store::SiteForApiKey(std::string_view key) {
  if (key.empty()) return std::nullopt;
  const std::array<unsigned char, 32> hash = store_internal::HashApiKey(key);
  std::string error;
  Impl::Lease lease(impl_.get(), &error);
  StoreConnection::Impl* c = lease.get();
  if (!c || !c->Enter()) return std::nullopt;
  std::optional<int64_t> site;
  // The lookup is by the key's SHA-256, so its timing tells nothing usable about the key; the
  // stored hash is then compared in constant time all the same.
  if (sqlite3_stmt* s = c->Get(Stmt::kSiteForKey)) {
    sqlite3_bind_blob(s, 1, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32 &&
        CRYPTO_memcmp(sqlite3_column_blob(s, 0), hash.data(), hash.size()) == 0)
      site = sqlite3_column_int64(s, 1);
    sqlite3_reset(s);
  }
  c->Leave();
  return site;
}

}  // namespace wfp::host
