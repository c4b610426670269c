// KeyCache: a key found is remembered for its TTL (no store lookup), an unknown key or a failed
// lookup never is, and the cache is bounded.
#include "store/key_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace wfp::host {
namespace {

class KeyCacheTest : public ::testing::Test {
 protected:
  KeyCacheTest()
      : cache_(
            [this](std::string_view key) {
              ++lookups_;
              if (fail_) return Store::KeyLookup{std::nullopt, true};
              if (key == "k1") return Store::KeyLookup{1, false};
              if (key.rfind("site", 0) == 0) return Store::KeyLookup{42, false};
              return Store::KeyLookup{};
            },
            std::chrono::milliseconds(2000), 8, [this] { return now_; }) {}

  int lookups_ = 0;
  bool fail_ = false;
  KeyCache::Clock::time_point now_{};
  KeyCache cache_;
};

TEST_F(KeyCacheTest, AKeyFoundIsRememberedForItsTtl) {
  EXPECT_EQ(cache_.LookUp("k1").site, 1);
  now_ += std::chrono::milliseconds(1999);
  EXPECT_EQ(cache_.LookUp("k1").site, 1);
  EXPECT_EQ(lookups_, 1);
  fail_ = true;  // the store goes away; the key stays good until its TTL is over
  EXPECT_EQ(cache_.LookUp("k1").site, 1);
  now_ += std::chrono::milliseconds(1);
  const Store::KeyLookup after = cache_.LookUp("k1");
  EXPECT_FALSE(after.site);
  EXPECT_TRUE(after.failed);
  EXPECT_EQ(lookups_, 2);
}

TEST_F(KeyCacheTest, UnknownKeysAndFailedLookupsAreNeverRemembered) {
  EXPECT_FALSE(cache_.LookUp("nope").site);
  EXPECT_FALSE(cache_.LookUp("nope").site);
  fail_ = true;
  EXPECT_TRUE(cache_.LookUp("k1").failed);
  fail_ = false;
  EXPECT_EQ(cache_.LookUp("k1").site, 1);
  EXPECT_EQ(lookups_, 4);
}

TEST_F(KeyCacheTest, IsBoundedAndStillRight) {
  for (int i = 0; i < 20; ++i) EXPECT_EQ(cache_.LookUp("site" + std::to_string(i)).site, 42);
  EXPECT_EQ(cache_.LookUp("k1").site, 1);
  EXPECT_EQ(cache_.LookUp("k1").site, 1);
  EXPECT_EQ(lookups_, 21);
}

}  // namespace
}  // namespace wfp::host
