#include "backfill/writer.h"

#include <fmt/format.h>
#include <wfp/abi_struct.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "backfill/request.h"
#include "backfill/request_fields.h"
#include "backfill/session_uuid.h"
#include "backfill/store_txn.h"
#include "backfill/writer_run.h"
#include "schedule/schedule.h"
#include "wfp_text/utf8.h"

namespace wfp::backfill {
namespace {

// How many sessions, or attempts, go to the store in one call: the structs of one batch, and the
// strings they borrow, are all that a real backfill holds beside its plan.
constexpr size_t kWriteBatch = 4096;

// How many sessions load_schedule_window (ABI 1.4) lists with the schedule: as many as the request
// has candidates (its count; without one, kWindowWithoutCount), and kWindowSlack more for sessions
// off the schedule's times among them; at most a dry run's batch. When they do not reach the last
// candidate, the sessions after them are listed as without the window.
constexpr uint64_t kWindowWithoutCount = 256;
constexpr uint64_t kWindowSlack = 16;
[[maybe_unused]] uint32_t WindowSize(std::optional<uint64_t> count, size_t plan_batch) {
  const uint64_t n = std::min<uint64_t>(count.value_or(kWindowWithoutCount), plan_batch);
  return static_cast<uint32_t>(
      std::min<uint64_t>(n + kWindowSlack, std::numeric_limits<uint32_t>::max()));
}

// How many of the plan's candidates get an attempt (created or on a reused session) and how many
// are skipped: the committed log line, the metrics and the committed summary all count the same
// way.
struct ActionCounts {
  size_t attempts = 0, skipped = 0;
};
ActionCounts CountActions(const Plan& plan) {
  ActionCounts n;
  for (const PlannedItem& item : plan.items)
    ++(item.action == Action::kSkip ? n.skipped : n.attempts);
  return n;
}

}  // namespace

namespace writer_internal {

void DrawUuidSeed(uint64_t (&seed)[2]) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  seed[0] = generator();
  seed[1] = generator();
}

Answer Run::StoreFault(std::string_view what, wfp_status st) const {
  if (st == WFP_ERR_BUSY) {
    Log(state_, WFP_LOG_WARN,
        fmt::format("request {}: store busy during {}", View(r_.request_id), what));
    // Another request, or another process on the same store file: the plugin cannot tell.
    Answer a = Error(503,
                     "the store is busy: another writer held its lock for the whole wait; retry "
                     "shortly");
    a.retry_after = true;
    return a;
  }
  LogError(fmt::format("store {} failed with status {}", what, st));
  return Internal();
}

// The path's id, the content type and the body: checked before the store is touched.
std::optional<Answer> Run::ParseRequest() {
  const std::string_view raw_id = PathParam(r_, "id");
  const auto schedule_id = ParseScheduleId(raw_id);
  if (!schedule_id)
    return Error(404,
                 fmt::format("Resource does not exist: schedule id={}", text::Excerpt(raw_id, 32)));
  schedule_id_ = *schedule_id;
  if (const std::string refusal = ContentTypeRefusal(Header(r_, "content-type")); !refusal.empty())
    return Error(415, refusal);
  auto if_match = ReadIfMatch(r_);
  if (auto* message = std::get_if<std::string>(&if_match)) return Error(400, *message);
  if_match_ = std::move(std::get<IfMatch>(if_match));
  auto parsed = ParseBackfillRequest(View(r_.body));
  if (auto* e = std::get_if<Refusal>(&parsed)) return Error(*e);
  request_ = std::move(std::get<BackfillRequest>(parsed));
  return std::nullopt;
}

// A dry run writes nothing: a read snapshot (ABI 1.1) is enough and takes no lock. A 1.0 host has
// only the write transaction.
std::optional<Answer> Run::Begin() {
  wfp_txn* raw_txn = nullptr;
  const auto begin_read = request_.dry_run ? BeginRead(*store_) : nullptr;
  if (wfp_status st = begin_read ? begin_read(call_, &raw_txn) : store_->begin(call_, &raw_txn);
      st != WFP_OK)
    return StoreFault("begin", st);
  txn_.emplace(store_, raw_txn);
  snapshot_ = begin_read != nullptr;
  return std::nullopt;
}

// The schedule, locked for a real run: with the sessions from the request's fromTime on where the
// host reads them in the same call (ABI 1.4).
std::optional<Answer> Run::ReadSchedule() {
#if WFP_ABI_VERSION_MINOR >= 4
  if (LoadScheduleWindow(*store_) && request_.from_time) return ReadScheduleWindow();
#endif
  if (wfp_status st = store_->load_schedule(txn_->get(), r_.site_id, schedule_id_, &info_);
      st != WFP_OK) {
    if (st == WFP_ERR_NOT_FOUND)
      return Error(404, fmt::format("Resource does not exist: schedule id={}", schedule_id_));
    return StoreFault("load_schedule", st);
  }
  return std::nullopt;
}

#if WFP_ABI_VERSION_MINOR >= 4
std::optional<Answer> Run::ReadScheduleWindow() {
  Window w;
  w.from = request_.from_time->seconds;
  wfp_session_window asked{};
  asked.struct_size = sizeof asked;
  asked.from = w.from;
  asked.to = std::numeric_limits<Instant>::max();
  asked.max_sessions = WindowSize(request_.count, state_.plan_batch);
  asked.visitor = CollectSession;
  asked.user_data = &w.sessions;
  // A dry run of one batch reads nothing after the window when the window covers it; when it does
  // not, the run starts again without the flag (WindowTooShort).
  w.ended = last_read_ && snapshot_ && request_.dry_run && request_.count &&
            *request_.count <= state_.plan_batch;
  if (w.ended) asked.flags = WFP_WINDOW_LAST_READ;
  if (wfp_status st =
          store_->load_schedule_window(txn_->get(), r_.site_id, schedule_id_, &info_, &asked);
      st != WFP_OK) {
    if (st == WFP_ERR_NOT_FOUND)
      return Error(404, fmt::format("Resource does not exist: schedule id={}", schedule_id_));
    return StoreFault("load_schedule_window", st);
  }
  if (w.sessions.failed) {
    LogError(
        "a session load_schedule_window visited could not be taken (a wfp_session_info "
        "shorter than ABI 1.0's, or no memory)");
    return Internal();
  }
  const std::vector<ExistingSession>& listed = w.sessions.list;
  w.known_to = asked.complete ? asked.to : listed.empty() ? w.from : listed.back().session_time + 1;
  if (asked.has_latest_before) w.latest_before = asked.latest_before;
  window_ = std::move(w);
  return std::nullopt;
}
#endif

// The schedule (locked for a real run), and its definition compiled.
std::optional<Answer> Run::LoadSchedule() {
  info_.struct_size = sizeof info_;
  if (auto a = ReadSchedule()) return a;
  // The host says in struct_size how much it wrote; every field read below is of ABI 1.0.
  if (!WFP_HAS_FIELD(wfp_schedule_info, &info_, last_session_time)) {
    LogError(fmt::format("load_schedule wrote {} bytes, fewer than ABI 1.0's fields",
                         info_.struct_size));
    return Internal();
  }
  auto compiled = state_.schedules.Get(View(info_.schedule_json), View(info_.timezone));
  if (std::holds_alternative<ScheduleCache::NotJson>(compiled)) {
    LogError(fmt::format("schedule {} has a definition that is not JSON", schedule_id_));
    return Internal();
  }
  if (auto* e = std::get_if<schedule::ParseError>(&compiled)) return Error(400, e->message);
  schedule_ = std::get<std::shared_ptr<const schedule::Schedule>>(std::move(compiled));
  return std::nullopt;
}

// The sessions of the schedule's workflow in [from, to): what the window covers from it, the rest
// from the store.
std::optional<Answer> Run::ListSessions(Instant from, Instant to, Sessions* out) {
  if (window_ && from >= window_->from && from < window_->known_to) {
    for (const ExistingSession& s : window_->sessions.list)
      if (s.session_time >= from && s.session_time < to) out->list.push_back(s);
    if (to <= window_->known_to) return std::nullopt;
    from = window_->known_to;
  }
  if (window_ && window_->ended) throw WindowTooShort{};
  if (wfp_status st = store_->list_sessions(txn_->get(), info_.project_id, info_.workflow_name,
                                            from, to, CollectSession, out);
      st != WFP_OK)
    return StoreFault("list_sessions", st);
  if (out->failed) {
    LogError(
        "a session list_sessions visited could not be taken (a wfp_session_info shorter than ABI "
        "1.0's, or no memory)");
    return Internal();
  }
  return std::nullopt;
}

// The latest session of the schedule's workflow before `t`.
std::optional<Answer> Run::LatestBefore(Instant t, std::optional<Instant>* out) {
  if (window_ && t >= window_->from && t <= window_->known_to) {
    *out = window_->latest_before;
    for (const ExistingSession& s : window_->sessions.list) {
      if (s.session_time >= t) break;
      *out = s.session_time;
    }
    return std::nullopt;
  }
  if (window_ && window_->ended) throw WindowTooShort{};
  int32_t found = 0;
  Instant latest = 0;
  if (wfp_status st = store_->latest_session_before(txn_->get(), info_.project_id,
                                                    info_.workflow_name, t, &found, &latest);
      st != WFP_OK)
    return StoreFault("latest_session_before", st);
  if (found) *out = latest;
  return std::nullopt;
}

// The sessions that exist among the candidates, and the latest one before the first candidate.
std::optional<Answer> Run::ReadExisting(const std::vector<Instant>& candidates, Sessions* existing,
                                        std::optional<Instant>* latest_before) {
  if (candidates.empty()) return std::nullopt;
  if (auto a = ListSessions(candidates.front(), candidates.back() + 1, existing)) return a;
  return LatestBefore(candidates.front(), latest_before);
}

// The clock, and what the plan is made against.
void Run::SetPlanContext() {
  now_ = state_.host.now_micros(state_.host.host) / 1000000;
  context_.project_id = info_.project_id;
  context_.workflow_name = std::string(View(info_.workflow_name));
  context_.pointer.next_schedule_time = info_.next_schedule_time;
  context_.pointer.next_run_time = info_.next_run_time;
  if (info_.has_last_session_time) context_.pointer.last_session_time = info_.last_session_time;
}

// A 412 unless the request's If-Match (when it has one, even an empty line) accepts the plan's
// ETag.
std::optional<Answer> Run::CheckIfMatch(const std::string& etag) const {
  if (!if_match_.present || if_match_.Accepts(etag)) return std::nullopt;
  return Error(412, fmt::format("the plan changed: If-Match {} does not match the current plan {}",
                                text::Excerpt(if_match_.shown, 80), etag));
}

// A real run's candidates, the sessions among them, the plan (all at once: its answer is rendered
// after the writes), and the If-Match check against it.
std::optional<Answer> Run::MakePlan() {
  auto candidates_or =
      EnumerateCandidates(*schedule_, request_, context_.pointer, now_, state_.max_sessions);
  if (auto* e = std::get_if<Refusal>(&candidates_or)) return Error(*e);
  const std::vector<Instant>& candidates = std::get<std::vector<Instant>>(candidates_or);

  Sessions existing;
  std::optional<Instant> latest_before;
  if (auto a = ReadExisting(candidates, &existing, &latest_before)) return a;

  auto plan_or =
      BuildPlan(*schedule_, context_, request_, candidates, existing.list, latest_before);
  if (auto* e = std::get_if<Refusal>(&plan_or)) return Error(*e);
  plan_ = std::move(std::get<Plan>(plan_or));
  if (auto a = CheckIfMatch(plan_.etag)) return a;
  DrawUuidSeed(plan_.uuid_seed);
  return std::nullopt;
}

// What the answer needs of the schedule, copied now: the store lends `info_`'s strings only until
// the transaction ends (commit or rollback).
void Run::CopyAnswerContext() {
  ResponseContext& rc = answer_context_;
  rc.schedule_id = schedule_id_;
  rc.project_id = info_.project_id;
  rc.project_name = std::string(View(info_.project_name));
  rc.workflow_id = info_.workflow_definition_id;
  rc.workflow_name = context_.workflow_name;
  if (info_.pool_id.data) rc.pool_id = std::string(View(info_.pool_id));
  rc.attempt_name = request_.attempt_name;
  rc.created_at = now_;
}

// The new sessions, kWriteBatch items of the plan at a time; their ids go back into the plan.
std::optional<Answer> Run::WriteSessions() {
  for (size_t begin = 0; begin < plan_.items.size(); begin += kWriteBatch)
    if (auto a = WriteSessionBatch(begin, std::min(plan_.items.size(), begin + kWriteBatch)))
      return a;
  return std::nullopt;
}

std::optional<Answer> Run::WriteSessionBatch(size_t begin, size_t end) {
  std::vector<std::string> uuids;
  std::vector<size_t> session_items;
  for (size_t i = begin; i < end; ++i) {
    if (plan_.items[i].action != Action::kCreateSession) continue;
    uuids.push_back(NewSessionUuid(plan_.uuid_seed, i));
    session_items.push_back(i);
  }
  if (session_items.empty()) return std::nullopt;
  std::vector<wfp_new_session> sessions(session_items.size());
  for (size_t k = 0; k < session_items.size(); ++k) {
    wfp_new_session& n = sessions[k];
    n.struct_size = sizeof n;
    n.project_id = info_.project_id;
    n.workflow_name = info_.workflow_name;
    n.session_time = plan_.items[session_items[k]].session_time;
    n.uuid = Str(uuids[k]);
  }
  std::vector<int64_t> session_ids(sessions.size());
  wfp_status st =
      store_->create_sessions(txn_->get(), sessions.data(), sessions.size(), session_ids.data());
  if (st == WFP_ERR_CONFLICT)
    return Error(409, "a session of this backfill was created concurrently; retry");
  if (st != WFP_OK) return StoreFault("create_sessions", st);
  for (size_t k = 0; k < session_items.size(); ++k)
    plan_.items[session_items[k]].session_id = session_ids[k];
  return std::nullopt;
}

// One attempt per session not skipped, kWriteBatch items of the plan at a time: the first queued,
// each later one blocked on the session before it. Their ids go back into the plan.
std::optional<Answer> Run::WriteAttempts() {
  int64_t previous_session = 0;
  for (size_t begin = 0; begin < plan_.items.size(); begin += kWriteBatch)
    if (auto a = WriteAttemptBatch(begin, std::min(plan_.items.size(), begin + kWriteBatch),
                                   &previous_session))
      return a;
  return std::nullopt;
}

std::optional<Answer> Run::WriteAttemptBatch(size_t begin, size_t end,
                                             int64_t* previous_session_io) {
  std::vector<std::string> params;
  std::vector<wfp_new_attempt> attempts;
  std::vector<size_t> attempt_items;
  params.reserve(end - begin);  // Str() below borrows these strings: no reallocation
  int64_t previous_session = *previous_session_io;
  const wfp_str name = request_.attempt_name ? Str(*request_.attempt_name) : wfp_str{nullptr, 0};
  for (size_t i = begin; i < end; ++i) {
    const PlannedItem& item = plan_.items[i];
    if (item.action == Action::kSkip) continue;
    wfp_new_attempt a{};
    a.struct_size = sizeof a;
    a.session_id = item.session_id;
    a.name = name;
    a.index = item.index;
    a.state = item.blocked ? WFP_ATTEMPT_BLOCKED : WFP_ATTEMPT_QUEUED;
    a.params_json = Str(params.emplace_back(ParamsJson(*schedule_, item)));
    a.created_at = now_;
    a.pool_id = info_.pool_id;
    a.depends_on_session_id = item.blocked ? previous_session : 0;
    attempts.push_back(a);
    attempt_items.push_back(i);
    previous_session = item.session_id;
  }
  *previous_session_io = previous_session;
  if (attempts.empty()) return std::nullopt;
  std::vector<int64_t> ids(attempts.size());
  wfp_status st =
      store_->create_attempts(txn_->get(), attempts.data(), attempts.size(), ids.data());
  if (st == WFP_ERR_CONFLICT)
    return Error(409, "an attempt of this backfill was created concurrently; retry");
  if (st != WFP_OK) return StoreFault("create_attempts", st);
  for (size_t k = 0; k < attempt_items.size(); ++k)
    plan_.items[attempt_items[k]].attempt_id = ids[k];
  return std::nullopt;
}

std::optional<Answer> Run::MovePointer() {
  if (!plan_.pointer_moves) return std::nullopt;
  wfp_schedule_pointer p{};
  p.struct_size = sizeof p;
  p.next_schedule_time = plan_.pointer_after.next_schedule_time;
  p.next_run_time = plan_.pointer_after.next_run_time;
  p.has_last_session_time = plan_.pointer_after.last_session_time.has_value();
  p.last_session_time = plan_.pointer_after.last_session_time.value_or(0);
  if (wfp_status st = store_->move_schedule_pointer(txn_->get(), schedule_id_, &p); st != WFP_OK)
    return StoreFault("move_schedule_pointer", st);
  return std::nullopt;
}

// Counts a committed backfill's sessions into its answer (for the plugin's metrics) and logs one
// line for it (the host adds the request id).
void Run::LogCommitted(Answer* answer) const {
  const ActionCounts n = CountActions(plan_);
  answer->sessions_created = n.attempts;
  answer->sessions_skipped = n.skipped;
  Log(state_, WFP_LOG_INFO,
      fmt::format("schedule {}: backfill committed, {} sessions given an attempt, {} skipped{}",
                  schedule_id_, answer->sessions_created, answer->sessions_skipped,
                  plan_.pointer_moves ? ", pointer moved" : ""));
}

// The 200, streamed to the host (the transaction has ended: committed, or a dry run's snapshot
// rolled back). A real backfill that committed is answered 200 even when rendering its answer
// fails: before anything was sent, with its summary (RenderCommittedSummary); once a piece was
// sent, the answer is marked cut so that the host cuts it off (a partial body must not look whole).
// A dry run wrote nothing: its failure propagates (a 500).
Answer Run::AnswerPlan() {
  Answer answer{200, {}, plan_.etag, false, true};
  answer.dry_run = request_.dry_run;
  if (!request_.dry_run) LogCommitted(&answer);
  Responder responder(state_.host, call_);
  try {
    responder.Stream(answer, [&](size_t chunk, const RenderSink& sink) {
      render_(*schedule_, answer_context_, plan_, chunk, sink);
    });
  } catch (...) {
    if (request_.dry_run) throw;
    LogError(fmt::format("the backfill was committed, but its answer could not be rendered: {}",
                         CurrentExceptionText()));
    if (responder.started()) {
      answer.cut = true;
    } else {
      answer.sent = false;
      answer.body = RenderCommittedSummary(schedule_id_, plan_);
    }
  }
  return answer;
}

}  // namespace writer_internal

std::string RenderCommittedSummary(int64_t schedule_id, const Plan& plan) {
  const ActionCounts n = CountActions(plan);
  return fmt::format(
      R"({{"id":"{}","committed":true,"attemptCount":{},"skippedCount":{},"message":{}}})",
      schedule_id, n.attempts, n.skipped,
      JsonString("the backfill was committed, but its full answer could not be rendered; the "
                 "host's log says why"));
}

Answer Backfill(const PluginState& state, const wfp_request& r, wfp_call* call,
                ResponseRenderer render) {
  try {
    return writer_internal::Run(state, r, call, render, /*last_read=*/true).Go();
  } catch (const writer_internal::WindowTooShort&) {
    return writer_internal::Run(state, r, call, render, /*last_read=*/false).Go();
  }
}

}  // namespace wfp::backfill
