#include "store/key_cache.h"

#include <utility>

#include "store/internal.h"

namespace wfp::host {

KeyCache::KeyCache(std::function<Store::KeyLookup(std::string_view)> lookup,
                   std::chrono::milliseconds ttl, size_t capacity,
                   std::function<Clock::time_point()> now)
    : lookup_(std::move(lookup)), ttl_(ttl), capacity_(capacity), now_(std::move(now)) {}

Store::KeyLookup KeyCache::LookUp(std::string_view key) {
  const auto hash = store_internal::HashApiKey(key);
  const Clock::time_point now = now_();
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(hash); it != entries_.end()) {
      if (now < it->second.expires) return Store::KeyLookup(it->second.site);
      entries_.erase(it);
    }
  }
  Store::KeyLookup found = lookup_(key);
  if (!found.ok() || !*found) return found;  // failed or unknown: never remembered
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_) entries_.clear();
  entries_[hash] = Entry{**found, now + ttl_};
  return found;
}

}  // namespace wfp::host
