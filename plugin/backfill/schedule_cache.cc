#include "backfill/schedule_cache.h"

#include <boost/json/parse.hpp>
#include <utility>

#include "wfp_text/strict_json.h"

namespace wfp::backfill {
namespace {

// The zone first, then a separator no zone name contains, then the definition.
std::string KeyOf(std::string_view definition_json, std::string_view timezone) {
  std::string key;
  key.reserve(timezone.size() + 1 + definition_json.size());
  key.append(timezone);
  key.push_back('\n');
  key.append(definition_json);
  return key;
}

}  // namespace

ScheduleCache::Result ScheduleCache::Get(std::string_view definition_json,
                                         std::string_view timezone) {
  std::string key = KeyOf(definition_json, timezone);
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  }
  // Compiled outside the lock: two requests may compile the same definition once each at first.
  boost::json::value definition;  // strict: a key given twice is not a definition
  if (!text::ParseStrictJson(definition_json, &definition, nullptr)) return NotJson{};
  auto compiled = schedule::Schedule::Parse(definition, timezone);
  if (auto* e = std::get_if<schedule::ParseError>(&compiled)) return std::move(*e);
  auto shared =
      std::make_shared<const schedule::Schedule>(std::move(std::get<schedule::Schedule>(compiled)));
  std::lock_guard lock(mu_);
  ++compiles_;
  if (entries_.size() >= capacity_) entries_.clear();
  entries_.emplace(std::move(key), shared);
  return shared;
}

size_t ScheduleCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

size_t ScheduleCache::compiles() const {
  std::lock_guard lock(mu_);
  return compiles_;
}

}  // namespace wfp::backfill
