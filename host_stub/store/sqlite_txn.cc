// The ABI transaction on SQLite: load a schedule, list sessions, the latest session before a
// time, create sessions and attempts (each batch under a savepoint), move the schedule's pointer.
#include <fmt/format.h>

#include "store/sqlite_internal.h"

namespace wfp::host::store_internal::sqlite_backend {

wfp_status Txn::LoadSchedule(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out) {
  sqlite3_stmt* s = c_->Get(Stmt::kLoadSchedule);
  if (!s) return Fail("load_schedule", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, schedule_id);
  sqlite3_bind_int64(s, 2, site_id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(s);
    return WFP_ERR_NOT_FOUND;
  }
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return Fail("load_schedule", rc);
  }
  auto keep = [&](int col) -> wfp_str {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return wfp_str{nullptr, 0};
    return Keep(ColumnText(s, col));
  };
  out->schedule_id = sqlite3_column_int64(s, 0);
  out->site_id = sqlite3_column_int64(s, 1);
  out->project_id = sqlite3_column_int64(s, 2);
  out->project_name = keep(3);
  out->workflow_definition_id = sqlite3_column_int64(s, 4);
  out->workflow_name = keep(5);
  out->timezone = keep(6);
  out->schedule_json = keep(7);
  out->pool_id = keep(8);
  out->next_schedule_time = sqlite3_column_int64(s, 9);
  out->next_run_time = sqlite3_column_int64(s, 10);
  out->has_last_session_time = sqlite3_column_type(s, 11) != SQLITE_NULL;
  out->last_session_time = out->has_last_session_time ? sqlite3_column_int64(s, 11) : 0;
  out->has_disabled_at = sqlite3_column_type(s, 12) != SQLITE_NULL;
  out->disabled_at = out->has_disabled_at ? sqlite3_column_int64(s, 12) : 0;
  sqlite3_reset(s);
  return WFP_OK;
}

wfp_status Txn::ListSessions(int64_t project_id, std::string_view workflow_name, int64_t from,
                             int64_t to, wfp_session_visitor visitor, void* user_data) {
  sqlite3_stmt* s = c_->Get(Stmt::kListSessions);
  if (!s) return Fail("list_sessions", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, project_id);
  sqlite3_bind_text64(s, 2, workflow_name.data(), workflow_name.size(), SQLITE_TRANSIENT,
                      SQLITE_UTF8);
  sqlite3_bind_int64(s, 3, from);
  sqlite3_bind_int64(s, 4, to);
  SessionGrouper grouper(visitor, user_data);
  int rc;
  bool stopped = false;
  auto opt_text = [&](int col) -> std::optional<std::string_view> {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
    return ColumnText(s, col);
  };
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const bool has_attempt = sqlite3_column_type(s, 3) != SQLITE_NULL;  // LEFT JOIN
    if (!grouper.Row(sqlite3_column_int64(s, 0), opt_text(1), sqlite3_column_int64(s, 2),
                     has_attempt, opt_text(4), sqlite3_column_int(s, 5))) {
      stopped = true;
      break;
    }
  }
  if (!stopped && rc != SQLITE_DONE) {
    const wfp_status st = Fail("list_sessions", rc);
    sqlite3_reset(s);
    return st;
  }
  sqlite3_reset(s);
  grouper.Finish();
  return WFP_OK;
}

wfp_status Txn::LatestSessionBefore(int64_t project_id, std::string_view workflow_name,
                                    int64_t before, int32_t* out_found, int64_t* out_time) {
  sqlite3_stmt* s = c_->Get(Stmt::kLatestSessionBefore);
  if (!s) return Fail("latest_session_before", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, project_id);
  sqlite3_bind_text64(s, 2, workflow_name.data(), workflow_name.size(), SQLITE_TRANSIENT,
                      SQLITE_UTF8);
  sqlite3_bind_int64(s, 3, before);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *out_found = 1;
    *out_time = sqlite3_column_int64(s, 0);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail("latest_session_before", rc);
  return WFP_OK;
}

wfp_status Txn::CreateSessions(const wfp_new_session* sessions, size_t count, int64_t* out_ids) {
  Batch batch(c_);
  if (int rc = batch.Open(); rc != SQLITE_OK) return Fail("create_sessions", rc);
  sqlite3_stmt* s = c_->Get(Stmt::kInsertSession);
  if (!s) return Fail("create_sessions", SQLITE_ERROR);
  for (size_t i = 0; i < count; ++i) {
    const wfp_new_session& n = sessions[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, n.project_id);
    BindText(s, 2, n.workflow_name);
    sqlite3_bind_int64(s, 3, n.session_time);
    BindText(s, 4, n.uuid);
    if (int rc = StepDone(s); rc != SQLITE_OK)
      return Fail(fmt::format("create_sessions[{}]", i), rc);
    out_ids[i] = sqlite3_last_insert_rowid(c_->handle());
  }
  if (int rc = batch.Release(); rc != SQLITE_OK) return Fail("create_sessions", rc);
  return WFP_OK;
}

wfp_status Txn::CreateAttempts(const wfp_new_attempt* attempts, size_t count, int64_t* out_ids) {
  Batch batch(c_);
  if (int rc = batch.Open(); rc != SQLITE_OK) return Fail("create_attempts", rc);
  sqlite3_stmt* s = c_->Get(Stmt::kInsertAttempt);
  if (!s) return Fail("create_attempts", SQLITE_ERROR);
  for (size_t i = 0; i < count; ++i) {
    const wfp_new_attempt& a = attempts[i];
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, a.session_id);
    BindText(s, 2, a.name);
    sqlite3_bind_int(s, 3, a.index);
    sqlite3_bind_int(s, 4, a.state == WFP_ATTEMPT_BLOCKED ? kStateBlocked : kStateQueued);
    BindText(s, 5, a.params_json);
    sqlite3_bind_int64(s, 6, a.created_at);
    BindText(s, 7, a.pool_id);
    if (a.depends_on_session_id != 0)
      sqlite3_bind_int64(s, 8, a.depends_on_session_id);
    else
      sqlite3_bind_null(s, 8);
    if (int rc = StepDone(s); rc != SQLITE_OK)
      return Fail(fmt::format("create_attempts[{}]", i), rc);
    out_ids[i] = sqlite3_last_insert_rowid(c_->handle());
  }
  if (int rc = batch.Release(); rc != SQLITE_OK) return Fail("create_attempts", rc);
  return WFP_OK;
}

wfp_status Txn::MoveSchedulePointer(int64_t schedule_id, const wfp_schedule_pointer& pointer) {
  sqlite3_stmt* s = c_->Get(Stmt::kSelectPointer);
  if (!s) return Fail("move_schedule_pointer", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, schedule_id);
  int rc = sqlite3_step(s);
  const int64_t current = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) return WFP_ERR_NOT_FOUND;
  if (rc != SQLITE_ROW) return Fail("move_schedule_pointer", rc);
  if (pointer.next_schedule_time < current) {
    last_error = fmt::format("move_schedule_pointer: {} is before the current {}",
                             pointer.next_schedule_time, current);
    return WFP_ERR_INVALID_ARGUMENT;
  }
  s = c_->Get(Stmt::kUpdatePointer);
  if (!s) return Fail("move_schedule_pointer", SQLITE_ERROR);
  sqlite3_bind_int64(s, 1, schedule_id);
  sqlite3_bind_int64(s, 2, pointer.next_schedule_time);
  sqlite3_bind_int64(s, 3, pointer.next_run_time);
  if (pointer.has_last_session_time)
    sqlite3_bind_int64(s, 4, pointer.last_session_time);
  else
    sqlite3_bind_null(s, 4);
  if (rc = StepDone(s); rc != SQLITE_OK) return Fail("move_schedule_pointer", rc);
  return WFP_OK;
}

}  // namespace wfp::host::store_internal::sqlite_backend
