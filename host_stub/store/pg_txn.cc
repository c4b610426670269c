// The ABI transaction on PostgreSQL and its statements: load a schedule (locking its row in a
// write transaction), list sessions, the latest session before a time, the three in one round trip
// (load_schedule_window), create sessions and attempts (ids from the sequences, rows by COPY,
// inside a savepoint), move the schedule's pointer.
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "store/pg_internal.h"
#include "store/pg_statements.h"

namespace wfp::host::store_internal::pg_backend {
namespace {

// The same, taking the schedule lock.
const std::string kLoadScheduleForUpdateSql = std::string(kLoadScheduleSql) + " FOR UPDATE OF sc";

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

// A window's LIMIT: one session more than it visits, to tell whether the range has more.
int64_t WindowLimit(const wfp_session_window& window) { return int64_t{window.max_sessions} + 1; }

}  // namespace

wfp_status PgTxn::Commit() {
  if (ended_) return WFP_ERR_STATE;
  ended_ = true;
  if (begin_) return WFP_OK;  // nothing was sent: nothing to commit
  pg::Connection& db = c_->conn();
  // Ended by load_schedule_window's WFP_WINDOW_LAST_READ: a read-only transaction has nothing to
  // commit.
  if (read_only && reads_ended && db.txn_state() == pg::TxnState::kIdle) return WFP_OK;
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

void PgTxn::Rollback() {
  if (ended_) return;
  ended_ = true;
  pg::Connection& db = c_->conn();
  if (begin_ || db.txn_state() == pg::TxnState::kIdle) return;
  // A read-only transaction wrote nothing and holds no row lock: its ROLLBACK is sent, not
  // waited for (its answer is read before the connection's next statement).
  if (read_only) return db.SendWithoutWaiting("ROLLBACK");
  pg::Error ignored;
  db.Exec("ROLLBACK", &ignored);
}

std::optional<std::vector<pg::Result>> PgTxn::Run(std::vector<pg::Connection::Statement> statements,
                                                  pg::Error* e) {
  pg::Connection& db = c_->conn();
  if (!begin_) return db.Pipeline(statements, e);
  statements.insert(statements.begin(), pg::Connection::Statement{begin_, {}});
  begin_ = nullptr;
  auto results = OnLiveConnection(db, *e, [&] { return db.Pipeline(statements, e); });
  if (results) results->erase(results->begin());  // BEGIN's
  return results;
}

std::optional<pg::Result> PgTxn::Run(const char* sql, std::span<const Param> params, pg::Error* e) {
  if (!begin_) return c_->conn().Query(sql, params, e);
  std::optional<std::vector<pg::Result>> results = Run({{sql, params}}, e);
  if (!results) return std::nullopt;
  return std::move(results->front());
}

bool PgTxn::Begun(pg::Error* e) {
  if (!begin_) return true;
  pg::Connection& db = c_->conn();
  const char* begin = std::exchange(begin_, nullptr);
  return OnLiveConnection(db, *e, [&] { return db.Exec(begin, e); });
}

wfp_status PgTxn::LoadSchedule(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out) {
  pg::Error e;
  // A write transaction takes the schedule lock here; a read-only one reads its snapshot.
  const Param params[] = {schedule_id, site_id};
  std::optional<pg::Result> r =
      Run(read_only ? kLoadScheduleSql : kLoadScheduleForUpdateSql.c_str(), params, &e);
  if (!r) return Fail("load_schedule", e);
  if (r->rows() == 0) return WFP_ERR_NOT_FOUND;
  ReadSchedule(*r, 0, 0, out);
  return WFP_OK;
}

void PgTxn::ReadSchedule(const pg::Result& r, int row, int col, wfp_schedule_info* out) {
  auto keep = [&](int i) -> wfp_str {
    if (r.IsNull(row, col + i)) return wfp_str{nullptr, 0};
    return Keep(r.Text(row, col + i));
  };
  auto number = [&](int i) { return r.Int(row, col + i); };
  out->schedule_id = number(0);
  out->site_id = number(1);
  out->project_id = number(2);
  out->project_name = keep(3);
  out->workflow_definition_id = number(4);
  out->workflow_name = keep(5);
  out->timezone = keep(6);
  out->schedule_json = keep(7);
  out->pool_id = keep(8);
  out->next_schedule_time = number(9);
  out->next_run_time = number(10);
  out->has_last_session_time = !r.IsNull(row, col + 11);
  out->last_session_time = number(11);
  out->has_disabled_at = !r.IsNull(row, col + 12);
  out->disabled_at = number(12);
}

void PgTxn::VisitSessions(const pg::Result& r, int first, int end, int col,
                          wfp_session_visitor visitor, void* user_data) {
  SessionGrouper grouper(visitor, user_data);
  auto opt_text = [&](int row, int i) -> std::optional<std::string_view> {
    if (r.IsNull(row, col + i)) return std::nullopt;
    return r.Text(row, col + i);
  };
  for (int i = first; i < end; ++i) {
    if (!grouper.Row(r.Int(i, col), opt_text(i, 1), r.Int(i, col + 2), !r.IsNull(i, col + 3),
                     opt_text(i, 4), static_cast<int32_t>(r.Int(i, col + 5))))
      return;
  }
  grouper.Finish();
}

wfp_status PgTxn::ListSessions(int64_t project_id, std::string_view workflow_name, int64_t from,
                               int64_t to, wfp_session_visitor visitor, void* user_data) {
  pg::Error e;
  const Param list[] = {project_id, workflow_name, from, to};
  const Param latest[] = {project_id, workflow_name, from};
  std::vector<pg::Connection::Statement> statements{{kListSessionsSql, list}};
  // Only with the first listing: a dry run in batches lists again, and asks for the latest
  // session before the first batch only.
  const bool prefetch = read_only && !listed_;
  listed_ = true;
  if (prefetch) statements.push_back({kLatestSessionBeforeSql, latest});
  std::optional<std::vector<pg::Result>> results = Run(std::move(statements), &e);
  if (!results) return Fail("list_sessions", e);
  if (prefetch) {
    const pg::Result& l = (*results)[1];
    latest_before_ = LatestBefore{project_id, std::string(workflow_name), from,
                                  l.rows() > 0 ? std::optional(l.Int(0, 0)) : std::nullopt};
  }
  VisitSessions(results->front(), 0, results->front().rows(), 0, visitor, user_data);
  return WFP_OK;
}

wfp_status PgTxn::LoadScheduleWindow(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out,
                                     wfp_session_window* window) {
  if (read_only && begin_ && (window->flags & WFP_WINDOW_LAST_READ))
    return LoadWindowAlone(site_id, schedule_id, out, window);
  pg::Error e;
  const Param load[] = {schedule_id, site_id};
  const Param list[] = {schedule_id, site_id, window->from, window->to, WindowLimit(*window)};
  const Param latest[] = {schedule_id, site_id, window->from};
  // In this order, as the three calls: the load takes the schedule lock (a write transaction)
  // before the reads after it take their snapshots (READ COMMITTED: one per statement).
  std::vector<pg::Connection::Statement> statements{
      {read_only ? kLoadScheduleSql : kLoadScheduleForUpdateSql.c_str(), load},
      {kWindowSessionsSql, list},
      {kWindowLatestBeforeSql, latest}};
  // The read-only transaction's last read (WFP_WINDOW_LAST_READ) after others: its ROLLBACK goes
  // in the same round trip, and the connection is idle when the answers are back (Rollback sends
  // nothing).
  if (read_only && (window->flags & WFP_WINDOW_LAST_READ)) statements.push_back({"ROLLBACK", {}});
  std::optional<std::vector<pg::Result>> results = Run(std::move(statements), &e);
  if (!results) return Fail("load_schedule_window", e);
  // Another site's or no schedule: the other two found nothing either.
  if ((*results)[0].rows() == 0) return WFP_ERR_NOT_FOUND;
  ReadSchedule((*results)[0], 0, 0, out);
  WindowVisits visits(*window);
  const pg::Result& sessions = (*results)[1];
  VisitSessions(sessions, 0, sessions.rows(), 0, WindowVisits::Visit, &visits);
  const pg::Result& l = (*results)[2];
  AnswerWindow(*out, visits.complete(), l.rows() > 0 ? std::optional(l.Int(0, 0)) : std::nullopt,
               window);
  return WFP_OK;
}

wfp_status PgTxn::LoadWindowAlone(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out,
                                  wfp_session_window* window) {
  pg::Error e;
  const Param params[] = {schedule_id, site_id, window->from, window->to, WindowLimit(*window)};
  // Nothing was sent yet: on a connection found lost, the statement runs once more on a new one.
  pg::Connection& db = c_->conn();
  std::optional<pg::Result> r =
      OnLiveConnection(db, e, [&] { return db.Query(kWindowAloneSql, params, &e); });
  if (!r) return Fail("load_schedule_window", e);
  const int rows = r->rows();
  if (rows == 0) return WFP_ERR_NOT_FOUND;  // another site's or no schedule
  begin_ = nullptr;                         // the snapshot was the statement's own: nothing to end
  ReadSchedule(*r, 0, kWindowAloneScheduleColumn, out);
  const bool has_latest = r->Int(rows - 1, 0) == 2;
  WindowVisits visits(*window);
  VisitSessions(*r, 1, has_latest ? rows - 1 : rows, kWindowAloneSessionColumn, WindowVisits::Visit,
                &visits);
  AnswerWindow(
      *out, visits.complete(),
      has_latest ? std::optional(r->Int(rows - 1, kWindowAloneLatestColumn)) : std::nullopt,
      window);
  return WFP_OK;
}

void PgTxn::AnswerWindow(const wfp_schedule_info& schedule, bool complete,
                         std::optional<int64_t> time, wfp_session_window* window) {
  window->complete = complete ? 1 : 0;
  window->has_latest_before = time ? 1 : 0;
  window->latest_before = time.value_or(0);
  // What a read-only transaction's first listing would have prefetched, read already.
  if (!read_only) return;
  latest_before_ = LatestBefore{schedule.project_id, std::string(View(schedule.workflow_name)),
                                window->from, time};
  listed_ = true;
}

wfp_status PgTxn::LatestSessionBefore(int64_t project_id, std::string_view workflow_name,
                                      int64_t before, int32_t* out_found, int64_t* out_time) {
  std::optional<int64_t> time;
  if (latest_before_ && latest_before_->project_id == project_id &&
      latest_before_->workflow_name == workflow_name && latest_before_->before == before) {
    time = latest_before_->time;
  } else {
    pg::Error e;
    const Param params[] = {project_id, workflow_name, before};
    std::optional<pg::Result> r = Run(kLatestSessionBeforeSql, params, &e);
    if (!r) return Fail("latest_session_before", e);
    if (r->rows() > 0) time = r->Int(0, 0);
  }
  if (time) {
    *out_found = 1;
    *out_time = *time;
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
  if (!Begun(&e) || !db.Exec("SAVEPOINT wfp_batch", &e)) return Fail(what, e);
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
  const Param id[] = {schedule_id};
  std::optional<pg::Result> r = Run(kSelectPointerSql, id, &e);
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

}  // namespace wfp::host::store_internal::pg_backend
