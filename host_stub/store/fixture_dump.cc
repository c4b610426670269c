// Store::Dump: the store as the fixture format, read in one transaction.
#include <fmt/format.h>

#include "store/fixture.h"
#include "store/store.h"

namespace wfp::host::fixture {

using store_internal::SqlRow;
using store_internal::SqlSession;
using wfp::host::FormatInstantUtc;

namespace {

json::value NullOrInt(const SqlRow& s, int i) {
  if (s.IsNull(i)) return nullptr;
  return s.Int(i);
}
json::value NullOrTime(const SqlRow& s, int i) {
  if (s.IsNull(i)) return nullptr;
  return json::string(FormatInstantUtc(s.Int(i)));
}
json::value NullOrText(const SqlRow& s, int i) {
  if (s.IsNull(i)) return nullptr;
  return json::string(s.Text(i));
}

// Runs `sql`, calling `row` for each row; the failure (the store's or `row`'s), as "dump: ...".
Status ForEachRow(SqlSession& db, const char* sql, const SqlSession::RowFn& row) {
  const Status read = db.Run(sql, {}, row);
  if (read.ok() || read.message().empty()) return read;
  return Status(read.code(), fmt::format("dump: {}", read.message()));
}

Status DumpSites(SqlSession& db, json::array& sites) {
  return ForEachRow(db,
                    "SELECT s.id, (SELECT count(*) FROM api_keys k WHERE k.site_id = s.id)"
                    " FROM sites s ORDER BY s.id",
                    [&](const SqlRow& s) {
                      sites.push_back(json::object{
                          {"id", s.Int(0)}, {"apiKeys", json::array()}, {"apiKeyCount", s.Int(1)}});
                      return Status::Ok();
                    });
}

Status DumpProjects(SqlSession& db, json::array& projects) {
  return ForEachRow(db, "SELECT id, site_id, name FROM projects ORDER BY id", [&](const SqlRow& s) {
    projects.push_back(json::object{{"id", s.Int(0)}, {"siteId", s.Int(1)}, {"name", s.Text(2)}});
    return Status::Ok();
  });
}

Status DumpWorkflows(SqlSession& db, json::array& workflows) {
  return ForEachRow(
      db, "SELECT id, project_id, name, timezone, schedule, pool_id FROM workflows ORDER BY id",
      [&](const SqlRow& s) {
        json::value schedule = nullptr;
        if (!s.IsNull(4)) {
          boost::system::error_code ec;
          schedule = json::parse(s.Text(4), ec);
          if (ec)
            return Status::Internal(
                fmt::format("workflow {} has a schedule that is not JSON", s.Int(0)));
        }
        workflows.push_back(json::object{{"id", s.Int(0)},
                                         {"projectId", s.Int(1)},
                                         {"name", s.Text(2)},
                                         {"timezone", s.Text(3)},
                                         {"schedule", std::move(schedule)},
                                         {"poolId", NullOrText(s, 5)}});
        return Status::Ok();
      });
}

Status DumpSchedules(SqlSession& db, json::array& schedules) {
  return ForEachRow(db,
                    "SELECT id, workflow_id, next_schedule_time, next_run_time, last_session_time,"
                    " disabled_at FROM schedules ORDER BY id",
                    [&](const SqlRow& s) {
                      schedules.push_back(json::object{{"id", s.Int(0)},
                                                       {"workflowId", s.Int(1)},
                                                       {"nextScheduleTime", NullOrTime(s, 2)},
                                                       {"nextRunTime", NullOrTime(s, 3)},
                                                       {"lastSessionTime", NullOrTime(s, 4)},
                                                       {"disabledAt", NullOrTime(s, 5)}});
                      return Status::Ok();
                    });
}

// An attempt of the sessions' query (columns 5 to 16), added to the last session of `sessions`.
Status DumpAttempt(const SqlRow& s, json::array& sessions) {
  boost::system::error_code ec;
  json::value params = json::parse(s.Text(12), ec);
  if (ec) return Status::Internal(fmt::format("attempt {} has params that are not JSON", s.Int(5)));
  const Flags flags{static_cast<int>(s.Int(8)), static_cast<int>(s.Int(9)),
                    static_cast<int>(s.Int(10)), static_cast<int>(s.Int(11))};
  sessions.back()
      .as_object()
      .at("attempts")
      .as_array()
      .push_back(json::object{{"id", s.Int(5)},
                              {"index", s.Int(6)},
                              {"name", NullOrText(s, 7)},
                              {"status", StatusOf(flags)},
                              {"params", std::move(params)},
                              {"createdAt", NullOrTime(s, 13)},
                              {"finishedAt", NullOrTime(s, 14)},
                              {"poolId", NullOrText(s, 15)},
                              {"dependsOnSessionId", NullOrInt(s, 16)}});
  return Status::Ok();
}

// Sessions with their attempts, one query (a session without attempts has one row of nulls).
Status DumpSessions(SqlSession& db, json::array& sessions) {
  return ForEachRow(
      db,
      "SELECT s.id, s.project_id, s.workflow_name, s.session_time, s.uuid, a.id, a.\"index\","
      " a.name, a.done, a.success, a.cancel_requested, a.state, a.params, a.created_at,"
      " a.finished_at, a.pool_id, a.depends_on_session_id"
      " FROM sessions s LEFT JOIN attempts a ON a.session_id = s.id ORDER BY s.id, a.id",
      [&](const SqlRow& s) {
        const int64_t id = s.Int(0);
        if (sessions.empty() || sessions.back().at("id").as_int64() != id)
          sessions.push_back(json::object{{"id", id},
                                          {"projectId", s.Int(1)},
                                          {"workflowName", s.Text(2)},
                                          {"sessionTime", NullOrTime(s, 3)},
                                          {"uuid", NullOrText(s, 4)},
                                          {"attempts", json::array()}});
        if (s.IsNull(5)) return Status::Ok();
        return DumpAttempt(s, sessions);
      });
}

}  // namespace

Status DumpInto(SqlSession& db, json::object& out) {
  json::array sites, projects, workflows, schedules, sessions;
  Status read = DumpSites(db, sites);
  if (read.ok()) read = DumpProjects(db, projects);
  if (read.ok()) read = DumpWorkflows(db, workflows);
  if (read.ok()) read = DumpSchedules(db, schedules);
  if (read.ok()) read = DumpSessions(db, sessions);
  if (!read.ok()) return read;
  out["sites"] = std::move(sites);
  out["projects"] = std::move(projects);
  out["workflows"] = std::move(workflows);
  out["schedules"] = std::move(schedules);
  out["sessions"] = std::move(sessions);
  return Status::Ok();
}

}  // namespace wfp::host::fixture

namespace wfp::host {

Result<boost::json::value> Store::Dump() {
  try {
    boost::json::object out;
    // One read transaction: a consistent snapshot even while others write.
    const Status read = RunInTransaction(
        false, [&](store_internal::SqlSession& db) { return fixture::DumpInto(db, out); });
    if (!read.ok()) return read;
    return boost::json::value(std::move(out));
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("dump: {}", e.what()));
  }
}

}  // namespace wfp::host
