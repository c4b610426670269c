// Renders the route's JSON answers: the 200 body (docs/route.md, "Response 200")
// and error bodies. Writes straight into one string (no JSON tree in between): a 100k-session
// answer is built once. Pure; thread-safe.
#ifndef WFP_PLUGIN_BACKFILL_RENDER_H_
#define WFP_PLUGIN_BACKFILL_RENDER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/planner.h"

namespace wfp::backfill {

struct ResponseContext {
  int64_t schedule_id = 0;
  int64_t project_id = 0;
  std::string project_name;
  int64_t workflow_id = 0;  // the workflow definition's id
  std::string workflow_name;
  std::optional<std::string> pool_id;
  std::optional<std::string> attempt_name;
  Instant created_at = 0;
};

// `plan.items` carry the final session and attempt ids (0 for what a dry run would create); a new
// session's UUID comes from `plan.uuid_seed` (session_uuid.h), a reused one's from
// `plan.reused_uuids`.
std::string RenderBackfillResponse(const schedule::Schedule& schedule,
                                   const ResponseContext& context, const Plan& plan);

// The same text, handed to `sink` in consecutive pieces of at least `chunk_bytes` each (only the
// last may be shorter), so that a large answer never exists whole in the plugin.
using RenderSink = std::function<void(std::string_view)>;
void RenderBackfillResponse(const schedule::Schedule& schedule, const ResponseContext& context,
                            const Plan& plan, size_t chunk_bytes, const RenderSink& sink);

// The same text for a plan that is had in batches (a dry run's, planner.h's PlanBuilder), in
// order: Head, Attempts of each batch, Skipped of each batch, Tail. Pieces go to `sink` as above.
// Keeps references to its arguments.
class BodyRenderer {
 public:
  // `items_hint`: about how many items the plan has (the first piece's reservation).
  BodyRenderer(const schedule::Schedule& schedule, const ResponseContext& context,
               size_t chunk_bytes, const RenderSink& sink, size_t items_hint);

  void Head(const SchedulePointer& pointer_after);
  // The attempts of `items`, which are the plan's items from position `first` on: a new session's
  // UUID is NewSessionUuid(seed, position) (session_uuid.h); a reused one's is the next of
  // `reused_uuids`, which has those of these items' reused sessions, in order.
  void Attempts(std::span<const PlannedItem> items, size_t first, const uint64_t (&seed)[2],
                const std::vector<std::string>& reused_uuids);
  void Skipped(std::span<const PlannedItem> items);
  void Tail();  // the end of the body, and its last piece

 private:
  void FlushIfFull();
  void EndAttempts();  // once, before the first skipped item or the tail

  const schedule::Schedule& schedule_;
  const ResponseContext& context_;
  size_t chunk_bytes_;
  RenderSink sink_;
  // Pieces that repeat on every attempt, escaped once.
  std::string project_, workflow_, name_, created_at_, pool_;
  std::string out_;     // what is not yet handed to the sink
  std::string params_;  // one attempt's, reused
  size_t attempts_ = 0, skipped_ = 0;
  bool attempts_ended_ = false;
};

// {"message": "...", "status": N}
std::string RenderError(int status, std::string_view message);

// A JSON string literal, quotes included.
std::string JsonString(std::string_view s);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_RENDER_H_
