// A small libpq layer for the PostgreSQL store of wfp-host: a connection (RAII over PGconn) with a
// per-connection cache of prepared statements, typed parameters, a result wrapper over the text
// result format, COPY FROM STDIN, SQLSTATE -> wfp_status mapping, URL redaction, and the schema
// with its migrations. Nothing here throws: failures come back as values (false / nullopt /
// nullptr) with an `Error`.
//
// PostgreSQL aborts a transaction at its first error: every later statement in it fails with
// SQLSTATE 25P02 until ROLLBACK (or ROLLBACK TO a savepoint taken before the error). This layer
// does not hide that; callers that want to carry on after an expected error (a unique violation in
// a batch) wrap the statement in a SAVEPOINT. The same holds for an error while preparing a
// statement (a syntax error, a missing table): it aborts the enclosing transaction too.
//
// Thread-safety: a Connection is used by one thread at a time (but for Interrupt, from any);
// distinct connections are independent. Result is a plain value. The free functions are
// thread-safe.
#ifndef WFP_HOST_STUB_STORE_PG_PG_H_
#define WFP_HOST_STUB_STORE_PG_PG_H_

#include <wfp/plugin_abi.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/status.h"

// libpq's handles (PGconn, PGresult, PGcancel), forward-declared so that consumers need no libpq
// headers.
struct pg_conn;
struct pg_result;
struct pg_cancel;

namespace wfp::host::pg {

namespace detail {
struct EncodedParams;
}  // namespace detail

// The schema version this layer creates (the single row of the wfp_schema table).
inline constexpr int kPgSchemaVersion = 1;

// A failure: the server's SQLSTATE (empty when the failure is not the server's: a lost connection,
// a refused connection, a misuse of this layer) and a one-line message.
struct Error {
  std::string sqlstate;
  std::string message;
  // The constraint a constraint violation names (PG_DIAG_CONSTRAINT_NAME), else empty.
  std::string constraint;
};

// SQLSTATE -> ABI status: 23503 foreign_key_violation -> WFP_ERR_NOT_FOUND; any other 23xxx
// (unique, check, not-null, exclusion) -> WFP_ERR_CONFLICT; 55P03 lock_not_available
// (lock_timeout), 40001 serialization_failure, 40P01 deadlock_detected, 57014 query_canceled
// (statement_timeout) -> WFP_ERR_BUSY; anything else, a lost connection (empty SQLSTATE) included
// -> WFP_ERR_INTERNAL.
wfp_status MapError(const Error& error);

// `url` (a libpq URI or a "key=value ..." string) with its passwords replaced by "***": the
// user-info password ("postgresql://user:***@host"), and the value of any `password` or
// `sslpassword` parameter (query or keyword form). For messages and logs.
std::string RedactUrl(std::string_view url);

// A statement parameter: NULL, a 64-bit integer, text or bytes. Text and bytes are borrowed, not
// copied: the viewed characters must outlive the Query call (temporaries in the call's argument
// list do). Integers and text are sent in text format (the server converts them to the type it
// infers for the placeholder); bytes in binary format, for a bytea placeholder.
class Param {
 public:
  enum class Kind { kNull, kInt, kText, kBytes };

  Param() = default;  // NULL
  Param(std::nullopt_t) {}
  Param(std::nullptr_t) {}
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
      Param(T value)
      : kind_(Kind::kInt), int_(static_cast<int64_t>(value)) {}
  Param(std::string_view text) : kind_(Kind::kText), data_(text.data()), size_(text.size()) {}
  Param(const std::string& text) : Param(std::string_view(text)) {}
  // A null pointer is NULL.
  Param(const char* text) : Param(text ? Param(std::string_view(text)) : Param()) {}
  // An empty optional is NULL.
  template <typename T>
  Param(const std::optional<T>& value) : Param(value ? Param(*value) : Param()) {}

  static Param Null() { return Param(); }
  static Param Bytes(std::string_view bytes) {
    return Param(Kind::kBytes, 0, bytes.data(), bytes.size());
  }
  static Param Bytes(const void* data, size_t size) {
    return Param(Kind::kBytes, 0, static_cast<const char*>(data), size);
  }

  Kind kind() const { return kind_; }
  int64_t int_value() const { return int_; }
  std::string_view data() const { return std::string_view(data_ ? data_ : "", size_); }

 private:
  Param(Kind kind, int64_t i, const char* data, size_t size)
      : kind_(kind), int_(i), data_(data), size_(size) {}

  Kind kind_ = Kind::kNull;
  int64_t int_ = 0;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// The rows of a statement, in text format; empty (0 rows, 0 columns) for a command. Owns its
// PGresult. Accessors take a row and a column in range (not checked beyond libpq's own checks,
// which answer NULL / empty for out-of-range cells).
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* result) : result_(result) {}
  ~Result();
  Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  int columns() const;
  // The row count of an INSERT/UPDATE/DELETE/COPY/SELECT command tag (0 when it has none).
  int64_t affected_rows() const;

  bool IsNull(int row, int column) const;
  // An integer column (smallint/integer/bigint, or boolean as 1/0). 0 for NULL or a value that is
  // not a 64-bit integer.
  int64_t Int(int row, int column) const;
  // std::nullopt for NULL (or a non-integer), else Int().
  std::optional<int64_t> OptInt(int row, int column) const;
  // The text of a cell, valid while this Result lives; empty for NULL.
  std::string_view Text(int row, int column) const;
  // A bytea cell decoded (hex output "\x..." or the legacy escape format); empty for NULL.
  std::string Bytes(int row, int column) const;

 private:
  pg_result* result_ = nullptr;
};

// The transaction status of a connection (libpq's PQtransactionStatus, simplified).
enum class TxnState {
  kIdle,           // outside a transaction
  kInTransaction,  // in a transaction block
  kFailed,         // in a transaction aborted by an error: only ROLLBACK (TO) works
  kUnknown,        // the connection is bad, or a command is in progress
};

// One libpq connection. Not copyable, not movable (hold it by unique_ptr).
class Connection {
 public:
  // Connects to `url` (a libpq URI or keyword string). Client encoding UTF8; connect_timeout 10 s
  // unless the URL sets one; application_name "wfp-host" unless the URL sets one. nullptr + *error
  // on failure; the message names the URL with its password redacted and never shows it.
  // With `interrupt_fd` (a descriptor that turns readable to say "stop"), the connect is libpq's
  // non-blocking one, waiting for its socket and for `interrupt_fd`: it fails ("interrupted") as
  // soon as that is readable, or once connect_timeout has passed (one deadline for the whole
  // connect, where libpq's blocking connect gives each address of the URL its own). The
  // connection keeps `interrupt_fd` (which must outlive it) for Reset, which waits so too.
  static std::unique_ptr<Connection> Open(const std::string& url, Error* error,
                                          int interrupt_fd = -1);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` with the simple query protocol: several statements separated by ';' allowed, no
  // parameters, rows discarded. False + *error on the first failure (the later statements do not
  // run; outside a transaction block the whole string is one implicit transaction).
  bool Exec(const char* sql, Error* error);
  bool Exec(const std::string& sql, Error* error) { return Exec(sql.c_str(), error); }

  // Runs one statement with `$1..$n` placeholders. The statement is prepared (parameter types left
  // to the server) on first use and the prepared statement reused for the same SQL text on this
  // connection. Returns the rows (SELECT, ... RETURNING) or an empty Result (commands); nullopt +
  // *error on failure.
  std::optional<Result> Query(const char* sql, std::initializer_list<Param> params, Error* error) {
    return Query(sql, std::span<const Param>(params.begin(), params.size()), error);
  }
  std::optional<Result> Query(const char* sql, std::span<const Param> params, Error* error);
  std::optional<Result> Query(const std::string& sql, std::initializer_list<Param> params,
                              Error* error) {
    return Query(sql.c_str(), params, error);
  }
  std::optional<Result> Query(const std::string& sql, std::span<const Param> params, Error* error) {
    return Query(sql.c_str(), params, error);
  }
  // The first column of the first row; nullopt with error->message empty when there is no row (or
  // it is NULL), nullopt with the error on failure.
  std::optional<int64_t> QueryInt(const char* sql, std::initializer_list<Param> params,
                                  Error* error) {
    return QueryInt(sql, std::span<const Param>(params.begin(), params.size()), error);
  }
  std::optional<int64_t> QueryInt(const char* sql, std::span<const Param> params, Error* error);

  // One statement of a pipeline: `$1..$n` placeholders and their parameters (borrowed, as Query's).
  struct Statement {
    const char* sql;
    std::span<const Param> params;
  };
  // Runs `statements` in order in one round trip (libpq's pipeline mode, one sync after the last)
  // instead of one each. Each is prepared first if this connection has not yet (a round trip once
  // per SQL text, as Query). Returns a Result per statement, or nullopt + *error of the first that
  // failed: the server skips the rest. As with Query, a failure inside a transaction block aborts
  // the transaction; outside one, the statements run as one implicit transaction.
  std::optional<std::vector<Result>> Pipeline(std::span<const Statement> statements, Error* error);

  // Sends `sql` (simple protocol) and returns without waiting for the server's answer. The answer
  // is read, and dropped, before this connection's next statement (or txn_state()), by which time
  // it has usually arrived: the round trip overlaps what the caller does meanwhile. For a
  // statement whose outcome nobody needs, like the ROLLBACK ending a read-only transaction; a lost
  // connection shows at the next statement as it would have here.
  void SendWithoutWaiting(const char* sql);

  // Runs `copy_sql` ("COPY t (c1, c2) FROM STDIN", text format) and streams `data` (rows built with
  // AppendCopyField / AppendCopyRowEnd) to it in chunks of 1 MiB. False + *error when the COPY
  // fails (a constraint violation is reported here, after the whole stream).
  bool CopyIn(const char* copy_sql, std::string_view data, Error* error);

  // SET lock_timeout on the session, remembered and applied again after Reset(). Like any SET, one
  // made inside a transaction that rolls back is undone: call it outside transactions. False +
  // *error on failure.
  bool SetLockTimeout(std::chrono::milliseconds timeout, Error* error);
  std::chrono::milliseconds lock_timeout() const { return lock_timeout_; }

  // Whether the connection is up (PQstatus OK). A lost connection stays bad until Reset.
  bool Healthy() const;
  // Reconnects with the same parameters (server-side state is lost: the open transaction, prepared
  // statements, SET values), forgets the cached statements and applies the lock timeout again.
  // Returns Healthy() afterwards.
  bool Reset();
  // Reads a pending answer of SendWithoutWaiting first.
  TxnState txn_state();

  // The libpq handle, for what this layer does not wrap (PQescapeIdentifier, ...).
  pg_conn* native() const { return conn_; }

  // From any thread: the statement the connection's thread waits for fails at once, as on a lost
  // connection, and so does every later one; Reset refuses (a reconnection under way when this is
  // called ends so too, at once when Open was given an interrupt_fd that is readable by then).
  // First a cancel request goes to the server (PQcancel, its object made when the connection
  // was), so that the backend stops the statement instead of waiting on for a lock; this waits
  // at most kCancelWait for it (PQcancel's connect has no timeout; a late one is left to finish
  // on a thread of its own, which holds nothing but its cancel object). Then the socket is shut
  // down, not closed: its descriptor stays the connection's until the connection is destroyed,
  // so no other file can take its number.
  void Interrupt();
  static constexpr std::chrono::milliseconds kCancelWait{250};

 private:
  explicit Connection(pg_conn* conn);
  // The name of `sql`'s prepared statement, preparing it on first use; nullptr + *error on failure.
  const std::string* PreparedName(const char* sql, Error* error);
  // Reads and drops the answer SendWithoutWaiting left unread, if any.
  void Settle();
  // Sends the prepared statements `names` with their parameters `encoded`, and a sync, in pipeline
  // mode; false + *error if one could not be sent.
  bool SendPipeline(std::span<const std::string* const> names,
                    std::span<const detail::EncodedParams> encoded, Error* error);
  // Reads the results of a pipeline of `count` statements, up to its sync.
  std::optional<std::vector<Result>> ReadPipeline(size_t count, Error* error);

  pg_conn* conn_ = nullptr;
  // SQL text -> name of its prepared statement on this connection.
  std::unordered_map<std::string, std::string> statements_;
  int next_statement_ = 0;
  std::chrono::milliseconds lock_timeout_{0};
  bool lock_timeout_set_ = false;
  // SendWithoutWaiting sent a statement whose answer is not read yet.
  bool unread_ = false;
  // Interrupt's, guarded by interrupt_mu_: whether it was called, and the socket it shuts down
  // (-1 while Reset reconnects: PQreset closes the old one, whose number may then be another
  // file's).
  std::mutex interrupt_mu_;
  bool interrupted_ = false;
  int socket_ = -1;
  // What Interrupt's cancel request needs (PQgetCancel's, renewed by Reset); shared with a
  // cancel still being sent. Guarded by interrupt_mu_.
  std::shared_ptr<pg_cancel> cancel_;
  // Open's interrupt_fd, or -1.
  int interrupt_fd_ = -1;
};

// COPY text format, one row at a time: each field is written followed by a tab; AppendCopyRowEnd
// turns the last tab into the newline. Backslash, tab, newline and carriage return are escaped;
// std::nullopt is NULL (\N).
void AppendCopyField(std::string* out, std::optional<std::string_view> value);
void AppendCopyField(std::string* out, int64_t value);
// A bytea field, from raw bytes (written as the escaped hex input form "\\x0a1b...").
void AppendCopyBytes(std::string* out, std::string_view bytes);
void AppendCopyRowEnd(std::string* out);

// Creates or migrates the store's schema in the connection's current_schema() (the first existing
// schema of its search_path), to `target_version` (1..kPgSchemaVersion), in one transaction
// serialised across hosts by pg_advisory_xact_lock(hashtext(current_schema())). A store already at
// the target is left as it is. Refuses a store whose version is newer than `target_version` ("the
// store has schema version N, newer than this host's (M)", code unsupported). Must be called
// outside a transaction. On failure nothing is changed; the code says why (unsupported: a newer
// store; invalid argument: no such target; wrong state: inside a transaction; else internal).
Status Migrate(Connection& connection, int target_version);

}  // namespace wfp::host::pg

#endif  // WFP_HOST_STUB_STORE_PG_PG_H_
