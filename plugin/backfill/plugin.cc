// The backfill plugin's ABI surface: the one exported entry point, init/shutdown, and the handler
// of POST /api/schedules/{id}/backfill. Everything here is glue: parsing, planning and rendering
// live in request.cc, planner.cc and render.cc. Every function the host calls catches everything.
//
// Versions: the plugin needs a host of ABI 1.0 (its descriptor says minor 0). It reads every struct
// the host gives only as far as its struct_size covers (wfp::abi::ReadStruct), and uses the 1.1
// functions (respond_append, the store's begin_read) and the 1.3 metric functions (register_metric,
// metric_add) only when the host's tables have them. It also compiles against an older 1.x header
// (the ABI matrix builds it against the frozen 1.0, 1.1 and 1.2 ones): code for a newer function is
// then left out.
#include <fmt/format.h>
#include <wfp/abi_struct.h>
#include <wfp/plugin_abi.h>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <charconv>
#include <cstring>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "backfill/planner.h"
#include "backfill/render.h"
#include "backfill/request.h"
#include "backfill/schedule_cache.h"
#include "schedule/schedule.h"
#include "ui/page.h"
#include "wfp_text/strict_json.h"
#include "wfp_text/utf8.h"
#include "wfp_version.h"

namespace wfp::backfill {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPagePath = "/ui/backfill";

wfp_str Str(std::string_view s) { return wfp_str{s.data(), s.size()}; }
std::string_view View(wfp_str s) {
  return s.data ? std::string_view(s.data, s.size) : std::string_view();
}

// The host's tables as far as their struct_size covers (zero past it: a function a 1.0 host does
// not have is null here), so every later use is a plain null check.
struct PluginState {
  wfp_host_api host{};
  wfp_store_api store{};
  uint64_t max_sessions = kDefaultMaxSessions;
  mutable ScheduleCache schedules;  // compiled definitions, shared by every request (thread-safe)
#if WFP_ABI_VERSION_MINOR >= 3
  // ABI 1.3 metrics, registered in init when the host offers them; null otherwise.
  wfp_metric* requests = nullptr;  // wfp_backfill_requests_total{outcome}
  wfp_metric* sessions = nullptr;  // wfp_backfill_sessions_total{result}
#endif
};

void Log(const PluginState& state, wfp_log_level level, std::string_view message) {
  state.host.log(state.host.host, level, Str(message));
}

// Since ABI 1.1; null when the host's table does not have it (or the header compiled against is
// older).
auto RespondAppend(const wfp_host_api& host) {
#if WFP_ABI_VERSION_MINOR >= 1
  return host.respond_append;
#else
  (void)host;
  return static_cast<wfp_status (*)(wfp_call*, wfp_str)>(nullptr);
#endif
}
auto BeginRead(const wfp_store_api& store) {
#if WFP_ABI_VERSION_MINOR >= 1
  return store.begin_read;
#else
  (void)store;
  return static_cast<wfp_status (*)(wfp_call*, wfp_txn**)>(nullptr);
#endif
}

// A store transaction that rolls back unless committed. Never throws from its destructor.
class Transaction {
 public:
  Transaction(const wfp_store_api* store, wfp_txn* txn) : store_(store), txn_(txn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (txn_) store_->rollback(txn_);
  }
  wfp_txn* get() const { return txn_; }
  wfp_status Commit() {
    wfp_txn* t = txn_;
    txn_ = nullptr;
    return store_->commit(t);
  }
  void Rollback() {
    if (txn_) store_->rollback(txn_);
    txn_ = nullptr;
  }

 private:
  const wfp_store_api* store_;
  wfp_txn* txn_;
};

struct Answer {
  int status = 500;
  std::string body;
  std::string etag;                                   // sent as ETag when set
  bool retry_after = false;                           // 503: Retry-After: 1
  bool sent = false;                                  // already handed to the host (a streamed 200)
  bool dry_run = false;                               // a 200 of a dry run
  size_t sessions_created = 0, sessions_skipped = 0;  // a real run's, once committed
};

// Hands an answer to the host: whole, or, where the host can append (ABI 1.1), in pieces as they
// are rendered, so that a large body never exists twice (the plugin's and the host's copy).
class Responder {
 public:
  static constexpr size_t kChunkBytes = 256 * 1024;

  Responder(const wfp_host_api& host, wfp_call* call) : host_(host), call_(call) {}

  bool Send(const Answer& a, std::string_view body) {
    Headers h(a);
    wfp_response response{};
    response.struct_size = sizeof response;
    response.status = a.status;
    response.headers = h.headers;
    response.header_count = h.count;
    response.body = Str(body);
    return host_.respond(call_, &response) == WFP_OK;
  }

  // Renders through `render(chunk_bytes, sink)` and sends what it produces.
  bool Stream(const Answer& a, const std::function<void(size_t, const RenderSink&)>& render) {
    const auto append = RespondAppend(host_);
    if (!append) {
      std::string whole;
      render(SIZE_MAX, [&whole](std::string_view piece) { whole.append(piece); });
      return Send(a, whole);
    }
    bool ok = true, first = true;
    render(kChunkBytes, [&](std::string_view piece) {
      if (!ok) return;
      if (first) {
        ok = Send(a, piece);
        first = false;
      } else {
        ok = append(call_, Str(piece)) == WFP_OK;
      }
    });
    return ok;
  }

 private:
  struct Headers {
    explicit Headers(const Answer& a) {
      headers[count++] = wfp_header{Str("content-type"), Str(kJson)};
      if (!a.etag.empty()) headers[count++] = wfp_header{Str("etag"), Str(a.etag)};
      if (a.retry_after) headers[count++] = wfp_header{Str("retry-after"), Str("1")};
    }
    wfp_header headers[3];
    size_t count = 0;
  };
  const wfp_host_api& host_;
  wfp_call* call_;
};

Answer Error(int status, std::string_view message) {
  return Answer{status, RenderError(status, message), {}, false};
}
Answer Error(const HttpError& e) { return Error(e.status, e.message); }
Answer Internal() { return Error(500, "Internal server error"); }

std::string_view Header(const wfp_request& r, std::string_view name) {
  for (size_t i = 0; i < r.header_count; ++i)
    if (View(r.headers[i].name) == name) return View(r.headers[i].value);
  return {};
}

std::string_view PathParam(const wfp_request& r, std::string_view name) {
  for (size_t i = 0; i < r.path_param_count; ++i)
    if (View(r.path_params[i].name) == name) return View(r.path_params[i].value);
  return {};
}

// A positive 32-bit integer written in plain decimal digits.
std::optional<int64_t> ParseScheduleId(std::string_view s) {
  if (s.empty() || s.size() > 10 || s[0] == '0') return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > INT32_MAX) return std::nullopt;
  return v;
}

bool IsJsonContentType(std::string_view ct) {
  const size_t semi = ct.find(';');
  std::string_view media = ct.substr(0, semi);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  if (media.size() != kJson.size()) return false;
  for (size_t i = 0; i < media.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(media[i])) != kJson[i]) return false;
  return true;
}

// One If-Match field line: "*" or a list of entity tags; weak tags never match (RFC 9110 strong
// comparison).
bool IfMatchListAccepts(std::string_view header, std::string_view etag) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view tag =
        header.substr(pos, comma == std::string_view::npos ? header.npos : comma - pos);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*" || tag == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

// If-Match may come in several field lines (from a host that does not combine them): one list.
bool IfMatchAccepts(const wfp_request& r, std::string_view etag) {
  for (size_t i = 0; i < r.header_count; ++i)
    if (View(r.headers[i].name) == "if-match" && IfMatchListAccepts(View(r.headers[i].value), etag))
      return true;
  return false;
}

// A random (version 4) UUID. A per-thread Mersenne Twister seeded once from the system's entropy:
// boost's default generator reads the system's entropy for every UUID (a getrandom call each),
// which was a tenth of a large backfill's time.
std::string NewUuid() {
  thread_local boost::uuids::basic_random_generator<std::mt19937_64> generator;
  return boost::uuids::to_string(generator());
}

// What list_sessions visits, collected. `failed`: a session could not be taken (a struct shorter
// than ABI 1.0's, or no memory), so the list is incomplete; the visit was stopped there.
struct Sessions {
  std::vector<ExistingSession> list;
  bool failed = false;
};

int32_t CollectSession(void* user_data, const wfp_session_info* given) {
  auto* out = static_cast<Sessions*>(user_data);
  try {
    const wfp_session_info copy = abi::ReadStruct(given);
    const wfp_session_info* info = &copy;
    if (!WFP_HAS_FIELD(wfp_session_info, info, attempt_count)) {
      out->failed = true;
      return 1;
    }
    ExistingSession s;
    s.id = info->session_id;
    s.uuid = std::string(View(info->uuid));
    s.session_time = info->session_time;
    s.attempts.reserve(info->attempt_count);
    for (size_t i = 0; i < info->attempt_count; ++i) {
      const wfp_attempt_ref& a = info->attempts[i];
      ExistingAttempt attempt;
      if (a.name.data) attempt.name = std::string(View(a.name));
      attempt.index = a.index;
      s.attempts.push_back(std::move(attempt));
    }
    out->list.push_back(std::move(s));
    return 0;
  } catch (...) {
    out->failed = true;  // stopping alone would leave the plan built on a partial list
    return 1;
  }
}

Answer StoreFault(const PluginState& state, const wfp_request& r, std::string_view what,
                  wfp_status st) {
  if (st == WFP_ERR_BUSY) {
    Log(state, WFP_LOG_WARN,
        fmt::format("request {}: store busy during {}", View(r.request_id), what));
    Answer a = Error(503, "the schedule is locked by another request; retry shortly");
    a.retry_after = true;
    return a;
  }
  Log(state, WFP_LOG_ERROR,
      fmt::format("request {}: store {} failed with status {}", View(r.request_id), what, st));
  return Internal();
}

Answer Backfill(const PluginState& state, const wfp_request& r, wfp_call* call) {
  const std::string_view raw_id = PathParam(r, "id");
  const auto schedule_id = ParseScheduleId(raw_id);
  if (!schedule_id)
    return Error(404,
                 fmt::format("Resource does not exist: schedule id={}", text::Excerpt(raw_id, 32)));
  if (!IsJsonContentType(Header(r, "content-type")))
    return Error(415, "Content-Type must be application/json");
  auto parsed = ParseBackfillRequest(View(r.body));
  if (auto* e = std::get_if<HttpError>(&parsed)) return Error(*e);
  const BackfillRequest& request = std::get<BackfillRequest>(parsed);

  const wfp_store_api* store = &state.store;
  wfp_txn* raw_txn = nullptr;
  // A dry run writes nothing: a read snapshot (ABI 1.1) is enough and takes no lock. A 1.0 host
  // has only the write transaction.
  const auto begin_read = request.dry_run ? BeginRead(*store) : nullptr;
  if (wfp_status st = begin_read ? begin_read(call, &raw_txn) : store->begin(call, &raw_txn);
      st != WFP_OK)
    return StoreFault(state, r, "begin", st);
  Transaction txn(store, raw_txn);

  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  if (wfp_status st = store->load_schedule(txn.get(), r.site_id, *schedule_id, &info);
      st != WFP_OK) {
    if (st == WFP_ERR_NOT_FOUND)
      return Error(404, fmt::format("Resource does not exist: schedule id={}", *schedule_id));
    return StoreFault(state, r, "load_schedule", st);
  }
  // The host says in struct_size how much it wrote; every field read below is of ABI 1.0.
  if (!WFP_HAS_FIELD(wfp_schedule_info, &info, last_session_time)) {
    Log(state, WFP_LOG_ERROR,
        fmt::format("request {}: load_schedule wrote {} bytes, fewer than ABI 1.0's fields",
                    View(r.request_id), info.struct_size));
    return Internal();
  }

  auto compiled = state.schedules.Get(View(info.schedule_json), View(info.timezone));
  if (std::holds_alternative<ScheduleCache::NotJson>(compiled)) {
    Log(state, WFP_LOG_ERROR,
        fmt::format("request {}: schedule {} has a definition that is not JSON", View(r.request_id),
                    *schedule_id));
    return Internal();
  }
  if (auto* e = std::get_if<schedule::ParseError>(&compiled)) return Error(400, e->message);
  const schedule::Schedule& sched = *std::get<std::shared_ptr<const schedule::Schedule>>(compiled);

  const Instant now = state.host.now_micros(state.host.host) / 1000000;
  PlanContext context;
  context.project_id = info.project_id;
  context.workflow_name = std::string(View(info.workflow_name));
  context.pointer.next_schedule_time = info.next_schedule_time;
  context.pointer.next_run_time = info.next_run_time;
  if (info.has_last_session_time) context.pointer.last_session_time = info.last_session_time;

  auto candidates_or =
      EnumerateCandidates(sched, request, context.pointer, now, state.max_sessions);
  if (auto* e = std::get_if<HttpError>(&candidates_or)) return Error(*e);
  const std::vector<Instant>& candidates = std::get<std::vector<Instant>>(candidates_or);

  Sessions existing;
  std::optional<Instant> latest_before;
  if (!candidates.empty()) {
    if (wfp_status st =
            store->list_sessions(txn.get(), info.project_id, info.workflow_name, candidates.front(),
                                 candidates.back() + 1, CollectSession, &existing);
        st != WFP_OK)
      return StoreFault(state, r, "list_sessions", st);
    if (existing.failed) {
      Log(state, WFP_LOG_ERROR,
          fmt::format("request {}: a session list_sessions visited could not be taken (a "
                      "wfp_session_info shorter than ABI 1.0's, or no memory)",
                      View(r.request_id)));
      return Internal();
    }
    int32_t found = 0;
    Instant latest = 0;
    if (wfp_status st = store->latest_session_before(txn.get(), info.project_id, info.workflow_name,
                                                     candidates.front(), &found, &latest);
        st != WFP_OK)
      return StoreFault(state, r, "latest_session_before", st);
    if (found) latest_before = latest;
  }

  auto plan_or = BuildPlan(sched, context, request, candidates, existing.list, latest_before);
  if (auto* e = std::get_if<HttpError>(&plan_or)) return Error(*e);
  Plan& plan = std::get<Plan>(plan_or);

  if (const std::string_view if_match = Header(r, "if-match");
      !if_match.empty() && !IfMatchAccepts(r, plan.etag))
    return Error(412,
                 fmt::format("the plan changed: If-Match {} does not match the current plan {}",
                             text::Excerpt(if_match, 80), plan.etag));

  // What the answer needs of the schedule, copied now: the store lends `info`'s strings only until
  // the transaction ends (commit or rollback below).
  ResponseContext rc;
  rc.schedule_id = *schedule_id;
  rc.project_id = info.project_id;
  rc.project_name = std::string(View(info.project_name));
  rc.workflow_id = info.workflow_definition_id;
  rc.workflow_name = context.workflow_name;
  if (info.pool_id.data) rc.pool_id = std::string(View(info.pool_id));
  rc.attempt_name = request.attempt_name;
  rc.created_at = now;

  for (PlannedItem& item : plan.items)
    if (item.action == Action::kCreateSession) item.session_uuid = NewUuid();

  std::vector<int64_t> attempt_ids;
  if (request.dry_run) {
    txn.Rollback();
  } else {
    // Sessions first (one batch), then attempts (one batch), then the pointer; one transaction.
    std::vector<wfp_new_session> sessions;
    std::vector<size_t> session_items;
    for (size_t i = 0; i < plan.items.size(); ++i) {
      const PlannedItem& item = plan.items[i];
      if (item.action != Action::kCreateSession) continue;
      wfp_new_session n{};
      n.struct_size = sizeof n;
      n.project_id = info.project_id;
      n.workflow_name = info.workflow_name;
      n.session_time = item.session_time;
      n.uuid = Str(item.session_uuid);
      sessions.push_back(n);
      session_items.push_back(i);
    }
    std::vector<int64_t> session_ids(sessions.size());
    if (!sessions.empty()) {
      wfp_status st =
          store->create_sessions(txn.get(), sessions.data(), sessions.size(), session_ids.data());
      if (st == WFP_ERR_CONFLICT)
        return Error(409, "a session of this backfill was created concurrently; retry");
      if (st != WFP_OK) return StoreFault(state, r, "create_sessions", st);
    }
    for (size_t k = 0; k < session_items.size(); ++k)
      plan.items[session_items[k]].session_id = session_ids[k];

    std::vector<wfp_new_attempt> attempts;
    int64_t previous_session = 0;
    const wfp_str name = request.attempt_name ? Str(*request.attempt_name) : wfp_str{nullptr, 0};
    for (const PlannedItem& item : plan.items) {
      if (item.action == Action::kSkip) continue;
      wfp_new_attempt a{};
      a.struct_size = sizeof a;
      a.session_id = item.session_id;
      a.name = name;
      a.index = item.index;
      a.state = item.blocked ? WFP_ATTEMPT_BLOCKED : WFP_ATTEMPT_QUEUED;
      a.params_json = Str(item.params_json);
      a.created_at = now;
      a.pool_id = info.pool_id;
      a.depends_on_session_id = item.blocked ? previous_session : 0;
      attempts.push_back(a);
      previous_session = item.session_id;
    }
    attempt_ids.resize(attempts.size());
    if (!attempts.empty()) {
      wfp_status st =
          store->create_attempts(txn.get(), attempts.data(), attempts.size(), attempt_ids.data());
      if (st == WFP_ERR_CONFLICT)
        return Error(409, "an attempt of this backfill was created concurrently; retry");
      if (st != WFP_OK) return StoreFault(state, r, "create_attempts", st);
    }
    if (plan.pointer_moves) {
      wfp_schedule_pointer p{};
      p.struct_size = sizeof p;
      p.next_schedule_time = plan.pointer_after.next_schedule_time;
      p.next_run_time = plan.pointer_after.next_run_time;
      p.has_last_session_time = plan.pointer_after.last_session_time.has_value();
      p.last_session_time = plan.pointer_after.last_session_time.value_or(0);
      if (wfp_status st = store->move_schedule_pointer(txn.get(), *schedule_id, &p); st != WFP_OK)
        return StoreFault(state, r, "move_schedule_pointer", st);
    }
    if (wfp_status st = txn.Commit(); st != WFP_OK) return StoreFault(state, r, "commit", st);
  }

  Answer answer{200, {}, plan.etag, false, true};
  answer.dry_run = request.dry_run;
  if (!request.dry_run) {
    for (const PlannedItem& item : plan.items)
      ++(item.action == Action::kSkip ? answer.sessions_skipped : answer.sessions_created);
    // One line per committed write (the host adds the request id).
    Log(state, WFP_LOG_INFO,
        fmt::format("schedule {}: backfill committed, {} sessions given an attempt, {} skipped{}",
                    *schedule_id, answer.sessions_created, answer.sessions_skipped,
                    plan.pointer_moves ? ", pointer moved" : ""));
  }
  Responder(state.host, call).Stream(answer, [&](size_t chunk, const RenderSink& sink) {
    RenderBackfillResponse(sched, rc, plan, attempt_ids, chunk, sink);
  });
  return answer;
}

#if WFP_ABI_VERSION_MINOR >= 3
// The outcome label of wfp_backfill_requests_total for an answer.
std::string_view Outcome(const Answer& a) {
  switch (a.status) {
    case 200:
      return a.dry_run ? "dry_run" : "created";
    case 409:
      return "conflict";
    case 412:
      return "precondition_failed";
    case 404:
      return "not_found";
    case 503:
      return "busy";
    default:
      return a.status >= 400 && a.status < 500 ? "invalid" : "error";
  }
}

// Records the request's outcome (and a real run's sessions) in the host's metrics (ABI 1.3), when
// the host has them.
void CountAnswer(const PluginState& state, const Answer& a) {
  const wfp_host_api* h = &state.host;
  if (!state.requests || !h->metric_add) return;
  const wfp_str outcome = Str(Outcome(a));
  h->metric_add(state.requests, &outcome, 1, 1);
  if (!state.sessions || a.status != 200 || a.dry_run) return;
  const wfp_str created = Str("created"), skipped = Str("skipped");
  h->metric_add(state.sessions, &created, 1, static_cast<double>(a.sessions_created));
  h->metric_add(state.sessions, &skipped, 1, static_cast<double>(a.sessions_skipped));
}

// One counter with one label, registered with the host (ABI 1.3); null when the host refuses it.
wfp_metric* RegisterCounter(const PluginState& state, std::string_view name, std::string_view help,
                            std::string_view label) {
  const wfp_str label_name = Str(label);
  wfp_metric_desc desc{};
  desc.struct_size = sizeof desc;
  desc.kind = WFP_METRIC_COUNTER;
  desc.name = Str(name);
  desc.help = Str(help);
  desc.label_names = &label_name;
  desc.label_count = 1;
  wfp_metric* metric = nullptr;
  if (state.host.register_metric(state.host.host, &desc, &metric) != WFP_OK) {
    Log(state, WFP_LOG_WARN, fmt::format("metric {} not registered; not counted", name));
    return nullptr;
  }
  return metric;
}

// The plugin's series, when the host table has the metric functions (ABI 1.3) and they are set.
void RegisterMetrics(PluginState* state) {
  // The copy of the host's table is zero past its struct_size: an older host's are null.
  const wfp_host_api* h = &state->host;
  if (!h->register_metric || !h->metric_add) return;
  state->requests = RegisterCounter(
      *state, "wfp_backfill_requests_total",
      "Backfill requests by outcome (created, dry_run, conflict, precondition_failed, invalid, "
      "not_found, busy, error).",
      "outcome");
  state->sessions = RegisterCounter(
      *state, "wfp_backfill_sessions_total",
      "Sessions of real backfills by result: created (given an attempt) or skipped.", "result");
}
#else
// Compiled against a header older than 1.3 (the ABI matrix): there are no metric functions.
void CountAnswer(const PluginState&, const Answer&) {}
void RegisterMetrics(PluginState*) {}
#endif  // WFP_ABI_VERSION_MINOR >= 3

int32_t HandleBackfill(void* user_data, const wfp_request* given, wfp_call* call) {
  const auto* state = static_cast<const PluginState*>(user_data);
  // The fields the host's struct_size covers; every field read is of ABI 1.0.
  const wfp_request copy = abi::ReadStruct(given);
  const wfp_request* request = &copy;
  Answer answer;
  try {
    if (!WFP_HAS_FIELD(wfp_request, request, request_id)) {
      Log(*state, WFP_LOG_ERROR,
          fmt::format("a wfp_request of {} bytes, fewer than ABI 1.0's fields", copy.struct_size));
      answer = Internal();
    } else {
      answer = Backfill(*state, *request, call);
    }
  } catch (const std::exception& e) {
    Log(*state, WFP_LOG_ERROR,
        fmt::format("request {}: backfill failed: {}", View(request->request_id), e.what()));
    answer = Internal();
  } catch (...) {
    Log(*state, WFP_LOG_ERROR,
        fmt::format("request {}: backfill failed: unknown exception", View(request->request_id)));
    answer = Internal();
  }
  try {
    CountAnswer(*state, answer);
  } catch (...) {
  }
  if (answer.sent) return 0;
  try {
    return Responder(state->host, call).Send(answer, answer.body) ? 0 : 1;
  } catch (...) {
    return 1;
  }
}

// GET /ui/backfill: the backfill page, public (the page asks for the key and sends it with its API
// calls). Its own policy forbids anything but same-origin requests and its inline script and style.
int32_t HandlePage(void* user_data, const wfp_request* request, wfp_call* call) {
  (void)request;
  const auto* state = static_cast<const PluginState*>(user_data);
  try {
    const wfp_header headers[] = {
        {Str("content-type"), Str("text/html; charset=utf-8")},
        {Str("cache-control"), Str("no-cache")},
        {Str("content-security-policy"),
         Str("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
             "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
             "frame-ancestors 'none'")},
        {Str("x-content-type-options"), Str("nosniff")},
        {Str("referrer-policy"), Str("no-referrer")}};
    wfp_response response{};
    response.struct_size = sizeof response;
    response.status = 200;
    response.headers = headers;
    response.header_count = std::size(headers);
    response.body = Str(ui::kBackfillPage);
    return state->host.respond(call, &response) == WFP_OK ? 0 : 1;
  } catch (...) {
    return 1;
  }
}

// The host's tables as far as they go. The plugin needs their ABI 1.0 part, every function in it
// set (the store's: for a host without a store, functions that answer WFP_ERR_UNSUPPORTED).
bool ReadHostTables(const wfp_host_api* given, PluginState* state) {
  if (!given || !given->struct_size) return false;
  state->host = abi::ReadStruct(given);
  const wfp_host_api* h = &state->host;
  if (!WFP_HAS_FIELD(wfp_host_api, h, store) || !h->log || !h->now_micros || !h->register_route ||
      !h->get_setting || !h->respond || !h->store || !h->store->struct_size)
    return false;
  state->store = abi::ReadStruct(h->store);
  const wfp_store_api* s = &state->store;
  return WFP_HAS_FIELD(wfp_store_api, s, move_schedule_pointer) && s->begin && s->commit &&
         s->rollback && s->load_schedule && s->list_sessions && s->latest_session_before &&
         s->create_sessions && s->create_attempts && s->move_schedule_pointer;
}

int32_t Init(const wfp_host_api* given, void** out_state) {
  try {
    auto state = std::make_unique<PluginState>();
    if (!ReadHostTables(given, state.get())) {
      // Say why where a log function is there to say it with.
      if (given && WFP_HAS_FIELD(wfp_host_api, given, log) && given->log)
        given->log(given->host, WFP_LOG_ERROR,
                   Str("backfill: the host table lacks a function of ABI 1.0; refusing to start"));
      return 1;
    }
    const wfp_host_api* host = &state->host;
    wfp_str value{};
    if (host->get_setting(host->host, Str("backfill.max_sessions"), &value) == WFP_OK) {
      const std::string_view s = View(value);
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size() || v == 0) {
        Log(*state, WFP_LOG_ERROR,
            fmt::format("backfill.max_sessions must be a positive integer, not '{}'", s));
        return 1;
      }
      state->max_sessions = v;
    }
    RegisterMetrics(state.get());
    wfp_route route{};  // flags (1.2) zero: an authenticated route
    route.struct_size = sizeof route;
    route.method = Str("POST");
    route.path_template = Str("/api/schedules/{id}/backfill");
    route.handler = HandleBackfill;
    route.user_data = state.get();
    if (host->register_route(host->host, &route) != WFP_OK) return 1;
    // The page is optional: a host that serves only the route (examples/minimal_host.c) refuses
    // it, and the plugin goes on without it. Public since ABI 1.2; a 1.1 host ignores the flag
    // and asks for a key (the safe default).
    wfp_route page{};
    page.struct_size = sizeof page;
    page.method = Str("GET");
    page.path_template = Str(kPagePath);
    page.handler = HandlePage;
    page.user_data = state.get();
#if WFP_ABI_VERSION_MINOR >= 2
    page.flags = WFP_ROUTE_PUBLIC;  // compiled against an older header: as a 1.1 host would see it
#endif
    const wfp_status page_status = host->register_route(host->host, &page);
    if (page_status != WFP_OK)
      Log(*state, WFP_LOG_WARN,
          fmt::format("the host refused GET {} (status {}): the backfill page is not served",
                      kPagePath, page_status));
    Log(*state, WFP_LOG_INFO,
        fmt::format("backfill plugin ready: POST /api/schedules/{{id}}/backfill{}, "
                    "max_sessions={}",
                    page_status == WFP_OK ? fmt::format(", GET {}", kPagePath) : "",
                    state->max_sessions));
    *out_state = state.release();
    return 0;
  } catch (...) {
    return 1;
  }
}

void Shutdown(void* state) { delete static_cast<PluginState*>(state); }

// abi_minor 0: the plugin runs on any 1.x host (it uses what 1.1 added only where the host has it).
const wfp_plugin_v1 kDescriptor = {.struct_size = sizeof(wfp_plugin_v1),
                                   .abi_major = WFP_ABI_VERSION_MAJOR,
                                   .abi_minor = 0,
                                   .name = "backfill",
                                   .version = WFP_VERSION,
                                   .init = Init,
                                   .shutdown = Shutdown};

}  // namespace
}  // namespace wfp::backfill

extern "C" WFP_EXPORT const wfp_plugin_v1* wfp_plugin_entry_v1(void) {
  return &wfp::backfill::kDescriptor;
}
