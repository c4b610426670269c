// Store::Seed and Store::Dump: the fixture format of wfp-host (spec/stub-host.md), written once for
// every backend against store_internal::SqlSession (portable SQL). Seed reads the whole fixture
// into plain structs (shape and types), then, inside one write transaction, checks ids and
// references (against the fixture and what the store already holds), assigns omitted ids and
// writes; the first problem found is reported with its JSON path and nothing is written.
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <initializer_list>
#include <map>
#include <set>
#include <tuple>

#include "store/internal.h"
#include "store/store.h"

namespace wfp::host {
namespace {

namespace json = boost::json;
using store_internal::FormatUtc;
using store_internal::kStateBlocked;
using store_internal::kStateQueued;
using store_internal::kStateRunning;
using store_internal::ParseInstant;
using store_internal::SqlRow;
using store_internal::SqlSession;
using store_internal::SqlValue;
using Outcome = store_internal::SqlSession::Outcome;

// ---- attempt status <-> stored flags ----------------------------------------------------------

struct Flags {
  int done;
  int success;
  int cancel_requested;
  int state;
};

constexpr std::array<std::pair<std::string_view, Flags>, 7> kStatuses = {{
    {"success", {1, 1, 0, kStateRunning}},
    {"killed", {1, 0, 1, kStateRunning}},
    {"error", {1, 0, 0, kStateRunning}},
    {"canceling", {0, 0, 1, kStateRunning}},
    {"blocked", {0, 0, 0, kStateBlocked}},
    {"running", {0, 0, 0, kStateRunning}},
    {"queued", {0, 0, 0, kStateQueued}},
}};

// The route's status of an attempt from its flags (spec/backfill-route.md).
std::string_view StatusOf(const Flags& f) {
  if (f.success) return "success";
  if (f.done) return f.cancel_requested ? "killed" : "error";
  if (f.cancel_requested) return "canceling";
  if (f.state == kStateBlocked) return "blocked";
  if (f.state == kStateRunning) return "running";
  return "queued";
}

// ---- the fixture as read ----------------------------------------------------------------------

struct SiteIn {
  std::string path;
  std::optional<int64_t> id;
  std::vector<std::string> keys;
};
struct ProjectIn {
  std::string path;
  std::optional<int64_t> id;
  int64_t site_id = 0;
  std::string name;
};
struct WorkflowIn {
  std::string path;
  std::optional<int64_t> id;
  int64_t project_id = 0;
  std::string name;
  std::string timezone;
  std::optional<std::string> schedule;  // JSON text
  std::optional<std::string> pool_id;
};
struct ScheduleIn {
  std::string path;
  std::optional<int64_t> id;
  int64_t workflow_id = 0;
  int64_t next_schedule_time = 0;
  int64_t next_run_time = 0;
  std::optional<int64_t> last_session_time;
  std::optional<int64_t> disabled_at;
};
struct AttemptIn {
  std::string path;
  std::optional<int64_t> id;
  int32_t index = 0;
  std::optional<std::string> name;
  Flags flags{};
  std::string params;  // JSON text of an object
  int64_t created_at = 0;
  std::optional<int64_t> finished_at;
  std::optional<std::string> pool_id;
  std::optional<int64_t> depends_on_session_id;
};
struct SessionIn {
  std::string path;
  std::optional<int64_t> id;
  int64_t project_id = 0;
  std::string workflow_name;
  int64_t session_time = 0;
  std::optional<std::string> uuid;
  std::vector<AttemptIn> attempts;
};
struct FixtureIn {
  std::vector<SiteIn> sites;
  std::vector<ProjectIn> projects;
  std::vector<WorkflowIn> workflows;
  std::vector<ScheduleIn> schedules;
  std::vector<SessionIn> sessions;
};

// Whether a field may be absent or null.
enum class Need { kRequired, kOptional };

// Reads the fixture's shape and types; remembers the first error with its path.
class Reader {
 public:
  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }

  bool Fail(const std::string& path, std::string_view message) {
    if (error_.empty()) error_ = fmt::format("{}: {}", path, message);
    return false;
  }

  const json::object* Object(const json::value& v, const std::string& path,
                             std::initializer_list<std::string_view> allowed) {
    const json::object* o = v.if_object();
    if (!o) {
      Fail(path, "expected an object");
      return nullptr;
    }
    for (const auto& kv : *o) {
      if (std::find(allowed.begin(), allowed.end(), std::string_view(kv.key())) == allowed.end()) {
        Fail(path + "." + std::string(kv.key()), "unknown key");
        return nullptr;
      }
    }
    return o;
  }

  // The array at o[key] (absent or null: empty).
  const json::array* Array(const json::object& o, std::string_view key, const std::string& path) {
    static const json::array kEmpty;
    const json::value* v = o.if_contains(key);
    if (!v || v->is_null()) return &kEmpty;
    if (!v->is_array()) {
      Fail(Path(path, key), "expected an array");
      return nullptr;
    }
    return &v->get_array();
  }

  // A field that is present and not null, or an error when it must be; nullptr otherwise.
  const json::value* Value(const json::object& o, std::string_view key, const std::string& path,
                           Need need) {
    const json::value* v = o.if_contains(key);
    if (v && !v->is_null()) return v;
    if (need == Need::kRequired) Fail(Path(path, key), v ? "must not be null" : "missing");
    return nullptr;
  }

  bool Int(const json::object& o, std::string_view key, const std::string& path, Need need,
           std::optional<int64_t>* out) {
    *out = std::nullopt;
    const json::value* v = Value(o, key, path, need);
    if (!v) return ok();
    if (!v->is_int64()) return Fail(Path(path, key), "expected an integer");
    *out = v->get_int64();
    return true;
  }

  // An id or a reference to one: a positive integer.
  bool Id(const json::object& o, std::string_view key, const std::string& path, Need need,
          std::optional<int64_t>* out) {
    if (!Int(o, key, path, need, out)) return false;
    if (*out && **out <= 0) return Fail(Path(path, key), "expected a positive integer id");
    return true;
  }

  bool String(const json::object& o, std::string_view key, const std::string& path, Need need,
              std::optional<std::string>* out) {
    *out = std::nullopt;
    const json::value* v = Value(o, key, path, need);
    if (!v) return ok();
    if (!v->is_string()) return Fail(Path(path, key), "expected a string");
    *out = std::string(v->get_string());
    return true;
  }

  bool Time(const json::object& o, std::string_view key, const std::string& path, Need need,
            std::optional<int64_t>* out) {
    *out = std::nullopt;
    const json::value* v = Value(o, key, path, need);
    if (!v) return ok();
    if (!v->is_string()) return Fail(Path(path, key), "expected a time string");
    *out = ParseInstant(v->get_string());
    if (!*out)
      return Fail(Path(path, key),
                  fmt::format("not an ISO-8601 instant with an offset in whole seconds: '{}'",
                              std::string_view(v->get_string())));
    return true;
  }

  static std::string Path(const std::string& path, std::string_view key) {
    return path + "." + std::string(key);
  }
  static std::string Index(const std::string& path, size_t i) {
    return fmt::format("{}[{}]", path, i);
  }

 private:
  std::string error_;
};

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

bool ReadFixture(const json::value& fixture, Reader& r, FixtureIn* out) {
  const json::object* top =
      r.Object(fixture, "$", {"sites", "projects", "workflows", "schedules", "sessions"});
  if (!top) return false;
  if (!ReadSites(*top, r, out) || !ReadProjects(*top, r, out) || !ReadWorkflows(*top, r, out) ||
      !ReadSchedules(*top, r, out) || !ReadSessions(*top, r, out))
    return false;
  return r.ok();
}

// ---- checks against the fixture and the store -------------------------------------------------

// The first column of the first row of `sql` (with ?1 = id when `id` is set), or nullopt when
// there is no row; *failed (and *error) when the query fails.
std::optional<int64_t> QueryInt(SqlSession& db, const char* sql, std::optional<int64_t> id,
                                bool* failed, std::string* error) {
  std::optional<int64_t> result;
  auto first = [&](const SqlRow& row) {
    if (!result && !row.IsNull(0)) result = row.Int(0);
    return true;
  };
  const Outcome o =
      id ? db.Run(sql, {SqlValue::Int(*id)}, first, error) : db.Run(sql, {}, first, error);
  if (o != Outcome::kOk) *failed = true;
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
  bool failed = false;
  std::string error;
  const std::string sql = fmt::format("SELECT max(id) FROM {}", table);
  if (auto stored = QueryInt(db, sql.c_str(), std::nullopt, &failed, &error))
    max_id = std::max(max_id, *stored);
  if (failed) return r.Fail("$", fmt::format("reading {}: {}", table, error));
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

bool Check(FixtureIn& f, SqlSession& db, Reader& r) {
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
    return false;

  bool failed = false;
  std::string error;
  auto stored = [&](const char* sql, int64_t id) { return QueryInt(db, sql, id, &failed, &error); };
  auto db_error = [&] { return r.Fail("$", fmt::format("reading the store: {}", error)); };

  std::set<int64_t> site_ids;
  std::set<std::string_view> keys;
  for (const SiteIn& s : f.sites) {
    site_ids.insert(*s.id);
    for (size_t k = 0; k < s.keys.size(); ++k)  // the key itself is never echoed
      if (!keys.insert(s.keys[k]).second)
        return r.Fail(Reader::Index(Reader::Path(s.path, "apiKeys"), k), "duplicate API key");
  }

  std::set<int64_t> project_ids;
  std::map<std::pair<int64_t, std::string_view>, const ProjectIn*> project_names;
  for (const ProjectIn& p : f.projects) {
    if (!site_ids.count(p.site_id) && !stored("SELECT id FROM sites WHERE id = ?1", p.site_id))
      return failed ? db_error()
                    : r.Fail(Reader::Path(p.path, "siteId"), fmt::format("no site {}", p.site_id));
    auto [it, inserted] = project_names.emplace(std::pair(p.site_id, std::string_view(p.name)), &p);
    if (!inserted)
      return r.Fail(Reader::Path(p.path, "name"),
                    fmt::format("duplicate project name '{}' in site {} (also {})", p.name,
                                p.site_id, it->second->path));
    project_ids.insert(*p.id);
  }
  auto project_exists = [&](int64_t id) {
    return project_ids.count(id) || stored("SELECT id FROM projects WHERE id = ?1", id);
  };

  std::map<int64_t, const WorkflowIn*> workflow_by_id;
  for (const WorkflowIn& w : f.workflows) {
    if (!project_exists(w.project_id))
      return failed ? db_error()
                    : r.Fail(Reader::Path(w.path, "projectId"),
                             fmt::format("no project {}", w.project_id));
    workflow_by_id[*w.id] = &w;
  }

  std::map<int64_t, const ScheduleIn*> schedule_of_workflow;
  for (const ScheduleIn& s : f.schedules) {
    const std::string path = Reader::Path(s.path, "workflowId");
    bool has_schedule;
    if (auto it = workflow_by_id.find(s.workflow_id); it != workflow_by_id.end()) {
      has_schedule = it->second->schedule.has_value();
    } else {
      auto v =
          stored("SELECT CASE WHEN schedule IS NULL THEN 0 ELSE 1 END FROM workflows WHERE id = ?1",
                 s.workflow_id);
      if (failed) return db_error();
      if (!v) return r.Fail(path, fmt::format("no workflow {}", s.workflow_id));
      has_schedule = *v != 0;
    }
    if (!has_schedule)
      return r.Fail(path, fmt::format("workflow {} has no schedule object", s.workflow_id));
    auto [it, inserted] = schedule_of_workflow.emplace(s.workflow_id, &s);
    if (!inserted)
      return r.Fail(path, fmt::format("workflow {} has two schedules (also {})", s.workflow_id,
                                      it->second->path));
    if (auto other = stored("SELECT id FROM schedules WHERE workflow_id = ?1", s.workflow_id))
      return r.Fail(path, fmt::format("workflow {} has a schedule already (schedule {})",
                                      s.workflow_id, *other));
    if (failed) return db_error();
  }

  std::set<int64_t> session_ids;
  std::map<std::tuple<int64_t, std::string_view, int64_t>, const SessionIn*> session_times;
  for (const SessionIn& s : f.sessions) {
    if (!project_exists(s.project_id))
      return failed ? db_error()
                    : r.Fail(Reader::Path(s.path, "projectId"),
                             fmt::format("no project {}", s.project_id));
    auto [it, inserted] = session_times.emplace(
        std::tuple(s.project_id, std::string_view(s.workflow_name), s.session_time), &s);
    if (!inserted)
      return r.Fail(
          Reader::Path(s.path, "sessionTime"),
          fmt::format("duplicate session time {} for project {} workflow '{}' (session {})",
                      FormatUtc(s.session_time), s.project_id, s.workflow_name, *it->second->id));
    session_ids.insert(*s.id);
  }
  for (const SessionIn& s : f.sessions) {
    std::set<int32_t> indexes;
    std::set<std::optional<std::string_view>> names;
    for (const AttemptIn& a : s.attempts) {
      if (!indexes.insert(a.index).second)
        return r.Fail(Reader::Path(a.path, "index"),
                      fmt::format("duplicate attempt index {} in session {}", a.index, *s.id));
      std::optional<std::string_view> name;
      if (a.name) name = *a.name;
      if (!names.insert(name).second)
        return r.Fail(Reader::Path(a.path, "name"),
                      a.name
                          ? fmt::format("duplicate attempt name '{}' in session {}", *a.name, *s.id)
                          : fmt::format("duplicate unnamed attempt in session {}", *s.id));
      if (a.depends_on_session_id && !session_ids.count(*a.depends_on_session_id) &&
          !stored("SELECT id FROM sessions WHERE id = ?1", *a.depends_on_session_id))
        return failed ? db_error()
                      : r.Fail(Reader::Path(a.path, "dependsOnSessionId"),
                               fmt::format("no session {}", *a.depends_on_session_id));
    }
  }
  return true;
}

// ---- writing ----------------------------------------------------------------------------------

// Runs one INSERT; a failure is reported at the row's path.
class Inserter {
 public:
  Inserter(SqlSession& db, Reader& r) : db_(db), r_(r) {}
  bool operator()(const char* sql, const std::string& path,
                  std::initializer_list<SqlValue> values) {
    std::string error;
    switch (db_.Run(sql, values, &error)) {
      case Outcome::kOk:
        return true;
      case Outcome::kConstraint:
        return r_.Fail(path, fmt::format("conflicts with the store ({})", error));
      default:
        return r_.Fail(path, error);
    }
  }

 private:
  SqlSession& db_;
  Reader& r_;
};

bool Write(const FixtureIn& f, SqlSession& db, Reader& r) {
  using V = SqlValue;
  Inserter insert(db, r);
  for (const SiteIn& site : f.sites) {
    if (!insert("INSERT INTO sites (id) VALUES (?1)", site.path, {V::Int(*site.id)})) return false;
    for (size_t k = 0; k < site.keys.size(); ++k) {
      const auto hash = store_internal::HashApiKey(site.keys[k]);
      if (!insert(
              "INSERT INTO api_keys (hash, site_id) VALUES (?1, ?2)",
              Reader::Index(Reader::Path(site.path, "apiKeys"), k),
              {V::Bytes(std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size())),
               V::Int(*site.id)}))
        return false;
    }
  }
  for (const ProjectIn& p : f.projects)
    if (!insert("INSERT INTO projects (id, site_id, name) VALUES (?1, ?2, ?3)", p.path,
                {V::Int(*p.id), V::Int(p.site_id), V::Text(p.name)}))
      return false;
  for (const WorkflowIn& w : f.workflows)
    if (!insert("INSERT INTO workflows (id, project_id, name, timezone, schedule, pool_id)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                w.path,
                {V::Int(*w.id), V::Int(w.project_id), V::Text(w.name), V::Text(w.timezone),
                 V::Opt(w.schedule), V::Opt(w.pool_id)}))
      return false;
  for (const ScheduleIn& sc : f.schedules)
    if (!insert("INSERT INTO schedules (id, workflow_id, next_schedule_time, next_run_time,"
                " last_session_time, disabled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                sc.path,
                {V::Int(*sc.id), V::Int(sc.workflow_id), V::Int(sc.next_schedule_time),
                 V::Int(sc.next_run_time), V::Opt(sc.last_session_time), V::Opt(sc.disabled_at)}))
      return false;
  // Every session before any attempt: an attempt may depend on a later session of the fixture.
  for (const SessionIn& se : f.sessions)
    if (!insert("INSERT INTO sessions (id, project_id, workflow_name, session_time, uuid)"
                " VALUES (?1, ?2, ?3, ?4, ?5)",
                se.path,
                {V::Int(*se.id), V::Int(se.project_id), V::Text(se.workflow_name),
                 V::Int(se.session_time), V::Opt(se.uuid)}))
      return false;
  for (const SessionIn& se : f.sessions)
    for (const AttemptIn& a : se.attempts)
      if (!insert("INSERT INTO attempts (id, session_id, name, \"index\", done, success,"
                  " cancel_requested, state, params, created_at, finished_at, pool_id,"
                  " depends_on_session_id)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                  a.path,
                  {V::Int(*a.id), V::Int(*se.id), V::Opt(a.name), V::Int(a.index),
                   V::Int(a.flags.done), V::Int(a.flags.success), V::Int(a.flags.cancel_requested),
                   V::Int(a.flags.state), V::Text(a.params), V::Int(a.created_at),
                   V::Opt(a.finished_at), V::Opt(a.pool_id), V::Opt(a.depends_on_session_id)}))
        return false;
  return true;
}

// ---- dump -------------------------------------------------------------------------------------

json::value NullOrInt(const SqlRow& s, int i) {
  if (s.IsNull(i)) return nullptr;
  return s.Int(i);
}
json::value NullOrTime(const SqlRow& s, int i) {
  if (s.IsNull(i)) return nullptr;
  return json::string(FormatUtc(s.Int(i)));
}
json::value NullOrText(const SqlRow& s, int i) {
  if (s.IsNull(i)) return nullptr;
  return json::string(s.Text(i));
}

// Runs `sql`, calling `row` for each row; false + *error on failure.
bool ForEachRow(SqlSession& db, const char* sql, std::string* error, const SqlSession::RowFn& row) {
  std::string e;
  switch (db.Run(sql, {}, row, &e)) {
    case Outcome::kOk:
      return true;
    default:
      if (!e.empty()) *error = fmt::format("dump: {}", e);
      return false;
  }
}

bool DumpInto(SqlSession& db, json::object& out, std::string* error) {
  json::array sites, projects, workflows, schedules, sessions;
  bool ok =
      ForEachRow(db,
                 "SELECT s.id, (SELECT count(*) FROM api_keys k WHERE k.site_id = s.id)"
                 " FROM sites s ORDER BY s.id",
                 error,
                 [&](const SqlRow& s) {
                   sites.push_back(json::object{
                       {"id", s.Int(0)}, {"apiKeys", json::array()}, {"apiKeyCount", s.Int(1)}});
                   return true;
                 }) &&
      ForEachRow(db, "SELECT id, site_id, name FROM projects ORDER BY id", error,
                 [&](const SqlRow& s) {
                   projects.push_back(
                       json::object{{"id", s.Int(0)}, {"siteId", s.Int(1)}, {"name", s.Text(2)}});
                   return true;
                 }) &&
      ForEachRow(
          db, "SELECT id, project_id, name, timezone, schedule, pool_id FROM workflows ORDER BY id",
          error,
          [&](const SqlRow& s) {
            json::value schedule = nullptr;
            if (!s.IsNull(4)) {
              boost::system::error_code ec;
              schedule = json::parse(s.Text(4), ec);
              if (ec) {
                *error = fmt::format("dump: workflow {} has a schedule that is not JSON", s.Int(0));
                return false;
              }
            }
            workflows.push_back(json::object{{"id", s.Int(0)},
                                             {"projectId", s.Int(1)},
                                             {"name", s.Text(2)},
                                             {"timezone", s.Text(3)},
                                             {"schedule", std::move(schedule)},
                                             {"poolId", NullOrText(s, 5)}});
            return true;
          }) &&
      ForEachRow(db,
                 "SELECT id, workflow_id, next_schedule_time, next_run_time, last_session_time,"
                 " disabled_at FROM schedules ORDER BY id",
                 error,
                 [&](const SqlRow& s) {
                   schedules.push_back(json::object{{"id", s.Int(0)},
                                                    {"workflowId", s.Int(1)},
                                                    {"nextScheduleTime", NullOrTime(s, 2)},
                                                    {"nextRunTime", NullOrTime(s, 3)},
                                                    {"lastSessionTime", NullOrTime(s, 4)},
                                                    {"disabledAt", NullOrTime(s, 5)}});
                   return true;
                 }) &&
      ForEachRow(
          db,
          "SELECT s.id, s.project_id, s.workflow_name, s.session_time, s.uuid, a.id, a.\"index\","
          " a.name, a.done, a.success, a.cancel_requested, a.state, a.params, a.created_at,"
          " a.finished_at, a.pool_id, a.depends_on_session_id"
          " FROM sessions s LEFT JOIN attempts a ON a.session_id = s.id ORDER BY s.id, a.id",
          error, [&](const SqlRow& s) {
            const int64_t id = s.Int(0);
            if (sessions.empty() || sessions.back().at("id").as_int64() != id)
              sessions.push_back(json::object{{"id", id},
                                              {"projectId", s.Int(1)},
                                              {"workflowName", s.Text(2)},
                                              {"sessionTime", NullOrTime(s, 3)},
                                              {"uuid", NullOrText(s, 4)},
                                              {"attempts", json::array()}});
            if (s.IsNull(5)) return true;
            boost::system::error_code ec;
            json::value params = json::parse(s.Text(12), ec);
            if (ec) {
              *error = fmt::format("dump: attempt {} has params that are not JSON", s.Int(5));
              return false;
            }
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
            return true;
          });
  if (!ok) return false;
  out["sites"] = std::move(sites);
  out["projects"] = std::move(projects);
  out["workflows"] = std::move(workflows);
  out["schedules"] = std::move(schedules);
  out["sessions"] = std::move(sessions);
  return true;
}

}  // namespace

bool Store::Seed(const boost::json::value& fixture, std::string* error) {
  try {
    Reader r;
    FixtureIn f;
    if (!ReadFixture(fixture, r, &f)) {
      *error = r.error();
      return false;
    }
    // A refused fixture's error (with its JSON path) is the body's, which RunInTransaction keeps.
    return RunInTransaction(
        true,
        [&](SqlSession& db, std::string* e) {
          if (Check(f, db, r) && Write(f, db, r)) return true;
          *e = r.error();
          return false;
        },
        error);
  } catch (const std::exception& e) {
    *error = fmt::format("seed: {}", e.what());
    return false;
  }
}

boost::json::value Store::Dump(std::string* error) {
  try {
    json::object out;
    // One read transaction: a consistent snapshot even while others write.
    if (!RunInTransaction(
            false, [&](SqlSession& db, std::string* e) { return DumpInto(db, out, e); }, error))
      return nullptr;
    return out;
  } catch (const std::exception& e) {
    *error = fmt::format("dump: {}", e.what());
    return nullptr;
  }
}

}  // namespace wfp::host
