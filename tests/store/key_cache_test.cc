// KeyCache: a key found is remembered for its TTL (no store lookup), an unknown key or a failed
// lookup never is, and the cache is bounded.
#include "store/key_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace wfp::host {
namespace {

// The site a lookup found; nullopt when it found none or failed.
std::optional<int64_t> SiteOf(const Store::KeyLookup& found) {
  return found.ok() ? *found : std::nullopt;
}

class KeyCacheTest : public ::testing::Test {
 protected:
  KeyCacheTest()
      : cache_(
            [this](std::string_view key) {
              ++lookups_;
              if (fail_) return Store::KeyLookup(Status::Busy("the store is busy"));
              if (key == "k1") return Store::KeyLookup(1);
              if (key.rfind("site", 0) == 0) return Store::KeyLookup(42);
              return Store::KeyLookup(std::nullopt);
            },
            std::chrono::milliseconds(2000), 8, [this] { return now_; }) {}

  int lookups_ = 0;
  bool fail_ = false;
  KeyCache::Clock::time_point now_{};
  KeyCache cache_;
};

TEST_F(KeyCacheTest, AKeyFoundIsRememberedForItsTtl) {
  EXPECT_EQ(SiteOf(cache_.LookUp("k1")), 1);
  now_ += std::chrono::milliseconds(1999);
  EXPECT_EQ(SiteOf(cache_.LookUp("k1")), 1);
  EXPECT_EQ(lookups_, 1);
  fail_ = true;  // the store goes away; the key stays good until its TTL is over
  EXPECT_EQ(SiteOf(cache_.LookUp("k1")), 1);
  now_ += std::chrono::milliseconds(1);
  const Store::KeyLookup after = cache_.LookUp("k1");
  EXPECT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), WFP_ERR_BUSY);
  EXPECT_EQ(lookups_, 2);
}

TEST_F(KeyCacheTest, UnknownKeysAndFailedLookupsAreNeverRemembered) {
  EXPECT_EQ(SiteOf(cache_.LookUp("nope")), std::nullopt);
  EXPECT_EQ(SiteOf(cache_.LookUp("nope")), std::nullopt);
  fail_ = true;
  EXPECT_FALSE(cache_.LookUp("k1").ok());
  fail_ = false;
  EXPECT_EQ(SiteOf(cache_.LookUp("k1")), 1);
  EXPECT_EQ(lookups_, 4);
}

TEST_F(KeyCacheTest, IsBoundedAndStillRight) {
  for (int i = 0; i < 20; ++i) EXPECT_EQ(SiteOf(cache_.LookUp("site" + std::to_string(i))), 42);
  EXPECT_EQ(SiteOf(cache_.LookUp("k1")), 1);
  EXPECT_EQ(SiteOf(cache_.LookUp("k1")), 1);
  EXPECT_EQ(lookups_, 21);
}

}  // namespace
}  // namespace wfp::host
