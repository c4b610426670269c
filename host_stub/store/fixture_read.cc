// Reads a fixture's shape and types into plain structs (fixture.h), one reader per array of the
// fixture and one per attempt.
#include <fmt/format.h>

#include "store/fixture.h"

namespace wfp::host::fixture {
namespace {

// $.sites: ids, API keys (stored as hashes) and the apiKeyCount that dump writes.
bool ReadSites(const json::object& top, Reader& r, FixtureIn* out) {
  const json::array* sites = r.Array(top, "sites", "$");
  if (!sites) return false;
  for (size_t i = 0; i < sites->size(); ++i) {
    SiteIn& s = out->sites.emplace_back();
    s.path = Reader::Index("$.sites", i);
    const json::object* o = r.Object((*sites)[i], s.path, {"id", "apiKeys", "apiKeyCount"});
    if (!o || !r.Id(*o, "id", s.path, Need::kOptional, &s.id)) return false;
    std::optional<int64_t> count;
    if (!r.Int(*o, "apiKeyCount", s.path, Need::kOptional, &count)) return false;
    if (count.value_or(0) < 0)
      return r.Fail(Reader::Path(s.path, "apiKeyCount"), "must not be negative");
    const json::array* keys = r.Array(*o, "apiKeys", s.path);
    if (!keys) return false;
    for (size_t k = 0; k < keys->size(); ++k) {
      const json::string* key = (*keys)[k].if_string();
      if (!key || key->empty())
        return r.Fail(Reader::Index(Reader::Path(s.path, "apiKeys"), k),
                      "expected a non-empty string");
      s.keys.emplace_back(*key);
    }
  }
  return true;
}

// $.projects: id, siteId, name.
bool ReadProjects(const json::object& top, Reader& r, FixtureIn* out) {
  std::optional<int64_t> i64;
  std::optional<std::string> str;

  const json::array* projects = r.Array(top, "projects", "$");
  if (!projects) return false;
  for (size_t i = 0; i < projects->size(); ++i) {
    ProjectIn& p = out->projects.emplace_back();
    p.path = Reader::Index("$.projects", i);
    const json::object* o = r.Object((*projects)[i], p.path, {"id", "siteId", "name"});
    if (!o || !r.Id(*o, "id", p.path, Need::kOptional, &p.id) ||
        !r.Id(*o, "siteId", p.path, Need::kRequired, &i64))
      return false;
    p.site_id = *i64;
    if (!r.String(*o, "name", p.path, Need::kRequired, &str)) return false;
    p.name = *str;
  }
  return true;
}

// $.workflows: id, projectId, name, timezone (UTC when absent), schedule, poolId.
bool ReadWorkflows(const json::object& top, Reader& r, FixtureIn* out) {
  std::optional<int64_t> i64;
  std::optional<std::string> str;

  const json::array* workflows = r.Array(top, "workflows", "$");
  if (!workflows) return false;
  for (size_t i = 0; i < workflows->size(); ++i) {
    WorkflowIn& w = out->workflows.emplace_back();
    w.path = Reader::Index("$.workflows", i);
    const json::object* o = r.Object((*workflows)[i], w.path,
                                     {"id", "projectId", "name", "timezone", "schedule", "poolId"});
    if (!o || !r.Id(*o, "id", w.path, Need::kOptional, &w.id) ||
        !r.Id(*o, "projectId", w.path, Need::kRequired, &i64))
      return false;
    w.project_id = *i64;
    if (!r.String(*o, "name", w.path, Need::kRequired, &str)) return false;
    w.name = *str;
    if (!r.String(*o, "timezone", w.path, Need::kOptional, &str)) return false;
    w.timezone = str.value_or("UTC");
    if (const json::value* v = r.Value(*o, "schedule", w.path, Need::kOptional)) {
      if (!v->is_object()) return r.Fail(Reader::Path(w.path, "schedule"), "expected an object");
      w.schedule = json::serialize(*v);
    }
    if (!r.String(*o, "poolId", w.path, Need::kOptional, &w.pool_id)) return false;
  }
  return true;
}

// $.schedules: id, workflowId, the pointer (nextScheduleTime, nextRunTime), lastSessionTime,
// disabledAt.
bool ReadSchedules(const json::object& top, Reader& r, FixtureIn* out) {
  std::optional<int64_t> i64;

  const json::array* schedules = r.Array(top, "schedules", "$");
  if (!schedules) return false;
  for (size_t i = 0; i < schedules->size(); ++i) {
    ScheduleIn& s = out->schedules.emplace_back();
    s.path = Reader::Index("$.schedules", i);
    const json::object* o = r.Object(
        (*schedules)[i], s.path,
        {"id", "workflowId", "nextScheduleTime", "nextRunTime", "lastSessionTime", "disabledAt"});
    if (!o || !r.Id(*o, "id", s.path, Need::kOptional, &s.id) ||
        !r.Id(*o, "workflowId", s.path, Need::kRequired, &i64))
      return false;
    s.workflow_id = *i64;
    if (!r.Time(*o, "nextScheduleTime", s.path, Need::kRequired, &i64)) return false;
    s.next_schedule_time = *i64;
    if (!r.Time(*o, "nextRunTime", s.path, Need::kRequired, &i64)) return false;
    s.next_run_time = *i64;
    if (!r.Time(*o, "lastSessionTime", s.path, Need::kOptional, &s.last_session_time) ||
        !r.Time(*o, "disabledAt", s.path, Need::kOptional, &s.disabled_at))
      return false;
  }
  return true;
}

// One attempt of a session; `max_index` is the highest index so far, and an omitted index is the
// next one after it.
bool ReadAttempt(const json::value& value, const std::string& path, Reader& r, int32_t* max_index,
                 AttemptIn& a) {
  std::optional<int64_t> i64;
  std::optional<std::string> str;
  a.path = path;
  const json::object* ao = r.Object(value, a.path,
                                    {"id", "index", "name", "status", "params", "createdAt",
                                     "finishedAt", "poolId", "dependsOnSessionId"});
  if (!ao || !r.Id(*ao, "id", a.path, Need::kOptional, &a.id) ||
      !r.Int(*ao, "index", a.path, Need::kOptional, &i64))
    return false;
  if (i64 && (*i64 < 1 || *i64 > INT32_MAX))
    return r.Fail(Reader::Path(a.path, "index"), "expected an integer from 1 to 2147483647");
  if (!i64 && *max_index == INT32_MAX) return r.Fail(Reader::Path(a.path, "index"), "missing");
  a.index = i64 ? static_cast<int32_t>(*i64) : *max_index + 1;  // omitted: the next one
  *max_index = std::max(*max_index, a.index);
  if (!r.String(*ao, "name", a.path, Need::kOptional, &a.name) ||
      !r.String(*ao, "status", a.path, Need::kRequired, &str))
    return false;
  auto status = std::find_if(kStatuses.begin(), kStatuses.end(),
                             [&](const auto& e) { return e.first == *str; });
  if (status == kStatuses.end())
    return r.Fail(Reader::Path(a.path, "status"),
                  fmt::format("unknown status '{}' (one of success, killed, error, canceling, "
                              "blocked, running, queued)",
                              *str));
  a.flags = status->second;
  if (const json::value* v = r.Value(*ao, "params", a.path, Need::kOptional)) {
    if (!v->is_object()) return r.Fail(Reader::Path(a.path, "params"), "expected an object");
    a.params = json::serialize(*v);
  } else {
    a.params = "{}";
  }
  if (!r.Time(*ao, "createdAt", a.path, Need::kRequired, &i64)) return false;
  a.created_at = *i64;
  if (!r.Time(*ao, "finishedAt", a.path, Need::kOptional, &a.finished_at) ||
      !r.String(*ao, "poolId", a.path, Need::kOptional, &a.pool_id) ||
      !r.Id(*ao, "dependsOnSessionId", a.path, Need::kOptional, &a.depends_on_session_id))
    return false;
  return true;
}

// $.sessions: id, projectId, workflowName, sessionTime, uuid, and their attempts.
bool ReadSessions(const json::object& top, Reader& r, FixtureIn* out) {
  std::optional<int64_t> i64;
  std::optional<std::string> str;

  const json::array* sessions = r.Array(top, "sessions", "$");
  if (!sessions) return false;
  for (size_t i = 0; i < sessions->size(); ++i) {
    SessionIn& s = out->sessions.emplace_back();
    s.path = Reader::Index("$.sessions", i);
    const json::object* o =
        r.Object((*sessions)[i], s.path,
                 {"id", "projectId", "workflowName", "sessionTime", "uuid", "attempts"});
    if (!o || !r.Id(*o, "id", s.path, Need::kOptional, &s.id) ||
        !r.Id(*o, "projectId", s.path, Need::kRequired, &i64))
      return false;
    s.project_id = *i64;
    if (!r.String(*o, "workflowName", s.path, Need::kRequired, &str)) return false;
    s.workflow_name = *str;
    if (!r.Time(*o, "sessionTime", s.path, Need::kRequired, &i64)) return false;
    s.session_time = *i64;
    if (!r.String(*o, "uuid", s.path, Need::kOptional, &s.uuid)) return false;
    const json::array* attempts = r.Array(*o, "attempts", s.path);
    if (!attempts) return false;
    int32_t max_index = 0;
    for (size_t k = 0; k < attempts->size(); ++k) {
      if (!ReadAttempt((*attempts)[k], Reader::Index(Reader::Path(s.path, "attempts"), k), r,
                       &max_index, s.attempts.emplace_back()))
        return false;
    }
  }
  return true;
}

}  // namespace

Status ReadFixture(const json::value& fixture, FixtureIn* out) {
  Reader r;
  const json::object* top =
      r.Object(fixture, "$", {"sites", "projects", "workflows", "schedules", "sessions"});
  if (top && ReadSites(*top, r, out) && ReadProjects(*top, r, out) && ReadWorkflows(*top, r, out) &&
      ReadSchedules(*top, r, out))
    ReadSessions(*top, r, out);
  return r.status();
}

}  // namespace wfp::host::fixture
