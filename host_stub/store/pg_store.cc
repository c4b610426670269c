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
// - A connection the server ended while it sat idle in a pool (a restart, a failover) is reopened,
//   and the statement that found it dead retried once, when that statement began a transaction or
//   looked up a key; a connection lost inside a transaction fails that transaction.
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <mutex>

#include "store/backends.h"
#include "store/internal.h"
#include "store/pg/pg.h"
#include "store/store.h"

namespace wfp::host::store_internal {
namespace {

static_assert(pg::kPgSchemaVersion == kStoreSchemaVersion,
              "the PostgreSQL schema and the store must agree on the schema version");

using pg::Param;

constexpr const char* kLoadScheduleSql =
    "SELECT sc.id, p.site_id, p.id, p.name, w.id, w.name, w.timezone, w.schedule, w.pool_id,"
    " sc.next_schedule_time, sc.next_run_time, sc.last_session_time, sc.disabled_at"
    " FROM schedules sc JOIN workflows w ON w.id = sc.workflow_id"
    " JOIN projects p ON p.id = w.project_id WHERE sc.id = $1 AND p.site_id = $2";
// The same, taking the schedule lock.
const std::string kLoadScheduleForUpdateSql = std::string(kLoadScheduleSql) + " FOR UPDATE OF sc";

constexpr const char* kListSessionsSql =
    "SELECT s.id, s.uuid, s.session_time, a.id, a.name, a.\"index\""
    " FROM sessions s LEFT JOIN attempts a ON a.session_id = s.id"
    " WHERE s.project_id = $1 AND s.workflow_name = $2 AND s.session_time >= $3"
    " AND s.session_time < $4 ORDER BY s.session_time, a.\"index\"";

constexpr const char* kLatestSessionBeforeSql =
    "SELECT session_time FROM sessions WHERE project_id = $1 AND workflow_name = $2"
    " AND session_time < $3 ORDER BY session_time DESC LIMIT 1";

constexpr const char* kSessionIdsSql =
    "SELECT nextval('sessions_id_seq') FROM generate_series(1, $1::bigint)";
constexpr const char* kAttemptIdsSql =
    "SELECT nextval('attempts_id_seq') FROM generate_series(1, $1::bigint)";
// Taken before a batch takes its ids: the ROW EXCLUSIVE lock the COPY would take anyway, but before
// the nextval. A Seed (SHARE ROW EXCLUSIVE on every table, then omitted ids after max(id), then the
// sequences moved past them) thus waits for a batch that has taken ids, and a batch waits for a
// Seed in progress; otherwise ids taken from the sequence during a Seed collide with the Seed's.
constexpr const char* kLockSessionsSql = "LOCK TABLE sessions IN ROW EXCLUSIVE MODE";
constexpr const char* kLockAttemptsSql = "LOCK TABLE attempts IN ROW EXCLUSIVE MODE";
constexpr const char* kCopySessionsSql =
    "COPY sessions (id, project_id, workflow_name, session_time, uuid) FROM STDIN";
constexpr const char* kCopyAttemptsSql =
    "COPY attempts (id, session_id, name, \"index\", done, success, cancel_requested, state,"
    " params, created_at, finished_at, pool_id, depends_on_session_id) FROM STDIN";

constexpr const char* kSelectPointerSql =
    "SELECT next_schedule_time FROM schedules WHERE id = $1 FOR UPDATE";
constexpr const char* kUpdatePointerSql =
    "UPDATE schedules SET next_schedule_time = $2, next_run_time = $3, last_session_time = $4"
    " WHERE id = $1";

constexpr const char* kSiteForKeySql = "SELECT hash, site_id FROM api_keys WHERE hash = $1";

constexpr const char* kBeginWrite = "BEGIN ISOLATION LEVEL READ COMMITTED";
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// A connection made ready for a new transaction: reconnected if the server went away.
bool Ready(pg::Connection& c, std::string* error) {
  if (c.Healthy() && c.txn_state() == pg::TxnState::kIdle) return true;
  if (c.Healthy()) {  // a transaction left behind (should not happen): end it
    pg::Error e;
    if (c.Exec("ROLLBACK", &e) && c.txn_state() == pg::TxnState::kIdle) return true;
  }
  if (c.Reset()) return true;
  *error = "the PostgreSQL connection is lost and reconnecting failed";
  return false;
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
  PgConnection(std::unique_ptr<pg::Connection> c, StoreLog log)
      : c_(std::move(c)), log_(std::move(log)) {}
  ~PgConnection() override;

  void SetBusyTimeout(std::chrono::milliseconds timeout) override {
    pg::Error e;
    if (!c_->SetLockTimeout(timeout, &e))
      Log(fmt::format("cannot set lock_timeout: {}", e.message));
  }
  bool ExecForTesting(const std::string& sql, std::string* error) override {
    pg::Error e;
    if (c_->Exec(sql, &e)) return true;
    *error = e.message;
    return false;
  }
  std::optional<std::vector<std::vector<std::string>>> QueryForTesting(
      const std::string& sql, std::string* error) override {
    pg::Error e;
    std::optional<pg::Result> r = c_->Query(sql, {}, &e);
    if (!r) {
      *error = e.message;
      return std::nullopt;
    }
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < r->rows(); ++i) {
      std::vector<std::string>& row = rows.emplace_back();
      for (int j = 0; j < r->columns(); ++j)
        row.emplace_back(r->IsNull(i, j) ? "NULL" : r->Text(i, j));
    }
    return rows;
  }
  wfp_status BeginTransaction(bool read_only, wfp_txn** out) override;

  pg::Connection& conn() { return *c_; }
  void Detach(PgTxn* txn) {
    if (txn_ == txn) txn_ = nullptr;
  }
  // A line of the store's log.
  void Log(std::string_view message) const { WriteLog(log_, message); }

 private:
  std::unique_ptr<pg::Connection> c_;
  StoreLog log_;
  PgTxn* txn_ = nullptr;
};

// The ABI transaction on PostgreSQL.
class PgTxn final : public wfp_txn {
 public:
  explicit PgTxn(PgConnection* c) : c_(c) {}
  ~PgTxn() override {
    Rollback();
    c_->Detach(this);
  }

  wfp_status Commit() override {
    if (ended_) return WFP_ERR_STATE;
    ended_ = true;
    pg::Connection& db = c_->conn();
    // COMMIT of a transaction aborted by an error answers ROLLBACK without failing: look first.
    if (db.txn_state() != pg::TxnState::kInTransaction) {
      pg::Error ignored;
      db.Exec("ROLLBACK", &ignored);
      last_error = "commit: the transaction was aborted by an earlier error";
      return WFP_ERR_STATE;
    }
    pg::Error e;
    if (db.Exec("COMMIT", &e)) return WFP_OK;
    return Fail("commit", e);
  }
  void Rollback() override {
    if (ended_) return;
    ended_ = true;
    pg::Error ignored;
    if (c_->conn().txn_state() != pg::TxnState::kIdle) c_->conn().Exec("ROLLBACK", &ignored);
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
  wfp_status Fail(std::string_view what, const pg::Error& e) {
    const wfp_status st = pg::MapError(e);
    last_error = fmt::format("{}: {}{}{}", what, e.message, e.sqlstate.empty() ? "" : " SQLSTATE ",
                             e.sqlstate);
    if (st == WFP_ERR_INTERNAL) Log(last_error);
    return st == WFP_OK ? WFP_ERR_INTERNAL : st;
  }
  // Ids for `count` new rows from a sequence, ascending.
  bool NextIds(const char* sql, size_t count, int64_t* out, pg::Error* e);
  // Runs `write` inside a savepoint: all of it or, on failure, none of it, the transaction usable.
  template <typename Write>
  wfp_status InSavepoint(std::string_view what, Write write);

  PgConnection* c_;
  bool ended_ = false;
};

PgConnection::~PgConnection() {
  // A transaction left open (a contract breach) is rolled back; its call is not touched.
  if (txn_) {
    PgTxn* txn = txn_;
    txn->call = nullptr;
    delete txn;
  }
}

wfp_status PgConnection::BeginTransaction(bool read_only, wfp_txn** out) {
  if (txn_) return WFP_ERR_STATE;
  std::string why;
  if (!Ready(*c_, &why)) {
    Log(why);
    return WFP_ERR_INTERNAL;
  }
  pg::Error e;
  if (!OnLiveConnection(*c_, e,
                        [&] { return c_->Exec(read_only ? kBeginRead : kBeginWrite, &e); })) {
    const wfp_status st = pg::MapError(e);
    if (st == WFP_ERR_INTERNAL) Log(fmt::format("BEGIN: {}", e.message));
    return st == WFP_OK ? WFP_ERR_INTERNAL : st;
  }
  auto txn = std::make_unique<PgTxn>(this);
  txn_ = txn.get();
  *out = txn.release();
  return WFP_OK;
}

wfp_status PgTxn::LoadSchedule(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out) {
  pg::Error e;
  // A write transaction takes the schedule lock here; a read-only one reads its snapshot.
  std::optional<pg::Result> r =
      c_->conn().Query(read_only ? kLoadScheduleSql : kLoadScheduleForUpdateSql.c_str(),
                       {Param(schedule_id), Param(site_id)}, &e);
  if (!r) return Fail("load_schedule", e);
  if (r->rows() == 0) return WFP_ERR_NOT_FOUND;
  auto keep = [&](int col) -> wfp_str {
    if (r->IsNull(0, col)) return wfp_str{nullptr, 0};
    return Keep(r->Text(0, col));
  };
  out->schedule_id = r->Int(0, 0);
  out->site_id = r->Int(0, 1);
  out->project_id = r->Int(0, 2);
  out->project_name = keep(3);
  out->workflow_definition_id = r->Int(0, 4);
  out->workflow_name = keep(5);
  out->timezone = keep(6);
  out->schedule_json = keep(7);
  out->pool_id = keep(8);
  out->next_schedule_time = r->Int(0, 9);
  out->next_run_time = r->Int(0, 10);
  out->has_last_session_time = !r->IsNull(0, 11);
  out->last_session_time = r->Int(0, 11);
  out->has_disabled_at = !r->IsNull(0, 12);
  out->disabled_at = r->Int(0, 12);
  return WFP_OK;
}

wfp_status PgTxn::ListSessions(int64_t project_id, std::string_view workflow_name, int64_t from,
                               int64_t to, wfp_session_visitor visitor, void* user_data) {
  pg::Error e;
  std::optional<pg::Result> r = c_->conn().Query(
      kListSessionsSql, {Param(project_id), Param(workflow_name), Param(from), Param(to)}, &e);
  if (!r) return Fail("list_sessions", e);
  SessionGrouper grouper(visitor, user_data);
  auto opt_text = [&](int row, int col) -> std::optional<std::string_view> {
    if (r->IsNull(row, col)) return std::nullopt;
    return r->Text(row, col);
  };
  const int rows = r->rows();
  for (int i = 0; i < rows; ++i) {
    if (!grouper.Row(r->Int(i, 0), opt_text(i, 1), r->Int(i, 2), !r->IsNull(i, 3), opt_text(i, 4),
                     static_cast<int32_t>(r->Int(i, 5))))
      return WFP_OK;
  }
  grouper.Finish();
  return WFP_OK;
}

wfp_status PgTxn::LatestSessionBefore(int64_t project_id, std::string_view workflow_name,
                                      int64_t before, int32_t* out_found, int64_t* out_time) {
  pg::Error e;
  std::optional<pg::Result> r = c_->conn().Query(
      kLatestSessionBeforeSql, {Param(project_id), Param(workflow_name), Param(before)}, &e);
  if (!r) return Fail("latest_session_before", e);
  if (r->rows() > 0) {
    *out_found = 1;
    *out_time = r->Int(0, 0);
  }
  return WFP_OK;
}

bool PgTxn::NextIds(const char* sql, size_t count, int64_t* out, pg::Error* e) {
  std::optional<pg::Result> r = c_->conn().Query(sql, {Param(static_cast<int64_t>(count))}, e);
  if (!r) return false;
  if (static_cast<size_t>(r->rows()) != count) {
    e->message = fmt::format("the sequence gave {} ids for {} rows", r->rows(), count);
    return false;
  }
  for (size_t i = 0; i < count; ++i) out[i] = r->Int(static_cast<int>(i), 0);
  std::sort(out, out + count);
  return true;
}

template <typename Write>
wfp_status PgTxn::InSavepoint(std::string_view what, Write write) {
  pg::Connection& db = c_->conn();
  pg::Error e;
  if (!db.Exec("SAVEPOINT wfp_batch", &e)) return Fail(what, e);
  if (write(&e)) {
    if (db.Exec("RELEASE SAVEPOINT wfp_batch", &e)) return WFP_OK;
  }
  const wfp_status st = Fail(what, e);
  pg::Error ignored;
  db.Exec("ROLLBACK TO SAVEPOINT wfp_batch; RELEASE SAVEPOINT wfp_batch", &ignored);
  return st;
}

wfp_status PgTxn::CreateSessions(const wfp_new_session* sessions, size_t count, int64_t* out_ids) {
  return InSavepoint("create_sessions", [&](pg::Error* e) {
    if (!c_->conn().Exec(kLockSessionsSql, e) || !NextIds(kSessionIdsSql, count, out_ids, e))
      return false;
    std::string data;
    data.reserve(count * 64);
    for (size_t i = 0; i < count; ++i) {
      const wfp_new_session& n = sessions[i];
      pg::AppendCopyField(&data, out_ids[i]);
      pg::AppendCopyField(&data, n.project_id);
      pg::AppendCopyField(&data, View(n.workflow_name));
      pg::AppendCopyField(&data, n.session_time);
      pg::AppendCopyField(&data, n.uuid.data ? std::optional(View(n.uuid)) : std::nullopt);
      pg::AppendCopyRowEnd(&data);
    }
    return c_->conn().CopyIn(kCopySessionsSql, data, e);
  });
}

wfp_status PgTxn::CreateAttempts(const wfp_new_attempt* attempts, size_t count, int64_t* out_ids) {
  return InSavepoint("create_attempts", [&](pg::Error* e) {
    if (!c_->conn().Exec(kLockAttemptsSql, e) || !NextIds(kAttemptIdsSql, count, out_ids, e))
      return false;
    std::string data;
    data.reserve(count * 96);
    auto opt = [](wfp_str s) { return s.data ? std::optional(View(s)) : std::nullopt; };
    for (size_t i = 0; i < count; ++i) {
      const wfp_new_attempt& a = attempts[i];
      pg::AppendCopyField(&data, out_ids[i]);
      pg::AppendCopyField(&data, a.session_id);
      pg::AppendCopyField(&data, opt(a.name));
      pg::AppendCopyField(&data, int64_t{a.index});
      pg::AppendCopyField(&data, int64_t{0});  // done
      pg::AppendCopyField(&data, int64_t{0});  // success
      pg::AppendCopyField(&data, int64_t{0});  // cancel_requested
      pg::AppendCopyField(&data,
                          int64_t{a.state == WFP_ATTEMPT_BLOCKED ? kStateBlocked : kStateQueued});
      pg::AppendCopyField(&data, View(a.params_json));
      pg::AppendCopyField(&data, a.created_at);
      pg::AppendCopyField(&data, std::nullopt);  // finished_at
      pg::AppendCopyField(&data, opt(a.pool_id));
      if (a.depends_on_session_id != 0)
        pg::AppendCopyField(&data, a.depends_on_session_id);
      else
        pg::AppendCopyField(&data, std::nullopt);
      pg::AppendCopyRowEnd(&data);
    }
    return c_->conn().CopyIn(kCopyAttemptsSql, data, e);
  });
}

wfp_status PgTxn::MoveSchedulePointer(int64_t schedule_id, const wfp_schedule_pointer& pointer) {
  pg::Error e;
  std::optional<pg::Result> r = c_->conn().Query(kSelectPointerSql, {Param(schedule_id)}, &e);
  if (!r) return Fail("move_schedule_pointer", e);
  if (r->rows() == 0) return WFP_ERR_NOT_FOUND;
  const int64_t current = r->Int(0, 0);
  if (pointer.next_schedule_time < current) {
    last_error = fmt::format("move_schedule_pointer: {} is before the current {}",
                             pointer.next_schedule_time, current);
    return WFP_ERR_INVALID_ARGUMENT;
  }
  if (!c_->conn().Query(
          kUpdatePointerSql,
          {Param(schedule_id), Param(pointer.next_schedule_time), Param(pointer.next_run_time),
           pointer.has_last_session_time ? Param(pointer.last_session_time) : Param::Null()},
          &e))
    return Fail("move_schedule_pointer", e);
  return WFP_OK;
}

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
  Outcome Run(const char* sql, std::initializer_list<SqlValue> params, const RowFn& row,
              std::string* error) override {
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
    if (!r) {
      *error = e.message;
      return e.sqlstate.rfind("23", 0) == 0 ? Outcome::kConstraint : Outcome::kError;
    }
    if (row)
      for (int i = 0; i < r->rows(); ++i)
        if (!row(PgRow(*r, i))) return Outcome::kError;
    return Outcome::kOk;
  }

 private:
  // The portable SQL's ?N placeholders as PostgreSQL's $N (the fixture's SQL has no other '?').
  static std::string Dialect(const char* sql) {
    std::string out(sql);
    for (char& ch : out)
      if (ch == '?') ch = '$';
    return out;
  }
  pg::Connection& c_;
};

// ---- the store --------------------------------------------------------------------------------

class PgStore final : public Store {
 public:
  PgStore(std::string url, const StoreOptions& options)
      : url_(std::move(url)), busy_timeout_ms_(options.busy_timeout.count()), log_(options.log) {}

  bool Init(std::string* error) {
    std::unique_ptr<pg::Connection> first = NewConnection(error);
    if (!first) return false;
    std::string e;
    if (!pg::Migrate(*first, kStoreSchemaVersion, &e)) {
      *error = fmt::format("store {}: {}", pg::RedactUrl(url_), e);
      return false;
    }
    idle_.push_back(std::move(first));
    return true;
  }

  Kind kind() const override { return Kind::kPostgres; }

  std::unique_ptr<StoreConnection> Connect(std::string* error) override {
    std::unique_ptr<pg::Connection> c = NewConnection(error);
    if (!c) return nullptr;
    return std::make_unique<PgConnection>(std::move(c), log_);
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
    if (key.empty()) return {};
    const std::array<unsigned char, 32> hash = HashApiKey(key);
    std::string error;
    std::unique_ptr<pg::Connection> c = Lease(&error);
    if (!c) {
      WriteLog(log_, fmt::format("API key lookup: {}", error));
      return {std::nullopt, true};
    }
    KeyLookup found;
    pg::Error e;
    // The lookup is by the key's SHA-256; the stored hash is then compared in constant time.
    if (std::optional<pg::Result> r = OnLiveConnection(*c, e, [&] {
          return c->Query(kSiteForKeySql, {Param::Bytes(hash.data(), hash.size())}, &e);
        })) {
      if (r->rows() > 0) {
        const std::string stored = r->Bytes(0, 0);
        if (stored.size() == hash.size() &&
            CRYPTO_memcmp(stored.data(), hash.data(), hash.size()) == 0)
          found.site = r->Int(0, 1);
      }
    } else {
      found.failed = true;
      WriteLog(log_, fmt::format("API key lookup: {}", e.message));
    }
    Return(std::move(c));
    return found;
  }

 protected:
  bool RunInTransaction(bool write, const SessionBody& body, std::string* error) override {
    std::unique_ptr<pg::Connection> c = Lease(error);
    if (!c) return false;
    const bool ok = RunOn(*c, write, body, error);
    Return(std::move(c));
    return ok;
  }

 private:
  bool RunOn(pg::Connection& c, bool write, const SessionBody& body, std::string* error) {
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
      if (e.sqlstate == "55P03")  // lock_not_available: lock_timeout ran out
        *error =
            fmt::format("the store is busy (waited {} ms for its lock)", c.lock_timeout().count());
      else if (pg::MapError(e) == WFP_ERR_BUSY)  // a deadlock or a serialization failure
        *error = fmt::format("the store is busy ({}); try again", e.message);
      else
        *error = fmt::format("BEGIN: {}", e.message);
      pg::Error ignored;
      if (c.txn_state() != pg::TxnState::kIdle) c.Exec("ROLLBACK", &ignored);
      return false;
    }
    bool done;
    {
      PgSession session(c);
      done = body(session, error);
    }
    pg::Error ignored;
    if (!write || !done) {
      c.Exec("ROLLBACK", &ignored);
      return done;
    }
    // The sequences continue after the highest ids, explicit ones included.
    if (!c.Exec("SELECT setval('sessions_id_seq', COALESCE((SELECT max(id) FROM sessions), 0) + 1,"
                " false), setval('attempts_id_seq',"
                " COALESCE((SELECT max(id) FROM attempts), 0) + 1, false)",
                &e) ||
        c.txn_state() != pg::TxnState::kInTransaction || !c.Exec("COMMIT", &e)) {
      *error = fmt::format("seed: {}", e.message.empty() ? "the transaction failed" : e.message);
      if (c.txn_state() != pg::TxnState::kIdle) c.Exec("ROLLBACK", &ignored);
      return false;
    }
    return true;
  }

  std::unique_ptr<pg::Connection> NewConnection(std::string* error) {
    pg::Error e;
    std::unique_ptr<pg::Connection> c = pg::Connection::Open(url_, &e);
    if (!c) {
      *error = e.message;
      return nullptr;
    }
    if (!c->SetLockTimeout(std::chrono::milliseconds(busy_timeout_ms_.load()), &e)) {
      *error = fmt::format("cannot configure the store {}: {}", pg::RedactUrl(url_), e.message);
      return nullptr;
    }
    return c;
  }
  std::unique_ptr<pg::Connection> Lease(std::string* error) {
    std::unique_ptr<pg::Connection> c;
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        c = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (c && Ready(*c, error)) return c;
    return NewConnection(error);
  }
  void Return(std::unique_ptr<pg::Connection> c) {
    std::lock_guard lock(pool_mu_);
    idle_.push_back(std::move(c));
  }

  std::string url_;
  std::atomic<int64_t> busy_timeout_ms_;
  const StoreLog log_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
};

}  // namespace

std::string RedactPostgresUrl(std::string_view url) { return pg::RedactUrl(url); }

std::unique_ptr<Store> OpenPostgres(const std::string& url, const StoreOptions& options,
                                    std::string* error) {
  auto store = std::make_unique<PgStore>(url, options);
  if (!store->Init(error)) return nullptr;
  return store;
}

}  // namespace wfp::host::store_internal
