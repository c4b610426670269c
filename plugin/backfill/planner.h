// The backfill planner: the route's semantics as pure functions of (schedule, existing sessions,
// request, now). No I/O, no randomness: the same input gives the same plan (session UUIDs for new
// sessions are chosen later, by the writer). Thread-safe.
//
// Two steps, because the store is asked for existing sessions only once the candidates' range is
// known: EnumerateCandidates, then BuildPlan.
#ifndef WFP_PLUGIN_BACKFILL_PLANNER_H_
#define WFP_PLUGIN_BACKFILL_PLANNER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "backfill/request.h"
#include "schedule/schedule.h"

namespace wfp::backfill {

using schedule::Instant;

inline constexpr uint64_t kDefaultMaxSessions = 100000;

// The schedule's pointer, as the store holds it.
struct SchedulePointer {
  Instant next_schedule_time = 0;
  Instant next_run_time = 0;
  std::optional<Instant> last_session_time;
  bool operator==(const SchedulePointer&) const = default;
};

// The candidates' session times, ascending, or a 400 (count beyond the candidates, size guard).
// Enumerates lazily: at most min(count, max_sessions + 1) times are ever computed.
std::variant<std::vector<Instant>, HttpError> EnumerateCandidates(
    const schedule::Schedule& schedule, const BackfillRequest& request,
    const SchedulePointer& pointer, Instant now, uint64_t max_sessions);

struct ExistingAttempt {
  std::optional<std::string> name;  // nullopt: the unnamed attempt
  int32_t index = 0;
};

struct ExistingSession {
  int64_t id = 0;
  std::string uuid;
  Instant session_time = 0;
  std::vector<ExistingAttempt> attempts;
};

enum class Action { kCreateSession, kReuseSession, kSkip };

struct PlannedItem {
  Instant session_time = 0;
  Action action = Action::kCreateSession;
  int64_t session_id = 0;    // the existing session's id (kReuseSession, kSkip); 0 for a new one
  std::string session_uuid;  // the existing session's UUID; empty for a new one
  int32_t index = 0;         // the new attempt's index (not for kSkip)
  bool blocked = false;      // false for the first created attempt, true for the others
  std::string params_json;   // the new attempt's params (not for kSkip)
};

struct PlanContext {
  int64_t project_id = 0;
  std::string workflow_name;  // for the 409 message
  SchedulePointer pointer;    // the schedule's pointer before the request
};

struct Plan {
  std::vector<PlannedItem> items;  // every candidate, in order: created, reused or skipped
  SchedulePointer pointer_after;   // equal to the context's pointer when it does not move
  bool pointer_moves = false;
  std::string etag;  // "\"<16 hex digits>\"": a hash of what the plan would do
};

// The plan over `candidates` (from EnumerateCandidates) given the sessions that exist in
// [candidates.front(), candidates.back()] (`existing`, ascending) and the latest session before
// candidates.front() (`latest_before`). A 409 for the first candidate whose session already has an
// attempt of that name (unless skipExisting).
std::variant<Plan, HttpError> BuildPlan(const schedule::Schedule& schedule,
                                        const PlanContext& context, const BackfillRequest& request,
                                        const std::vector<Instant>& candidates,
                                        const std::vector<ExistingSession>& existing,
                                        std::optional<Instant> latest_before);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_PLANNER_H_
