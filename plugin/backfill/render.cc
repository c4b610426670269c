#include "backfill/render.h"

#include <fmt/compile.h>
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
  BodyRenderer body(schedule, c, chunk_bytes, sink, plan.items.size());
  body.Head(plan.pointer_after);
  body.Attempts(plan.items, 0, plan.uuid_seed, plan.reused_uuids);
  body.Skipped(plan.items);
  body.Tail();
}

BodyRenderer::BodyRenderer(const schedule::Schedule& schedule, const ResponseContext& c,
                           size_t chunk_bytes, const RenderSink& sink, size_t items_hint)
    : schedule_(schedule),
      context_(c),
      chunk_bytes_(chunk_bytes),
      sink_(sink),
      project_(fmt::format(FMT_COMPILE(R"({{"id":"{}","name":{}}})"), c.project_id,
                           JsonString(c.project_name))),
      workflow_(fmt::format(FMT_COMPILE(R"({{"name":{},"id":"{}"}})"), JsonString(c.workflow_name),
                            c.workflow_id)),
      name_(c.attempt_name ? JsonString(*c.attempt_name) : "null"),
      created_at_(FormatUtc(c.created_at)),
      pool_(c.pool_id ? fmt::format(FMT_COMPILE(R"(,"poolId":{})"), JsonString(*c.pool_id)) : "") {
  const size_t per_attempt = 420 + name_.size() + project_.size() + workflow_.size();
  out_.reserve(std::min(chunk_bytes, items_hint * per_attempt) + per_attempt + 1024);
}

void BodyRenderer::FlushIfFull() {
  if (out_.size() >= chunk_bytes_) {
    sink_(out_);
    out_.clear();
  }
}

void BodyRenderer::Head(const SchedulePointer& pointer_after) {
  fmt::format_to(
      std::back_inserter(out_),
      FMT_COMPILE(
          R"({{"id":"{}","project":{},"workflow":{{"id":"{}","name":{}}},"nextScheduleTime":"{}","nextRunTime":"{}","attempts":[)"),
      context_.schedule_id, project_, context_.workflow_id, JsonString(context_.workflow_name),
      schedule_.FormatLocal(pointer_after.next_schedule_time),
      FormatUtc(pointer_after.next_run_time));
}

void BodyRenderer::Attempts(std::span<const PlannedItem> items, size_t first,
                            const uint64_t (&seed)[2],
                            const std::vector<std::string>& reused_uuids) {
  auto it = std::back_inserter(out_);
  size_t reused = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const PlannedItem& item = items[i];
    if (item.action == Action::kSkip) continue;
    if (attempts_++) out_ += ',';
    const std::string uuid = item.action == Action::kReuseSession
                                 ? JsonString(reused_uuids.at(reused++))
                                 : '"' + NewSessionUuid(seed, first + i) + '"';
    params_.clear();
    AppendParamsJson(schedule_, item, &params_);
    fmt::format_to(
        it,
        FMT_COMPILE(
            R"({{"id":"{}","index":{},"project":{},"workflow":{},"sessionId":"{}","sessionUuid":{},"sessionTime":"{}","retryAttemptName":{},"done":false,"success":false,"cancelRequested":false,"params":{},"createdAt":"{}","finishedAt":null,"status":"{}"{}}})"),
        item.attempt_id, item.index, project_, workflow_, item.session_id, uuid,
        schedule_.FormatLocal(item.session_time), name_, params_, created_at_,
        item.blocked ? "blocked" : "queued", pool_);
    FlushIfFull();
  }
}

void BodyRenderer::EndAttempts() {
  if (attempts_ended_) return;
  attempts_ended_ = true;
  out_ += R"(],"skipped":[)";
}

void BodyRenderer::Skipped(std::span<const PlannedItem> items) {
  EndAttempts();
  for (const PlannedItem& item : items) {
    if (item.action != Action::kSkip) continue;
    if (skipped_++) out_ += ',';
    fmt::format_to(
        std::back_inserter(out_),
        FMT_COMPILE(
            R"({{"sessionTime":"{}","sessionId":"{}","reason":"session already has attempts"}})"),
        schedule_.FormatLocal(item.session_time), item.session_id);
    FlushIfFull();
  }
}

void BodyRenderer::Tail() {
  EndAttempts();
  out_ += "]}";
  sink_(out_);
  out_.clear();
}

}  // namespace wfp::backfill
