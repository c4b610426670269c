#include "backfill/planner.h"

#include <fmt/format.h>

#include <algorithm>

#include "backfill/time_format.h"

namespace wfp::backfill {
namespace {

// FNV-1a, 64 bits: stable across builds and hosts, which std::hash is not.
class PlanHash {
 public:
  void Add(int64_t v) {
    for (int i = 0; i < 8; ++i) {
      h_ ^= static_cast<uint64_t>(v >> (8 * i)) & 0xFF;
      h_ *= 0x100000001b3ULL;
    }
  }
  std::string Quoted() const { return fmt::format("\"{:016x}\"", h_); }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

void AppendParamsJson(const schedule::Schedule& schedule, const PlannedItem& item,
                      std::string* out) {
  fmt::format_to(std::back_inserter(*out), R"({{"last_session_time":"{}","next_session_time":"{}")",
                 schedule.FormatLocal(schedule.Last(item.session_time)),
                 schedule.FormatLocal(schedule.Step(item.session_time)));
  if (item.last_executed != kNoSession)
    fmt::format_to(std::back_inserter(*out), R"(,"last_executed_session_time":"{}")",
                   schedule.FormatLocal(item.last_executed));
  *out += '}';
}

std::string ParamsJson(const schedule::Schedule& schedule, const PlannedItem& item) {
  std::string out;
  AppendParamsJson(schedule, item, &out);
  return out;
}

std::variant<std::vector<Instant>, Refusal> EnumerateCandidates(const schedule::Schedule& schedule,
                                                                const BackfillRequest& request,
                                                                const SchedulePointer& pointer,
                                                                Instant now,
                                                                uint64_t max_sessions) {
  Instant s;
  if (request.from_time)
    s = schedule.First(request.from_time->seconds, request.from_time->has_fraction);
  else
    s = schedule.First(pointer.next_run_time, false);  // advance mode without fromTime
  const bool advance = request.advance_schedule;
  auto in_range = [&](Instant t) {
    if (t == schedule::kEndMarker) return false;
    return advance ? schedule.RunTime(t) <= now : t < pointer.next_schedule_time;
  };
  const uint64_t want = request.count.value_or(UINT64_MAX);
  std::vector<Instant> out;
  out.reserve(static_cast<size_t>(std::min<uint64_t>({want, max_sessions + 1, 1u << 16})));
  while (out.size() < want && in_range(s)) {
    if (out.size() == max_sessions) {
      return Refusal{Refusal::kInvalid,
                     fmt::format("this backfill would create more than {} sessions (from {} on); "
                                 "set count, or a later fromTime, to backfill at most {} at once",
                                 max_sessions, FormatUtc(out.front()), max_sessions)};
    }
    out.push_back(s);
    s = schedule.Step(s);
  }
  if (request.count && out.size() < *request.count) {
    return Refusal{
        Refusal::kInvalid,
        fmt::format("count is set to {} but there are only {} attempts until {}", *request.count,
                    out.size(), advance ? "now" : "the next schedule time")};
  }
  return out;
}

std::variant<Plan, Refusal> BuildPlan(const schedule::Schedule& schedule,
                                      const PlanContext& context, const BackfillRequest& request,
                                      const std::vector<Instant>& candidates,
                                      const std::vector<ExistingSession>& existing,
                                      std::optional<Instant> latest_before) {
  Plan plan;
  plan.items.reserve(candidates.size());
  size_t e = 0;  // existing[e] is the first existing session not before the current candidate
  std::optional<Instant> previous =
      latest_before;  // the latest session before the current candidate
  bool first_created = true;
  for (const Instant t : candidates) {
    const ExistingSession* session = nullptr;
    while (e < existing.size() && existing[e].session_time < t)
      previous = existing[e++].session_time;
    if (e < existing.size() && existing[e].session_time == t) session = &existing[e];

    PlannedItem item;
    item.session_time = t;
    if (session) item.session_id = session->id;
    if (session && request.skip_existing && !session->attempts.empty()) {
      item.action = Action::kSkip;
    } else {
      int32_t highest = 0;
      if (session) {
        for (const ExistingAttempt& a : session->attempts) {
          if (a.name == request.attempt_name) {
            return Refusal{Refusal::kConflict,
                           fmt::format("Attempt of project id={} workflow={} instant={} "
                                       "attempt name={} already exists",
                                       context.project_id, context.workflow_name, FormatUtc(t),
                                       request.attempt_name.value_or(""))};
          }
          highest = std::max(highest, a.index);
        }
      }
      item.action = session ? Action::kReuseSession : Action::kCreateSession;
      if (session) plan.reused_uuids.push_back(session->uuid);
      item.index = highest + 1;
      item.blocked = !first_created;
      first_created = false;
      item.last_executed = previous.value_or(kNoSession);
    }
    plan.items.push_back(std::move(item));
    previous = t;  // after this request every candidate exists
  }

  plan.pointer_after = context.pointer;
  if (request.advance_schedule && !candidates.empty()) {
    const Instant next = schedule.Step(candidates.back());
    if (next > context.pointer.next_schedule_time) {
      plan.pointer_after = {next, schedule.RunTime(next), candidates.back()};
      plan.pointer_moves = true;
    }
  }

  PlanHash hash;
  for (const PlannedItem& item : plan.items) {
    hash.Add(item.session_time);
    hash.Add(static_cast<int64_t>(item.action));
    hash.Add(item.session_id);
    hash.Add(item.index);
  }
  hash.Add(plan.pointer_after.next_schedule_time);
  hash.Add(plan.pointer_after.next_run_time);
  hash.Add(plan.pointer_after.last_session_time.value_or(INT64_MIN));
  plan.etag = hash.Quoted();
  return plan;
}

}  // namespace wfp::backfill
