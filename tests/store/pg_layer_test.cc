// Tests of the libpq layer (host_stub/store/pg/pg.h): parameters and results, the statement cache,
// SQLSTATE mapping (constraint violations, lock and statement timeouts), COPY, reconnection, and
// the schema migration. The database tests need a server: WFP_TEST_POSTGRES_URL (a libpq URI such
// as postgresql:///postgres?host=/tmp/pg&port=5499&user=wfp) — they are skipped without it. Each
// test works in a schema of its own (t_<unique>, dropped at the end), so tests run in parallel.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <latch>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pg_layer_fixture.h"
#include "store/pg/pg.h"

namespace wfp::host::pg {
namespace {

using std::chrono::milliseconds;

// ----- Without a server -----

TEST(PgMapError, SqlstatesToStatuses) {
  auto map = [](const char* state) { return MapError(Error{state, "m", ""}); };
  EXPECT_EQ(map("23505"), WFP_ERR_CONFLICT);  // unique_violation
  EXPECT_EQ(map("23514"), WFP_ERR_CONFLICT);  // check_violation
  EXPECT_EQ(map("23502"), WFP_ERR_CONFLICT);  // not_null_violation
  EXPECT_EQ(map("23P01"), WFP_ERR_CONFLICT);  // exclusion_violation
  EXPECT_EQ(map("23503"), WFP_ERR_NOT_FOUND);
  EXPECT_EQ(map("55P03"), WFP_ERR_BUSY);
  EXPECT_EQ(map("40001"), WFP_ERR_BUSY);
  EXPECT_EQ(map("40P01"), WFP_ERR_BUSY);
  EXPECT_EQ(map("57014"), WFP_ERR_BUSY);
  EXPECT_EQ(map(""), WFP_ERR_INTERNAL);
  EXPECT_EQ(map("42P01"), WFP_ERR_INTERNAL);
  EXPECT_EQ(map("57P01"), WFP_ERR_INTERNAL);
  EXPECT_EQ(map("25P02"), WFP_ERR_INTERNAL);
}

TEST(PgRedactUrl, HidesPasswords) {
  EXPECT_EQ(RedactUrl("postgresql://wfp:s3cr3t@db.example:5432/wfp"),
            "postgresql://wfp:***@db.example:5432/wfp");
  EXPECT_EQ(RedactUrl("postgres://:s3cr3t@db/wfp?sslmode=require"),
            "postgres://:***@db/wfp?sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://wfp@db/wfp"), "postgresql://wfp@db/wfp");
  EXPECT_EQ(RedactUrl("postgresql:///postgres?host=/tmp/pg&port=5499&user=wfp"),
            "postgresql:///postgres?host=/tmp/pg&port=5499&user=wfp");
  EXPECT_EQ(RedactUrl("postgresql://db/wfp?user=u&password=s3cr3t&port=5"),
            "postgresql://db/wfp?user=u&password=***&port=5");
  EXPECT_EQ(RedactUrl("postgresql://u:p%40ss@db/wfp?sslpassword=k"),
            "postgresql://u:***@db/wfp?sslpassword=***");
  EXPECT_EQ(RedactUrl("host=db password=s3cr3t user=u"), "host=db password=*** user=u");
  EXPECT_EQ(RedactUrl("host=db password = 'a b \\' c' user=u"), "host=db password = *** user=u");
  EXPECT_EQ(RedactUrl("host=db PASSWORD=x"), "host=db PASSWORD=***");
  // Malformed: whatever follows a password keyword without its '=' is hidden.
  EXPECT_EQ(RedactUrl("host=db password 's3cr3t' user=u"), "host=db password ***");
  EXPECT_EQ(RedactUrl("host=db application_name=mypassword"),
            "host=db application_name=mypassword");
}

TEST(PgCopyFormat, EscapesAndSeparates) {
  std::string out;
  AppendCopyField(&out, int64_t{-5});
  AppendCopyField(&out, "a\tb\nc\rd\\e");
  AppendCopyField(&out, std::nullopt);
  AppendCopyField(&out, "");
  AppendCopyRowEnd(&out);
  AppendCopyField(&out, "");  // an empty first field still gets its separator
  AppendCopyBytes(&out, std::string_view("\x00\xff", 2));
  AppendCopyRowEnd(&out);
  EXPECT_EQ(out, "-5\ta\\tb\\nc\\rd\\\\e\t\\N\t\n\t\\\\x00ff\n");
}

TEST(PgConnection, OpenFailureNamesTheUrlWithoutItsPassword) {
  for (const std::string url :
       {"postgresql://wfp:s3cr3tpw@/postgres?host=/nonexistent-wfp-dir&port=5499",
        "postgresql:///postgres?host=/nonexistent-wfp-dir&port=5499&password=s3cr3tpw",
        "host=/nonexistent-wfp-dir port=5499 dbname=postgres password=s3cr3tpw",
        "host=/nonexistent-wfp-dir password 's3cr3tpw'"}) {
    Error error;
    std::unique_ptr<Connection> c = Connection::Open(url, &error);
    EXPECT_EQ(c, nullptr) << url;
    EXPECT_EQ(error.message.find("s3cr3tpw"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("cannot connect to the store"), std::string::npos)
        << error.message;
    EXPECT_EQ(MapError(error), WFP_ERR_INTERNAL);
  }
  Error error;
  EXPECT_EQ(
      Connection::Open("postgresql://wfp:s3cr3tpw@/postgres?host=/nonexistent-wfp-dir", &error),
      nullptr);
  EXPECT_NE(error.message.find("postgresql://wfp:***@/postgres?host=/nonexistent-wfp-dir"),
            std::string::npos)
      << error.message;
}

// ----- With a server -----

TEST_F(PgLayerTest, OpenConfiguresTheSession) {
  EXPECT_TRUE(db_->Healthy());
  EXPECT_EQ(db_->txn_state(), TxnState::kIdle);
  Result r = Must(*db_, "SELECT current_setting('client_encoding'), current_schema()");
  ASSERT_EQ(r.rows(), 1);
  EXPECT_EQ(r.Text(0, 0), "UTF8");
  EXPECT_EQ(r.Text(0, 1), schema_);
  Run(*db_, "BEGIN");
  EXPECT_EQ(db_->txn_state(), TxnState::kInTransaction);
  Error e;
  EXPECT_FALSE(db_->Exec("SELECT 1/0", &e));
  EXPECT_EQ(e.sqlstate, "22012");
  EXPECT_EQ(db_->txn_state(), TxnState::kFailed);
  EXPECT_EQ(Fails(*db_, "SELECT 1").sqlstate, "25P02");  // the aborted transaction refuses more
  Run(*db_, "ROLLBACK");
  EXPECT_EQ(db_->txn_state(), TxnState::kIdle);
}

TEST_F(PgLayerTest, ParamsRoundTrip) {
  const std::string text = "tab\there\nnew line\r\\back\\slash 'quote\" 日本語 ✓ \\N";
  const std::string bytes("\0\x01\xff\x80\0abc\\x", 10);
  const std::optional<std::string> no_text;
  const std::optional<int64_t> some_int = 42;
  Result r =
      Must(*db_,
           "SELECT $1::bigint, $2::bigint, $3::bigint, $4::text, $5::bytea, $6::text, "
           "$7::bigint, $8::text, $9::bytea, $10::int, $11::smallint",
           {Param(), std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), text,
            Param::Bytes(bytes), no_text, some_int, "", Param::Bytes(""), 7, Param(nullptr)});
  ASSERT_EQ(r.rows(), 1);
  ASSERT_EQ(r.columns(), 11);
  EXPECT_TRUE(r.IsNull(0, 0));
  EXPECT_EQ(r.OptInt(0, 0), std::nullopt);
  EXPECT_EQ(r.Int(0, 1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.Int(0, 2), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(r.Text(0, 3), text);
  EXPECT_EQ(r.Bytes(0, 4), bytes);
  EXPECT_TRUE(r.IsNull(0, 5));
  EXPECT_EQ(r.Int(0, 6), 42);
  EXPECT_FALSE(r.IsNull(0, 7));
  EXPECT_EQ(r.Text(0, 7), "");
  EXPECT_FALSE(r.IsNull(0, 8));
  EXPECT_EQ(r.Bytes(0, 8), "");
  EXPECT_EQ(r.Int(0, 9), 7);
  EXPECT_TRUE(r.IsNull(0, 10));

  // Through a table, and back with RETURNING.
  Run(*db_, "CREATE TABLE v (id BIGINT PRIMARY KEY, t TEXT, b BYTEA, f BOOLEAN)");
  Result ins = Must(*db_, "INSERT INTO v VALUES ($1, $2, $3, $4) RETURNING id",
                    {int64_t{1} << 40, text, Param::Bytes(bytes.data(), bytes.size()), "t"});
  ASSERT_EQ(ins.rows(), 1);
  EXPECT_EQ(ins.Int(0, 0), int64_t{1} << 40);
  Must(*db_, "INSERT INTO v VALUES ($1, $2, $3, $4)", {2, Param(), Param(), "false"});
  Result sel = Must(*db_, "SELECT id, t, b, f FROM v ORDER BY id DESC");
  ASSERT_EQ(sel.rows(), 2);
  EXPECT_EQ(sel.Text(0, 1), text);
  EXPECT_EQ(sel.Bytes(0, 2), bytes);
  EXPECT_EQ(sel.Int(0, 3), 1);  // boolean 't'
  EXPECT_EQ(sel.Int(1, 0), 2);
  EXPECT_TRUE(sel.IsNull(1, 1));
  EXPECT_TRUE(sel.IsNull(1, 2));
  EXPECT_EQ(sel.Int(1, 3), 0);  // boolean 'f'

  // The legacy escape output of bytea decodes too.
  Run(*db_, "SET bytea_output = escape");
  EXPECT_EQ(Must(*db_, "SELECT b FROM v WHERE id = $1", {int64_t{1} << 40}).Bytes(0, 0), bytes);

  // Commands: an empty result with the affected row count.
  Result upd = Must(*db_, "UPDATE v SET t = $1 WHERE id > $2", {"x", 0});
  EXPECT_EQ(upd.rows(), 0);
  EXPECT_EQ(upd.affected_rows(), 2);

  // A NUL cannot be in text: refused before it reaches the server.
  Error e = Fails(*db_, "SELECT $1::text", {std::string_view("a\0b", 3)});
  EXPECT_NE(e.message.find("NUL"), std::string::npos) << e.message;

  // QueryInt: the first cell; nullopt and no error message without a row.
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM v WHERE t = $1", {"x"}), 2);
  e = Error{"x", "y", ""};
  EXPECT_EQ(db_->QueryInt("SELECT id FROM v WHERE id < 0", {}, &e), std::nullopt);
  EXPECT_TRUE(e.message.empty());
}

TEST_F(PgLayerTest, StatementsArePreparedOncePerSqlText) {
  const char* kCount = "SELECT count(*) FROM pg_prepared_statements";
  EXPECT_EQ(Int(*db_, "SELECT $1::int + 1", {1}), 2);
  EXPECT_EQ(Int(*db_, kCount), 2);  // that one and the count itself
  EXPECT_EQ(Int(*db_, "SELECT $1::int + 1", {41}), 42);
  EXPECT_EQ(Int(*db_, kCount), 2);
  EXPECT_EQ(Int(*db_, "SELECT $1::int + 2", {40}), 42);
  EXPECT_EQ(Int(*db_, kCount), 3);

  // A statement that does not prepare is not cached, and the connection goes on.
  EXPECT_EQ(Fails(*db_, "SELEC 1").sqlstate, "42601");
  EXPECT_EQ(Fails(*db_, "SELECT * FROM no_such_table").sqlstate, "42P01");
  EXPECT_EQ(Int(*db_, kCount), 3);
  Run(*db_, "CREATE TABLE no_such_table (x INT)");
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM no_such_table"), 0);

  // SQL as a std::string, with a list of parameters or a span of them.
  const std::string sql = "SELECT $1::int + $2::int";
  Error e;
  std::optional<Result> r = db_->Query(sql, {1, 2}, &e);
  ASSERT_TRUE(r) << e.message;
  EXPECT_EQ(r->Int(0, 0), 3);
  const std::vector<Param> params = {Param(3), Param(4)};
  r = db_->Query(sql, params, &e);
  ASSERT_TRUE(r) << e.message;
  EXPECT_EQ(r->Int(0, 0), 7);

  // Statements prepared inside a rolled-back transaction stay prepared.
  Run(*db_, "BEGIN");
  EXPECT_EQ(Int(*db_, "SELECT $1::int * 2", {21}), 42);
  Run(*db_, "ROLLBACK");
  EXPECT_EQ(Int(*db_, "SELECT $1::int * 2", {4}), 8);
}

TEST_F(PgLayerTest, ConstraintViolationsMapToStatuses) {
  Migrated(*db_);
  Must(*db_, "INSERT INTO sites (id) VALUES ($1)", {1});
  Must(*db_, "INSERT INTO projects (id, site_id, name) VALUES (10, 1, 'p')");

  Error e = Fails(*db_, "INSERT INTO sites (id) VALUES ($1)", {1});
  EXPECT_EQ(e.sqlstate, "23505");
  EXPECT_EQ(e.constraint, "sites_pkey");
  EXPECT_EQ(MapError(e), WFP_ERR_CONFLICT);
  EXPECT_NE(e.message.find("already exists"), std::string::npos) << e.message;  // the detail

  e = Fails(*db_, "INSERT INTO projects (id, site_id, name) VALUES ($1, $2, $3)", {11, 999, "q"});
  EXPECT_EQ(e.sqlstate, "23503");
  EXPECT_EQ(MapError(e), WFP_ERR_NOT_FOUND);

  e = Fails(*db_, "INSERT INTO projects (id, site_id, name) VALUES ($1, $2, $3)", {11, 1, "p"});
  EXPECT_EQ(MapError(e), WFP_ERR_CONFLICT);  // UNIQUE (site_id, name)

  e = Fails(*db_, "INSERT INTO api_keys (hash, site_id) VALUES ($1, $2)", {Param::Bytes("abc"), 1});
  EXPECT_EQ(e.sqlstate, "23514");
  EXPECT_EQ(MapError(e), WFP_ERR_CONFLICT);
  Must(*db_, "INSERT INTO api_keys (hash, site_id) VALUES ($1, $2)",
       {Param::Bytes(std::string(32, '\0')), 1});

  // Sessions take their ids from sessions_id_seq; the unnamed attempt is unique per session.
  const int64_t session = Int(*db_,
                              "INSERT INTO sessions (project_id, workflow_name, session_time)"
                              " VALUES ($1, $2, $3) RETURNING id",
                              {10, "wf", 1000});
  EXPECT_EQ(session, 1);
  const char* kAttempt =
      "INSERT INTO attempts (session_id, name, \"index\", done, success, cancel_requested, state,"
      " params, created_at) VALUES ($1, $2, $3, 0, 0, 0, $4, '{}', 0) RETURNING id";
  EXPECT_EQ(Int(*db_, kAttempt, {session, Param(), 1, 0}), 1);
  e = Fails(*db_, kAttempt, {session, Param(), 2, 0});
  EXPECT_EQ(e.constraint, "attempts_unnamed");
  EXPECT_EQ(MapError(e), WFP_ERR_CONFLICT);
  e = Fails(*db_, kAttempt, {session, "n", 1, 0});
  EXPECT_EQ(MapError(e), WFP_ERR_CONFLICT);  // UNIQUE (session_id, "index")
  e = Fails(*db_, kAttempt, {session, "n", 2, 3});
  EXPECT_EQ(e.sqlstate, "23514");  // state IN (0, 1, 2)
  e = Fails(*db_, kAttempt, {Param(), "n", 2, 0});
  EXPECT_EQ(e.sqlstate, "23502");
  EXPECT_EQ(MapError(e), WFP_ERR_CONFLICT);
  e = Fails(*db_, kAttempt, {999, "n", 2, 0});
  EXPECT_EQ(MapError(e), WFP_ERR_NOT_FOUND);
}

TEST_F(PgLayerTest, LockAndStatementTimeoutsAreBusy) {
  Run(*db_, "CREATE TABLE r (id BIGINT PRIMARY KEY); INSERT INTO r VALUES (1)");
  std::unique_ptr<Connection> other = Connect();
  ASSERT_NE(other, nullptr);
  Error e;
  ASSERT_TRUE(other->SetLockTimeout(milliseconds(100), &e)) << e.message;
  EXPECT_EQ(other->lock_timeout(), milliseconds(100));

  Run(*db_, "BEGIN");
  EXPECT_EQ(Must(*db_, "SELECT id FROM r WHERE id = $1 FOR UPDATE", {1}).rows(), 1);
  Run(*other, "BEGIN");
  const auto start = std::chrono::steady_clock::now();
  e = Fails(*other, "SELECT id FROM r WHERE id = $1 FOR UPDATE", {1});
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(e.sqlstate, "55P03");
  EXPECT_EQ(MapError(e), WFP_ERR_BUSY);
  EXPECT_GE(waited, milliseconds(90));
  EXPECT_LT(waited, milliseconds(5000));
  Run(*other, "ROLLBACK");
  Run(*db_, "ROLLBACK");

  // Once the lock is free the same statement goes through.
  Run(*other, "BEGIN");
  EXPECT_EQ(Must(*other, "SELECT id FROM r WHERE id = $1 FOR UPDATE", {1}).rows(), 1);
  Run(*other, "COMMIT");

  Run(*other, "SET statement_timeout = 50");
  e = Fails(*other, "SELECT pg_sleep($1)", {5});
  EXPECT_EQ(e.sqlstate, "57014");
  EXPECT_EQ(MapError(e), WFP_ERR_BUSY);
}

TEST_F(PgLayerTest, CopyInRoundTrip) {
  Run(*db_, "CREATE TABLE c (id BIGINT PRIMARY KEY, t TEXT, n BIGINT, b BYTEA)");
  struct Row {
    int64_t id;
    std::optional<std::string> t;
    std::optional<int64_t> n;
    std::string b;
  };
  const std::vector<Row> rows = {
      {1, "plain", 5, "abc"},
      {2, "tab\there\nnew\r\\back\\N \\. 日本語", std::nullopt, std::string("\0\xff", 2)},
      {3, std::nullopt, std::numeric_limits<int64_t>::min(), ""},
      {4, "", -1, std::string(32, '\x7f')},
      {5, "\\.", 0, "\n"},
  };
  std::string data;
  for (const Row& row : rows) {
    AppendCopyField(&data, row.id);
    AppendCopyField(&data, row.t ? std::optional<std::string_view>(*row.t) : std::nullopt);
    if (row.n) {
      AppendCopyField(&data, *row.n);
    } else {
      AppendCopyField(&data, std::nullopt);
    }
    AppendCopyBytes(&data, row.b);
    AppendCopyRowEnd(&data);
  }
  Error e;
  ASSERT_TRUE(db_->CopyIn("COPY c (id, t, n, b) FROM STDIN", data, &e)) << e.message;
  Result r = Must(*db_, "SELECT id, t, n, b FROM c ORDER BY id");
  ASSERT_EQ(r.rows(), static_cast<int>(rows.size()));
  for (int i = 0; i < r.rows(); ++i) {
    const Row& row = rows[static_cast<size_t>(i)];
    EXPECT_EQ(r.Int(i, 0), row.id);
    EXPECT_EQ(r.IsNull(i, 1), !row.t) << i;
    if (row.t) {
      EXPECT_EQ(r.Text(i, 1), *row.t) << i;
    }
    EXPECT_EQ(r.OptInt(i, 2), row.n) << i;
    EXPECT_EQ(r.Bytes(i, 3), row.b) << i;
  }

  // A COPY that breaks a unique constraint, in a savepoint: the error is mapped, and the
  // transaction goes on after ROLLBACK TO.
  Run(*db_, "BEGIN");
  Must(*db_, "INSERT INTO c (id) VALUES ($1)", {100});
  Run(*db_, "SAVEPOINT batch");
  std::string dup;
  for (int64_t id : {101, 102, 3}) {
    AppendCopyField(&dup, id);
    AppendCopyField(&dup, "x");
    AppendCopyField(&dup, std::nullopt);
    AppendCopyField(&dup, std::nullopt);
    AppendCopyRowEnd(&dup);
  }
  EXPECT_FALSE(db_->CopyIn("COPY c (id, t, n, b) FROM STDIN", dup, &e));
  EXPECT_EQ(e.sqlstate, "23505");
  EXPECT_EQ(e.constraint, "c_pkey");
  EXPECT_EQ(MapError(e), WFP_ERR_CONFLICT);
  EXPECT_EQ(db_->txn_state(), TxnState::kFailed);
  Run(*db_, "ROLLBACK TO SAVEPOINT batch");
  EXPECT_EQ(db_->txn_state(), TxnState::kInTransaction);
  Must(*db_, "INSERT INTO c (id) VALUES ($1)", {101});
  Run(*db_, "COMMIT");
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM c WHERE id >= 100"), 2);

  // More than one chunk (1 MiB) of data.
  std::string big;
  const std::string payload(200, 'z');
  for (int64_t id = 1000; id < 11000; ++id) {
    AppendCopyField(&big, id);
    AppendCopyField(&big, payload);
    AppendCopyField(&big, id);
    AppendCopyField(&big, std::nullopt);
    AppendCopyRowEnd(&big);
  }
  ASSERT_GT(big.size(), size_t{2} << 20);
  ASSERT_TRUE(db_->CopyIn("COPY c (id, t, n, b) FROM STDIN", big, &e)) << e.message;
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM c WHERE id >= 1000 AND n = id AND length(t) = 200"),
            10000);

  // Bad data, a missing table, a statement that is no COPY: errors, and the connection goes on.
  EXPECT_FALSE(db_->CopyIn("COPY c (id, t, n, b) FROM STDIN", "x\ty\t1\t\\N\n", &e));
  EXPECT_EQ(e.sqlstate, "22P02");
  EXPECT_FALSE(db_->CopyIn("COPY nope (id) FROM STDIN", "1\n", &e));
  EXPECT_EQ(e.sqlstate, "42P01");
  EXPECT_FALSE(db_->CopyIn("SELECT 1", "", &e));
  EXPECT_NE(e.message.find("not a COPY"), std::string::npos) << e.message;
  EXPECT_FALSE(db_->Exec("COPY c (id) FROM STDIN", &e));
  EXPECT_EQ(db_->txn_state(), TxnState::kIdle);
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM c"), 10007);
}

TEST_F(PgLayerTest, ResetReconnectsAndRestoresTheSession) {
  Error e;
  ASSERT_TRUE(db_->SetLockTimeout(milliseconds(250), &e)) << e.message;
  const char* kSql = "SELECT $1::int + 1";
  EXPECT_EQ(Int(*db_, kSql, {1}), 2);
  const int64_t pid = Int(*db_, "SELECT pg_backend_pid()");
  EXPECT_EQ(Int(*admin_, "SELECT pg_terminate_backend($1::int, 5000)::int", {pid}), 1);

  e = Fails(*db_, kSql, {1});
  EXPECT_EQ(MapError(e), WFP_ERR_INTERNAL);
  EXPECT_FALSE(db_->Healthy());
  EXPECT_TRUE(db_->Reset());
  EXPECT_TRUE(db_->Healthy());
  EXPECT_NE(Int(*db_, "SELECT pg_backend_pid()"), pid);
  EXPECT_EQ(Int(*db_, kSql, {2}), 3);  // prepared again on the new session
  Result r = Must(*db_, "SELECT current_setting('lock_timeout'), current_schema()");
  EXPECT_EQ(r.Text(0, 0), "250ms");
  EXPECT_EQ(r.Text(0, 1), schema_);
}

// The tables, sequences and indexes a migrated schema has.
std::set<std::string> Relations(Connection& c, const std::string& schema) {
  Error e;
  std::optional<Result> r = c.Query(
      "SELECT relkind::text || ' ' || relname FROM pg_class"
      " WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'S', 'i')",
      {schema}, &e);
  std::set<std::string> out;
  if (!r) {
    ADD_FAILURE() << e.message;
    return out;
  }
  for (int i = 0; i < r->rows(); ++i) out.emplace(r->Text(i, 0));
  return out;
}

TEST_F(PgLayerTest, MigrateCreatesTheSchema) {
  EXPECT_TRUE(Relations(*db_, schema_).empty());
  Migrated(*db_);
  EXPECT_EQ(db_->txn_state(), TxnState::kIdle);
  const std::set<std::string> relations = Relations(*db_, schema_);
  for (const char* name :
       {"r wfp_schema", "r sites", "r api_keys", "r projects", "r workflows", "r schedules",
        "r sessions", "r attempts", "S sessions_id_seq", "S attempts_id_seq", "i api_keys_site",
        "i workflows_project", "i attempts_unnamed", "i attempts_depends_on", "i api_keys_pkey"}) {
    EXPECT_TRUE(relations.count(name)) << name;
  }
  EXPECT_EQ(Int(*db_,
                "SELECT count(*) FROM pg_class WHERE relnamespace = $1::regnamespace"
                " AND relkind = 'r'",
                {schema_}),
            8);
  EXPECT_EQ(Int(*db_, "SELECT version FROM wfp_schema"), kPgSchemaVersion);
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM wfp_schema"), 1);

  // Column types as the brief of each column says.
  Result cols = Must(*db_,
                     "SELECT table_name || '.' || column_name || ' ' || data_type"
                     " FROM information_schema.columns WHERE table_schema = $1",
                     {schema_});
  std::set<std::string> types;
  for (int i = 0; i < cols.rows(); ++i) types.emplace(cols.Text(i, 0));
  for (const char* column :
       {"api_keys.hash bytea", "sites.id bigint", "attempts.index integer",
        "attempts.done smallint", "attempts.state smallint", "attempts.created_at bigint",
        "schedules.next_schedule_time bigint", "sessions.id bigint", "sessions.uuid text"}) {
    EXPECT_TRUE(types.count(column)) << column;
  }
}

TEST_F(PgLayerTest, MigrateTwiceIsANoOp) {
  Migrated(*db_);
  Must(*db_, "INSERT INTO sites (id) VALUES ($1)", {7});
  Migrated(*db_);
  std::unique_ptr<Connection> other = Connect();
  ASSERT_NE(other, nullptr);
  Migrated(*other);
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM sites WHERE id = 7"), 1);
  EXPECT_EQ(Int(*db_, "SELECT version FROM wfp_schema"), kPgSchemaVersion);
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM wfp_schema"), 1);
}

TEST_F(PgLayerTest, ConcurrentMigrationsOfAFreshSchemaBothSucceed) {
  for (int round = 0; round < 5; ++round) {
    const std::string schema = NewSchema();
    ASSERT_FALSE(schema.empty());
    std::unique_ptr<Connection> a = Connect(schema), b = Connect(schema);
    ASSERT_TRUE(a && b);
    std::latch start(2);
    Status done_a, done_b;
    std::thread ta([&] {
      start.arrive_and_wait();
      done_a = Migrate(*a, kPgSchemaVersion);
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      done_b = Migrate(*b, kPgSchemaVersion);
    });
    ta.join();
    tb.join();
    EXPECT_TRUE(IsOk(done_a));
    EXPECT_TRUE(IsOk(done_b));
    EXPECT_EQ(Int(*a, "SELECT version FROM wfp_schema"), kPgSchemaVersion);
    EXPECT_EQ(Int(*a, "SELECT count(*) FROM wfp_schema"), 1);
  }
}

TEST_F(PgLayerTest, MigrateRefusesANewerStore) {
  Migrated(*db_);
  Must(*db_, "UPDATE wfp_schema SET version = $1", {99});
  const Status refused = Migrate(*db_, kPgSchemaVersion);
  EXPECT_EQ(refused.code(), WFP_ERR_UNSUPPORTED);
  EXPECT_EQ(refused.message(),
            fmt::format("the store has schema version 99, newer than this host's ({})",
                        kPgSchemaVersion));
  EXPECT_EQ(db_->txn_state(), TxnState::kIdle);
  EXPECT_EQ(Int(*db_, "SELECT version FROM wfp_schema"), 99);
}

TEST_F(PgLayerTest, MigrateRefusesWhatItCannotDo) {
  Status refused = Migrate(*db_, kPgSchemaVersion + 1);
  EXPECT_EQ(refused.code(), WFP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(refused.message().find("no schema version"), std::string::npos) << refused.message();

  Run(*db_, "BEGIN");
  refused = Migrate(*db_, kPgSchemaVersion);
  EXPECT_EQ(refused.code(), WFP_ERR_STATE);
  EXPECT_NE(refused.message().find("outside a transaction"), std::string::npos)
      << refused.message();
  Run(*db_, "ROLLBACK");

  // A search_path that names no existing schema.
  std::unique_ptr<Connection> nowhere = Connect(schema_ + "_missing");
  ASSERT_NE(nowhere, nullptr);
  refused = Migrate(*nowhere, kPgSchemaVersion);
  EXPECT_EQ(refused.code(), WFP_ERR_INTERNAL);
  EXPECT_NE(refused.message().find("no schema to create the store in"), std::string::npos)
      << refused.message();

  // Tables of ours without wfp_schema: refused, nothing changed.
  Run(*db_, "CREATE TABLE sites (id BIGINT PRIMARY KEY)");
  refused = Migrate(*db_, kPgSchemaVersion);
  EXPECT_EQ(refused.code(), WFP_ERR_INTERNAL);
  EXPECT_NE(refused.message().find("\"sites\" already exists"), std::string::npos)
      << refused.message();
  EXPECT_EQ(Relations(*db_, schema_), (std::set<std::string>{"r sites", "i sites_pkey"}));
}

}  // namespace
}  // namespace wfp::host::pg
