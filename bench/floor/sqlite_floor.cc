// The SQLite floor for the backfill benchmark: the least work that stores what a backfill of N
// sessions stores. It creates the store with wfp-host's own schema (Store::Open: the same tables,
// unique indexes, WAL and pragmas), then inserts N sessions and N attempts (a UUID and a params
// object of the same size as the route's) with two prepared statements in one BEGIN IMMEDIATE
// transaction. No JSON, no planning, no response: what is left is SQLite's own cost.
//
// Usage: wfp_sqlite_floor --db PATH --rows N
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "store/store.h"

namespace {

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fmt::print(stderr, "{}: {}\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

void Exec(sqlite3* db, const char* sql) {
  Check(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db, sql);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  long rows = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--db")) path = argv[i + 1];
    if (!std::strcmp(argv[i], "--rows")) rows = std::atol(argv[i + 1]);
  }
  if (path.empty() || rows <= 0) {
    fmt::print(stderr, "usage: wfp_sqlite_floor --db PATH --rows N\n");
    return 2;
  }
  {
    if (const auto opened = wfp::host::Store::Open(path); !opened.ok()) {
      fmt::print(stderr, "{}\n", opened.status().message());
      return 1;
    }
  }
  sqlite3* db = nullptr;
  Check(sqlite3_open(path.c_str(), &db), db, "open");
  Exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL");
  Exec(db,
       "INSERT INTO sites (id) VALUES (1); INSERT INTO projects (id, site_id, name) VALUES (1, 1, "
       "'bench')");

  const auto start = std::chrono::steady_clock::now();
  sqlite3_stmt* session = nullptr;
  sqlite3_stmt* attempt = nullptr;
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO sessions (project_id, workflow_name, session_time, uuid) "
                           "VALUES (1, 'minutely', ?1, ?2)",
                           -1, &session, nullptr),
        db, "prepare session");
  Check(sqlite3_prepare_v2(db,
                           "INSERT INTO attempts (session_id, name, \"index\", done, success, "
                           "cancel_requested, state,"
                           " params, created_at, finished_at, pool_id, depends_on_session_id)"
                           " VALUES (?1, 'bench', 1, 0, 0, 0, ?2, ?3, 1700000000, NULL, NULL, ?4)",
                           -1, &attempt, nullptr),
        db, "prepare attempt");
  Exec(db, "BEGIN IMMEDIATE");
  const int64_t t0 = 1577836800;
  int64_t previous = 0;
  char uuid[40];
  for (long i = 0; i < rows; ++i) {
    const int64_t t = t0 + i * 60;
    std::snprintf(uuid, sizeof uuid, "2b91a014-076e-4c6d-8b51-%012lx",
                  static_cast<unsigned long>(i));
    sqlite3_bind_int64(session, 1, t);
    sqlite3_bind_text(session, 2, uuid, 36, SQLITE_TRANSIENT);
    Check(sqlite3_step(session), db, "insert session");
    sqlite3_reset(session);
    const int64_t id = sqlite3_last_insert_rowid(db);
    // The same size as the route's params: three offset date-times.
    const std::string params = fmt::format(
        R"({{"last_session_time":"2020-01-01T00:00:00+00:00","next_session_time":"2020-01-01T00:01:00+00:00","last_executed_session_time":"2020-01-01T00:00:00+00:00","n":{}}})",
        i);
    sqlite3_bind_int64(attempt, 1, id);
    sqlite3_bind_int(attempt, 2, i == 0 ? 0 : 1);
    sqlite3_bind_text(attempt, 3, params.data(), static_cast<int>(params.size()), SQLITE_TRANSIENT);
    if (previous)
      sqlite3_bind_int64(attempt, 4, previous);
    else
      sqlite3_bind_null(attempt, 4);
    Check(sqlite3_step(attempt), db, "insert attempt");
    sqlite3_reset(attempt);
    previous = id;
  }
  Exec(db, "COMMIT");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(session);
  sqlite3_finalize(attempt);
  sqlite3_close(db);
  fmt::print("floor: {} sessions and attempts in {:.3f} s ({:.0f} rows/s)\n", rows, seconds,
             rows / seconds);
  return 0;
}
