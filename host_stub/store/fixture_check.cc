// Checks a read fixture against itself and the store: ids (assigning those omitted), references,
// and the uniqueness rules of the schema, reported at the fixture's JSON path.
#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>

#include "store/fixture.h"

namespace wfp::host::fixture {

using store_internal::SqlRow;
using store_internal::SqlSession;
using store_internal::SqlValue;
using wfp::host::FormatInstantUtc;

namespace {

// The first column of the first row of `sql` (with ?1 = id when `id` is set), or nullopt when
// there is no row; the failure when the query fails.
Result<std::optional<int64_t>> QueryInt(SqlSession& db, const char* sql,
                                        std::optional<int64_t> id) {
  std::optional<int64_t> result;
  auto first = [&](const SqlRow& row) {
    if (!result && !row.IsNull(0)) result = row.Int(0);
    return Status::Ok();
  };
  const Status o = id ? db.Run(sql, {SqlValue::Int(*id)}, first) : db.Run(sql, {}, first);
  if (!o.ok()) return o;
  return result;
}

// Assigns omitted ids after the highest one of the fixture and the store; refuses duplicates.
template <typename T>
bool AssignIds(std::vector<T*>& items, SqlSession& db, const char* table, std::string_view what,
               Reader& r) {
  std::map<int64_t, const std::string*> seen;
  int64_t max_id = 0;
  for (T* item : items) {
    if (!item->id) continue;
    auto [it, inserted] = seen.emplace(*item->id, &item->path);
    if (!inserted)
      return r.Fail(Reader::Path(item->path, "id"),
                    fmt::format("duplicate {} id {} (also {})", what, *item->id, *it->second));
    max_id = std::max(max_id, *item->id);
  }
  const std::string sql = fmt::format("SELECT max(id) FROM {}", table);
  const Result<std::optional<int64_t>> stored = QueryInt(db, sql.c_str(), std::nullopt);
  if (!stored.ok())
    return r.Fail("$", fmt::format("reading {}: {}", table, stored.status().message()),
                  stored.status().code());
  if (*stored) max_id = std::max(max_id, **stored);
  for (T* item : items)
    if (!item->id) item->id = ++max_id;
  return true;
}

template <typename T>
std::vector<T*> Pointers(std::vector<T>& v) {
  std::vector<T*> out;
  for (T& x : v) out.push_back(&x);
  return out;
}

// The checks of one fixture, one per array, sharing what earlier ones found (the fixture's ids)
// and the store's lookups.
class Checker {
 public:
  Checker(SqlSession& db, Reader& r) : db_(db), r_(r) {}

  bool Sites(const std::vector<SiteIn>& sites);
  bool Projects(const std::vector<ProjectIn>& projects);
  bool Workflows(const std::vector<WorkflowIn>& workflows);
  bool Schedules(const std::vector<ScheduleIn>& schedules);
  bool Sessions(const std::vector<SessionIn>& sessions);
  bool Attempts(const SessionIn& session);

 private:
  // The stored value, or nullopt (with failed_ set) when the store could not be read.
  std::optional<int64_t> Stored(const char* sql, int64_t id) {
    Result<std::optional<int64_t>> v = QueryInt(db_, sql, id);
    if (v.ok()) return *v;
    failed_ = true;
    failure_ = v.status();
    return std::nullopt;
  }
  bool DbError() {
    return r_.Fail("$", fmt::format("reading the store: {}", failure_.message()), failure_.code());
  }
  bool ProjectExists(int64_t id) {
    return project_ids_.count(id) || Stored("SELECT id FROM projects WHERE id = ?1", id);
  }

  SqlSession& db_;
  Reader& r_;
  // A lookup of the store failed: failure_ says why.
  bool failed_ = false;
  Status failure_;
  std::set<int64_t> site_ids_;
  std::set<int64_t> project_ids_;
  std::map<int64_t, const WorkflowIn*> workflow_by_id_;
  std::set<int64_t> session_ids_;
};

bool Checker::Sites(const std::vector<SiteIn>& sites) {
  std::set<std::string_view> keys;
  for (const SiteIn& s : sites) {
    site_ids_.insert(*s.id);
    for (size_t k = 0; k < s.keys.size(); ++k)  // the key itself is never echoed
      if (!keys.insert(s.keys[k]).second)
        return r_.Fail(Reader::Index(Reader::Path(s.path, "apiKeys"), k), "duplicate API key");
  }
  return true;
}

bool Checker::Projects(const std::vector<ProjectIn>& projects) {
  std::map<std::pair<int64_t, std::string_view>, const ProjectIn*> project_names;
  for (const ProjectIn& p : projects) {
    if (!site_ids_.count(p.site_id) && !Stored("SELECT id FROM sites WHERE id = ?1", p.site_id))
      return failed_ ? DbError()
                     : r_.Fail(Reader::Path(p.path, "siteId"), fmt::format("no site {}", p.site_id),
                               WFP_ERR_NOT_FOUND);
    auto [it, inserted] = project_names.emplace(std::pair(p.site_id, std::string_view(p.name)), &p);
    if (!inserted)
      return r_.Fail(Reader::Path(p.path, "name"),
                     fmt::format("duplicate project name '{}' in site {} (also {})", p.name,
                                 p.site_id, it->second->path));
    project_ids_.insert(*p.id);
  }
  return true;
}

bool Checker::Workflows(const std::vector<WorkflowIn>& workflows) {
  for (const WorkflowIn& w : workflows) {
    if (!ProjectExists(w.project_id))
      return failed_ ? DbError()
                     : r_.Fail(Reader::Path(w.path, "projectId"),
                               fmt::format("no project {}", w.project_id), WFP_ERR_NOT_FOUND);
    workflow_by_id_[*w.id] = &w;
  }
  return true;
}

bool Checker::Schedules(const std::vector<ScheduleIn>& schedules) {
  std::map<int64_t, const ScheduleIn*> schedule_of_workflow;
  for (const ScheduleIn& s : schedules) {
    const std::string path = Reader::Path(s.path, "workflowId");
    bool has_schedule;
    if (auto it = workflow_by_id_.find(s.workflow_id); it != workflow_by_id_.end()) {
      has_schedule = it->second->schedule.has_value();
    } else {
      auto v =
          Stored("SELECT CASE WHEN schedule IS NULL THEN 0 ELSE 1 END FROM workflows WHERE id = ?1",
                 s.workflow_id);
      if (failed_) return DbError();
      if (!v) return r_.Fail(path, fmt::format("no workflow {}", s.workflow_id), WFP_ERR_NOT_FOUND);
      has_schedule = *v != 0;
    }
    if (!has_schedule)
      return r_.Fail(path, fmt::format("workflow {} has no schedule object", s.workflow_id));
    auto [it, inserted] = schedule_of_workflow.emplace(s.workflow_id, &s);
    if (!inserted)
      return r_.Fail(path, fmt::format("workflow {} has two schedules (also {})", s.workflow_id,
                                       it->second->path));
    if (auto other = Stored("SELECT id FROM schedules WHERE workflow_id = ?1", s.workflow_id))
      return r_.Fail(
          path,
          fmt::format("workflow {} has a schedule already (schedule {})", s.workflow_id, *other),
          WFP_ERR_CONFLICT);
    if (failed_) return DbError();
  }
  return true;
}

bool Checker::Sessions(const std::vector<SessionIn>& sessions) {
  std::map<std::tuple<int64_t, std::string_view, int64_t>, const SessionIn*> session_times;
  for (const SessionIn& s : sessions) {
    if (!ProjectExists(s.project_id))
      return failed_ ? DbError()
                     : r_.Fail(Reader::Path(s.path, "projectId"),
                               fmt::format("no project {}", s.project_id), WFP_ERR_NOT_FOUND);
    auto [it, inserted] = session_times.emplace(
        std::tuple(s.project_id, std::string_view(s.workflow_name), s.session_time), &s);
    if (!inserted)
      return r_.Fail(
          Reader::Path(s.path, "sessionTime"),
          fmt::format("duplicate session time {} for project {} workflow '{}' (session {})",
                      FormatInstantUtc(s.session_time), s.project_id, s.workflow_name,
                      *it->second->id));
    session_ids_.insert(*s.id);
  }
  for (const SessionIn& s : sessions)
    if (!Attempts(s)) return false;
  return true;
}

// A session's attempts: indexes and names unique in it, the session each depends on exists.
bool Checker::Attempts(const SessionIn& s) {
  std::set<int32_t> indexes;
  std::set<std::optional<std::string_view>> names;
  for (const AttemptIn& a : s.attempts) {
    if (!indexes.insert(a.index).second)
      return r_.Fail(Reader::Path(a.path, "index"),
                     fmt::format("duplicate attempt index {} in session {}", a.index, *s.id));
    std::optional<std::string_view> name;
    if (a.name) name = *a.name;
    if (!names.insert(name).second)
      return r_.Fail(Reader::Path(a.path, "name"),
                     a.name
                         ? fmt::format("duplicate attempt name '{}' in session {}", *a.name, *s.id)
                         : fmt::format("duplicate unnamed attempt in session {}", *s.id));
    if (a.depends_on_session_id && !session_ids_.count(*a.depends_on_session_id) &&
        !Stored("SELECT id FROM sessions WHERE id = ?1", *a.depends_on_session_id))
      return failed_ ? DbError()
                     : r_.Fail(Reader::Path(a.path, "dependsOnSessionId"),
                               fmt::format("no session {}", *a.depends_on_session_id),
                               WFP_ERR_NOT_FOUND);
  }
  return true;
}

}  // namespace

Status Check(FixtureIn& f, SqlSession& db) {
  Reader r;
  auto sites = Pointers(f.sites);
  auto projects = Pointers(f.projects);
  auto workflows = Pointers(f.workflows);
  auto schedules = Pointers(f.schedules);
  auto sessions = Pointers(f.sessions);
  std::vector<AttemptIn*> attempts;
  for (SessionIn& s : f.sessions)
    for (AttemptIn& a : s.attempts) attempts.push_back(&a);
  if (!AssignIds(sites, db, "sites", "site", r) ||
      !AssignIds(projects, db, "projects", "project", r) ||
      !AssignIds(workflows, db, "workflows", "workflow", r) ||
      !AssignIds(schedules, db, "schedules", "schedule", r) ||
      !AssignIds(sessions, db, "sessions", "session", r) ||
      !AssignIds(attempts, db, "attempts", "attempt", r))
    return r.status();
  Checker c(db, r);
  if (c.Sites(f.sites) && c.Projects(f.projects) && c.Workflows(f.workflows) &&
      c.Schedules(f.schedules))
    c.Sessions(f.sessions);
  return r.status();
}

}  // namespace wfp::host::fixture
