// The PostgreSQL floor for the backfill benchmark: the least work that stores what a backfill of N
// sessions stores, on PostgreSQL. It creates the store with wfp-host's own schema (Store::Open: the
// same tables, unique constraints and sequences), then, in one transaction, takes N session ids
// and N attempt ids from the sequences and writes N sessions and N attempts (a UUID and a params
// object of the same size as the route's) with one COPY each. No JSON, no planning, no response:
// what is left is PostgreSQL's own cost for the rows (and the round trips that COPY needs).
//
// Usage: wfp_pg_floor --db URL --rows N
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "store/pg/pg.h"
#include "store/store.h"

namespace {

using wfp::host::pg::Connection;
using wfp::host::pg::Error;

[[noreturn]] void Die(const char* what, const Error& e) {
  fmt::print(stderr, "{}: {}\n", what, e.message);
  std::exit(1);
}

std::vector<int64_t> Ids(Connection& c, const char* sequence, long rows) {
  Error e;
  const std::string sql =
      fmt::format("SELECT nextval('{}') FROM generate_series(1, $1::bigint)", sequence);
  auto r = c.Query(sql, {static_cast<int64_t>(rows)}, &e);
  if (!r) Die("ids", e);
  std::vector<int64_t> ids;
  for (int i = 0; i < r->rows(); ++i) ids.push_back(r->Int(i, 0));
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  long rows = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--db")) url = argv[i + 1];
    if (!std::strcmp(argv[i], "--rows")) rows = std::atol(argv[i + 1]);
  }
  if (url.empty() || rows <= 0) {
    fmt::print(stderr, "usage: wfp_pg_floor --db URL --rows N\n");
    return 2;
  }
  {
    if (const auto opened = wfp::host::Store::Open(url); !opened.ok()) {
      fmt::print(stderr, "{}\n", opened.status().message());
      return 1;
    }
  }
  Error e;
  std::unique_ptr<Connection> c = Connection::Open(url, &e);
  if (!c) Die("connect", e);
  if (!c->Exec("INSERT INTO sites (id) VALUES (1);"
               " INSERT INTO projects (id, site_id, name) VALUES (1, 1, 'bench')",
               &e))
    Die("setup", e);

  const auto start = std::chrono::steady_clock::now();
  if (!c->Exec("BEGIN", &e)) Die("begin", e);
  const std::vector<int64_t> session_ids = Ids(*c, "sessions_id_seq", rows);
  const std::vector<int64_t> attempt_ids = Ids(*c, "attempts_id_seq", rows);
  std::string sessions, attempts;
  const int64_t t0 = 1577836800;
  char uuid[40];
  for (long i = 0; i < rows; ++i) {
    using wfp::host::pg::AppendCopyField;
    std::snprintf(uuid, sizeof uuid, "2b91a014-076e-4c6d-8b51-%012lx",
                  static_cast<unsigned long>(i));
    AppendCopyField(&sessions, session_ids[i]);
    AppendCopyField(&sessions, int64_t{1});
    AppendCopyField(&sessions, std::string_view("minutely"));
    AppendCopyField(&sessions, t0 + i * 60);
    AppendCopyField(&sessions, std::string_view(uuid, 36));
    wfp::host::pg::AppendCopyRowEnd(&sessions);
    // The same size as the route's params: three offset date-times.
    const std::string params = fmt::format(
        R"({{"last_session_time":"2020-01-01T00:00:00+00:00","next_session_time":"2020-01-01T00:01:00+00:00","last_executed_session_time":"2020-01-01T00:00:00+00:00","n":{}}})",
        i);
    AppendCopyField(&attempts, attempt_ids[i]);
    AppendCopyField(&attempts, session_ids[i]);
    AppendCopyField(&attempts, std::string_view("bench"));
    for (int64_t v : {int64_t{1}, int64_t{0}, int64_t{0}, int64_t{0}, int64_t{i == 0 ? 0 : 1}})
      AppendCopyField(&attempts, v);  // index, done, success, cancel_requested, state
    AppendCopyField(&attempts, std::string_view(params));
    AppendCopyField(&attempts, int64_t{1700000000});
    AppendCopyField(&attempts, std::nullopt);  // finished_at
    AppendCopyField(&attempts, std::nullopt);  // pool_id
    if (i > 0)
      AppendCopyField(&attempts, session_ids[i - 1]);
    else
      AppendCopyField(&attempts, std::nullopt);
    wfp::host::pg::AppendCopyRowEnd(&attempts);
  }
  if (!c->CopyIn("COPY sessions (id, project_id, workflow_name, session_time, uuid) FROM STDIN",
                 sessions, &e))
    Die("copy sessions", e);
  if (!c->CopyIn("COPY attempts (id, session_id, name, \"index\", done, success, cancel_requested,"
                 " state, params, created_at, finished_at, pool_id, depends_on_session_id)"
                 " FROM STDIN",
                 attempts, &e))
    Die("copy attempts", e);
  if (!c->Exec("COMMIT", &e)) Die("commit", e);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("floor: {} sessions and attempts in {:.3f} s ({:.0f} rows/s)\n", rows, seconds,
             rows / seconds);
  return 0;
}
