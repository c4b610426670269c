// Internals of the SQLite store shared by its .cc files (not for consumers): the SQLite handle and
// its statement cache, the in-memory gate, the transaction object behind `wfp_txn`, error mapping,
// and time text. Thread-safety as stated in store.h: everything here is used by one thread at a
// time except `Gate` and `Db`'s lifetime (shared_ptr).
#ifndef WFP_HOST_STUB_STORE_INTERNAL_H_
#define WFP_HOST_STUB_STORE_INTERNAL_H_

#include <sqlite3.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "call.h"
#include "store/store.h"

namespace wfp::host::store_internal {

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
  ~Db() {
    if (handle) sqlite3_close_v2(handle);
  }
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

}  // namespace wfp::host::store_internal

namespace wfp::host {

struct StoreConnection::Impl {
  std::shared_ptr<store_internal::Db> db;
  // Set for an in-memory store: held for each transaction on the shared handle.
  std::shared_ptr<store_internal::Gate> gate;
  std::chrono::milliseconds busy_timeout{5000};
  std::array<sqlite3_stmt*, static_cast<size_t>(store_internal::Stmt::kCount)> stmts{};
  // The transaction open on this connection, if any.
  wfp_txn* txn = nullptr;

  ~Impl();
  sqlite3* handle() const { return db->handle; }
  // The cached statement, reset and with its bindings cleared; nullptr on a prepare failure.
  sqlite3_stmt* Get(store_internal::Stmt which);
  // Applies the busy timeout to the handle (file stores) — the gate's wait uses it directly.
  void ApplyBusyTimeout();
  // Acquires the gate for an in-memory store (a no-op for a file store).
  bool Enter();
  void Leave();
};

struct Store::Impl {
  std::string path;
  bool memory = false;
  // For an in-memory store: the one handle and its gate, shared by every connection.
  std::shared_ptr<store_internal::Db> shared_db;
  std::shared_ptr<store_internal::Gate> gate;
  std::atomic<int64_t> busy_timeout_ms{5000};
  // Connections for Seed, Dump and SiteForApiKey, reused.
  std::mutex pool_mu;
  std::vector<std::unique_ptr<StoreConnection>> idle;

  std::unique_ptr<StoreConnection> NewConnection(std::string* error);

  // A pooled connection for the duration of one Store call.
  class Lease {
   public:
    Lease(Impl* store, std::string* error);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    StoreConnection::Impl* get() const { return connection_ ? connection_->impl() : nullptr; }

   private:
    Impl* store_;
    std::unique_ptr<StoreConnection> connection_;
  };
};

}  // namespace wfp::host

// The transaction behind the ABI's opaque `wfp_txn`.
struct wfp_txn {
  wfp_call* call = nullptr;
  wfp::host::StoreConnection::Impl* connection = nullptr;
  // Copies of the strings handed out by load_schedule, valid until the transaction ends (a deque:
  // growing it moves no element).
  std::deque<std::string> strings;
  // The last failure's details, for logs and tests.
  std::string last_error;
  // True while list_sessions iterates (its statement is in use).
  bool listing = false;
  // Begun by begin_read: a snapshot that refuses writes.
  bool read_only = false;
};

namespace wfp::host::store_internal {

// SQLite result code -> ABI status: BUSY/LOCKED -> WFP_ERR_BUSY, a foreign key ->
// WFP_ERR_NOT_FOUND, another constraint -> WFP_ERR_CONFLICT, anything else -> WFP_ERR_INTERNAL.
wfp_status MapSqliteError(int rc);

// Opens and configures a handle (WAL for files, foreign keys, busy timeout).
std::shared_ptr<Db> OpenHandle(const std::string& path, bool memory, std::string* error);

// Runs every statement of `sql`; false + *error ("what: sqlite message") on failure.
bool Exec(sqlite3* db, const char* sql, std::string* error);

// "2024-01-09T15:00:00Z" for an epoch second.
std::string FormatUtc(int64_t epoch_seconds);
// Any ISO-8601 instant with an offset ("2024-01-10T00:00:00+09:00", "...Z", optional zero
// fraction) -> epoch seconds; nullopt when malformed, not a real date, or not whole seconds.
std::optional<int64_t> ParseInstant(std::string_view text);

// The SHA-256 of an API key, as stored.
std::array<unsigned char, 32> HashApiKey(std::string_view key);

// Connection helpers used by Store::Seed/Dump (defined in store.cc).
bool BeginImmediate(StoreConnection::Impl* c, std::string* error);
bool BeginDeferred(StoreConnection::Impl* c, std::string* error);
bool CommitOrRollback(StoreConnection::Impl* c, bool commit, std::string* error);

// Text of a column (empty for NULL).
inline std::string ColumnText(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

}  // namespace wfp::host::store_internal

#endif  // WFP_HOST_STUB_STORE_INTERNAL_H_
