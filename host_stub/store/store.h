// The store of wfp-host: the ABI's domain-level store table (`StoreApi()`), API-key lookup, and the
// fixture format's seed and dump (see docs/cli.md), over one of two backends:
//
// - SQLite (a file path, or ":memory:"): one host per store. A file store runs in WAL mode with one
//   SQLite connection per `StoreConnection`; writes take BEGIN IMMEDIATE (the schedule lock on
//   SQLite, a lock on the whole store) and wait up to the busy timeout for it, then fail with
//   WFP_ERR_BUSY. A ":memory:" store is one SQLite connection shared by every StoreConnection of
//   that Store, serialised by a gate held for each transaction (and each Seed, Dump and key
//   lookup).
// - PostgreSQL (a libpq URL, "postgresql://..." or "postgres://..."): several hosts on one
//   database. One libpq connection per `StoreConnection`; the schedule lock is the schedule's row
//   (`SELECT ... FOR UPDATE`), so backfills of different schedules do not wait for each other; lock
//   waits longer than the busy timeout fail with WFP_ERR_BUSY. Tables live in the first schema of
//   the connection's search_path.
//
// Both keep the same invariants as unique constraints, create and migrate their schema when opened
// (refusing a store written by a newer host), and give the same dumps for the same history.
//
// Thread-safety: `Store` is thread-safe. A `StoreConnection` is used by one thread at a time, and a
// transaction begun on it (through `StoreApi()->begin`) belongs to the thread that began it.
// Ownership: connections and transactions keep what they need of the store alive, so destroying the
// Store before its connections is safe; a transaction must be finished (commit or rollback) before
// its connection is destroyed (one left open is rolled back and freed then, its wfp_call
// untouched).
#ifndef WFP_HOST_STUB_STORE_STORE_H_
#define WFP_HOST_STUB_STORE_STORE_H_

#include <wfp/plugin_abi.h>

#include <atomic>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct wfp_txn;

namespace wfp::host {

// The schema version this build creates and reads (SQLite: PRAGMA user_version; PostgreSQL: the
// wfp_schema table).
inline constexpr int kStoreSchemaVersion = 1;

// Where the store's log lines go: one message per call, no newline (failures no caller would see
// otherwise: a failed commit, an internal SQLite or libpq error). Called from any thread that uses
// the store, so it must be thread-safe. wfp-host passes the host's log (Host::Log, source "store").
using StoreLog = std::function<void(std::string_view message)>;

// Chooses store writes to fail, for fault injection (the store and reliability tests): asked before
// each write operation of the ABI store table (create_sessions, create_attempts,
// move_schedule_pointer, commit) on the connections of the store it is given to. Called from any
// thread that uses the store, so it must be thread-safe.
class WriteFaults {
 public:
  virtual ~WriteFaults() = default;
  // True when this write is to fail: it answers WFP_ERR_INTERNAL (a commit rolls back first).
  virtual bool FailWrite(std::string_view operation) = 0;
};

struct StoreOptions {
  // How long a write waits for the store's lock before WFP_ERR_BUSY (SQLite busy_timeout or the
  // in-memory gate; PostgreSQL lock_timeout).
  std::chrono::milliseconds busy_timeout{5000};
  // The store's log; empty: WriteStoreLogDefault.
  StoreLog log;
  // Writes to fail on purpose; null: none.
  std::shared_ptr<WriteFaults> write_faults;
  // SQLite file only: hold the file for this process alone (SQLite's `unix-excl` VFS). No other
  // process can open it while the store is open; in return a transaction takes no file lock of its
  // own (the WAL index lives in this process's memory). Refused for PostgreSQL and `:memory:`.
  bool exclusive = false;
};

// Where a store logs by default: one line "wfp store: <message>" on stderr (control characters
// escaped, the line in one write: common/log_writer.h).
void WriteStoreLogDefault(std::string_view message);

namespace store_internal {
class SqlSession;
struct PingState;
class PingInterrupt;
}  // namespace store_internal

// One connection to the store; used by one thread at a time. Created by Store::Connect; put it in
// `wfp_call::store.connection` to let a handler begin transactions on it.
class StoreConnection {
 public:
  virtual ~StoreConnection() = default;
  StoreConnection(const StoreConnection&) = delete;
  StoreConnection& operator=(const StoreConnection&) = delete;

  // The lock wait of this connection from now on (tests use a short one to provoke WFP_ERR_BUSY).
  virtual void SetBusyTimeout(std::chrono::milliseconds timeout) = 0;

  // Internal, for StoreApi(): begins a transaction (write: takes the write side; read: a snapshot
  // that refuses writes). WFP_ERR_STATE when one is open on this connection already.
  virtual wfp_status BeginTransaction(bool read_only, wfp_txn** out) = 0;

  // The writes to fail on this connection (StoreOptions::write_faults); null: none.
  WriteFaults* write_faults() const { return write_faults_.get(); }

  // Internal, for the readiness ping (Store's destructor): ends the read that another thread runs
  // on this connection (inside a store_internal::InterruptScope of it) as soon as the backend
  // allows, without waiting for the locks or the server it waits for; the read fails, unlogged,
  // and the connection is not to be used again. Thread-safe, unlike the rest.
  void Interrupt() {
    interrupted_ = true;
    InterruptBackend();
  }
  bool interrupted() const { return interrupted_.load(); }

 protected:
  explicit StoreConnection(std::shared_ptr<WriteFaults> write_faults)
      : write_faults_(std::move(write_faults)) {}
  // Interrupt's part in the backend, called once interrupted() is true (from another thread).
  virtual void InterruptBackend() = 0;

 private:
  std::shared_ptr<WriteFaults> write_faults_;
  std::atomic<bool> interrupted_{false};
};

class Store {
 public:
  // The backend a location names: a libpq URL ("postgresql://" or "postgres://") is PostgreSQL,
  // anything else an SQLite file path (":memory:" a fresh in-memory store).
  enum class Kind { kSqlite, kPostgres };
  static Kind KindOf(std::string_view location);
  // Whether StoreOptions::exclusive applies to `location`: an SQLite file, not ":memory:".
  static bool CanBeHeldAlone(std::string_view location);

  // Opens (creating if needed; schema created or migrated) the store at `location`. On failure
  // the Status names the store (never with a URL's password): WFP_ERR_INVALID_ARGUMENT for an
  // empty location, WFP_ERR_UNSUPPORTED for a PostgreSQL URL in a build without libpq or an SQLite
  // store of a newer schema, WFP_ERR_BUSY when the store stayed locked, WFP_ERR_INTERNAL otherwise
  // (a PostgreSQL store of a newer schema too: the libpq layer's migration says so in text only).
  static Result<std::unique_ptr<Store>> Open(const std::string& location);
  static Result<std::unique_ptr<Store>> Open(const std::string& location,
                                             const StoreOptions& options);
  // Ends the readiness ping's read, if one runs (see Ping).
  virtual ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  virtual Kind kind() const = 0;

  // `location` as messages and logs may show it: a URL's passwords replaced by "***".
  static std::string Redact(std::string_view location);

  // A new connection (never null when ok()); WFP_ERR_INTERNAL when none could be made.
  virtual Result<std::unique_ptr<StoreConnection>> Connect() = 0;

  // Validates the whole fixture, then writes all of it in one transaction. On failure nothing is
  // written and the Status names the JSON path (e.g. "$.sessions[2].attempts[0].name: duplicate
  // attempt name 'x' in session 100"): WFP_ERR_INVALID_ARGUMENT for a fixture that is wrong in
  // itself, WFP_ERR_NOT_FOUND for a reference to a row that is neither in it nor in the store,
  // WFP_ERR_CONFLICT for one that collides with what the store holds, the store's own code
  // (WFP_ERR_BUSY, WFP_ERR_INTERNAL) when it failed.
  // References (a project's site, a session's project, ...) may point at rows already in the store;
  // ids that collide with stored rows are refused with the path of the row. `apiKeyCount` (as dump
  // writes it) is accepted and ignored: keys cannot be read back.
  Status Seed(const boost::json::value& fixture);

  // The whole store as a fixture, normalised (every field filled, times UTC with Z, objects in id
  // order, "apiKeys": [] and "apiKeyCount": N), read from one consistent snapshot (an object).
  Result<boost::json::value> Dump();

  // What a key lookup found: the key's site, or no site (std::nullopt: an unknown key), or a
  // failure: the store could not be asked (it is down, or busy past the timeout), so nothing is
  // known about the key.
  using KeyLookup = Result<std::optional<int64_t>>;
  // Looks up the site whose API key this is. Keys are stored as SHA-256 hashes only; the stored
  // hash is compared in constant time.
  virtual KeyLookup LookUpApiKey(std::string_view key) = 0;
  // The site of an API key; std::nullopt when none, or when the lookup failed.
  std::optional<int64_t> SiteForApiKey(std::string_view key) {
    KeyLookup found = LookUpApiKey(key);
    return found.ok() ? *found : std::nullopt;
  }

  // Whether the store answers (readiness checks): a read-only transaction on a connection of the
  // ping's own that reads a row of the schedules table (so it takes the database's read lock),
  // within kPingBound. The ping's thread (one of the store's) makes that connection when there is
  // none (the first ping, or after a failed one), within the same bound: a PostgreSQL server that
  // does not answer its connect counts as one that does not answer its read; a connect that
  // fails is the answer (its message names the store, without its password). A ping still
  // running past the bound is a failure ("did not answer"); it goes on in the background and the
  // next Ping waits for it instead of starting another. Destroying the store interrupts it (a
  // connect at once; a read through StoreConnection::Interrupt, which on PostgreSQL first asks
  // the server to cancel the statement) and waits for its thread: nothing of it runs once the
  // destructor has returned, but for a cancel request the server has not taken within 250 ms,
  // left to a thread of its own (pg::Connection::Interrupt).
  static constexpr std::chrono::milliseconds kPingBound{1000};
  Status Ping();
  // Internal: how the ping's thread connects (see ConnectForPing).
  using PingConnector =
      std::function<Result<std::unique_ptr<StoreConnection>>(store_internal::PingInterrupt&)>;

  // The busy timeout of connections made from now on (those of Seed, Dump, SiteForApiKey included).
  virtual void SetBusyTimeout(std::chrono::milliseconds timeout) = 0;

  // The catalog the host's own routes read (catalog.cc): a site's projects and schedules, from one
  // read snapshot, ordered by id. Times are epoch seconds.
  struct ProjectRecord {
    int64_t id = 0;
    std::string name;
  };
  struct ScheduleRecord {
    int64_t id = 0;
    int64_t project_id = 0;
    std::string project_name;
    int64_t workflow_id = 0;
    std::string workflow_name;
    std::string timezone;  // the workflow's, as stored ("Asia/Tokyo", "+09:00", "UTC")
    std::optional<int64_t> next_schedule_time, next_run_time, disabled_at;
  };
  struct ScheduleFilter {
    std::optional<int64_t> schedule_id;
    std::optional<int64_t> project_id;
    std::optional<std::string> workflow_name;  // with project_id only
  };
  // A failure when the store could not be read.
  Result<std::vector<ProjectRecord>> ListProjects(int64_t site_id,
                                                  const std::optional<std::string>& name);
  Result<std::vector<ScheduleRecord>> ListSchedules(int64_t site_id, const ScheduleFilter& filter);

 protected:
  Store();
  // Runs `body` in one transaction on a connection of the store's own: `write` takes the write
  // lock (a Seed reads the highest ids, then writes), otherwise a consistent read snapshot. A write
  // commits when `body` succeeds; anything else rolls back. The failure when the transaction could
  // not begin or commit, or `body`'s when it failed.
  using SessionBody = std::function<Status(store_internal::SqlSession&)>;
  virtual Status RunInTransaction(bool write, const SessionBody& body) = 0;

  // How the readiness ping makes its connection. Called by Ping, on the pinging thread; what it
  // returns is run on the ping's own thread, where it may outlive the store: it holds copies of
  // what it needs, never the store. It fails once the interrupt fires (the store is going), not
  // waiting for the server any longer. This default connects at once (Connect: SQLite's
  // connections are local files or memory) and hands that connection over.
  virtual PingConnector ConnectForPing();

 private:
  // The readiness ping's connection and thread. Neither its connection nor its connector refers
  // to the derived store (they keep copies of what they need), so ~Store ends them after the
  // backend's members.
  const std::unique_ptr<store_internal::PingState> ping_;
};

// The ABI store table, for every backend. Its functions see only the store's part of the call
// (`wfp_call::store`, a CallStoreState): they reach the connection through it; `begin` records the
// transaction in its open_txn and commit/rollback clear it. Arguments are checked here, once,
// before the backend sees them.
const wfp_store_api* StoreApi();

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_STORE_STORE_H_
