// The SQLite store of wfp-host: the schema (created and migrated at open, versioned by
// PRAGMA user_version), the ABI's domain-level store table (`StoreApi()`), API-key lookup, and the
// fixture format's seed and dump (see /work/shared/spec/stub-host.md).
//
// A file store runs in WAL mode with one SQLite connection per `StoreConnection`; writes take
// BEGIN IMMEDIATE (the schedule lock on SQLite) and wait up to the busy timeout for it, then fail
// with WFP_ERR_BUSY. A ":memory:" store is one SQLite connection shared by every StoreConnection of
// that Store, serialised by a gate held for each transaction (and for each Seed, Dump and key
// lookup): waiting for the gate longer than the busy timeout is WFP_ERR_BUSY too.
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

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wfp::host {

// The schema version this build creates and reads (PRAGMA user_version).
inline constexpr int kStoreSchemaVersion = 1;

struct StoreOptions {
  // How long a write waits for the store's lock before WFP_ERR_BUSY (SQLite busy_timeout, or the
  // in-memory gate).
  std::chrono::milliseconds busy_timeout{5000};
};

// One SQLite connection (with its cached prepared statements); used by one thread at a time.
// Created by Store::Connect; put it in `wfp_call::store` to let a handler begin transactions on it.
class StoreConnection {
 public:
  ~StoreConnection();
  StoreConnection(const StoreConnection&) = delete;
  StoreConnection& operator=(const StoreConnection&) = delete;

  // The lock wait of this connection from now on (tests use a short one to provoke WFP_ERR_BUSY).
  void SetBusyTimeout(std::chrono::milliseconds timeout);

  // Test hooks: run SQL on this connection outside any transaction of the ABI. Exec runs every
  // statement of `sql`; Query runs one and returns its rows, each column as text ("NULL" for NULL).
  // False / nullopt with *error on failure.
  bool ExecForTesting(const std::string& sql, std::string* error);
  std::optional<std::vector<std::vector<std::string>>> QueryForTesting(const std::string& sql,
                                                                       std::string* error);

  // Internal: made by Store::Connect.
  struct Impl;
  explicit StoreConnection(std::unique_ptr<Impl> impl);
  Impl* impl() { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

class Store {
 public:
  // Opens (creating if needed, schema created/migrated via PRAGMA user_version) the store at
  // `path`.
  // ":memory:" gives a fresh in-memory store shared by all connections of this Store.
  // nullptr + *error on failure.
  static std::unique_ptr<Store> Open(const std::string& path, std::string* error);
  static std::unique_ptr<Store> Open(const std::string& path, const StoreOptions& options,
                                     std::string* error);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A new connection (WAL, busy_timeout, foreign keys, prepared statements cached on it).
  // nullptr + *error on failure.
  std::unique_ptr<StoreConnection> Connect(std::string* error);

  // Validates the whole fixture, then writes all of it in one transaction. False + *error naming
  // the JSON path (e.g. "$.sessions[2].attempts[0].name: duplicate attempt name 'x' in session
  // 100") and nothing written. References (a project's site, a session's project, ...) may point at
  // rows already in the store; ids that collide with stored rows are refused with the path of the
  // row. `apiKeyCount` (as dump writes it) is accepted and ignored: keys cannot be read back.
  bool Seed(const boost::json::value& fixture, std::string* error);

  // The whole store as a fixture, normalised (every field filled, times UTC with Z, objects in id
  // order, "apiKeys": [] and "apiKeyCount": N). A null value + *error on failure.
  boost::json::value Dump(std::string* error);

  // The site id whose API key this is; std::nullopt when none (or when the store fails). Keys are
  // stored as SHA-256 hashes only; the stored hash is compared in constant time.
  std::optional<int64_t> SiteForApiKey(std::string_view key);

  // The busy timeout of connections made from now on (those of Seed, Dump, SiteForApiKey included).
  void SetBusyTimeout(std::chrono::milliseconds timeout);

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The ABI store table. Its functions reach the connection through wfp_call::store; `begin` records
// the transaction in wfp_call::open_txn and commit/rollback clear it.
const wfp_store_api* StoreApi();

// Test hook for fault injection: when set, the k-th write operation (create_sessions,
// create_attempts, move_schedule_pointer, commit) of the process counted from this call fails with
// WFP_ERR_INTERNAL; 0 disables.
void SetFailAtWriteForTesting(int k);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_STORE_STORE_H_
