// Store::Seed: reads the whole fixture (fixture_read.cc), then, inside one write transaction,
// checks ids and references (fixture_check.cc), assigns omitted ids and writes; the first problem
// found is reported with its JSON path and nothing is written.
#include <fmt/format.h>

#include "store/fixture.h"
#include "store/store.h"

namespace wfp::host::fixture {

using store_internal::SqlSession;
using store_internal::SqlValue;
using Outcome = store_internal::SqlSession::Outcome;

namespace {

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

}  // namespace

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

}  // namespace wfp::host::fixture

namespace wfp::host {

bool Store::Seed(const boost::json::value& given, std::string* error) {
  try {
    fixture::Reader r;
    fixture::FixtureIn f;
    if (!fixture::ReadFixture(given, r, &f)) {
      *error = r.error();
      return false;
    }
    // A refused fixture's error (with its JSON path) is the body's, which RunInTransaction keeps.
    return RunInTransaction(
        true,
        [&](store_internal::SqlSession& db, std::string* e) {
          if (fixture::Check(f, db, r) && fixture::Write(f, db, r)) return true;
          *e = r.error();
          return false;
        },
        error);
  } catch (const std::exception& e) {
    *error = fmt::format("seed: {}", e.what());
    return false;
  }
}

}  // namespace wfp::host
