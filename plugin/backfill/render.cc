#include "backfill/render.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>
#include <cstdint>
#include <iterator>

#include "backfill/session_uuid.h"
#include "backfill/time_format.h"

namespace wfp::backfill {

std::string JsonString(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s));
}

std::string RenderError(int status, std::string_view message) {
  return fmt::format(R"({{"message":{},"status":{}}})", JsonString(message), status);
}

std::string RenderBackfillResponse(const schedule::Schedule& schedule, const ResponseContext& c,
                                   const Plan& plan) {
  std::string whole;
  RenderBackfillResponse(schedule, c, plan, SIZE_MAX,
                         [&whole](std::string_view piece) { whole.append(piece); });
  return whole;
}

void RenderBackfillResponse(const schedule::Schedule& schedule, const ResponseContext& c,
                            const Plan& plan, size_t chunk_bytes, const RenderSink& sink) {
  // Pieces that repeat on every attempt, escaped once.
  const std::string project =
      fmt::format(R"({{"id":"{}","name":{}}})", c.project_id, JsonString(c.project_name));
  const std::string workflow =
      fmt::format(R"({{"name":{},"id":"{}"}})", JsonString(c.workflow_name), c.workflow_id);
  const std::string name = c.attempt_name ? JsonString(*c.attempt_name) : "null";
  const std::string created_at = FormatUtc(c.created_at);
  const std::string pool = c.pool_id ? fmt::format(R"(,"poolId":{})", JsonString(*c.pool_id)) : "";

  std::string out;
  const size_t per_attempt = 420 + name.size() + project.size() + workflow.size();
  out.reserve(std::min(chunk_bytes, plan.items.size() * per_attempt) + per_attempt + 1024);
  auto flush_if_full = [&] {
    if (out.size() >= chunk_bytes) {
      sink(out);
      out.clear();
    }
  };
  auto it = std::back_inserter(out);
  fmt::format_to(
      it,
      R"({{"id":"{}","project":{},"workflow":{{"id":"{}","name":{}}},"nextScheduleTime":"{}","nextRunTime":"{}","attempts":[)",
      c.schedule_id, project, c.workflow_id, JsonString(c.workflow_name),
      schedule.FormatLocal(plan.pointer_after.next_schedule_time),
      FormatUtc(plan.pointer_after.next_run_time));
  std::string params;
  size_t n = 0, reused = 0;
  for (size_t i = 0; i < plan.items.size(); ++i) {
    const PlannedItem& item = plan.items[i];
    if (item.action == Action::kSkip) continue;
    if (n++) out += ',';
    const std::string uuid = item.action == Action::kReuseSession
                                 ? JsonString(plan.reused_uuids.at(reused++))
                                 : '"' + NewSessionUuid(plan.uuid_seed, i) + '"';
    params.clear();
    AppendParamsJson(schedule, item, &params);
    fmt::format_to(
        it,
        R"({{"id":"{}","index":{},"project":{},"workflow":{},"sessionId":"{}","sessionUuid":{},"sessionTime":"{}","retryAttemptName":{},"done":false,"success":false,"cancelRequested":false,"params":{},"createdAt":"{}","finishedAt":null,"status":"{}"{}}})",
        item.attempt_id, item.index, project, workflow, item.session_id, uuid,
        schedule.FormatLocal(item.session_time), name, params, created_at,
        item.blocked ? "blocked" : "queued", pool);
    flush_if_full();
  }
  out += R"(],"skipped":[)";
  bool first = true;
  for (const PlannedItem& item : plan.items) {
    if (item.action != Action::kSkip) continue;
    if (!first) out += ',';
    first = false;
    fmt::format_to(
        it, R"({{"sessionTime":"{}","sessionId":"{}","reason":"session already has attempts"}})",
        schedule.FormatLocal(item.session_time), item.session_id);
    flush_if_full();
  }
  out += "]}";
  sink(out);
}

}  // namespace wfp::backfill
