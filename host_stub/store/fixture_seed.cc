// Store::Seed: reads the whole fixture (fixture_read.cc), then, inside one write transaction,
// checks ids and references (fixture_check.cc), assigns omitted ids and writes; the first problem
// found is reported with its JSON path and nothing is written.
#include <fmt/format.h>

#include "store/fixture.h"
#include "store/store.h"

namespace wfp::host::fixture {

using store_internal::SqlSession;
using store_internal::SqlValue;

namespace {

// Runs one INSERT; a failure is reported at the row's path.
class Inserter {
 public:
  Inserter(SqlSession& db, Reader& r) : db_(db), r_(r) {}
  bool operator()(const char* sql, const std::string& path,
                  std::initializer_list<SqlValue> values) {
    const Status written = db_.Run(sql, values);
    if (written.ok()) return true;
    // WFP_ERR_CONFLICT: a constraint refused the row (SqlSession::Run).
    if (written.code() == WFP_ERR_CONFLICT)
      return r_.Fail(path, fmt::format("conflicts with the store ({})", written.message()),
                     WFP_ERR_CONFLICT);
    return r_.Fail(path, written);
  }

 private:
  SqlSession& db_;
  Reader& r_;
};

// Writes every row; false at the first refused (its problem in `r`).
bool WriteRows(const FixtureIn& f, SqlSession& db, Reader& r) {
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

}  // namespace

Status Write(const FixtureIn& f, SqlSession& db) {
  Reader r;
  WriteRows(f, db, r);
  return r.status();
}

}  // namespace wfp::host::fixture

namespace wfp::host {

Status Store::Seed(const boost::json::value& given) {
  try {
    fixture::FixtureIn f;
    if (Status read = fixture::ReadFixture(given, &f); !read.ok()) return read;
    // A refused fixture's Status (with its JSON path) is the body's, which RunInTransaction keeps.
    return RunInTransaction(true, [&](store_internal::SqlSession& db) {
      Status checked = fixture::Check(f, db);
      return checked.ok() ? fixture::Write(f, db) : checked;
    });
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("seed: {}", e.what()));
  }
}

}  // namespace wfp::host
