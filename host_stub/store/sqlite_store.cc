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

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, bool memory, const StoreOptions& options)
      : path_(std::move(path)),
        memory_(memory),
        busy_timeout_ms_(options.busy_timeout.count()),
        log_(options.log),
        write_faults_(options.write_faults) {}

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
                                        std::chrono::milliseconds(busy_timeout_ms_.load()), log_,
                                        write_faults_);
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
  const std::shared_ptr<WriteFaults> write_faults_;
  // Connections for Seed, Dump and SiteForApiKey, reused.
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

}  // namespace wfp::host::store_internal::sqlite_backend

namespace wfp::host::store_internal {

std::unique_ptr<Store> OpenSqlite(const std::string& path, const StoreOptions& options,
                                  std::string* error) {
  auto store = std::make_unique<sqlite_backend::SqliteStore>(path, path == ":memory:", options);
  if (!store->Init(error)) return nullptr;
  return store;
}

}  // namespace wfp::host::store_internal
