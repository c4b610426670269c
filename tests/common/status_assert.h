// The tests' assertion on the host side's Status (host_stub/common/status.h), one definition for
// every suite: the host's (tests/host/test_support.h) and the store's (tests/store/test_util.h)
// bring it into their namespaces. Header-only, test code only.
#ifndef WFP_TESTS_COMMON_STATUS_ASSERT_H_
#define WFP_TESTS_COMMON_STATUS_ASSERT_H_

#include <gtest/gtest.h>

#include "common/status.h"

namespace wfp::host::test_common {

// A Status for EXPECT_TRUE/ASSERT_TRUE: a failure shows its message.
inline ::testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.message();
}

}  // namespace wfp::host::test_common

#endif  // WFP_TESTS_COMMON_STATUS_ASSERT_H_
