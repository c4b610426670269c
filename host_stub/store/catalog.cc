// Store::ListProjects and Store::ListSchedules: portable SQL over either backend, in one read
// snapshot, scoped to the caller's site.
#include <fmt/format.h>

#include "store/internal.h"
#include "store/store.h"

namespace wfp::host {
namespace {

using store_internal::SqlRow;
using store_internal::SqlSession;
using store_internal::SqlValue;

constexpr const char* kSchedulesSelect =
    "SELECT sc.id, p.id, p.name, w.id, w.name, w.timezone, sc.next_schedule_time,"
    " sc.next_run_time, sc.disabled_at"
    " FROM schedules sc JOIN workflows w ON w.id = sc.workflow_id"
    " JOIN projects p ON p.id = w.project_id";

std::optional<int64_t> OptInt(const SqlRow& r, int column) {
  if (r.IsNull(column)) return std::nullopt;
  return r.Int(column);
}

Store::ScheduleRecord ScheduleOf(const SqlRow& r) {
  Store::ScheduleRecord s;
  s.id = r.Int(0);
  s.project_id = r.Int(1);
  s.project_name = std::string(r.Text(2));
  s.workflow_id = r.Int(3);
  s.workflow_name = std::string(r.Text(4));
  s.timezone = r.IsNull(5) ? std::string() : std::string(r.Text(5));
  s.next_schedule_time = OptInt(r, 6);
  s.next_run_time = OptInt(r, 7);
  s.disabled_at = OptInt(r, 8);
  return s;
}

// A failed read named by `what` ("list projects: ...").
Status Named(const Status& read, std::string_view what) {
  if (read.ok()) return read;
  return Status(read.code(), fmt::format("{}: {}", what,
                                         read.message().empty() ? "the store could not be read"
                                                                : read.message()));
}

}  // namespace

Result<std::vector<Store::ProjectRecord>> Store::ListProjects(
    int64_t site_id, const std::optional<std::string>& name) {
  std::vector<ProjectRecord> out;
  const Status read = RunInTransaction(false, [&](SqlSession& db) {
    out.clear();
    auto row = [&](const SqlRow& r) {
      out.push_back(ProjectRecord{r.Int(0), std::string(r.Text(1))});
      return Status::Ok();
    };
    return Named(name ? db.Run("SELECT id, name FROM projects WHERE site_id = ?1 AND name = ?2"
                               " ORDER BY id",
                               {SqlValue::Int(site_id), SqlValue::Text(*name)}, row)
                      : db.Run("SELECT id, name FROM projects WHERE site_id = ?1 ORDER BY id",
                               {SqlValue::Int(site_id)}, row),
                 "list projects");
  });
  if (!read.ok()) return read;
  return out;
}

Result<std::vector<Store::ScheduleRecord>> Store::ListSchedules(int64_t site_id,
                                                                const ScheduleFilter& filter) {
  std::vector<ScheduleRecord> out;
  const std::string all = fmt::format("{} WHERE p.site_id = ?1 ORDER BY sc.id", kSchedulesSelect);
  const std::string by_id =
      fmt::format("{} WHERE p.site_id = ?1 AND sc.id = ?2 ORDER BY sc.id", kSchedulesSelect);
  const std::string by_project =
      fmt::format("{} WHERE p.site_id = ?1 AND p.id = ?2 ORDER BY sc.id", kSchedulesSelect);
  const std::string by_workflow = fmt::format(
      "{} WHERE p.site_id = ?1 AND p.id = ?2 AND w.name = ?3 ORDER BY sc.id", kSchedulesSelect);
  const Status read = RunInTransaction(false, [&](SqlSession& db) {
    out.clear();
    auto row = [&](const SqlRow& r) {
      out.push_back(ScheduleOf(r));
      return Status::Ok();
    };
    const SqlValue site = SqlValue::Int(site_id);
    Status o;
    if (filter.schedule_id) {
      o = db.Run(by_id.c_str(), {site, SqlValue::Int(*filter.schedule_id)}, row);
    } else if (filter.project_id && filter.workflow_name) {
      o = db.Run(by_workflow.c_str(),
                 {site, SqlValue::Int(*filter.project_id), SqlValue::Text(*filter.workflow_name)},
                 row);
    } else if (filter.project_id) {
      o = db.Run(by_project.c_str(), {site, SqlValue::Int(*filter.project_id)}, row);
    } else {
      o = db.Run(all.c_str(), {site}, row);
    }
    return Named(o, "list schedules");
  });
  if (!read.ok()) return read;
  return out;
}

}  // namespace wfp::host
