// The PostgreSQL backend of the store: several hosts on one database.
//
// - The schedule lock is the schedule's row: a write transaction's load_schedule is
//   `SELECT ... FOR UPDATE OF sc`, held until commit or rollback. Two backfills of one schedule
//   (from any hosts) run one after the other; the second, at READ COMMITTED, then sees what the
//   first committed. Backfills of different schedules do not wait for each other.
// - A read-only transaction (dry runs, Dump) is REPEATABLE READ READ ONLY: one snapshot, no locks.
// - Waiting for a lock longer than the busy timeout (lock_timeout) is WFP_ERR_BUSY.
// - Writes are batched: a batch's ids come from its table's sequence in one statement, then the
//   rows go in with one COPY, inside a savepoint, so that a conflict leaves the transaction usable
//   with nothing of the batch written. Ids ascend in the order of the batch, like SQLite's.
// - A Seed takes SHARE ROW EXCLUSIVE locks on every table (it reads the highest ids, then writes
//   rows with explicit ids), then moves the sequences past the highest ids.
// - Few round trips: a transaction's BEGIN goes with its first statement (pipeline mode); a
//   read-only transaction's list_sessions reads the latest session before its range in the same
//   round trip (latest_session_before then answers from it), and its ROLLBACK is sent without
//   waiting for the answer. A dry run thus waits for the server twice, where it waited five times.
//   load_schedule_window sends the schedule's load, its sessions and the latest one before them
//   in one round trip (the last two find the workflow through the schedule's row).
// - A connection the server ended while it sat idle in a pool (a restart, a failover) is reopened,
//   and the statement that found it dead retried once, when that statement began a transaction or
//   looked up a key; a connection lost inside a transaction fails that transaction.
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <mutex>

#include "store/backends.h"
#include "store/pg_internal.h"

namespace wfp::host::store_internal::pg_backend {

static_assert(pg::kPgSchemaVersion == kStoreSchemaVersion,
              "the PostgreSQL schema and the store must agree on the schema version");

// A connection made ready for a new transaction: reconnected if the server went away.
Status Ready(pg::Connection& c) {
  if (c.Healthy() && c.txn_state() == pg::TxnState::kIdle) return Status::Ok();
  if (c.Healthy()) {  // a transaction left behind (should not happen): end it
    pg::Error e;
    if (c.Exec("ROLLBACK", &e) && c.txn_state() == pg::TxnState::kIdle) return Status::Ok();
  }
  if (c.Reset()) return Status::Ok();
  return Status::Internal("the PostgreSQL connection is lost and reconnecting failed");
}

// True when `e` says the connection is gone (the server restarted, or ended this backend) rather
// than that the statement failed: no SQLSTATE, or an operator-intervention (57P) or connection
// (08) one, and libpq has marked the connection bad. Such a failure of the first statement of a
// transaction, or of a lone statement, is safe to retry on a new connection: nothing was done.
bool ConnectionLost(pg::Connection& c, const pg::Error& e) {
  return (e.sqlstate.empty() || e.sqlstate.rfind("57P", 0) == 0 ||
          e.sqlstate.rfind("08", 0) == 0) &&
         !c.Healthy();
}

PgConnection::~PgConnection() {
  // A transaction left open (a contract breach) is rolled back; its call is not touched.
  if (txn_) {
    PgTxn* txn = txn_;
    txn->call = nullptr;
    delete txn;
  }
}

// The BEGIN is not sent here: it goes in one round trip with the transaction's first statement
// (PgTxn::Run), which is where a lost connection is found and reconnected.
wfp_status PgConnection::BeginTransaction(bool read_only, wfp_txn** out) {
  if (txn_) return WFP_ERR_STATE;
  if (const Status ready = Ready(*c_); !ready.ok()) {
    Log(ready.message());
    return ready.code();
  }
  auto txn = std::make_unique<PgTxn>(this, read_only ? kBeginRead : kBeginWrite);
  txn_ = txn.get();
  *out = txn.release();
  return WFP_OK;
}
namespace {

constexpr const char* kSiteForKeySql = "SELECT hash, site_id FROM api_keys WHERE hash = $1";

// ---- the SQL session of Seed and Dump ---------------------------------------------------------

class PgRow final : public SqlRow {
 public:
  PgRow(const pg::Result& r, int row) : r_(r), row_(row) {}
  bool IsNull(int c) const override { return r_.IsNull(row_, c); }
  int64_t Int(int c) const override { return r_.Int(row_, c); }
  std::string_view Text(int c) const override { return r_.Text(row_, c); }

 private:
  const pg::Result& r_;
  int row_;
};

class PgSession final : public SqlSession {
 public:
  explicit PgSession(pg::Connection& c) : c_(c) {}
  Status Run(const char* sql, std::initializer_list<SqlValue> params, const RowFn& row) override {
    std::vector<Param> values;
    values.reserve(params.size());
    for (const SqlValue& v : params) {
      switch (v.kind) {
        case SqlValue::Kind::kNull:
          values.push_back(Param::Null());
          break;
        case SqlValue::Kind::kInt:
          values.emplace_back(v.i);
          break;
        case SqlValue::Kind::kText:
          values.emplace_back(v.s);
          break;
        case SqlValue::Kind::kBytes:
          values.push_back(Param::Bytes(v.s));
          break;
      }
    }
    pg::Error e;
    std::optional<pg::Result> r = c_.Query(Dialect(sql), values, &e);
    if (!r) return StatusOf(e);
    if (row)
      for (int i = 0; i < r->rows(); ++i)
        if (Status taken = row(PgRow(*r, i)); !taken.ok()) return taken;
    return Status::Ok();
  }

 private:
  // The portable SQL's ?N placeholders as PostgreSQL's $N (the fixture's SQL has no other '?').
  static std::string Dialect(const char* sql) {
    std::string out(sql);
    for (char& ch : out)
      if (ch == '?') ch = '$';
    return out;
  }
  // A failed statement: any constraint (class 23, a foreign key too) is a conflict here; other
  // codes as pg::MapError's.
  static Status StatusOf(const pg::Error& e) {
    return Status::Failure(e.sqlstate.rfind("23", 0) == 0 ? WFP_ERR_CONFLICT : pg::MapError(e),
                           e.message);
  }
  pg::Connection& c_;
};

// ---- the store --------------------------------------------------------------------------------

// What a new connection of the store's is set to: its lock wait.
Status Configure(pg::Connection& c, const std::string& url,
                 std::chrono::milliseconds lock_timeout) {
  pg::Error e;
  if (c.SetLockTimeout(lock_timeout, &e)) return Status::Ok();
  return Status::Internal(
      fmt::format("cannot configure the store {}: {}", pg::RedactUrl(url), e.message));
}

class PgStore final : public Store {
 public:
  PgStore(std::string url, const StoreOptions& options)
      : url_(std::move(url)),
        busy_timeout_ms_(options.busy_timeout.count()),
        log_(options.log),
        write_faults_(options.write_faults) {}

  Status Init() {
    Result<std::unique_ptr<pg::Connection>> first = NewConnection();
    if (!first.ok()) return first.status();
    if (Status migrated = pg::Migrate(**first, kStoreSchemaVersion); !migrated.ok())
      return migrated.WithContext(fmt::format("store {}: ", pg::RedactUrl(url_)));
    idle_.push_back(std::move(*first));
    return Status::Ok();
  }

  Kind kind() const override { return Kind::kPostgres; }

  Result<std::unique_ptr<StoreConnection>> Connect() override {
    Result<std::unique_ptr<pg::Connection>> c = NewConnection();
    if (!c.ok()) return c.status();
    return std::unique_ptr<StoreConnection>(
        std::make_unique<PgConnection>(std::move(*c), log_, write_faults_));
  }

  void SetBusyTimeout(std::chrono::milliseconds timeout) override {
    busy_timeout_ms_ = timeout.count();
    std::lock_guard lock(pool_mu_);
    for (auto& c : idle_) {
      pg::Error ignored;
      c->SetLockTimeout(timeout, &ignored);
    }
  }

  KeyLookup LookUpApiKey(std::string_view key) override {
    if (key.empty()) return KeyLookup(std::nullopt);
    const std::array<unsigned char, 32> hash = HashApiKey(key);
    Result<std::unique_ptr<pg::Connection>> leased = Lease();
    if (!leased.ok()) {
      const Status failed = leased.status().WithContext("API key lookup: ");
      WriteLog(log_, failed.message());
      return failed;
    }
    pg::Connection* c = leased->get();
    KeyLookup found = std::optional<int64_t>();
    pg::Error e;
    // The lookup is by the key's SHA-256; the stored hash is then compared in constant time.
    if (std::optional<pg::Result> r = OnLiveConnection(*c, e, [&] {
          return c->Query(kSiteForKeySql, {Param::Bytes(hash.data(), hash.size())}, &e);
        })) {
      if (r->rows() > 0) {
        const std::string stored = r->Bytes(0, 0);
        if (stored.size() == hash.size() &&
            CRYPTO_memcmp(stored.data(), hash.data(), hash.size()) == 0)
          found = std::optional<int64_t>(r->Int(0, 1));
      }
    } else {
      found = Status::Failure(pg::MapError(e), fmt::format("API key lookup: {}", e.message));
      WriteLog(log_, found.status().message());
    }
    Return(std::move(*leased));
    return found;
  }

 protected:
  // The ping's connection: connected on the ping's thread, with libpq's non-blocking connect that
  // the store's destruction interrupts, then configured while attached to that interrupt (its SET
  // waits for the server too). What it uses is copied: it may outlive the store.
  PingConnector ConnectForPing() override {
    return [url = url_, lock_timeout = std::chrono::milliseconds(busy_timeout_ms_.load()),
            log = log_, faults = write_faults_](
               PingInterrupt& interrupt) -> Result<std::unique_ptr<StoreConnection>> {
      pg::Error e;
      std::unique_ptr<pg::Connection> c = pg::Connection::Open(url, &e, interrupt.fd());
      if (!c) return Status::Internal(e.message);
      auto connection = std::make_unique<PgConnection>(std::move(c), log, faults);
      const AttachedConnection attached(interrupt, *connection);
      if (!attached.ok()) return Status::Internal("the store's ping was interrupted");
      if (Status set = Configure(connection->conn(), url, lock_timeout); !set.ok()) return set;
      return std::unique_ptr<StoreConnection>(std::move(connection));
    };
  }

  Status RunInTransaction(bool write, const SessionBody& body) override {
    Result<std::unique_ptr<pg::Connection>> c = Lease();
    if (!c.ok()) return c.status();
    const Status done = RunOn(**c, write, body);
    Return(std::move(*c));
    return done;
  }

 private:
  Status RunOn(pg::Connection& c, bool write, const SessionBody& body) {
    pg::Error e;
    // A Seed reads the highest ids, then writes rows with explicit ids: nobody else may write
    // meanwhile (readers may). The lock waits at most the busy timeout. The tables a backfill
    // writes come first, in the order it writes them (sessions, attempts, then the schedule's
    // pointer): a Seed that held schedules while waiting for sessions would deadlock with it.
    const char* begin = write ? "BEGIN ISOLATION LEVEL READ COMMITTED; LOCK TABLE sessions,"
                                " attempts, schedules, sites, api_keys, projects, workflows"
                                " IN SHARE ROW EXCLUSIVE MODE"
                              : kBeginRead;
    if (!OnLiveConnection(c, e, [&] { return c.Exec(begin, &e); })) {
      Status failed;
      if (e.sqlstate == "55P03")  // lock_not_available: lock_timeout ran out
        failed = Status::Busy(
            fmt::format("the store is busy (waited {} ms for its lock)", c.lock_timeout().count()));
      else if (pg::MapError(e) == WFP_ERR_BUSY)  // a deadlock or a serialization failure
        failed = Status::Busy(fmt::format("the store is busy ({}); try again", e.message));
      else
        failed = Status::Internal(fmt::format("BEGIN: {}", e.message));
      pg::Error ignored;
      if (c.txn_state() != pg::TxnState::kIdle) c.Exec("ROLLBACK", &ignored);
      return failed;
    }
    Status done;
    {
      PgSession session(c);
      done = body(session);
    }
    pg::Error ignored;
    if (!write || !done.ok()) {
      c.Exec("ROLLBACK", &ignored);
      return done;
    }
    // The sequences continue after the highest ids, explicit ones included.
    if (!c.Exec("SELECT setval('sessions_id_seq', COALESCE((SELECT max(id) FROM sessions), 0) + 1,"
                " false), setval('attempts_id_seq',"
                " COALESCE((SELECT max(id) FROM attempts), 0) + 1, false)",
                &e) ||
        c.txn_state() != pg::TxnState::kInTransaction || !c.Exec("COMMIT", &e)) {
      done = Status::Failure(
          pg::MapError(e),
          fmt::format("seed: {}", e.message.empty() ? "the transaction failed" : e.message));
      if (c.txn_state() != pg::TxnState::kIdle) c.Exec("ROLLBACK", &ignored);
    }
    return done;
  }

  Result<std::unique_ptr<pg::Connection>> NewConnection() {
    pg::Error e;
    std::unique_ptr<pg::Connection> c = pg::Connection::Open(url_, &e);
    if (!c) return Status::Internal(e.message);
    if (Status set = Configure(*c, url_, std::chrono::milliseconds(busy_timeout_ms_.load()));
        !set.ok())
      return set;
    return c;
  }
  // A pooled connection for one Store call (a new one when the pooled one cannot be made ready).
  Result<std::unique_ptr<pg::Connection>> Lease() {
    std::unique_ptr<pg::Connection> c;
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        c = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (c && Ready(*c).ok()) return c;  // else NewConnection says why when that fails too
    return NewConnection();
  }
  void Return(std::unique_ptr<pg::Connection> c) {
    std::lock_guard lock(pool_mu_);
    idle_.push_back(std::move(c));
  }

  std::string url_;
  std::atomic<int64_t> busy_timeout_ms_;
  const StoreLog log_;
  const std::shared_ptr<WriteFaults> write_faults_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
};

}  // namespace

}  // namespace wfp::host::store_internal::pg_backend

namespace wfp::host::store_internal {

std::string RedactPostgresUrl(std::string_view url) { return pg::RedactUrl(url); }

Result<std::unique_ptr<Store>> OpenPostgres(const std::string& url, const StoreOptions& options) {
  auto store = std::make_unique<pg_backend::PgStore>(url, options);
  if (Status ready = store->Init(); !ready.ok()) return ready;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace wfp::host::store_internal
