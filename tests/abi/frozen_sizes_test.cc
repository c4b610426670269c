// wfp-plugin-check hands a plugin tables of exactly a minor's size and insists on the 1.0 sizes of
// what a plugin hands back; those sizes (tools/plugin_check/minor_sizes.h) must be the sizeof of
// each struct in the header as that minor froze it (tests/abi/frozen/1.<m>), or the checker would
// test against a layout that never shipped. WFP_FROZEN_LIST (frozen_list.h, written by CMake) names
// one WFP_FROZEN(minor) per frozen header.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>

#include "frozen_list.h"  // WFP_FROZEN_LIST, written by CMake
#include "plugin_check/minor_sizes.h"

#define WFP_FROZEN(m) extern "C" const size_t wfp_frozen_sizes_1_##m[13];
WFP_FROZEN_LIST
#undef WFP_FROZEN

namespace {

using wfp::plugin_check::kMinors;
using wfp::plugin_check::kMinorSizes;

std::array<size_t, 13> CheckerSizes(int minor) {
  const auto& s = kMinorSizes;
  return {s.host_api[minor],         s.store_api[minor],   s.request[minor],
          s.response[minor],         s.route[minor],       s.schedule_info[minor],
          s.session_info[minor],     s.new_session[minor], s.new_attempt[minor],
          s.schedule_pointer[minor], s.plugin_v1[minor],   s.metric_desc[minor],
          s.session_window[minor]};
}

TEST(FrozenSizes, TheCheckersSizesAreTheFrozenHeaders) {
  int frozen = 0;
  auto compare = [&](int minor, const size_t* sizes) {
    ++frozen;
    ASSERT_LT(minor, kMinors) << "a frozen header newer than the header";
    const auto mine = CheckerSizes(minor);
    for (size_t i = 0; i < mine.size(); ++i)
      EXPECT_EQ(mine[i], sizes[i]) << "struct #" << i << " at minor " << minor;
  };
#define WFP_FROZEN(m) compare(m, wfp_frozen_sizes_1_##m);
  WFP_FROZEN_LIST
#undef WFP_FROZEN
  EXPECT_EQ(frozen, kMinors) << "one frozen header per minor, 1.0 to the current one";
}

}  // namespace
