// Helpers for the host runtime tests: test plugin paths, a fake store table that tracks
// transactions, and a Host wired to both with a fixed clock and a captured log.
#ifndef WFP_TESTS_HOST_TEST_SUPPORT_H_
#define WFP_TESTS_HOST_TEST_SUPPORT_H_

#include <gtest/gtest.h>
#include <wfp/plugin_abi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/host.h"
#include "status_assert.h"

namespace wfp::host::testing {

// A Status for EXPECT_TRUE/ASSERT_TRUE (tests/common/status_assert.h).
using test_common::IsOk;

inline std::string PluginPath(const std::string& name) {
  return std::string(WFP_TEST_PLUGIN_DIR) + "/libwfp_tp_" + name + ".so";
}

// Counters of the fake store (one set per process: the table is static).
struct FakeStoreStats {
  std::atomic<int> begins{0};
  std::atomic<int> rollbacks{0};
  std::atomic<int> commits{0};
  std::atomic<int> connections{0};
};
FakeStoreStats& Stats();
const wfp_store_api* FakeStore();

// A log that tests can search.
class CapturedLog {
 public:
  void Add(std::string_view line) {
    std::lock_guard lock(mu_);
    lines_.emplace_back(line);
  }
  bool Contains(std::string_view needle) const {
    std::lock_guard lock(mu_);
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
  // How many lines contain `needle`.
  int Count(std::string_view needle) const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& l : lines_) n += l.find(needle) != std::string::npos;
    return n;
  }
  // The first line containing `needle` (empty when none does).
  std::string Line(std::string_view needle) const {
    std::lock_guard lock(mu_);
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return l;
    return "";
  }
  std::string All() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// Keys: "k1" -> site 1, "k2" -> site 2. Clock fixed at 2024-01-12T03:00:00Z.
inline constexpr int64_t kFixedNowMicros = 1705028400LL * 1000000;
HostOptions TestOptions(CapturedLog* log);

HttpRequest Get(std::string target, std::string key = "k1");
HttpRequest Post(std::string target, std::string body, std::string key = "k1");

}  // namespace wfp::host::testing

#endif  // WFP_TESTS_HOST_TEST_SUPPORT_H_
