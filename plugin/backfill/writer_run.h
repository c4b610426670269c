// The writer's inside (writer.h is its outside): one request's run through its steps, shared by
// writer.cc (the steps, a real run's writes and answer) and writer_dry_run.cc (a dry run planned
// and rendered a batch at a time from its read snapshot). Not for other users.
//
// Compiled against the ABI header of each build of the plugin, as the writer is.
#ifndef WFP_PLUGIN_BACKFILL_WRITER_RUN_H_
#define WFP_PLUGIN_BACKFILL_WRITER_RUN_H_

#include <wfp/plugin_abi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backfill/answer.h"
#include "backfill/planner.h"
#include "backfill/plugin_state.h"
#include "backfill/render.h"
#include "backfill/request.h"
#include "backfill/request_fields.h"
#include "backfill/store_txn.h"
#include "backfill/writer.h"
#include "schedule/schedule.h"

namespace wfp::backfill::writer_internal {

// The seed of a plan's new-session UUIDs (session_uuid.h): 128 random bits from a per-thread
// Mersenne Twister seeded once from the system's entropy (reading the system's entropy for each
// request, or each UUID, was a tenth of a large backfill's time).
void DrawUuidSeed(uint64_t (&seed)[2]);

// Thrown by a read that a window asked as the transaction's last read does not cover: nothing was
// sent yet (a dry run of one batch answers after planning); Backfill runs the request again.
struct WindowTooShort {};

// One request's run through the steps; each step returns the answer that ends the request early
// (an error), or nothing to go on.
class Run {
 public:
  // `last_read`: a dry run of at most one batch may tell load_schedule_window that it is the
  // transaction's last read (WFP_WINDOW_LAST_READ).
  Run(const PluginState& state, const wfp_request& r, wfp_call* call, ResponseRenderer render,
      bool last_read)
      : state_(state),
        store_(&state.store),
        r_(r),
        call_(call),
        render_(render),
        last_read_(last_read) {}

  Answer Go() {
    if (auto a = ParseRequest()) return std::move(*a);
    if (auto a = Begin()) return std::move(*a);
    if (auto a = LoadSchedule()) return std::move(*a);
    SetPlanContext();
    if (request_.dry_run && snapshot_) return DryRun();
    if (auto a = MakePlan()) return std::move(*a);
    CopyAnswerContext();
    if (request_.dry_run) {  // in a write transaction (no read snapshot): ended before answering
      txn_->Rollback();
      return AnswerPlan();
    }
    if (auto a = WriteSessions()) return std::move(*a);
    if (auto a = WriteAttempts()) return std::move(*a);
    if (auto a = MovePointer()) return std::move(*a);
    if (wfp_status st = txn_->Commit(); st != WFP_OK) return StoreFault("commit", st);
    return AnswerPlan();
  }

 private:
  Answer StoreFault(std::string_view what, wfp_status st) const;
  void LogCommitted(Answer* answer) const;
  void LogError(std::string_view what) const {
    Log(state_, WFP_LOG_ERROR, fmt::format("request {}: {}", View(r_.request_id), what));
  }

  std::optional<Answer> ParseRequest();
  std::optional<Answer> Begin();
  std::optional<Answer> LoadSchedule();
  std::optional<Answer> ReadSchedule();
#if WFP_ABI_VERSION_MINOR >= 4
  std::optional<Answer> ReadScheduleWindow();
#endif
  std::optional<Answer> ListSessions(Instant from, Instant to, Sessions* out);
  std::optional<Answer> LatestBefore(Instant t, std::optional<Instant>* out);
  std::optional<Answer> ReadExisting(const std::vector<Instant>& candidates, Sessions* existing,
                                     std::optional<Instant>* latest_before);
  void SetPlanContext();
  std::optional<Answer> CheckIfMatch(const std::string& etag) const;
  std::optional<Answer> MakePlan();
  // A dry run, batch by batch (below).
  struct Pass;
  struct Batch;
  Answer DryRun();
  std::optional<Answer> PlanNextBatch(Pass* pass, Batch* batch);
  std::optional<Answer> DryRunFirstPass(Batch* first);
  void RenderPass(BodyRenderer* body, bool skipped);
  Answer AnswerDryRun();
  void CopyAnswerContext();
  std::optional<Answer> WriteSessions();
  std::optional<Answer> WriteSessionBatch(size_t begin, size_t end);
  std::optional<Answer> WriteAttempts();
  std::optional<Answer> WriteAttemptBatch(size_t begin, size_t end, int64_t* previous_session);
  std::optional<Answer> MovePointer();
  Answer AnswerPlan();

  const PluginState& state_;
  const wfp_store_api* store_;
  const wfp_request& r_;
  wfp_call* call_;
  ResponseRenderer render_;
  const bool last_read_;

  int64_t schedule_id_ = 0;
  BackfillRequest request_;
  IfMatch if_match_;
  std::optional<Transaction> txn_;
  wfp_schedule_info info_{};
  std::shared_ptr<const schedule::Schedule> schedule_;
  Instant now_ = 0;
  PlanContext context_;
  Plan plan_;  // a dry run's has its items only when they are one batch
  ResponseContext answer_context_;
  // A dry run's first pass: the latest session before the first candidate, whether the plan is
  // one batch (then kept in plan_) and whether it skips any candidate.
  std::optional<Instant> latest_before_;
  bool one_batch_ = false, any_skipped_ = false;
  bool snapshot_ = false;  // a read snapshot (a dry run on a host of ABI 1.1 or later)
  // What load_schedule_window (ABI 1.4) read with the schedule: the sessions from `from` on, all of
  // those before `known_to`, and the latest session before `from`. ListSessions and LatestBefore
  // answer from it what it covers, and ask the store for the rest.
  // `ended`: asked as the transaction's last read, after which the host may have ended it.
  struct Window {
    Instant from = 0, known_to = 0;
    Sessions sessions;
    std::optional<Instant> latest_before;
    bool ended = false;
  };
  std::optional<Window> window_;
};

}  // namespace wfp::backfill::writer_internal

#endif  // WFP_PLUGIN_BACKFILL_WRITER_RUN_H_
