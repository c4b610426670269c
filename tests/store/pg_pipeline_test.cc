// Tests of the libpq layer's statements without a round trip each (host_stub/store/pg/pg.h):
// Pipeline (several statements, one sync) and SendWithoutWaiting (an answer read later). Each
// leaves the connection as Query would: out of pipeline mode, its transaction state true, usable.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "pg_layer_fixture.h"
#include "store/pg/pg.h"

namespace wfp::host::pg {
namespace {

using Statement = Connection::Statement;

TEST_F(PgLayerTest, APipelineRunsItsStatementsInOrderAndAnswersEach) {
  Run(*db_, "CREATE TABLE t (id bigint PRIMARY KEY, name text)");
  const Param first[] = {1, "one"};
  const Param second[] = {2, "two"};
  const Param none[] = {int64_t{0}};
  const std::vector<Statement> statements{
      {"BEGIN", {}},
      {"INSERT INTO t VALUES ($1, $2)", first},
      {"INSERT INTO t VALUES ($1, $2)", second},
      {"SELECT id, name FROM t WHERE id > $1 ORDER BY id", none}};
  Error e;
  std::optional<std::vector<Result>> results = db_->Pipeline(statements, &e);
  ASSERT_TRUE(results) << e.message;
  ASSERT_EQ(results->size(), 4u);
  EXPECT_EQ((*results)[1].affected_rows(), 1);
  const Result& rows = (*results)[3];
  ASSERT_EQ(rows.rows(), 2);  // sees both inserts: they ran before it, in order
  EXPECT_EQ(rows.Text(0, 1), "one");
  EXPECT_EQ(rows.Int(1, 0), 2);
  // The BEGIN holds past the pipeline's sync: the transaction is still open, and usable by Query.
  EXPECT_EQ(db_->txn_state(), TxnState::kInTransaction);
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 2);
  Run(*db_, "ROLLBACK");
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 0);
  // The same statements again use the prepared ones (no second preparation fails or is needed).
  results = db_->Pipeline(statements, &e);
  ASSERT_TRUE(results) << e.message;
  Run(*db_, "COMMIT");
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 2);
}

TEST_F(PgLayerTest, APipelineStopsAtItsFirstFailureAndLeavesTheConnectionUsable) {
  Run(*db_, "CREATE TABLE t (id bigint PRIMARY KEY)");
  const Param one[] = {1};
  const Param zero[] = {0};
  Error e;
  // Outside a transaction block the statements are one implicit transaction: none stays.
  EXPECT_FALSE(db_->Pipeline(std::vector<Statement>{{"INSERT INTO t VALUES ($1)", one},
                                                    {"SELECT 1 / $1::int", zero},
                                                    {"INSERT INTO t VALUES ($1 + 1)", one}},
                             &e));
  EXPECT_EQ(e.sqlstate, "22012");  // the failure's, not the skipped statement's
  EXPECT_EQ(db_->txn_state(), TxnState::kIdle);
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 0);
  EXPECT_TRUE(db_->Exec("SELECT 1", &e)) << e.message;  // out of pipeline mode

  // Inside one, the transaction is aborted, as after a failed Query.
  EXPECT_FALSE(db_->Pipeline(
      std::vector<Statement>{
          {"BEGIN", {}}, {"INSERT INTO t VALUES ($1)", one}, {"INSERT INTO t VALUES ($1)", one}},
      &e));
  EXPECT_EQ(e.sqlstate, "23505");
  EXPECT_EQ(db_->txn_state(), TxnState::kFailed);
  Run(*db_, "ROLLBACK");
  // A statement that cannot be prepared fails before anything is sent.
  EXPECT_FALSE(db_->Pipeline(std::vector<Statement>{{"SELEC 1", {}}}, &e));
  EXPECT_EQ(e.sqlstate, "42601");
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 0);
}

TEST_F(PgLayerTest, AnAnswerNotWaitedForIsReadBeforeTheNextStatement) {
  Run(*db_, "CREATE TABLE t (id bigint)");
  Run(*db_, "BEGIN");
  Run(*db_, "INSERT INTO t VALUES (1)");
  db_->SendWithoutWaiting("ROLLBACK");
  EXPECT_EQ(db_->txn_state(), TxnState::kIdle);  // the ROLLBACK's answer, read now
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 0);

  // Before each kind of next statement: Query, Exec, Pipeline, COPY.
  Error e;
  db_->SendWithoutWaiting("INSERT INTO t VALUES (2)");
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 1);
  db_->SendWithoutWaiting("INSERT INTO t VALUES (3)");
  EXPECT_TRUE(db_->Exec("INSERT INTO t VALUES (4)", &e)) << e.message;
  db_->SendWithoutWaiting("INSERT INTO t VALUES (5)");
  const std::vector<Statement> count{{"SELECT count(*) FROM t", {}}};
  std::optional<std::vector<Result>> results = db_->Pipeline(count, &e);
  ASSERT_TRUE(results) << e.message;
  EXPECT_EQ(results->front().Int(0, 0), 4);
  db_->SendWithoutWaiting("INSERT INTO t VALUES (6)");
  EXPECT_TRUE(db_->CopyIn("COPY t (id) FROM STDIN", "7\n", &e)) << e.message;
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 6);

  // A failure nobody waited for is dropped; the connection goes on.
  db_->SendWithoutWaiting("SELECT 1/0");
  EXPECT_EQ(db_->txn_state(), TxnState::kIdle);
  EXPECT_EQ(Int(*db_, "SELECT count(*) FROM t"), 6);
}

}  // namespace
}  // namespace wfp::host::pg
