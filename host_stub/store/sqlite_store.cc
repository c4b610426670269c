// The SQLite backend of the store: connections and their statement cache, the in-memory gate,
// API-key lookup, the SQL session Seed and Dump run on, and the store with its connection pool.
// The schema and statements are in sqlite_schema.cc, the ABI transaction in sqlite_txn.cc.
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <atomic>
#include <map>

#include "store/backends.h"
#include "store/sqlite_internal.h"

namespace wfp::host::store_internal::sqlite_backend {

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
    if (sqlite3_prepare_v3(handle(), SqlOf(which), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
        SQLITE_OK) {
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

void Connection::InterruptBackend() {
  // An in-memory store's one handle runs the other connections' statements too: only the gate is
  // woken. (A read on it is quick once it has the gate.)
  if (gate_) {
    gate_->WakeAll();
    return;
  }
  sqlite3_interrupt(handle());  // safe from any thread while the handle is open, as it is here
}

bool Connection::AwaitWriteTurn(std::chrono::milliseconds* waited) {
  const auto start = std::chrono::steady_clock::now();
  if (!writers_->Acquire(busy_timeout_)) return false;
  has_write_turn_ = true;
  *waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  return true;
}

int Connection::StepBegin(bool write) {
  sqlite3_stmt* s = Get(write ? Stmt::kBeginImmediate : Stmt::kBeginDeferred);
  const int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
  if (s) sqlite3_reset(s);
  return rc;
}

Status Connection::Begin(bool write) {
  if (!Enter())
    return Status::Busy("the store is busy (in-memory store held by another transaction)");
  std::chrono::milliseconds waited{0};
  if (write && writers_ && !AwaitWriteTurn(&waited)) {
    Leave();
    return Status::Busy("the store is busy (this host's other writers held it)");
  }
  // What the turn left of the busy timeout is SQLite's, for another process's lock; then whole
  // again.
  if (waited.count() > 0)
    SetBusyWait(handle(), std::max<int64_t>(0, (busy_timeout_ - waited).count()));
  const int rc = StepBegin(write);
  if (waited.count() > 0) ApplyBusyTimeout();
  if (rc != SQLITE_DONE) {
    std::string error =
        fmt::format("{}: {}", write ? "BEGIN IMMEDIATE" : "BEGIN", sqlite3_errmsg(handle()));
    // Read before leaving the gate: then another thread may use a shared (in-memory) handle.
    const wfp_status st = MapSqliteError(sqlite3_extended_errcode(handle()));
    Leave();
    return Status::Failure(st, std::move(error));
  }
  return Status::Ok();
}

Status Connection::CommitOrRollback(bool commit) {
  Status ended;
  if (commit) {
    sqlite3_stmt* s = Get(Stmt::kCommit);
    int rc = s ? sqlite3_step(s) : SQLITE_ERROR;
    if (s) sqlite3_reset(s);
    // The code is read now: the ROLLBACK below, and another thread once the gate is left (a shared
    // in-memory handle), change the handle's.
    if (rc != SQLITE_DONE)
      ended = Status::Failure(MapSqliteError(sqlite3_extended_errcode(handle())),
                              fmt::format("COMMIT: {}", sqlite3_errmsg(handle())));
  }
  if (!commit || !ended.ok()) {
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
  return ended;
}

void Connection::Leave() {
  if (has_write_turn_) {
    has_write_turn_ = false;
    writers_->Release();
  }
  if (gate_) gate_->Release();
}

wfp_status Connection::BeginTransaction(bool read_only, wfp_txn** out) {
  if (txn_) return WFP_ERR_STATE;
  // A write transaction takes the write lock at once (the schedule lock on SQLite); a read-only
  // one reads a WAL snapshot and never waits for writers.
  if (const Status begun = Begin(!read_only); !begun.ok()) {
    if (begun.code() == WFP_ERR_INTERNAL) Log(begun.message());
    return begun.code();
  }
  auto txn = std::make_unique<Txn>(this);
  txn_ = txn.get();
  *out = txn.release();
  return WFP_OK;
}

Store::KeyLookup Connection::SiteForKeyHash(const std::array<unsigned char, 32>& hash) {
  if (!Enter())
    return Status::Busy(
        "API key lookup: the store is busy (in-memory store held by another transaction)");
  // The lookup is by the key's SHA-256, so its timing tells nothing usable about the key; the
  // stored hash is then compared in constant time all the same.
  Store::KeyLookup found = std::optional<int64_t>();
  sqlite3_stmt* s = Get(Stmt::kSiteForKey);
  if (!s) {
    found = Status::Internal("API key lookup: cannot prepare the statement");
  } else {
    sqlite3_bind_blob(s, 1, hash.data(), static_cast<int>(hash.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32 &&
        CRYPTO_memcmp(sqlite3_column_blob(s, 0), hash.data(), hash.size()) == 0)
      found = std::optional<int64_t>(sqlite3_column_int64(s, 1));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      const std::string error = fmt::format("API key lookup: {}", sqlite3_errmsg(handle()));
      Log(error);
      found = Status::Failure(MapSqliteError(rc), error);
    }
    sqlite3_reset(s);
  }
  Leave();
  return found;
}

namespace {

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
  Status Run(const char* sql, std::initializer_list<SqlValue> params, const RowFn& row) override {
    auto it = cache_.find(std::string_view(sql));
    if (it == cache_.end()) it = cache_.emplace(sql, nullptr).first;
    sqlite3_stmt*& s = it->second;
    if (!s && sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK)
      return Status::Internal(sqlite3_errmsg(db_));
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
      if (!row) continue;
      if (Status taken = row(r); !taken.ok()) {
        sqlite3_reset(s);
        return taken;
      }
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return Status::Ok();
    // Any constraint (a foreign key too) is a conflict here; other codes as MapSqliteError's.
    return Status::Failure((rc & 0xff) == SQLITE_CONSTRAINT ? WFP_ERR_CONFLICT : MapSqliteError(rc),
                           sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;  // keyed by the SQL text
};

// ---- the store --------------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, bool memory, const StoreOptions& options)
      : path_(std::move(path)),
        memory_(memory),
        exclusive_(options.exclusive),
        busy_timeout_ms_(options.busy_timeout.count()),
        log_(options.log),
        write_faults_(options.write_faults) {}

  Status Init() {
    if (memory_) {
      Result<std::shared_ptr<Db>> db = OpenHandle(path_, true, false);
      if (!db.ok()) return db.status();
      shared_db_ = std::move(*db);
      gate_ = std::make_shared<Gate>();
    } else {
      writers_ = std::make_shared<Gate>();
    }
    Result<std::unique_ptr<Connection>> first = NewConnection();
    if (!first.ok()) return first.status();
    if (const Status migrated = Migrate(first->get()); !migrated.ok())
      return migrated.WithContext(fmt::format("store {}: ", path_));
    idle_.push_back(std::move(*first));
    return Status::Ok();
  }

  Kind kind() const override { return Kind::kSqlite; }

  Result<std::unique_ptr<StoreConnection>> Connect() override {
    Result<std::unique_ptr<Connection>> c = NewConnection();
    if (!c.ok()) return c.status();
    return std::unique_ptr<StoreConnection>(std::move(*c));
  }

  void SetBusyTimeout(std::chrono::milliseconds timeout) override {
    busy_timeout_ms_ = timeout.count();
    std::lock_guard lock(pool_mu_);
    for (auto& c : idle_) c->SetBusyTimeout(timeout);
  }

  KeyLookup LookUpApiKey(std::string_view key) override {
    if (key.empty()) return KeyLookup(std::nullopt);
    Result<std::unique_ptr<Connection>> c = Lease();
    if (!c.ok()) return c.status().WithContext("API key lookup: ");
    KeyLookup found = (*c)->SiteForKeyHash(HashApiKey(key));
    Return(std::move(*c));
    return found;
  }

 protected:
  Status RunInTransaction(bool write, const SessionBody& body) override {
    Result<std::unique_ptr<Connection>> c = Lease();
    if (!c.ok()) return c.status();
    Status done = (*c)->Begin(write);
    if (done.ok()) {
      {
        Session session((*c)->handle());
        done = body(session);
      }
      const Status ended = (*c)->CommitOrRollback(write && done.ok());
      if (done.ok()) done = ended;
    }
    Return(std::move(*c));
    return done;
  }

 private:
  Result<std::unique_ptr<Connection>> NewConnection() {
    std::shared_ptr<Db> db = shared_db_;
    if (!memory_) {
      Result<std::shared_ptr<Db>> opened = OpenHandle(path_, false, exclusive_);
      if (!opened.ok()) return opened.status();
      db = std::move(*opened);
    }
    return std::make_unique<Connection>(std::move(db), gate_, writers_,
                                        std::chrono::milliseconds(busy_timeout_ms_.load()), log_,
                                        write_faults_);
  }
  // A pooled connection for one Store call.
  Result<std::unique_ptr<Connection>> Lease() {
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    return NewConnection();
  }
  void Return(std::unique_ptr<Connection> c) {
    std::lock_guard lock(pool_mu_);
    idle_.push_back(std::move(c));
  }

  std::string path_;
  bool memory_;
  bool exclusive_;  // StoreOptions::exclusive
  // For an in-memory store: the one handle and its gate, shared by every connection.
  std::shared_ptr<Db> shared_db_;
  std::shared_ptr<Gate> gate_;
  // For a file: its writers' turns (Connection::writers_), shared by every connection.
  std::shared_ptr<Gate> writers_;
  std::atomic<int64_t> busy_timeout_ms_;
  const StoreLog log_;
  const std::shared_ptr<WriteFaults> write_faults_;
  // Connections for Seed, Dump and SiteForApiKey, reused.
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

}  // namespace wfp::host::store_internal::sqlite_backend

namespace wfp::host::store_internal {

Result<std::unique_ptr<Store>> OpenSqlite(const std::string& path, const StoreOptions& options) {
  auto store = std::make_unique<sqlite_backend::SqliteStore>(path, path == ":memory:", options);
  if (Status ready = store->Init(); !ready.ok()) return ready;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace wfp::host::store_internal
