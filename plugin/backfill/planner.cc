#include "backfill/planner.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>

#include "backfill/time_format.h"

namespace wfp::backfill {
namespace {

// FNV-1a, 64 bits: stable across builds and hosts, which std::hash is not. Works on a state kept
// elsewhere (PlanBuilder's, across batches).
inline constexpr uint64_t kHashStart = 0xcbf29ce484222325ULL;
class PlanHash {
 public:
  explicit PlanHash(uint64_t* h) : h_(*h) {}
  void Add(int64_t v) {
    for (int i = 0; i < 8; ++i) {
      h_ ^= static_cast<uint64_t>(v >> (8 * i)) & 0xFF;
      h_ *= 0x100000001b3ULL;
    }
  }
  // The hash as 16 hex digits in quotes, by hand (fmt showed in a count:1 dry run's profile).
  std::string Quoted() const {
    std::string q(18, '"');
    for (int i = 0; i < 16; ++i)
      q[static_cast<size_t>(16 - i)] = "0123456789abcdef"[(h_ >> (4 * i)) & 0xF];
    return q;
  }

 private:
  uint64_t& h_;
};

}  // namespace

void AppendParamsJson(const schedule::Schedule& schedule, const PlannedItem& item,
                      std::string* out) {
  fmt::format_to(std::back_inserter(*out),
                 FMT_COMPILE(R"({{"last_session_time":"{}","next_session_time":"{}")"),
                 schedule.FormatLocal(schedule.Last(item.session_time)),
                 schedule.FormatLocal(schedule.Step(item.session_time)));
  if (item.last_executed != kNoSession)
    fmt::format_to(std::back_inserter(*out), FMT_COMPILE(R"(,"last_executed_session_time":"{}")"),
                   schedule.FormatLocal(item.last_executed));
  *out += '}';
}

std::string ParamsJson(const schedule::Schedule& schedule, const PlannedItem& item) {
  std::string out;
  AppendParamsJson(schedule, item, &out);
  return out;
}

CandidateCursor::CandidateCursor(const schedule::Schedule& schedule, const BackfillRequest& request,
                                 const SchedulePointer& pointer, Instant now, uint64_t max_sessions)
    : schedule_(schedule),
      pointer_next_(pointer.next_schedule_time),
      now_(now),
      advance_(request.advance_schedule),
      count_(request.count),
      want_(request.count.value_or(UINT64_MAX)),
      max_sessions_(max_sessions) {
  if (request.from_time)
    s_ = schedule.First(request.from_time->seconds, request.from_time->has_fraction);
  else
    s_ = schedule.First(pointer.next_run_time, false);  // advance mode without fromTime
  first_ = s_;
  done_ = !(handed_ < want_ && InRange(s_));
}

bool CandidateCursor::InRange(Instant t) const {
  if (t == schedule::kEndMarker) return false;
  return advance_ ? schedule_.RunTime(t) <= now_ : t < pointer_next_;
}

void CandidateCursor::Advance() {
  ++handed_;
  s_ = schedule_.Step(s_);
  done_ = !(handed_ < want_ && InRange(s_));
}

std::optional<Refusal> CandidateCursor::Next(size_t n, std::vector<Instant>* out) {
  out->clear();
  while (!done_ && out->size() < n) {
    if (handed_ == max_sessions_) {
      return Refusal{Refusal::kInvalid,
                     fmt::format("this backfill has more than {} candidate sessions (from {} on); "
                                 "set count, or a later fromTime, to backfill at most {} at once",
                                 max_sessions_, FormatUtc(first_), max_sessions_)};
    }
    out->push_back(s_);
    Advance();
  }
  if (done_ && count_ && handed_ < *count_) {
    return Refusal{Refusal::kInvalid,
                   fmt::format("count is set to {} but there are only {} attempts until {}",
                               *count_, handed_, advance_ ? "now" : "the next schedule time")};
  }
  return std::nullopt;
}

std::variant<std::vector<Instant>, Refusal> EnumerateCandidates(const schedule::Schedule& schedule,
                                                                const BackfillRequest& request,
                                                                const SchedulePointer& pointer,
                                                                Instant now,
                                                                uint64_t max_sessions) {
  CandidateCursor cursor(schedule, request, pointer, now, max_sessions);
  const uint64_t want = request.count.value_or(UINT64_MAX);
  std::vector<Instant> out;
  out.reserve(static_cast<size_t>(std::min<uint64_t>({want, max_sessions + 1, 1u << 16})));
  if (auto refused = cursor.Next(SIZE_MAX, &out)) return std::move(*refused);
  return out;
}

PlanBuilder::PlanBuilder(const schedule::Schedule& schedule, const PlanContext& context,
                         const BackfillRequest& request, std::optional<Instant> latest_before)
    : schedule_(schedule),
      context_(context),
      request_(request),
      previous_(latest_before),
      hash_(kHashStart) {}

// One candidate at `t`, whose session is `session` (null when none exists).
std::optional<Refusal> PlanBuilder::PlanCandidate(Instant t, const ExistingSession* session,
                                                  PlannedItem* item) {
  item->session_time = t;
  if (session) item->session_id = session->id;
  if (session && request_.skip_existing && !session->attempts.empty()) {
    item->action = Action::kSkip;
    return std::nullopt;
  }
  int32_t highest = 0;
  if (session) {
    for (const ExistingAttempt& a : session->attempts) {
      if (a.name == request_.attempt_name) {
        return Refusal{Refusal::kConflict,
                       fmt::format("Attempt of project id={} workflow={} instant={} "
                                   "attempt name={} already exists",
                                   context_.project_id, context_.workflow_name, FormatUtc(t),
                                   request_.attempt_name.value_or(""))};
      }
      highest = std::max(highest, a.index);
    }
  }
  item->action = session ? Action::kReuseSession : Action::kCreateSession;
  item->index = highest + 1;
  item->blocked = !first_created_;
  first_created_ = false;
  item->last_executed = previous_.value_or(kNoSession);
  return std::nullopt;
}

std::optional<Refusal> PlanBuilder::Add(const std::vector<Instant>& candidates,
                                        const std::vector<ExistingSession>& existing,
                                        std::vector<PlannedItem>* items,
                                        std::vector<std::string>* reused_uuids) {
  size_t e = 0;  // existing[e] is the first existing session not before the current candidate
  PlanHash hash(&hash_);
  for (const Instant t : candidates) {
    const ExistingSession* session = nullptr;
    while (e < existing.size() && existing[e].session_time < t)
      previous_ = existing[e++].session_time;
    if (e < existing.size() && existing[e].session_time == t) session = &existing[e];

    PlannedItem item;
    if (auto refused = PlanCandidate(t, session, &item)) return refused;
    if (item.action == Action::kReuseSession) reused_uuids->push_back(session->uuid);
    if (item.action == Action::kSkip) ++skipped_;
    hash.Add(item.session_time);
    hash.Add(static_cast<int64_t>(item.action));
    hash.Add(item.session_id);
    hash.Add(item.index);
    items->push_back(item);
    previous_ = t;  // after this request every candidate exists
    last_ = t;
  }
  return std::nullopt;
}

Plan PlanBuilder::Finish() const {
  Plan plan;
  plan.pointer_after = context_.pointer;
  if (request_.advance_schedule && last_) {
    const Instant next = schedule_.Step(*last_);
    if (next > context_.pointer.next_schedule_time) {
      plan.pointer_after = {next, schedule_.RunTime(next), *last_};
      plan.pointer_moves = true;
    }
  }
  uint64_t h = hash_;
  PlanHash hash(&h);
  hash.Add(plan.pointer_after.next_schedule_time);
  hash.Add(plan.pointer_after.next_run_time);
  hash.Add(plan.pointer_after.last_session_time.value_or(INT64_MIN));
  plan.etag = hash.Quoted();
  return plan;
}

std::variant<Plan, Refusal> BuildPlan(const schedule::Schedule& schedule,
                                      const PlanContext& context, const BackfillRequest& request,
                                      const std::vector<Instant>& candidates,
                                      const std::vector<ExistingSession>& existing,
                                      std::optional<Instant> latest_before) {
  PlanBuilder builder(schedule, context, request, latest_before);
  std::vector<PlannedItem> items;
  std::vector<std::string> reused_uuids;
  items.reserve(candidates.size());
  if (auto refused = builder.Add(candidates, existing, &items, &reused_uuids))
    return std::move(*refused);
  Plan plan = builder.Finish();
  plan.items = std::move(items);
  plan.reused_uuids = std::move(reused_uuids);
  return plan;
}

}  // namespace wfp::backfill
