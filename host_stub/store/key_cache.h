// Remembers, for a short time, which site an API key belongs to, so that a client sending many
// requests is authenticated without a store round trip each time. Only keys found are remembered
// (an unknown key is looked up every time, so that guessing cannot fill the cache), and only by the
// key's SHA-256 (no key is held in clear). A key removed from the store keeps working for at most
// `ttl` (kDefaultTtl, 2 s) in a host that saw it just before. Bounded: past `capacity` keys the
// cache starts over. Thread-safe.
#ifndef WFP_HOST_STUB_STORE_KEY_CACHE_H_
#define WFP_HOST_STUB_STORE_KEY_CACHE_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>

#include "store/store.h"

namespace wfp::host {

class KeyCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kDefaultTtl{2000};

  // `lookup`: the store's lookup (Store::LookUpApiKey). `now`: the clock (tests fix it).
  explicit KeyCache(std::function<Store::KeyLookup(std::string_view)> lookup,
                    std::chrono::milliseconds ttl = kDefaultTtl, size_t capacity = 4096,
                    std::function<Clock::time_point()> now = Clock::now);

  Store::KeyLookup LookUp(std::string_view key);

 private:
  struct Entry {
    int64_t site = 0;
    Clock::time_point expires;
  };
  std::function<Store::KeyLookup(std::string_view)> lookup_;
  const std::chrono::milliseconds ttl_;
  const size_t capacity_;
  std::function<Clock::time_point()> now_;
  std::mutex mu_;
  std::map<std::array<unsigned char, 32>, Entry> entries_;
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_STORE_KEY_CACHE_H_
