// A check for readers of text that must not read past the end of what they are given.
#ifndef WFP_TESTS_HOST_TRUNCATION_H_
#define WFP_TESTS_HOST_TRUNCATION_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace wfp::host::testing {

// `parse` (text -> something with has_value()) takes `good` and refuses every proper prefix of it.
// Each prefix sits in a heap block of exactly its length, so a read one past it is a heap overflow
// under ASan (the sanitizer run of the suites).
template <typename Parse>
void ExpectEveryPrefixRefused(Parse parse, const std::string& good) {
  ASSERT_TRUE(parse(good).has_value()) << good;
  for (size_t n = 0; n < good.size(); ++n) {
    std::unique_ptr<char[]> block(new char[n]);
    std::copy_n(good.data(), n, block.get());
    const std::string_view prefix(block.get(), n);
    EXPECT_FALSE(parse(prefix).has_value()) << prefix;
  }
}

}  // namespace wfp::host::testing

#endif  // WFP_TESTS_HOST_TRUNCATION_H_
