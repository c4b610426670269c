// Internals shared by the store's backends (not for consumers): the transaction object behind the
// ABI's opaque `wfp_txn`, the SQL session the fixture code (Seed, Dump) is written against, the
// grouping of (session, attempt) rows for list_sessions, and time text and key hashing.
#ifndef WFP_HOST_STUB_STORE_INTERNAL_H_
#define WFP_HOST_STUB_STORE_INTERNAL_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "call.h"
#include "common/status.h"
#include "store/call_state.h"
#include "store/store.h"

// The transaction behind the ABI's opaque `wfp_txn`: one per backend, derived from this. StoreApi()
// checks arguments and state (a write in a read-only transaction, a call while listing, fault
// injection) before calling these, and frees the object after Commit or Rollback.
struct wfp_txn {
  virtual ~wfp_txn() = default;

  // The store's part of the call that began it (its open_txn is cleared when this one ends).
  wfp::host::CallStoreState* call = nullptr;
  // Copies of the strings handed out by load_schedule, valid until the transaction ends (a deque:
  // growing it moves no element).
  std::deque<std::string> strings;
  // The last failure's details, for logs and tests.
  std::string last_error;
  // True while list_sessions or load_schedule_window visits sessions.
  bool listing = false;
  // Begun by begin_read: a snapshot that refuses writes.
  bool read_only = false;
  // A read-only transaction's load_schedule_window was told WFP_WINDOW_LAST_READ: later reads are
  // refused (the backend may have ended the snapshot with it).
  bool reads_ended = false;
  // The connection's write faults (StoreOptions::write_faults), asked before each write; or null.
  wfp::host::WriteFaults* write_faults = nullptr;
  // For the store observer (observer.h): when begin was called, and the lock wait so far (a write
  // transaction's begin, until load_schedule reports it).
  std::chrono::steady_clock::time_point began{};
  double lock_wait_seconds = 0;
  bool lock_wait_reported = false;

  // Ends the transaction in the database. A failed commit has rolled back.
  virtual wfp_status Commit() = 0;
  virtual void Rollback() = 0;

  virtual wfp_status LoadSchedule(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out) = 0;
  virtual wfp_status ListSessions(int64_t project_id, std::string_view workflow_name, int64_t from,
                                  int64_t to, wfp_session_visitor visitor, void* user_data) = 0;
  virtual wfp_status LatestSessionBefore(int64_t project_id, std::string_view workflow_name,
                                         int64_t before, int32_t* out_found, int64_t* out_time) = 0;
  // load_schedule_window: LoadSchedule, then the window's sessions of the loaded schedule's
  // (project, workflow) through store_internal::WindowVisits, then LatestSessionBefore(from) into
  // window->has_latest_before and latest_before. `window` is the host's copy, its arguments
  // checked (a visitor, from <= to, max_sessions >= 1); its outputs are zero on entry. This
  // default makes the three calls (SQLite: no round trips to save); a backend reached over the
  // network overrides it with one round trip that answers the same.
  virtual wfp_status LoadScheduleWindow(int64_t site_id, int64_t schedule_id,
                                        wfp_schedule_info* out, wfp_session_window* window);
  // Each batch is all or nothing; after a failure the transaction is still usable.
  virtual wfp_status CreateSessions(const wfp_new_session* sessions, size_t count,
                                    int64_t* out_ids) = 0;
  virtual wfp_status CreateAttempts(const wfp_new_attempt* attempts, size_t count,
                                    int64_t* out_ids) = 0;
  // WFP_ERR_NOT_FOUND for an unknown schedule; WFP_ERR_INVALID_ARGUMENT (nothing written) when the
  // pointer would move backward.
  virtual wfp_status MoveSchedulePointer(int64_t schedule_id,
                                         const wfp_schedule_pointer& pointer) = 0;

  // Writes a line to the log of the store this transaction belongs to.
  virtual void Log(std::string_view message) const = 0;

  // A copy of `s` that lives as long as the transaction.
  wfp_str Keep(std::string_view s) {
    const std::string& kept = strings.emplace_back(s);
    return wfp_str{kept.data(), kept.size()};
  }
};

namespace wfp::host::store_internal {

// Attempt state column values.
inline constexpr int kStateQueued = 0;
inline constexpr int kStateBlocked = 1;
inline constexpr int kStateRunning = 2;

// ---- the SQL the fixture code is written against ------------------------------------------------

// A statement parameter. Text and bytes are borrowed for the call.
struct SqlValue {
  enum class Kind { kNull, kInt, kText, kBytes };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  std::string_view s;

  static SqlValue Null() { return {}; }
  static SqlValue Int(int64_t v) { return {Kind::kInt, v, {}}; }
  static SqlValue Text(std::string_view v) { return {Kind::kText, 0, v}; }
  static SqlValue Bytes(std::string_view v) { return {Kind::kBytes, 0, v}; }
  static SqlValue Opt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
  static SqlValue Opt(const std::optional<std::string>& v) { return v ? Text(*v) : Null(); }
};

// One result row; valid during the row callback only.
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual bool IsNull(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;
};

// One connection inside one transaction. SQL is portable between SQLite and PostgreSQL, with ?1..?N
// placeholders (the PostgreSQL session rewrites them as $1..$N).
class SqlSession {
 public:
  using RowFn = std::function<Status(const SqlRow&)>;
  virtual ~SqlSession() = default;
  // Runs one statement, calling `row` for each result row; a row callback's failure stops and is
  // the answer. WFP_ERR_CONFLICT when a constraint (any: unique, foreign key, check) refused a
  // write; otherwise the backend's message, with WFP_ERR_BUSY for a lock not had and
  // WFP_ERR_INTERNAL for anything else.
  virtual Status Run(const char* sql, std::initializer_list<SqlValue> params, const RowFn& row) = 0;
  Status Run(const char* sql, std::initializer_list<SqlValue> params) {
    return Run(sql, params, nullptr);
  }
};

// ---- list_sessions ----------------------------------------------------------------------------

// Groups rows of sessions LEFT JOIN attempts (ordered by session time, then attempt index) into one
// wfp_session_info per session for a visitor.
class SessionGrouper {
 public:
  SessionGrouper(wfp_session_visitor visitor, void* user_data)
      : visitor_(visitor), user_data_(user_data) {}
  // One row; `has_attempt` false for a session without attempts. False when the visitor stopped.
  bool Row(int64_t session_id, std::optional<std::string_view> uuid, int64_t session_time,
           bool has_attempt, std::optional<std::string_view> attempt_name, int32_t attempt_index);
  // Emits the last session, if any (unless the visitor stopped).
  void Finish();

 private:
  bool Emit();
  wfp_session_visitor visitor_;
  void* user_data_;
  bool have_ = false;
  bool stopped_ = false;
  int64_t id_ = 0;
  int64_t time_ = 0;
  std::optional<std::string> uuid_;
  std::vector<std::optional<std::string>> names_;
  std::vector<int32_t> indexes_;
  std::vector<wfp_attempt_ref> refs_;
};

// ---- load_schedule_window ----------------------------------------------------------------------

// The visitor a listing gets for load_schedule_window: forwards at most window.max_sessions
// sessions to the window's visitor. complete() is window->complete: true unless the window's
// visitor stopped the visits, or a session came after the max_sessions-th (the listing is stopped
// there, unvisited). A window that ends exactly at its max_sessions-th session is thus complete;
// the listing must offer one more session than max_sessions when there is one (PostgreSQL: LIMIT
// max_sessions + 1).
class WindowVisits {
 public:
  explicit WindowVisits(const wfp_session_window& window)
      : visitor_(window.visitor), user_data_(window.user_data), left_(window.max_sessions) {}
  // A wfp_session_visitor; `self` is the WindowVisits.
  static int32_t Visit(void* self, const wfp_session_info* session);
  bool complete() const { return !stopped_; }

 private:
  wfp_session_visitor visitor_;
  void* user_data_;
  uint32_t left_;  // sessions still to forward
  bool stopped_ = false;
};

// ---- the readiness ping's interruption ----------------------------------------------------------

// While an InterruptScope of a connection lives on a thread (the readiness ping's, for its read),
// Interrupted() on that thread answers whether the connection was interrupted
// (StoreConnection::Interrupt). The waits a backend makes inside a read look at it where they
// cannot be woken otherwise: SQLite's busy handler, its sleeps between WAL lock retries (through
// the file store's VFS), an in-memory store's gate.
class InterruptScope {
 public:
  explicit InterruptScope(const StoreConnection& connection);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  const StoreConnection* outer_;
};
bool Interrupted();

// What ends the readiness ping when its store is destroyed (Store::~Store fires it), whatever the
// ping's thread waits for: a connect, through fd() (readable once fired: pg::Connection::Open's
// interrupt_fd), or a statement on a connection attached meanwhile (StoreConnection::Interrupt).
// Thread-safe.
class PingInterrupt {
 public:
  PingInterrupt();
  ~PingInterrupt();
  PingInterrupt(const PingInterrupt&) = delete;
  PingInterrupt& operator=(const PingInterrupt&) = delete;

  // An eventfd, readable once fired; -1 when none could be made (connects then wait as usual).
  int fd() const { return fd_; }
  // Interrupts the connection attached, if any, and every one attached later (Attach refuses).
  void Fire();

 private:
  friend class AttachedConnection;
  std::mutex mu_;
  bool fired_ = false;                   // guarded by mu_
  StoreConnection* attached_ = nullptr;  // guarded by mu_
  const int fd_;
};

// While it lives, firing `interrupt` interrupts `connection` (which must outlive it). ok() is
// false when the interrupt had fired already: the connection is not to be used then.
class AttachedConnection {
 public:
  AttachedConnection(PingInterrupt& interrupt, StoreConnection& connection);
  ~AttachedConnection();
  AttachedConnection(const AttachedConnection&) = delete;
  AttachedConnection& operator=(const AttachedConnection&) = delete;
  bool ok() const { return ok_; }

 private:
  PingInterrupt& interrupt_;
  bool ok_;
};

// ---- shared helpers ---------------------------------------------------------------------------

// Instants as text (fixtures: FormatInstantUtc, ParseStoredInstant) are common/time_text.h's.

// One line of the store's log: to `log` when set, else to stderr as "wfp store: <message>".
void WriteLog(const StoreLog& log, std::string_view message);

// The SHA-256 of an API key, as stored.
std::array<unsigned char, 32> HashApiKey(std::string_view key);

inline std::string_view View(wfp_str s) {
  return s.data ? std::string_view(s.data, s.size) : std::string_view();
}

}  // namespace wfp::host::store_internal

#endif  // WFP_HOST_STUB_STORE_INTERNAL_H_
