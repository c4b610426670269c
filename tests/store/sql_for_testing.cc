// Raw SQL on a store connection for tests: the backend's connection is found by its type, and the
// SQL runs on its handle (SQLite: through the in-memory gate; PostgreSQL: the libpq connection).
#include "sql_for_testing.h"

#include <sqlite3.h>

#include "store/sqlite_internal.h"
#ifdef WFP_TEST_HAVE_POSTGRES
#include "store/pg_internal.h"
#endif

namespace wfp::host::testing_util {
namespace {

namespace sqlite = store_internal::sqlite_backend;
using Rows = std::vector<std::vector<std::string>>;

constexpr const char* kUnknownBackend = "not a connection of a known store backend";

bool SqliteExec(sqlite::Connection& c, const std::string& sql, std::string* error) {
  Status done;
  if (!c.WithHandle([&](sqlite3* db) { done = sqlite::Exec(db, sql.c_str()); })) {
    *error = "busy";
    return false;
  }
  if (!done.ok()) *error = done.message();
  return done.ok();
}

std::optional<Rows> SqliteQuery(sqlite::Connection& c, const std::string& sql, std::string* error) {
  std::optional<Rows> out;
  const bool entered = c.WithHandle([&](sqlite3* db) {
    Rows rows;
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::vector<std::string>& row = rows.emplace_back();
      for (int i = 0; i < sqlite3_column_count(s); ++i)
        row.emplace_back(sqlite3_column_type(s, i) == SQLITE_NULL ? "NULL"
                                                                  : sqlite::ColumnText(s, i));
      rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) *error = sqlite3_errmsg(db);
    sqlite3_finalize(s);
    if (rc == SQLITE_DONE) out = std::move(rows);
  });
  if (!entered) *error = "busy";
  return out;
}

#ifdef WFP_TEST_HAVE_POSTGRES
bool PgExec(store_internal::pg_backend::PgConnection& c, const std::string& sql,
            std::string* error) {
  pg::Error e;
  if (c.conn().Exec(sql, &e)) return true;
  *error = e.message;
  return false;
}

std::optional<Rows> PgQuery(store_internal::pg_backend::PgConnection& c, const std::string& sql,
                            std::string* error) {
  pg::Error e;
  std::optional<pg::Result> r = c.conn().Query(sql, {}, &e);
  if (!r) {
    *error = e.message;
    return std::nullopt;
  }
  Rows rows;
  for (int i = 0; i < r->rows(); ++i) {
    std::vector<std::string>& row = rows.emplace_back();
    for (int j = 0; j < r->columns(); ++j)
      row.emplace_back(r->IsNull(i, j) ? "NULL" : r->Text(i, j));
  }
  return rows;
}
#endif

}  // namespace

bool ExecForTesting(StoreConnection& c, const std::string& sql, std::string* error) {
  if (auto* s = dynamic_cast<sqlite::Connection*>(&c)) return SqliteExec(*s, sql, error);
#ifdef WFP_TEST_HAVE_POSTGRES
  if (auto* p = dynamic_cast<store_internal::pg_backend::PgConnection*>(&c))
    return PgExec(*p, sql, error);
#endif
  *error = kUnknownBackend;
  return false;
}

std::optional<Rows> QueryForTesting(StoreConnection& c, const std::string& sql,
                                    std::string* error) {
  if (auto* s = dynamic_cast<sqlite::Connection*>(&c)) return SqliteQuery(*s, sql, error);
#ifdef WFP_TEST_HAVE_POSTGRES
  if (auto* p = dynamic_cast<store_internal::pg_backend::PgConnection*>(&c))
    return PgQuery(*p, sql, error);
#endif
  *error = kUnknownBackend;
  return std::nullopt;
}

}  // namespace wfp::host::testing_util
