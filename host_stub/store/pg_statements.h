// The statements by which the PostgreSQL store reads a schedule and its sessions (pg_txn.cc), in
// one place: the store's tests EXPLAIN these very texts, and bench/backfill_e2e.py reads them from
// this file for its pgbench ceiling.
#ifndef WFP_HOST_STORE_PG_STATEMENTS_H_
#define WFP_HOST_STORE_PG_STATEMENTS_H_

namespace wfp::host::store_internal::pg_backend {

inline constexpr const char* kLoadScheduleSql =
    "SELECT sc.id, p.site_id, p.id, p.name, w.id, w.name, w.timezone, w.schedule, w.pool_id,"
    " sc.next_schedule_time, sc.next_run_time, sc.last_session_time, sc.disabled_at"
    " FROM schedules sc JOIN workflows w ON w.id = sc.workflow_id"
    " JOIN projects p ON p.id = w.project_id WHERE sc.id = $1 AND p.site_id = $2";
inline constexpr const char* kListSessionsSql =
    "SELECT s.id, s.uuid, s.session_time, a.id, a.name, a.\"index\""
    " FROM sessions s LEFT JOIN attempts a ON a.session_id = s.id"
    " WHERE s.project_id = $1 AND s.workflow_name = $2 AND s.session_time >= $3"
    " AND s.session_time < $4 ORDER BY s.session_time, a.\"index\"";

inline constexpr const char* kLatestSessionBeforeSql =
    "SELECT session_time FROM sessions WHERE project_id = $1 AND workflow_name = $2"
    " AND session_time < $3 ORDER BY session_time DESC LIMIT 1";

// load_schedule_window's, sent with the schedule's load before its project and workflow are known:
// they are found through the schedule ($1) of the site ($2), as in kLoadScheduleSql.
// LATERAL: the sessions' index scan then has the project and workflow as constants and reads the
// range in session time order, stopping at the LIMIT (a join would read the whole range, then
// sort it). The window's sessions, at most $5 of them (max_sessions + 1: whether there are more),
// each with its attempts:
inline constexpr const char* kWindowSessionsSql =
    "SELECT s.id, s.uuid, s.session_time, a.id, a.name, a.\"index\""
    " FROM schedules sc JOIN workflows w ON w.id = sc.workflow_id"
    " JOIN projects p ON p.id = w.project_id AND p.site_id = $2"
    " CROSS JOIN LATERAL (SELECT se.id, se.uuid, se.session_time FROM sessions se"
    " WHERE se.project_id = p.id AND se.workflow_name = w.name AND se.session_time >= $3"
    " AND se.session_time < $4 ORDER BY se.session_time LIMIT $5) s"
    " LEFT JOIN attempts a ON a.session_id = s.id"
    " WHERE sc.id = $1 ORDER BY s.session_time, a.\"index\"";
// The latest session before $3:
inline constexpr const char* kWindowLatestBeforeSql =
    "SELECT l.session_time FROM schedules sc JOIN workflows w ON w.id = sc.workflow_id"
    " JOIN projects p ON p.id = w.project_id AND p.site_id = $2"
    " CROSS JOIN LATERAL (SELECT se.session_time FROM sessions se"
    " WHERE se.project_id = p.id AND se.workflow_name = w.name AND se.session_time < $3"
    " ORDER BY se.session_time DESC LIMIT 1) l WHERE sc.id = $1";

// A read-only transaction whose first read is its last (WFP_WINDOW_LAST_READ): the window as one
// statement, which sees one snapshot without a BEGIN, and no ROLLBACK after it. The three reads
// above as the branches of one UNION ALL, each row tagged by its part in column 0: part 0 the
// schedule (columns 1-13, as kLoadScheduleSql's), part 1 the sessions with their attempts (columns
// 14-19, as kWindowSessionsSql's), part 2 the latest session before $3 (column 20), counting
// columns from 0. Ordered by part, then session time and attempt index (ORDER BY 1, 17, 20: there
// positions count from 1). No row at all: not the site's schedule.
inline constexpr const char* kWindowAloneSql =
    "WITH sc AS (SELECT sc.id, p.site_id, p.id AS project_id, p.name AS project_name,"
    " w.id AS workflow_id, w.name AS workflow_name, w.timezone, w.schedule, w.pool_id,"
    " sc.next_schedule_time, sc.next_run_time, sc.last_session_time, sc.disabled_at"
    " FROM schedules sc JOIN workflows w ON w.id = sc.workflow_id"
    " JOIN projects p ON p.id = w.project_id WHERE sc.id = $1 AND p.site_id = $2)"
    " SELECT 0, id, site_id, project_id, project_name, workflow_id, workflow_name, timezone,"
    " schedule, pool_id, next_schedule_time, next_run_time, last_session_time, disabled_at,"
    " NULL::bigint, NULL::text, NULL::bigint, NULL::bigint, NULL::text, NULL::integer, NULL::bigint"
    " FROM sc"
    " UNION ALL SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, s.id, s.uuid, s.session_time, a.id, a.name, a.\"index\", NULL FROM sc"
    " CROSS JOIN LATERAL (SELECT se.id, se.uuid, se.session_time FROM sessions se"
    " WHERE se.project_id = sc.project_id AND se.workflow_name = sc.workflow_name"
    " AND se.session_time >= $3 AND se.session_time < $4 ORDER BY se.session_time LIMIT $5) s"
    " LEFT JOIN attempts a ON a.session_id = s.id"
    " UNION ALL SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, l.session_time FROM sc"
    " CROSS JOIN LATERAL (SELECT se.session_time FROM sessions se"
    " WHERE se.project_id = sc.project_id AND se.workflow_name = sc.workflow_name"
    " AND se.session_time < $3 ORDER BY se.session_time DESC LIMIT 1) l"
    " ORDER BY 1, 17, 20";
inline constexpr int kWindowAloneScheduleColumn = 1;
inline constexpr int kWindowAloneSessionColumn = 14;
inline constexpr int kWindowAloneLatestColumn = 20;

}  // namespace wfp::host::store_internal::pg_backend

#endif  // WFP_HOST_STORE_PG_STATEMENTS_H_
