// A dry run, batch by batch (PluginState::plan_batch candidates), in its read snapshot: the part of
// the writer's run (writer_run.h) that plans and renders a batch at a time (docs/streaming.md,
// "Memory of a large backfill").
#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backfill/writer_run.h"

namespace wfp::backfill::writer_internal {

// A first pass finds the 400, 409, ETag and pointer. After the If-Match check the 200 is streamed
// from the still open snapshot: a second pass plans again and renders the attempts, a third (when
// the first saw any) the skipped candidates. A plan of one batch is kept from the first pass.

// One walk over the candidates.
struct Run::Pass {
  Pass(const Run& run, bool first_pass)
      : cursor(*run.schedule_, run.request_, run.context_.pointer, run.now_,
               run.state_.max_sessions),
        first_pass(first_pass) {}
  CandidateCursor cursor;
  bool first_pass;
  std::optional<PlanBuilder> builder;  // from the first batch on
  Instant list_from = 0;               // where the next batch's listing starts
  size_t position = 0;                 // the plan's position of the next batch's first item
};

// One batch of a walk: its candidates, the sessions listed for them, their items.
struct Run::Batch {
  std::vector<Instant> candidates;
  Sessions existing;
  std::vector<PlannedItem> items;
  std::vector<std::string> reused_uuids;
  size_t first = 0;  // the plan's position of items[0]
};

// Lists the sessions of the batch's candidates (from after the previous batch's last candidate,
// so that sessions between two batches are seen) and plans them. The first batch of the first pass
// also asks for the latest session before it. A store fault, or a 409, ends the walk.
std::optional<Answer> Run::PlanNextBatch(Pass* pass, Batch* batch) {
  const std::vector<Instant>& c = batch->candidates;
  const bool first = !pass->builder;
  batch->existing.list.clear();
  if (auto a = ListSessions(first ? c.front() : pass->list_from, c.back() + 1, &batch->existing))
    return a;
  if (first && pass->first_pass)
    if (auto a = LatestBefore(c.front(), &latest_before_)) return a;
  if (first) pass->builder.emplace(*schedule_, context_, request_, latest_before_);
  pass->list_from = c.back() + 1;
  batch->items.clear();
  batch->reused_uuids.clear();
  batch->first = pass->position;
  pass->position += c.size();
  if (auto e = pass->builder->Add(c, batch->existing.list, &batch->items, &batch->reused_uuids))
    return Error(*e);
  return std::nullopt;
}

// The first pass. After a store fault or a 409 the candidates are still enumerated: a 400 of
// theirs comes first, as when they were all enumerated before the store was asked. `first` keeps
// the first batch.
std::optional<Answer> Run::DryRunFirstPass(Batch* first) {
  Pass pass(*this, true);
  Batch other;
  std::optional<Answer> stop;
  do {  // at least once: a count is refused when there is no candidate at all
    Batch* batch = pass.builder ? &other : first;
    if (auto e = pass.cursor.Next(state_.plan_batch, &batch->candidates)) return Error(*e);
    if (stop || batch->candidates.empty()) continue;
    stop = PlanNextBatch(&pass, batch);
  } while (!pass.cursor.done());
  if (stop) return stop;
  if (!pass.builder) pass.builder.emplace(*schedule_, context_, request_, std::nullopt);
  one_batch_ = pass.position <= state_.plan_batch;
  any_skipped_ = pass.builder->skipped() > 0;
  plan_ = pass.builder->Finish();
  return std::nullopt;
}

Answer Run::DryRun() {
  Batch first;
  if (auto a = DryRunFirstPass(&first)) return std::move(*a);
  if (auto a = CheckIfMatch(plan_.etag)) return std::move(*a);
  DrawUuidSeed(plan_.uuid_seed);
  CopyAnswerContext();
  if (!one_batch_) return AnswerDryRun();
  plan_.items = std::move(first.items);
  plan_.reused_uuids = std::move(first.reused_uuids);
  txn_->Rollback();
  return AnswerPlan();
}

// Thrown out of a dry run's rendering by a later pass that cannot go on: `answer` is the error it
// would be before anything was sent (a store fault, or 500 for a plan unlike the first pass's).
struct PassFailed {
  Answer answer;
};

// A later pass: plans the batches again and renders their attempts, or (`skipped`) their skipped
// candidates. Within one snapshot it finds the first pass's plan; it checks that it does.
void Run::RenderPass(BodyRenderer* body, bool skipped) {
  Pass pass(*this, false);
  Batch batch;
  do {
    if (auto e = pass.cursor.Next(state_.plan_batch, &batch.candidates)) {
      LogError(fmt::format("a dry run's later pass was refused: {}", e->message));
      throw PassFailed{Internal()};
    }
    if (batch.candidates.empty()) continue;
    if (auto a = PlanNextBatch(&pass, &batch)) {
      if (a->status < 500)
        LogError(fmt::format("a dry run's later pass was answered {}", a->status));
      throw PassFailed{a->status < 500 ? Internal() : std::move(*a)};
    }
    if (skipped)
      body->Skipped(batch.items);
    else
      body->Attempts(batch.items, batch.first, plan_.uuid_seed, batch.reused_uuids);
  } while (!pass.cursor.done());
  if (const std::string etag = pass.builder ? pass.builder->Finish().etag : "";
      etag != plan_.etag) {
    LogError(fmt::format("a dry run's later pass planned {}, not the first pass's {}", etag,
                         plan_.etag));
    throw PassFailed{Internal()};
  }
}

// The 200 of a dry run larger than one batch, streamed from its read snapshot, which is rolled
// back once the body is rendered. A later pass that fails before anything was sent is answered as
// the error it is; once a piece was sent, the answer is marked cut (docs/streaming.md).
Answer Run::AnswerDryRun() {
  Answer answer{200, {}, plan_.etag, false, true};
  answer.dry_run = true;
  Responder responder(state_.host, call_);
  std::optional<Answer> failed;
  try {
    responder.Stream(answer, [&](size_t chunk, const RenderSink& sink) {
      BodyRenderer body(*schedule_, answer_context_, chunk, sink, state_.plan_batch);
      body.Head(plan_.pointer_after);
      RenderPass(&body, false);
      if (any_skipped_) RenderPass(&body, true);
      body.Tail();
    });
  } catch (PassFailed& f) {
    failed = std::move(f.answer);
  } catch (...) {
    if (!responder.started()) throw;  // nothing sent: a 500, as for any dry run
    LogError(fmt::format("a dry run's answer could not be rendered: {}", CurrentExceptionText()));
    answer.cut = true;
  }
  txn_->Rollback();
  if (!failed) return answer;
  if (!responder.started()) return std::move(*failed);
  LogError("the dry run's answer was cut off: a later pass failed after its head was sent");
  answer.cut = true;
  return answer;
}

}  // namespace wfp::backfill::writer_internal
