// The fixture of the libpq layer's tests against a server (pg_layer_test.cc, pg_pipeline_test.cc):
// each test works in a schema of its own (t_<unique>, dropped at the end) of the cluster at
// WFP_TEST_POSTGRES_URL, and is skipped without it.
#ifndef WFP_TESTS_STORE_PG_LAYER_FIXTURE_H_
#define WFP_TESTS_STORE_PG_LAYER_FIXTURE_H_

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "status_assert.h"
#include "store/pg/pg.h"

namespace wfp::host::pg {

using test_common::IsOk;

inline std::string UniqueSchema() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return fmt::format("t_{}_{}_{:08x}", getpid(), counter++, rd());
}

// `url` with its search_path set to `schema` (the URL is a URI).
inline std::string WithSearchPath(const std::string& url, const std::string& schema) {
  return fmt::format("{}{}options=-csearch_path%3D{}", url,
                     url.find('?') == std::string::npos ? '?' : '&', schema);
}

class PgLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("WFP_TEST_POSTGRES_URL");
    if (!base || !*base) GTEST_SKIP() << "WFP_TEST_POSTGRES_URL is not set";
    base_url_ = base;
    Error e;
    admin_ = Connection::Open(base_url_, &e);
    ASSERT_NE(admin_, nullptr) << e.message;
    ASSERT_TRUE(admin_->SetLockTimeout(std::chrono::milliseconds(20000), &e)) << e.message;
    schema_ = NewSchema();
    ASSERT_FALSE(schema_.empty());
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
  }

  void TearDown() override {
    db_.reset();
    Error e;
    for (const std::string& schema : schemas_) {
      EXPECT_TRUE(admin_->Exec(fmt::format("DROP SCHEMA {} CASCADE", schema), &e)) << e.message;
    }
  }

  // A fresh schema, dropped at the end of the test.
  std::string NewSchema() {
    std::string schema = UniqueSchema();
    Error e;
    if (!admin_->Exec(fmt::format("CREATE SCHEMA {}", schema), &e)) {
      ADD_FAILURE() << e.message;
      return "";
    }
    schemas_.push_back(schema);
    return schema;
  }

  // A connection working in `schema` (the test's by default).
  std::unique_ptr<Connection> Connect(const std::string& schema = "") {
    Error e;
    auto c = Connection::Open(WithSearchPath(base_url_, schema.empty() ? schema_ : schema), &e);
    EXPECT_NE(c, nullptr) << e.message;
    return c;
  }

  void Run(Connection& c, const std::string& sql) {
    Error e;
    ASSERT_TRUE(c.Exec(sql, &e)) << sql << ": " << e.message;
  }

  Result Must(Connection& c, const char* sql, std::initializer_list<Param> params = {}) {
    Error e;
    std::optional<Result> r = c.Query(sql, params, &e);
    EXPECT_TRUE(r.has_value()) << sql << ": " << e.message;
    return r ? std::move(*r) : Result();
  }

  int64_t Int(Connection& c, const char* sql, std::initializer_list<Param> params = {}) {
    Error e;
    std::optional<int64_t> v = c.QueryInt(sql, params, &e);
    EXPECT_TRUE(v.has_value()) << sql << ": " << e.message;
    return v.value_or(-1);
  }

  // The error of a query expected to fail.
  Error Fails(Connection& c, const char* sql, std::initializer_list<Param> params = {}) {
    Error e;
    EXPECT_FALSE(c.Query(sql, params, &e).has_value()) << sql;
    return e;
  }

  void Migrated(Connection& c) { ASSERT_TRUE(IsOk(Migrate(c, kPgSchemaVersion))); }

  std::string base_url_;
  std::unique_ptr<Connection> admin_;
  std::string schema_;
  std::vector<std::string> schemas_;
  std::unique_ptr<Connection> db_;
};

}  // namespace wfp::host::pg

#endif  // WFP_TESTS_STORE_PG_LAYER_FIXTURE_H_
