// Renders the route's JSON answers: the 200 body (docs/route.md, "Response 200")
// and error bodies. Writes straight into one string (no JSON tree in between): a 100k-session
// answer is built once. Pure; thread-safe.
#ifndef WFP_PLUGIN_BACKFILL_RENDER_H_
#define WFP_PLUGIN_BACKFILL_RENDER_H_

#include <cstdint>
#include <functional>
#include <optional>
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

// {"message": "...", "status": N}
std::string RenderError(int status, std::string_view message);

// A JSON string literal, quotes included.
std::string JsonString(std::string_view s);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_RENDER_H_
