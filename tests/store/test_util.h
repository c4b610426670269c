// Helpers of the store tests: JSON literals, an independent UTC normaliser for time strings, a
// temporary directory, and a wfp_call bound to a store connection. Header-only, test code only.
#ifndef WFP_TESTS_STORE_TEST_UTIL_H_
#define WFP_TESTS_STORE_TEST_UTIL_H_

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <string>

#include "call.h"
#include "store/store.h"

namespace wfp::host::testing_util {

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

// One handler call bound to its own connection of `store`.
struct Call {
  explicit Call(Store& store) {
    std::string error;
    connection = store.Connect(&error);
    EXPECT_TRUE(connection) << error;
    call.store = connection.get();
  }
  ~Call() {
    if (call.open_txn) StoreApi()->rollback(call.open_txn);
  }
  std::unique_ptr<StoreConnection> connection;
  wfp_call call;
};

inline wfp_str S(std::string_view s) { return wfp_str{s.data(), s.size()}; }
inline std::string_view V(wfp_str s) { return s.data ? std::string_view(s.data, s.size) : ""; }

}  // namespace wfp::host::testing_util

#endif  // WFP_TESTS_STORE_TEST_UTIL_H_
