// Helpers of the store tests: JSON literals, an independent UTC normaliser for time strings, a
// temporary directory, the backends the suites run on with a fresh store of each (a file,
// ":memory:" or a PostgreSQL schema of its own), and a wfp_call bound to a store connection.
// Header-only, test code only.
//
// PostgreSQL: the suites read the libpq URL of a server from WFP_TEST_POSTGRES_URL (CTest sets it
// for the tests that require the fixture `wfp_postgres`: cmake/postgres_tests.cmake); without it,
// or in a build without the PostgreSQL store (WFP_TEST_HAVE_POSTGRES unset), the PostgreSQL cases
// skip. Each store is a schema of its own (s_<pid>_<n>_<random>, dropped at the end), so that tests
// run in parallel on one cluster.
#ifndef WFP_TESTS_STORE_TEST_UTIL_H_
#define WFP_TESTS_STORE_TEST_UTIL_H_

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <string>

#include "call.h"
#include "common/status.h"
#include "status_assert.h"
#include "store/store.h"
#ifdef WFP_TEST_HAVE_POSTGRES
#include "store/pg/pg.h"
#endif

namespace wfp::host::testing_util {

// A Status for EXPECT_TRUE/ASSERT_TRUE (tests/common/status_assert.h).
using test_common::IsOk;

inline boost::json::value J(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << "bad JSON in a test: " << text;
  return v;
}

// "2012-08-28T00:00:00+12:45" -> "2012-08-27T11:15:00Z", with std::chrono's calendar (not cctz,
// which the store uses).
inline std::string ToUtcZ(const std::string& t) {
  using namespace std::chrono;
  const int y = std::stoi(t.substr(0, 4)), mo = std::stoi(t.substr(5, 2)),
            d = std::stoi(t.substr(8, 2)), h = std::stoi(t.substr(11, 2)),
            mi = std::stoi(t.substr(14, 2)), s = std::stoi(t.substr(17, 2));
  size_t zone = t.find_first_of("Z+-", 19);
  int offset_minutes = 0;
  if (t[zone] != 'Z') {
    offset_minutes = std::stoi(t.substr(zone + 1, 2)) * 60 + std::stoi(t.substr(zone + 4, 2));
    if (t[zone] == '-') offset_minutes = -offset_minutes;
  }
  sys_seconds tp = sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s) -
                   minutes(offset_minutes);
  const sys_days day_point = floor<days>(tp);
  const year_month_day ymd(day_point);
  const hh_mm_ss hms(tp - day_point);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

// A fresh directory under the system's temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "wfp-store-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ---- the backends ------------------------------------------------------------------------------

// The stores the suites run on. Test names carry BackendName(): CTest runs the "Postgres" ones with
// the PostgreSQL fixture (tests/store/CMakeLists.txt), so no SQLite case may have "Postgres" in its
// name.
enum class Backend { kFile, kMemory, kPostgres };

inline const char* BackendName(Backend backend) {
  switch (backend) {
    case Backend::kFile:
      return "File";
    case Backend::kMemory:
      return "Memory";
    case Backend::kPostgres:
      return "Postgres";
  }
  return "?";
}
inline void PrintTo(Backend backend, std::ostream* os) { *os << BackendName(backend); }
inline std::ostream& operator<<(std::ostream& os, Backend backend) {
  return os << BackendName(backend);
}

// The name generator of suites parameterised by a Backend alone.
struct BackendParamName {
  std::string operator()(const ::testing::TestParamInfo<Backend>& info) const {
    return BackendName(info.param);
  }
};

// The libpq URL of the tests' PostgreSQL server; empty when there is none.
inline std::string PostgresUrl() {
  const char* url = std::getenv("WFP_TEST_POSTGRES_URL");
  return url ? url : "";
}

// Why `backend` cannot run here (empty when it can): use as
//   if (std::string why = Unavailable(b); !why.empty()) GTEST_SKIP() << why;
inline std::string Unavailable(Backend backend) {
  if (backend != Backend::kPostgres) return "";
#ifdef WFP_TEST_HAVE_POSTGRES
  if (PostgresUrl().empty()) return "WFP_TEST_POSTGRES_URL is not set";
  return "";
#else
  return "built without the PostgreSQL store";
#endif
}

// `url` (a libpq URI) with its search_path set to `schema`.
inline std::string WithSearchPath(const std::string& url, const std::string& schema) {
  return fmt::format("{}{}options=-csearch_path%3D{}", url,
                     url.find('?') == std::string::npos ? '?' : '&', schema);
}

#ifdef WFP_TEST_HAVE_POSTGRES
// A schema of its own on the tests' server, dropped with everything in it at the end (unless
// WFP_TEST_KEEP_SCHEMAS=1, to look at it afterwards). url() opens a store in it.
class PgTestSchema {
 public:
  PgTestSchema() {
    static std::atomic<int> counter{0};
    name_ = fmt::format("s_{}_{}_{:08x}", getpid(), counter++, std::random_device()());
    pg::Error e;
    admin_ = pg::Connection::Open(PostgresUrl(), &e);
    if (!admin_) {
      ADD_FAILURE() << "cannot connect to the tests' PostgreSQL server: " << e.message;
      return;
    }
    // Never wait forever for a lock at the end: a test that leaked one fails instead.
    if (!admin_->SetLockTimeout(std::chrono::seconds(20), &e) ||
        !admin_->Exec(fmt::format("CREATE SCHEMA \"{}\"", name_), &e)) {
      ADD_FAILURE() << "cannot create the schema " << name_ << ": " << e.message;
      admin_.reset();
      return;
    }
    url_ = WithSearchPath(PostgresUrl(), name_);
  }
  ~PgTestSchema() {
    const char* keep = std::getenv("WFP_TEST_KEEP_SCHEMAS");
    if (!admin_ || (keep && std::string(keep) == "1")) return;
    pg::Error e;
    EXPECT_TRUE(admin_->Exec(fmt::format("DROP SCHEMA \"{}\" CASCADE", name_), &e))
        << "dropping " << name_ << ": " << e.message;
  }
  PgTestSchema(const PgTestSchema&) = delete;
  PgTestSchema& operator=(const PgTestSchema&) = delete;

  // Empty when the schema could not be made (the test has failed).
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string url_;
  std::unique_ptr<pg::Connection> admin_;
};
#endif

// A fresh, empty store of one backend: a file in a temporary directory, ":memory:", or a schema of
// its own on the tests' PostgreSQL server. Check Unavailable(backend) first (and skip). The store
// is closed before its folder or schema goes.
class FreshStore {
 public:
  explicit FreshStore(Backend backend, const StoreOptions& options = {})
      : backend_(backend), options_(options) {
    switch (backend) {
      case Backend::kFile:
        dir_ = std::make_unique<TempDir>();
        location_ = dir_->File("store.db");
        break;
      case Backend::kMemory:
        location_ = ":memory:";
        break;
      case Backend::kPostgres:
#ifdef WFP_TEST_HAVE_POSTGRES
        schema_ = std::make_unique<PgTestSchema>();
        location_ = schema_->url();
#endif
        break;
    }
    if (location_.empty()) {
      ADD_FAILURE() << "no " << BackendName(backend) << " store here";
      return;
    }
    Result<std::unique_ptr<Store>> opened = Store::Open(location_, options_);
    EXPECT_TRUE(opened.ok()) << BackendName(backend) << " store: " << opened.status().message();
    if (opened.ok()) store_ = std::move(*opened);
  }
  ~FreshStore() { store_.reset(); }
  FreshStore(const FreshStore&) = delete;
  FreshStore& operator=(const FreshStore&) = delete;

  Backend backend() const { return backend_; }
  // The location Store::Open was given: a path, ":memory:" or a URL (another Store may open it).
  const std::string& location() const { return location_; }
  // The store; null when opening failed (the test has failed) or after reset().
  Store* get() const { return store_.get(); }
  Store& operator*() const { return *store_; }
  Store* operator->() const { return store_.get(); }
  explicit operator bool() const { return store_ != nullptr; }
  // Closes the store; its file or schema stays until this object goes.
  void reset() { store_.reset(); }
  // Closes the store and opens its location again.
  Status Reopen() {
    store_.reset();
    Result<std::unique_ptr<Store>> opened = Store::Open(location_, options_);
    if (!opened.ok()) return opened.status();
    store_ = std::move(*opened);
    return Status::Ok();
  }

 private:
  Backend backend_;
  StoreOptions options_;
  std::unique_ptr<TempDir> dir_;
#ifdef WFP_TEST_HAVE_POSTGRES
  std::unique_ptr<PgTestSchema> schema_;
#endif
  std::string location_;
  std::unique_ptr<Store> store_;
};

// One handler call bound to its own connection of `store`.
struct Call {
  explicit Call(Store& store) {
    Result<std::unique_ptr<StoreConnection>> connected = store.Connect();
    EXPECT_TRUE(IsOk(connected.status()));
    if (connected.ok()) connection = std::move(*connected);
    call.store.connection = connection.get();
  }
  ~Call() {
    if (call.store.open_txn) StoreApi()->rollback(call.store.open_txn);
  }
  std::unique_ptr<StoreConnection> connection;
  wfp_call call;
};

inline wfp_str S(std::string_view s) { return wfp_str{s.data(), s.size()}; }
inline std::string_view V(wfp_str s) { return s.data ? std::string_view(s.data, s.size) : ""; }

// Write faults for a store (StoreOptions::write_faults): after FailAt(k), the k-th write operation
// of the store (create_sessions, create_attempts, move_schedule_pointer, commit), counted from that
// call, fails; FailAt(0) fails none.
class FailAtWrite final : public WriteFaults {
 public:
  void FailAt(int k) {
    count_ = 0;
    fail_at_ = k;
  }
  bool FailWrite(std::string_view) override {
    const int k = fail_at_.load();
    return k > 0 && count_.fetch_add(1) + 1 == k;
  }

 private:
  std::atomic<int> fail_at_{0};
  std::atomic<int> count_{0};
};

}  // namespace wfp::host::testing_util

#endif  // WFP_TESTS_STORE_TEST_UTIL_H_
