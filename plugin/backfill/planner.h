// The backfill planner: the route's semantics as pure functions of (schedule, existing sessions,
// request, now). No I/O, no randomness: the same input gives the same plan (session UUIDs for new
// sessions are chosen later, by the writer). Thread-safe.
//
// Two steps, because the store is asked for existing sessions only once the candidates' range is
// known: the candidates (CandidateCursor), then the plan (PlanBuilder), in batches of any size, so
// that a dry run holds one batch at a time; EnumerateCandidates and BuildPlan do each in one batch.
#ifndef WFP_PLUGIN_BACKFILL_PLANNER_H_
#define WFP_PLUGIN_BACKFILL_PLANNER_H_

#include <cstddef>
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

// The candidates' session times, in ascending batches: each Next hands on up to `n` more, with the
// refusals (a 400) where the whole enumeration meets them: the size guard once more than
// `max_sessions` are in range, and a count beyond the candidates once they end. Lazy: at most
// min(count, max_sessions + 1) times are ever computed. Keeps a reference to `schedule`.
class CandidateCursor {
 public:
  CandidateCursor(const schedule::Schedule& schedule, const BackfillRequest& request,
                  const SchedulePointer& pointer, Instant now, uint64_t max_sessions);

  // Replaces `out`'s contents with the next candidates (at most `n`; none once done()).
  std::optional<Refusal> Next(size_t n, std::vector<Instant>* out);
  // No candidate is left (known as soon as the last one has been handed on).
  bool done() const { return done_; }

 private:
  bool InRange(Instant t) const;
  void Advance();  // past s_, which was handed on

  const schedule::Schedule& schedule_;
  Instant pointer_next_ = 0;  // the pointer's next_schedule_time
  Instant now_ = 0;
  bool advance_ = false;
  std::optional<uint64_t> count_;
  uint64_t want_ = 0, max_sessions_ = 0, handed_ = 0;
  Instant s_ = 0;      // the next candidate, when !done_
  Instant first_ = 0;  // the first candidate (for the size guard's message)
  bool done_ = false;
};

// All the candidates at once (one CandidateCursor batch).
std::variant<std::vector<Instant>, Refusal> EnumerateCandidates(const schedule::Schedule& schedule,
                                                                const BackfillRequest& request,
                                                                const SchedulePointer& pointer,
                                                                Instant now, uint64_t max_sessions);

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

enum class Action : uint8_t { kCreateSession, kReuseSession, kSkip };

// "No session before this one" in PlannedItem::last_executed.
inline constexpr Instant kNoSession = INT64_MIN;

// One candidate of the plan. Kept small (40 bytes, no heap): a backfill of a million sessions holds
// a million of these. What is derived from them is computed where it is used: the attempt's params
// (AppendParamsJson), a new session's UUID (session_uuid.h), a reused session's UUID
// (Plan::reused_uuids).
struct PlannedItem {
  Instant session_time = 0;
  int64_t session_id = 0;  // the existing session's id (kReuseSession, kSkip); for a new one 0
                           // until the writer has created it
  int64_t attempt_id = 0;  // the new attempt's id once written (0 on a dry run and for kSkip)
  Instant last_executed = kNoSession;  // the latest session before this one (the params'
                                       // last_executed_session_time)
  int32_t index = 0;                   // the new attempt's index (not for kSkip)
  Action action = Action::kCreateSession;
  bool blocked = false;  // false for the first created attempt, true for the others
  bool operator==(const PlannedItem&) const = default;
};

struct PlanContext {
  int64_t project_id = 0;
  std::string workflow_name;  // for the 409 message
  SchedulePointer pointer;    // the schedule's pointer before the request
};

struct Plan {
  std::vector<PlannedItem> items;         // every candidate, in order: created, reused or skipped
  std::vector<std::string> reused_uuids;  // the UUID of each kReuseSession item's session, in order
  SchedulePointer pointer_after;          // equal to the context's pointer when it does not move
  bool pointer_moves = false;
  std::string etag;                // "\"<16 hex digits>\"": a hash of what the plan would do
  uint64_t uuid_seed[2] = {0, 0};  // new sessions' UUIDs (session_uuid.h); set by the writer
};

// The params of the attempt an item creates (not for kSkip), appended to `out`:
// {"last_session_time": ..., "next_session_time": ..., "last_executed_session_time": ...}, the
// last only when a session exists before it.
void AppendParamsJson(const schedule::Schedule& schedule, const PlannedItem& item,
                      std::string* out);
std::string ParamsJson(const schedule::Schedule& schedule, const PlannedItem& item);

// Builds a plan batch by batch (the candidates of CandidateCursor::Next, in order), carrying across
// batches what the next batch depends on: the latest session before the current candidate,
// whether the first attempt is created yet, the ETag's hash, the skipped count. Whatever the
// batches, the items, UUIDs, pointer and ETag are those of one batch of every candidate. Keeps
// references to its arguments.
class PlanBuilder {
 public:
  // `latest_before`: the latest session before the first candidate.
  PlanBuilder(const schedule::Schedule& schedule, const PlanContext& context,
              const BackfillRequest& request, std::optional<Instant> latest_before);

  // Plans the next `candidates` given the sessions that exist after the previous batch's last
  // candidate (from the first candidate for the first batch) up to and including this batch's
  // last one (`existing`, ascending): appends an item per candidate to `items` and the UUID of
  // each reused session to `reused_uuids`. A 409 for the first candidate whose session already has
  // an attempt of that name (unless skipExisting); the builder is then of no further use.
  std::optional<Refusal> Add(const std::vector<Instant>& candidates,
                             const std::vector<ExistingSession>& existing,
                             std::vector<PlannedItem>* items,
                             std::vector<std::string>* reused_uuids);

  // After the last batch: the plan's pointer_after, pointer_moves and etag (its items stay empty).
  Plan Finish() const;

  size_t skipped() const { return skipped_; }  // items skipped so far

 private:
  std::optional<Refusal> PlanCandidate(Instant t, const ExistingSession* session,
                                       PlannedItem* item);

  const schedule::Schedule& schedule_;
  const PlanContext& context_;
  const BackfillRequest& request_;
  std::optional<Instant> previous_;  // the latest session before the current candidate
  bool first_created_ = true;        // no attempt has been created yet
  std::optional<Instant> last_;      // the last candidate so far
  uint64_t hash_;                    // the ETag's, over the items so far
  size_t skipped_ = 0;
};

// The plan over `candidates` (from EnumerateCandidates) given the sessions that exist in
// [candidates.front(), candidates.back()] (`existing`, ascending) and the latest session before
// candidates.front() (`latest_before`): one PlanBuilder batch.
std::variant<Plan, Refusal> BuildPlan(const schedule::Schedule& schedule,
                                      const PlanContext& context, const BackfillRequest& request,
                                      const std::vector<Instant>& candidates,
                                      const std::vector<ExistingSession>& existing,
                                      std::optional<Instant> latest_before);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_PLANNER_H_
