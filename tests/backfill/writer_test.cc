// The writer (plugin/backfill/writer.cc) against a fake store table and a fake host: what it
// writes, in which order, when it commits or rolls back, and what it answers.
#include "backfill/writer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "backfill/plugin_state.h"
#include "backfill/writer_run.h"

// The fake host's call and transaction (this test links no host).
struct wfp_call {
  int respond_calls = 0;
  int append_calls = 0;
  bool receiver_gone = false;  // respond_append fails, as when the client went away
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};
struct wfp_txn {
  bool read_only = false;
  bool ended = false;  // by load_schedule_window with WFP_WINDOW_LAST_READ
};

namespace wfp::backfill {
namespace {

// Schedule 5 of site 1: project 1 "etl", workflow 11 "load", daily at 09:00 UTC (sessions at
// midnight), its pointer at the session of 2024-01-10 (run at 09:00); now is 2024-01-12T03:00:00Z.
// The store keeps what is written to it.
constexpr int64_t kNow = 1705028400;
constexpr int64_t kPointer = 1704844800;  // 2024-01-10T00:00:00Z

struct FakeStore {
  int begins = 0, commits = 0, rollbacks = 0;
  bool open = false;
  wfp_status create_sessions_status = WFP_OK;
  wfp_status create_attempts_status = WFP_OK;
  wfp_status latest_status = WFP_OK;         // latest_session_before's answer
  std::optional<int64_t> last_session_time;  // the schedule's pointer's, when it has one
  bool window_short_info = false;      // load_schedule_window visits with a pre-ABI-1.0 struct_size
  std::vector<int64_t> session_times;  // created, committed or not
  std::vector<std::string> session_uuids;   // of each created session
  std::vector<wfp_new_attempt> attempts;    // created (strings not kept)
  std::vector<std::string> attempt_params;  // of each created attempt
  size_t largest_batch = 0;                 // of create_sessions and create_attempts
  std::vector<int64_t> pointer_moves;       // next_schedule_time of each move
  // Sessions that exist (ascending), each with its attempts' names and indexes.
  struct Session {
    int64_t time = 0, id = 0;
    std::string uuid;
    std::vector<std::pair<std::optional<std::string>, int32_t>> attempts;
  };
  std::vector<Session> existing;
  int list_calls = 0, latest_calls = 0;
  std::vector<int64_t> list_froms;     // `from` of each list_sessions call
  int window_calls = 0;                // load_schedule_window (offered by some tests)
  std::vector<uint32_t> window_sizes;  // max_sessions of each
  std::vector<uint32_t> window_flags;  // flags of each
  int reads_after_end = 0;             // list or latest calls in a transaction it ended
  wfp_status window_status = WFP_OK;   // its answer after loading the schedule
  int fail_list_call = 0;  // list_sessions fails on this call (counted from 1); 0: never
  std::function<void(int)> before_list;  // called with each list_sessions call's number
  bool open_when_answered = false;       // a transaction was open when the answer's head was sent
};
FakeStore* g_store = nullptr;  // the one the current test set up
std::vector<std::string> g_log;

wfp_str S(const char* s) { return wfp_str{s, std::char_traits<char>::length(s)}; }

wfp_status Begin(wfp_call*, wfp_txn** out) {
  g_store->begins++;
  g_store->open = true;
  *out = new wfp_txn{};
  return WFP_OK;
}
wfp_status Commit(wfp_txn* txn) {
  g_store->commits++;
  g_store->open = false;
  delete txn;
  return WFP_OK;
}
void Rollback(wfp_txn* txn) {
  g_store->rollbacks++;
  g_store->open = false;
  delete txn;
}
wfp_status Load(wfp_txn*, int64_t site, int64_t id, wfp_schedule_info* out) {
  if (site != 1 || id != 5) return WFP_ERR_NOT_FOUND;
  out->schedule_id = 5;
  out->site_id = 1;
  out->project_id = 1;
  out->project_name = S("etl");
  out->workflow_definition_id = 11;
  out->workflow_name = S("load");
  out->timezone = S("UTC");
  out->schedule_json = S(R"({"daily>":"09:00:00"})");
  out->next_schedule_time = kPointer;
  out->next_run_time = kPointer + 9 * 3600;
  out->has_last_session_time = g_store->last_session_time.has_value();
  out->last_session_time = g_store->last_session_time.value_or(0);
  return WFP_OK;
}
// Visits `s` as list_sessions does (`short_info`: with a struct_size that stops before
// attempt_count, as no host may); the visitor's answer.
int32_t Visit(const FakeStore::Session& s, wfp_session_visitor visit, void* user_data,
              bool short_info = false) {
  std::vector<wfp_attempt_ref> refs;
  for (const auto& [name, index] : s.attempts)
    refs.push_back({name ? Str(*name) : wfp_str{nullptr, 0}, index});
  wfp_session_info info{};
  info.struct_size = sizeof info;
  info.session_id = s.id;
  info.uuid = Str(s.uuid);
  info.session_time = s.time;
  info.attempts = refs.data();
  info.attempt_count = refs.size();
  if (short_info) info.struct_size = offsetof(wfp_session_info, attempt_count);
  return visit(user_data, &info);
}
wfp_status List(wfp_txn* txn, int64_t, wfp_str, wfp_epoch_seconds from, wfp_epoch_seconds to,
                wfp_session_visitor visit, void* user_data) {
  if (txn->ended) return ++g_store->reads_after_end, WFP_ERR_STATE;
  g_store->list_froms.push_back(from);
  if (++g_store->list_calls == g_store->fail_list_call) return WFP_ERR_INTERNAL;
  if (g_store->before_list) g_store->before_list(g_store->list_calls);
  for (const FakeStore::Session& s : g_store->existing) {
    if (s.time < from || s.time >= to) continue;
    if (Visit(s, visit, user_data)) break;
  }
  return WFP_OK;
}
std::optional<int64_t> LatestSessionBefore(int64_t before) {
  std::optional<int64_t> latest;
  for (const FakeStore::Session& s : g_store->existing) {
    if (s.time >= before) break;
    latest = s.time;
  }
  return latest;
}
wfp_status Latest(wfp_txn* txn, int64_t, wfp_str, wfp_epoch_seconds before, int32_t* found,
                  wfp_epoch_seconds* time) {
  if (txn->ended) return ++g_store->reads_after_end, WFP_ERR_STATE;
  g_store->latest_calls++;
  if (g_store->latest_status != WFP_OK) return g_store->latest_status;
  const std::optional<int64_t> latest = LatestSessionBefore(before);
  *found = latest.has_value();
  if (latest) *time = *latest;
  return WFP_OK;
}
// load_schedule_window (ABI 1.4): Load, the first sessions of [from, to) up to the limit, and the
// latest session before `from`, without counting as list or latest calls.
wfp_status Window(wfp_txn* txn, int64_t site, int64_t id, wfp_schedule_info* out,
                  wfp_session_window* w) {
  g_store->window_calls++;
  g_store->window_sizes.push_back(w->max_sessions);
  g_store->window_flags.push_back(w->flags);
  if (wfp_status st = Load(txn, site, id, out); st != WFP_OK) return st;
  if (g_store->window_status != WFP_OK) return g_store->window_status;
  w->complete = 1;
  uint32_t visited = 0;
  for (const FakeStore::Session& s : g_store->existing) {
    if (s.time < w->from || s.time >= w->to) continue;
    if (visited++ == w->max_sessions ||
        Visit(s, w->visitor, w->user_data, g_store->window_short_info)) {
      w->complete = 0;
      break;
    }
  }
  const std::optional<int64_t> latest = LatestSessionBefore(w->from);
  w->has_latest_before = latest.has_value();
  w->latest_before = latest.value_or(0);
  if (w->flags & WFP_WINDOW_LAST_READ) txn->ended = true;
  return WFP_OK;
}
wfp_status CreateSessions(wfp_txn*, const wfp_new_session* s, size_t n, int64_t* ids) {
  if (g_store->create_sessions_status != WFP_OK) return g_store->create_sessions_status;
  g_store->largest_batch = std::max(g_store->largest_batch, n);
  for (size_t i = 0; i < n; ++i) {
    g_store->session_times.push_back(s[i].session_time);
    g_store->session_uuids.emplace_back(View(s[i].uuid));
    ids[i] = 100 + static_cast<int64_t>(g_store->session_times.size());
  }
  return WFP_OK;
}
wfp_status CreateAttempts(wfp_txn*, const wfp_new_attempt* a, size_t n, int64_t* ids) {
  if (g_store->create_attempts_status != WFP_OK) return g_store->create_attempts_status;
  g_store->largest_batch = std::max(g_store->largest_batch, n);
  for (size_t i = 0; i < n; ++i) {
    g_store->attempts.push_back(a[i]);
    g_store->attempt_params.emplace_back(View(a[i].params_json));
    ids[i] = 1000 + static_cast<int64_t>(g_store->attempts.size());
  }
  return WFP_OK;
}
wfp_status Move(wfp_txn*, int64_t, const wfp_schedule_pointer* p) {
  g_store->pointer_moves.push_back(p->next_schedule_time);
  return WFP_OK;
}

void HostLog(wfp_host*, wfp_log_level, wfp_str m) { g_log.emplace_back(View(m)); }
int64_t Now(wfp_host*) { return kNow * 1000000; }
wfp_status Respond(wfp_call* call, const wfp_response* r) {
  if (call->respond_calls++) return WFP_ERR_STATE;
  if (g_store) g_store->open_when_answered = g_store->open;
  call->status = r->status;
  for (size_t i = 0; i < r->header_count; ++i)
    call->headers.emplace_back(View(r->headers[i].name), View(r->headers[i].value));
  call->body.assign(View(r->body));
  return WFP_OK;
}
wfp_status Append(wfp_call* call, wfp_str piece) {
  if (!call->respond_calls) return WFP_ERR_STATE;
  call->append_calls++;
  if (call->receiver_gone) return WFP_ERR_INTERNAL;
  call->body.append(View(piece));
  return WFP_OK;
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_store = &store_;
    g_log.clear();
    state_.host.struct_size = sizeof state_.host;
    state_.host.log = HostLog;
    state_.host.now_micros = Now;
    state_.host.respond = Respond;
    state_.host.respond_append = Append;
    state_.store =
        wfp_store_api{sizeof(wfp_store_api), Begin,          Commit, Rollback, Load,   List, Latest,
                      CreateSessions,        CreateAttempts, Move,   Begin,    nullptr};
  }
  void TearDown() override { g_store = nullptr; }

  // POST /api/schedules/{id}/backfill with `body`; a returned answer that was not sent is sent the
  // way the glue sends it.
  Answer Post(std::string_view body, ResponseRenderer render = RenderBackfillResponse,
              std::string_view id = "5") {
    headers_ = {{S("content-type"), Str(content_type_)}};
    for (const auto& [name, value] : extra_headers_) headers_.push_back({Str(name), Str(value)});
    params_ = {{S("id"), Str(id)}};
    wfp_request r{};
    r.struct_size = sizeof r;
    r.site_id = 1;
    r.request_id = S("req-1");
    r.headers = headers_.data();
    r.header_count = headers_.size();
    r.path_params = params_.data();
    r.path_param_count = params_.size();
    r.body = Str(body);
    Answer a = Backfill(state_, r, &call_, render);
    if (!a.sent) Responder(state_.host, &call_).Send(a, a.body);
    return a;
  }
  boost::json::object Body() const { return boost::json::parse(call_.body).as_object(); }

  FakeStore store_;
  PluginState state_;
  wfp_call call_;
  std::vector<wfp_header> headers_;
  std::vector<wfp_path_param> params_;
  std::string content_type_ = "application/json";
  std::vector<std::pair<std::string, std::string>> extra_headers_;  // after the content type
};

constexpr std::string_view kTwoSessions =
    R"({"dryRun":false,"fromTime":"2024-01-08T00:00:00Z","count":2,"attemptName":"fix-1"})";

TEST_F(WriterTest, WritesSessionsThenAttemptsInOneTransactionAndAnswers200) {
  Post(kTwoSessions);
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(call_.respond_calls, 1);
  EXPECT_EQ(store_.begins, 1);
  EXPECT_EQ(store_.commits, 1);
  EXPECT_EQ(store_.rollbacks, 0);
  ASSERT_EQ(store_.session_times,
            (std::vector<int64_t>{1704672000, 1704758400}));  // 2024-01-08 and 09
  ASSERT_EQ(store_.attempts.size(), 2u);
  EXPECT_EQ(store_.attempts[0].state, WFP_ATTEMPT_QUEUED);
  EXPECT_EQ(store_.attempts[1].state, WFP_ATTEMPT_BLOCKED);
  EXPECT_EQ(store_.attempts[1].depends_on_session_id, 101);
  EXPECT_TRUE(store_.pointer_moves.empty());  // not advance mode
  const auto body = Body();
  const auto& attempts = body.at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].at("id").as_string(), "1001");
  EXPECT_EQ(attempts[1].at("sessionId").as_string(), "102");
  EXPECT_EQ(attempts[1].at("status").as_string(), "blocked");
}

TEST_F(WriterTest, DryRunWritesNothingAndRollsBack) {
  Post(R"({"dryRun":true,"fromTime":"2024-01-08T00:00:00Z","count":2,"attemptName":"fix-1"})");
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(store_.commits, 0);
  EXPECT_EQ(store_.rollbacks, 1);
  EXPECT_TRUE(store_.session_times.empty());
  EXPECT_EQ(Body().at("attempts").as_array().at(0).at("id").as_string(), "0");
}

TEST_F(WriterTest, AdvanceModeMovesThePointer) {
  Post(R"({"dryRun":false,"skipExisting":true,"advanceSchedule":true})");
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(store_.commits, 1);
  EXPECT_EQ(store_.session_times, (std::vector<int64_t>{kPointer, kPointer + 86400}));
  EXPECT_EQ(store_.pointer_moves, (std::vector<int64_t>{kPointer + 2 * 86400}));
}

TEST_F(WriterTest, AConflictOnCreateIsA409AndNothingIsCommitted) {
  store_.create_sessions_status = WFP_ERR_CONFLICT;
  Post(kTwoSessions);
  EXPECT_EQ(call_.status, 409);
  EXPECT_EQ(store_.commits, 0);
  EXPECT_EQ(store_.rollbacks, 1);
  EXPECT_FALSE(store_.open);
}

// A new session's UUID comes from a 128-bit seed drawn per request (session_uuid.h): both of its
// words are drawn, not one of them twice.
TEST(DrawUuidSeed, DrawsBothWords) {
  std::set<uint64_t> first, second;
  for (int i = 0; i < 4; ++i) {
    uint64_t seed[2] = {0, 0};
    writer_internal::DrawUuidSeed(seed);
    first.insert(seed[0]);
    second.insert(seed[1]);
  }
  EXPECT_GT(first.size(), 1u);
  EXPECT_GT(second.size(), 1u);
}

// The ETag is the plan's, made against the schedule's pointer as stored, its lastSessionTime
// included (planner.h): the same text the planner gives for that pointer, with and without one.
TEST_F(WriterTest, TheEtagIsThePlansAgainstTheStoredPointer) {
  const std::string body =
      R"({"dryRun":true,"fromTime":"2024-01-08T00:00:00Z","count":2,"attemptName":"fix-1"})";
  const auto request = std::get<BackfillRequest>(ParseBackfillRequest(body));
  const auto schedule = std::get<schedule::Schedule>(
      schedule::Schedule::Parse(boost::json::parse(R"({"daily>":"09:00:00"})"), "UTC"));
  for (std::optional<int64_t> last :
       {std::optional<int64_t>{}, std::optional<int64_t>{kPointer - 86400}}) {
    PlanContext context;
    context.project_id = 1;
    context.workflow_name = "load";
    context.pointer = {kPointer, kPointer + 9 * 3600, last};
    const auto candidates = std::get<std::vector<Instant>>(
        EnumerateCandidates(schedule, request, context.pointer, kNow, kDefaultMaxSessions));
    const std::string want =
        std::get<Plan>(BuildPlan(schedule, context, request, candidates, {}, std::nullopt)).etag;
    call_ = wfp_call{};
    store_ = FakeStore{};
    store_.last_session_time = last;
    EXPECT_EQ(Post(body).etag, want) << last.value_or(-1);
  }
}

// An attempt of the same name can appear between the plan and the write only where the store
// does not lock the schedule; the store says so with a conflict, and the answer is a 409 to retry.
TEST_F(WriterTest, AConflictOnCreatingAttemptsIsA409AndNothingIsCommitted) {
  store_.create_attempts_status = WFP_ERR_CONFLICT;
  Post(kTwoSessions);
  EXPECT_EQ(call_.status, 409) << call_.body;
  EXPECT_EQ(Body().at("message").as_string(),
            "an attempt of this backfill was created concurrently; retry");
  EXPECT_EQ(store_.commits, 0);
  EXPECT_EQ(store_.rollbacks, 1);
}

// skipExisting in a real run: the session with an attempt gets none, is listed under `skipped`,
// and the next attempt created is the first (queued).
TEST_F(WriterTest, ARealRunCreatesNoAttemptOnASkippedSession) {
  store_.existing = {{1704672000, 77, "uuid-77", {{std::nullopt, 1}}}};  // 2024-01-08
  Post(
      R"({"dryRun":false,"fromTime":"2024-01-08T00:00:00Z","skipExisting":true,"attemptName":"a"})");
  ASSERT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(store_.session_times, (std::vector<int64_t>{1704758400}));  // 2024-01-09 only
  ASSERT_EQ(store_.attempts.size(), 1u);
  EXPECT_EQ(store_.attempts[0].session_id, 101);
  EXPECT_EQ(store_.attempts[0].state, WFP_ATTEMPT_QUEUED);
  const auto body = Body();
  EXPECT_EQ(body.at("attempts").as_array().size(), 1u);
  ASSERT_EQ(body.at("skipped").as_array().size(), 1u);
  EXPECT_EQ(body.at("skipped").at(0).at("sessionId").as_string(), "77");
}

// A store read that fails while the plan is made ends the request: a 500, nothing written.
TEST_F(WriterTest, AStoreFaultWhileReadingTheSessionsIsA500AndNothingIsWritten) {
  store_.fail_list_call = 1;
  Post(kTwoSessions);
  EXPECT_EQ(call_.status, 500) << call_.body;
  EXPECT_TRUE(store_.session_times.empty());
  EXPECT_EQ(store_.commits, 0);
  call_ = wfp_call{};
  store_ = FakeStore{};
  store_.latest_status = WFP_ERR_INTERNAL;
  Post(kTwoSessions);
  EXPECT_EQ(call_.status, 500) << call_.body;
  EXPECT_EQ(store_.latest_calls, 1);
  EXPECT_TRUE(store_.session_times.empty());
  EXPECT_EQ(store_.commits, 0);
  EXPECT_FALSE(store_.open);
}

TEST_F(WriterTest, ABusyStoreIsA503WithRetryAfter) {
  store_.create_sessions_status = WFP_ERR_BUSY;
  const Answer a = Post(kTwoSessions);
  EXPECT_EQ(call_.status, 503);
  EXPECT_TRUE(a.retry_after);
  EXPECT_EQ(store_.commits, 0);
  // The plugin cannot tell whose lock it was: the message blames no one in particular.
  EXPECT_NE(call_.body.find("the store is busy: another writer held its lock"), std::string::npos)
      << call_.body;
}

TEST_F(WriterTest, BadInputIsAnsweredBeforeTheStoreIsTouched) {
  Post(R"({"dryRun":false})", RenderBackfillResponse, "x");
  EXPECT_EQ(call_.status, 404);
  EXPECT_EQ(store_.begins, 0);
  call_ = wfp_call{};
  Post(R"({"dryRun":"no"})");
  EXPECT_EQ(call_.status, 400);
  EXPECT_EQ(store_.begins, 0);
}

// The body is read as UTF-8 JSON: a charset parameter other than utf-8 is a 415 naming it; utf-8
// in any case, quoted or not, and other parameters are accepted.
TEST_F(WriterTest, AContentTypeWithACharsetOtherThanUtf8IsA415NamingIt) {
  for (const char* ct :
       {"application/json; charset=iso-8859-1", "application/json;charset=UTF-16",
        "Application/JSON; Charset=\"utf-16le\"", "application/json; v=1; charset=latin1"}) {
    call_ = wfp_call{};
    content_type_ = ct;
    Post(kTwoSessions);
    EXPECT_EQ(call_.status, 415) << ct;
    const std::string message(Body().at("message").as_string());
    EXPECT_NE(message.find("charset"), std::string::npos) << message;
    EXPECT_NE(message.find("the body must be UTF-8 JSON"), std::string::npos) << message;
    EXPECT_EQ(store_.begins, 0);
  }
  EXPECT_NE(std::string(Body().at("message").as_string()).find("latin1"), std::string::npos);
  for (const char* ct : {"application/json; charset=utf-8", "application/json;charset=UTF-8",
                         "application/json; charset=\"Utf-8\"", "application/json; v=1"}) {
    call_ = wfp_call{};
    store_ = FakeStore{};
    content_type_ = ct;
    Post(kTwoSessions);
    EXPECT_EQ(call_.status, 200) << ct << ": " << call_.body;
  }
}

// If-Match (RFC 9110 13.1.1): any If-Match field line makes the request conditional, and its lines
// are one comma-separated list.
class IfMatchTest : public WriterTest {
 protected:
  // The ETag of kTwoSessions' plan, from its dry run.
  std::string PlanEtag() {
    std::string dry(kTwoSessions);
    dry.replace(dry.find("false"), 5, "true");
    const Answer a = Post(dry);
    EXPECT_EQ(call_.status, 200) << call_.body;
    call_ = wfp_call{};
    store_ = FakeStore{};
    return a.etag;
  }
  // The real run of kTwoSessions with these If-Match field lines; its message.
  std::string RealRunWith(std::vector<std::string> lines) {
    extra_headers_.clear();
    call_ = wfp_call{};
    store_ = FakeStore{};
    for (std::string& line : lines) extra_headers_.emplace_back("if-match", std::move(line));
    Post(kTwoSessions);
    const boost::json::value v = boost::json::parse(call_.body);
    return call_.status == 200 ? "" : std::string(v.at("message").as_string());
  }
};

TEST_F(IfMatchTest, AnEmptyLineDoesNotTurnThePreconditionOff) {
  const std::string etag = PlanEtag();
  ASSERT_EQ(etag.size(), 18u);
  RealRunWith({"", "\"wrong\""});
  EXPECT_EQ(call_.status, 412) << call_.body;
  EXPECT_TRUE(store_.session_times.empty());
  EXPECT_EQ(store_.commits, 0);
  RealRunWith({"", etag});
  EXPECT_EQ(call_.status, 200) << call_.body;
}

TEST_F(IfMatchTest, AnEmptyListIsA400BeforeTheStoreIsTouched) {
  for (std::vector<std::string> lines :
       std::vector<std::vector<std::string>>{{""}, {" "}, {"\t"}, {"", " \t "}}) {
    const std::string message = RealRunWith(lines);
    EXPECT_EQ(call_.status, 400) << call_.body;
    EXPECT_EQ(message, "If-Match is empty: give the dry run's ETag, or leave the header out");
    EXPECT_EQ(store_.begins, 0);
  }
}

TEST_F(IfMatchTest, TabsAroundTheTagsAreWhitespace) {
  const std::string etag = PlanEtag();
  EXPECT_EQ(RealRunWith({"\"x\",\t" + etag}), "");
  EXPECT_EQ(call_.status, 200);
  EXPECT_EQ(RealRunWith({"\t" + etag + "\t,\t\"y\"\t"}), "");
  EXPECT_EQ(call_.status, 200);
}

TEST_F(IfMatchTest, AStarOrAnyMatchingTagInAnyLineIsAccepted) {
  const std::string etag = PlanEtag();
  for (std::vector<std::string> lines : std::vector<std::vector<std::string>>{
           {"*"}, {"\"a\", " + etag}, {"\"a\"", etag}, {"\"a,b\", , " + etag}}) {
    EXPECT_EQ(RealRunWith(lines), "") << lines.back();
    EXPECT_EQ(call_.status, 200);
    EXPECT_EQ(store_.commits, 1);
  }
}

TEST_F(IfMatchTest, AMalformedListIsA400NamingTheSyntax) {
  const std::string etag = PlanEtag();
  const std::string bare = etag.substr(1, 16);
  for (const std::string& value :
       std::vector<std::string>{bare, "foo", ",,,", "\"a\" " + etag, "\"unterminated", "*, " + etag,
                                "w/" + etag, "\"a b\""}) {
    const std::string message = RealRunWith({value});
    EXPECT_EQ(call_.status, 400) << value << ": " << call_.body;
    EXPECT_EQ(message.rfind("If-Match must be a comma-separated list of quoted entity tags such "
                            "as \"3f2a...\", or *; not '",
                            0),
              0u)
        << message;
    EXPECT_EQ(store_.begins, 0);
  }
  RealRunWith({bare});
  EXPECT_NE(call_.body.find(bare), std::string::npos);  // echoed
}

TEST_F(IfMatchTest, AWellFormedListThatDoesNotMatchIsA412) {
  const std::string etag = PlanEtag();
  // A weak tag never matches (strong comparison), even with the plan's opaque tag.
  for (const std::string& value : std::vector<std::string>{"\"0000000000000000\"", "W/" + etag}) {
    const std::string message = RealRunWith({value});
    EXPECT_EQ(call_.status, 412) << value;
    EXPECT_EQ(message,
              "the plan changed: If-Match " + value + " does not match the current plan " + etag);
    EXPECT_EQ(store_.commits, 0);
    EXPECT_TRUE(store_.session_times.empty());
  }
}

// docs/http.md: a schedule id is echoed cut to 32 characters.
TEST_F(WriterTest, AnIdThatIsNotOneIsEchoedCutTo32Characters) {
  Post(kTwoSessions, RenderBackfillResponse, std::string(5000, '9'));
  EXPECT_EQ(call_.status, 404);
  EXPECT_EQ(Body().at("message").as_string(),
            "Resource does not exist: schedule id=" + std::string(32, '9') + "... (5000 bytes)");
}

TEST_F(WriterTest, AnUnknownScheduleIsA404AndRollsBack) {
  Post(kTwoSessions, RenderBackfillResponse, "6");
  EXPECT_EQ(call_.status, 404);
  EXPECT_EQ(store_.rollbacks, 1);
}

// A backfill larger than one write batch: the store is handed bounded batches, the chain of
// blocked attempts runs across their boundaries, and the answer shows exactly what was stored
// (ids, UUIDs, params), in order.
TEST_F(WriterTest, ALargeBackfillIsWrittenInBatchesAndAnsweredWithWhatWasStored) {
  constexpr size_t kCount = 10000;
  Post(fmt::format(
      R"({{"dryRun":false,"fromTime":"1996-08-24T00:00:00Z","count":{},"attemptName":"big"}})",
      kCount));
  ASSERT_EQ(call_.status, 200) << call_.body.substr(0, 300);
  ASSERT_EQ(store_.session_times.size(), kCount);
  ASSERT_EQ(store_.attempts.size(), kCount);
  EXPECT_LE(store_.largest_batch, 4096u);
  EXPECT_GT(store_.largest_batch, 0u);
  const auto body = Body();
  const auto& attempts = body.at("attempts").as_array();
  ASSERT_EQ(attempts.size(), kCount);
  std::set<std::string> uuids(store_.session_uuids.begin(), store_.session_uuids.end());
  EXPECT_EQ(uuids.size(), kCount);
  for (size_t i = 0; i < kCount; ++i) {
    const wfp_new_attempt& a = store_.attempts[i];
    const int64_t session_id = 100 + static_cast<int64_t>(i) + 1;
    ASSERT_EQ(a.session_id, session_id) << i;
    ASSERT_EQ(a.state, i ? WFP_ATTEMPT_BLOCKED : WFP_ATTEMPT_QUEUED) << i;
    ASSERT_EQ(a.depends_on_session_id, i ? session_id - 1 : 0) << i;
    const auto& shown = attempts[i].as_object();
    ASSERT_EQ(shown.at("id").as_string(), std::to_string(1000 + i + 1)) << i;
    ASSERT_EQ(shown.at("sessionId").as_string(), std::to_string(session_id)) << i;
    ASSERT_EQ(shown.at("sessionUuid").as_string(), store_.session_uuids[i]) << i;
    ASSERT_EQ(shown.at("params"), boost::json::parse(store_.attempt_params[i])) << i;
  }
}

// Rendering that fails: before any piece is produced, and after one was handed on.
void FailingRender(const schedule::Schedule&, const ResponseContext&, const Plan&, size_t,
                   const RenderSink&) {
  throw std::runtime_error("rendering failed");
}

TEST_F(WriterTest, ADryRunWhoseAnswerCannotBeRenderedIsA500) {
  EXPECT_THROW(
      Post(R"({"dryRun":true,"fromTime":"2024-01-08T00:00:00Z","count":2,"attemptName":"a"})",
           FailingRender),
      std::runtime_error);
  EXPECT_EQ(store_.commits, 0);
  EXPECT_EQ(call_.respond_calls, 0);  // the glue answers 500
}

// A real backfill that committed stays a 200 when its answer cannot be rendered: a 500 would tell
// the client that nothing was written, and a retry would backfill again.
TEST_F(WriterTest, ACommittedBackfillWhoseAnswerCannotBeRenderedIsA200WithItsSummary) {
  Answer a;
  EXPECT_NO_THROW(a = Post(kTwoSessions, FailingRender));
  EXPECT_EQ(store_.commits, 1);
  EXPECT_EQ(store_.session_times.size(), 2u);
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(call_.respond_calls, 1);
  EXPECT_FALSE(a.etag.empty());
  EXPECT_NE(std::find(call_.headers.begin(), call_.headers.end(),
                      std::pair<std::string, std::string>("etag", a.etag)),
            call_.headers.end());
  const auto body = Body();
  EXPECT_EQ(body.at("id").as_string(), "5");
  EXPECT_EQ(body.at("committed").as_bool(), true);
  EXPECT_EQ(body.at("attemptCount").as_int64(), 2);
  EXPECT_EQ(body.at("skippedCount").as_int64(), 0);
  bool logged = false;
  for (const auto& line : g_log)
    logged |= line.find("committed, but its answer could not be rendered: rendering failed") !=
              std::string::npos;
  EXPECT_TRUE(logged);
}

// Whatever is thrown: an exception that is no std::exception is caught the same way.
void RenderThrowsAnInt(const schedule::Schedule&, const ResponseContext&, const Plan&, size_t,
                       const RenderSink&) {
  throw 42;
}

TEST_F(WriterTest, ANonStandardExceptionAfterCommitIsStillA200) {
  EXPECT_NO_THROW(Post(kTwoSessions, RenderThrowsAnInt));
  EXPECT_EQ(store_.commits, 1);
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(Body().at("committed").as_bool(), true);
}

// Once a piece has gone to the host the head is gone too: the answer is marked cut (the glue
// reports a fault, so the host cuts the stream off) and the host is not asked to respond again.
void RenderOnePieceThenFail(const schedule::Schedule&, const ResponseContext&, const Plan&, size_t,
                            const RenderSink& sink) {
  sink(R"({"id":"5",)");
  throw std::runtime_error("rendering failed");
}

TEST_F(WriterTest, AFailureAfterAPieceWasSentCutsTheAnswer) {
  Answer a;
  EXPECT_NO_THROW(a = Post(kTwoSessions, RenderOnePieceThenFail));
  EXPECT_EQ(store_.commits, 1);
  EXPECT_TRUE(a.sent);
  EXPECT_TRUE(a.cut);
  EXPECT_EQ(call_.respond_calls, 1);
  EXPECT_EQ(call_.status, 200);
}

// ---- dry runs in batches --------------------------------------------------------------------

constexpr int64_t kDay = 86400;
constexpr int64_t kJan1 = 1704067200;  // 2024-01-01T00:00:00Z; the pointer is at Jan 10

// Around the nine candidates of Jan 1 to 9: sessions off the schedule (before the range, inside a
// batch, between two batches of 2), sessions with attempts (skipped with skipExisting; the one of
// Jan 8 has a "fix" attempt, a 409 without it) and without (reused).
std::vector<FakeStore::Session> SessionsAroundJanuary() {
  return {{kJan1 - 19 * 3600, 200, "uuid-200", {}},
          {kJan1 + kDay, 201, "uuid-201", {{std::nullopt, 1}}},
          {kJan1 + 2 * kDay, 202, "uuid-202", {}},
          {kJan1 + 3 * kDay + 12 * 3600, 203, "uuid-203", {}},
          {kJan1 + 5 * kDay, 204, "uuid-204", {{"other", 2}}},
          {kJan1 + 5 * kDay + 12 * 3600, 205, "uuid-205", {}},
          {kJan1 + 7 * kDay, 206, "uuid-206", {{"fix", 1}, {std::nullopt, 3}}},
          {kJan1 + 8 * kDay, 207, "uuid-207", {}}};
}

constexpr std::string_view kJanuary =
    R"({"dryRun":true,"fromTime":"2024-01-01T00:00:00Z","attemptName":"fix","skipExisting":true})";

// The body with each new session's UUID (random per request) replaced by "new"; `uuids` gets them.
std::string WithoutNewUuids(const std::string& body, std::set<std::string>* uuids) {
  static const std::regex kNew(R"re("sessionUuid":"([0-9a-f]{8}-[0-9a-f-]{27})")re");
  for (std::sregex_iterator m(body.begin(), body.end(), kNew), end; m != end; ++m)
    uuids->insert((*m)[1]);
  return std::regex_replace(body, kNew, R"("sessionUuid":"new")");
}

TEST_F(WriterTest, ADryRunInBatchesAnswersWhatOneBatchAnswers) {
  store_.existing = SessionsAroundJanuary();
  const Answer whole = Post(kJanuary);
  ASSERT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(store_.list_calls, 1);  // one batch: listed once, rendered from the first pass
  EXPECT_EQ(store_.latest_calls, 1);
  const std::string one_batch = call_.body;
  for (size_t batch : {1, 2, 4}) {
    call_ = wfp_call{};
    store_.list_calls = store_.latest_calls = store_.rollbacks = 0;
    state_.plan_batch = batch;
    const Answer batched = Post(kJanuary);
    ASSERT_EQ(call_.status, 200) << call_.body;
    EXPECT_EQ(batched.etag, whole.etag) << batch;
    std::set<std::string> want, got;
    EXPECT_EQ(WithoutNewUuids(call_.body, &got), WithoutNewUuids(one_batch, &want)) << batch;
    EXPECT_EQ(got.size(), 4u) << batch;  // Jan 1, 4, 5 and 7: each its own UUID
    EXPECT_EQ(want.size(), 4u);
    // Three passes (skipped candidates), each of (9 / batch) batches; the latest session before
    // the first candidate is asked for once.
    EXPECT_EQ(store_.list_calls, 3 * static_cast<int>((9 + batch - 1) / batch)) << batch;
    EXPECT_EQ(store_.latest_calls, 1);
    EXPECT_EQ(store_.rollbacks, 1);
    EXPECT_FALSE(store_.open);
  }
  const auto body = Body();
  EXPECT_EQ(body.at("attempts").as_array().size(), 6u);
  EXPECT_EQ(body.at("skipped").as_array().size(), 3u);
}

// A host without read snapshots (a store table of ABI 1.0, no begin_read) gives a dry run its write
// transaction, which holds the store's write lock on SQLite: the dry run plans at once and ends it
// before its answer goes out, however slowly the client reads; batches are for read snapshots.
TEST_F(WriterTest, ADryRunWithoutAReadSnapshotEndsItsTransactionBeforeAnswering) {
  store_.existing = SessionsAroundJanuary();
  state_.plan_batch = 2;
  const Answer with_snapshot = Post(kJanuary);
  ASSERT_EQ(call_.status, 200) << call_.body;
  EXPECT_TRUE(store_.open_when_answered);  // streamed from the open snapshot
  const std::string batched = call_.body;

  call_ = wfp_call{};
  store_.list_calls = store_.rollbacks = 0;
  state_.store.begin_read = nullptr;  // as the plugin reads a 1.0 host's table
  const Answer without = Post(kJanuary);
  ASSERT_EQ(call_.status, 200) << call_.body;
  EXPECT_FALSE(store_.open_when_answered);
  EXPECT_EQ(store_.list_calls, 1);
  EXPECT_EQ(store_.rollbacks, 1);
  EXPECT_EQ(without.etag, with_snapshot.etag);
  std::set<std::string> a, b;
  EXPECT_EQ(WithoutNewUuids(call_.body, &a), WithoutNewUuids(batched, &b));
}

TEST_F(WriterTest, AConflictInALaterBatchIsA409AndNothingIsStreamed) {
  store_.existing = SessionsAroundJanuary();
  state_.plan_batch = 2;
  const Answer a = Post(R"({"dryRun":true,"fromTime":"2024-01-01T00:00:00Z","attemptName":"fix"})");
  EXPECT_FALSE(a.sent);
  EXPECT_EQ(call_.status, 409);
  EXPECT_EQ(call_.respond_calls, 1);  // the glue's, with the error
  EXPECT_EQ(Body().at("message").as_string(),
            "Attempt of project id=1 workflow=load instant=2024-01-08T00:00:00Z attempt name=fix "
            "already exists");
  EXPECT_EQ(store_.list_calls, 4);  // the first pass stops listing at the batch of Jan 7 and 8
  EXPECT_FALSE(store_.open);
}

// A later pass that plans otherwise than the first (a store whose snapshot does not hold) is an
// internal fault, not an answer that contradicts its ETag.
TEST_F(WriterTest, ALaterPassThatPlansOtherwiseIsAFault) {
  store_.existing = SessionsAroundJanuary();
  store_.before_list = [](int call) {  // five batches of 2: the sixth call is the second pass's
    if (call == 6) g_store->existing[2].attempts.push_back({"other", 5});
  };
  state_.plan_batch = 2;
  const Answer a = Post(kJanuary);
  EXPECT_FALSE(a.sent);
  EXPECT_EQ(call_.status, 500);
  EXPECT_FALSE(store_.open);
  bool logged = false;
  for (const auto& line : g_log) logged |= line.find("later pass planned") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(WriterTest, AStoreFaultInALaterPassIsA500BeforeTheHeadAndCutsTheAnswerAfter) {
  // 1000 daily sessions in batches of 100: the first pass lists 10 times. Failing on the 11th call
  // (the second pass's first batch) nothing was sent: a 500. Failing on the 18th, more than one
  // piece (256 KiB) of attempts was sent: the answer is cut.
  const std::string body =
      R"({"dryRun":true,"fromTime":"1996-08-24T00:00:00Z","count":1000,"attemptName":"a"})";
  state_.plan_batch = 100;
  store_.fail_list_call = 11;
  Answer a = Post(body);
  EXPECT_FALSE(a.sent);
  EXPECT_EQ(call_.status, 500);
  EXPECT_FALSE(store_.open);
  call_ = wfp_call{};
  store_ = FakeStore{};
  store_.fail_list_call = 18;
  a = Post(body);
  EXPECT_TRUE(a.sent);
  EXPECT_TRUE(a.cut);
  EXPECT_EQ(call_.respond_calls, 1);
  EXPECT_EQ(call_.status, 200);
  EXPECT_GE(call_.body.size(), Responder::kChunkBytes);
  EXPECT_EQ(store_.list_calls, 18);
  EXPECT_EQ(store_.rollbacks, 1);
  EXPECT_FALSE(store_.open);
  // Without a fault, the same request is whole.
  call_ = wfp_call{};
  store_ = FakeStore{};
  a = Post(body);
  EXPECT_FALSE(a.cut);
  EXPECT_EQ(Body().at("attempts").as_array().size(), 1000u);
  EXPECT_EQ(store_.list_calls, 20);
}

// A client that went away (respond_append fails) stops the rendering: no more pieces, no more of
// the later pass's store reads, and the snapshot is rolled back at once. Not a fault: not cut.
TEST_F(WriterTest, ADryRunWhoseClientWentAwayStopsRendering) {
  const std::string body =
      R"({"dryRun":true,"fromTime":"1996-08-24T00:00:00Z","count":3000,"attemptName":"a"})";
  state_.plan_batch = 100;
  Answer a = Post(body);
  const int whole = store_.list_calls;
  ASSERT_GT(call_.append_calls, 2);
  call_ = wfp_call{};
  call_.receiver_gone = true;
  store_ = FakeStore{};
  a = Post(body);
  EXPECT_EQ(call_.append_calls, 1);
  EXPECT_LT(store_.list_calls, whole - 10) << whole;
  EXPECT_FALSE(a.cut);
  EXPECT_EQ(store_.rollbacks, 1);
  EXPECT_FALSE(store_.open);
}

// ---- ABI 1.4: load_schedule_window -------------------------------------------------------------

// The request's answer (without its new UUIDs) and ETag.
struct Answered {
  int status = 0;
  std::string body, etag;
};

class WindowTest : public WriterTest {
 protected:
  Answered PostWith(bool window, std::string_view body) {
    call_ = wfp_call{};
    state_.store.load_schedule_window = window ? Window : nullptr;
    const Answer a = Post(body);
    std::set<std::string> uuids;
    return {call_.status, WithoutNewUuids(call_.body, &uuids), a.etag};
  }
  void ExpectSameAnswers(std::string_view body) {
    const Answered without = PostWith(false, body);
    const int lists = store_.list_calls, latests = store_.latest_calls;
    const Answered with = PostWith(true, body);
    EXPECT_EQ(with.status, without.status) << body;
    EXPECT_EQ(with.body, without.body) << body;
    EXPECT_EQ(with.etag, without.etag) << body;
    EXPECT_GT(lists, 0);
    EXPECT_GT(latests, 0);
  }
  // 30 hourly sessions from Jan 1: more than a window of 3 candidates and the slack holds.
  void AddHourlySessions() {
    for (int h = 0; h < 30; ++h)
      store_.existing.push_back({kJan1 + h * 3600, 300 + h, fmt::format("uuid-{}", 300 + h), {}});
  }
  static std::string ThreeDaysFromJanuary1(bool dry_run) {
    return fmt::format(
        R"({{"dryRun":{},"fromTime":"2024-01-01T00:00:00Z","count":3,"attemptName":"fix",)"
        R"("skipExisting":true}})",
        dry_run);
  }
};

// A plan of one batch reads the schedule and its sessions in the one call, and answers as before.
TEST_F(WindowTest, APlanOfOneBatchIsReadInOneCall) {
  store_.existing = SessionsAroundJanuary();
  ExpectSameAnswers(kJanuary);
  store_.list_calls = store_.latest_calls = 0;
  PostWith(true, kJanuary);
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(store_.list_calls, 0);
  EXPECT_EQ(store_.latest_calls, 0);
  EXPECT_EQ(store_.window_sizes.back(), 256u + 16u);  // no count: a few hundred, and the slack
}

// A real run too: the same writes, the same answer.
TEST_F(WindowTest, ARealRunWritesWhatItWroteWithoutTheWindow) {
  PostWith(false, kTwoSessions);
  const auto times = store_.session_times;
  const auto params = store_.attempt_params;
  store_.session_times.clear();
  store_.attempt_params.clear();
  store_.list_calls = store_.latest_calls = 0;
  PostWith(true, kTwoSessions);
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(store_.session_times, times);
  EXPECT_EQ(store_.attempt_params, params);
  EXPECT_EQ(store_.list_calls, 0);
  EXPECT_EQ(store_.latest_calls, 0);
  EXPECT_EQ(store_.window_sizes.back(), 2u + 16u);  // the count, and the slack
}

// Sessions off the schedule's times fill the window before the last candidate: the rest is listed
// from the store, and the answer is the same.
TEST_F(WindowTest, AWindowThatEndsBeforeTheLastCandidateIsFollowedByAListing) {
  AddHourlySessions();
  const std::string three = ThreeDaysFromJanuary1(true);
  ExpectSameAnswers(three);
  EXPECT_EQ(store_.window_sizes.back(), 3u + 16u);
  store_.list_calls = store_.latest_calls = store_.begins = 0;
  store_.window_flags.clear();
  PostWith(true, three);
  EXPECT_EQ(call_.status, 200) << call_.body;
  // Asked as the last read, the window was too short: the run started again without the flag.
  EXPECT_EQ(store_.window_flags, (std::vector<uint32_t>{WFP_WINDOW_LAST_READ, 0}));
  EXPECT_EQ(store_.begins, 2);
  EXPECT_EQ(store_.reads_after_end, 0);
  EXPECT_EQ(store_.list_calls, 1);    // the candidates past the window's 19 sessions
  EXPECT_EQ(store_.latest_calls, 0);  // before fromTime: in the window
  EXPECT_FALSE(store_.open);
}

// A real run whose window ends before its last candidate lists from the store only what the window
// did not cover, and writes what it wrote without the window.
TEST_F(WindowTest, ARealRunListsOnlyPastItsWindow) {
  AddHourlySessions();
  const std::string three = ThreeDaysFromJanuary1(false);
  const FakeStore before = store_;
  const Answered without = PostWith(false, three);
  const auto times = store_.session_times;
  store_ = before;
  const Answered with = PostWith(true, three);
  EXPECT_EQ(with.status, 200) << with.body;
  EXPECT_EQ(with.body, without.body);
  EXPECT_EQ(store_.session_times, times);
  // The window held 3 + 16 sessions, the last at 18:00 on Jan 1: the listing starts after it.
  EXPECT_EQ(store_.list_froms, (std::vector<int64_t>{kJan1 + 18 * 3600 + 1}));
  EXPECT_EQ(store_.latest_calls, 0);
}

// A dry run of one batch tells the store the window is its last read; a real run, or a dry run
// larger than a batch, does not.
TEST_F(WindowTest, OnlyADryRunOfOneBatchAsksForTheLastRead) {
  store_.existing = SessionsAroundJanuary();
  constexpr std::string_view kTwo =
      R"({"dryRun":true,"fromTime":"2024-01-01T00:00:00Z","count":2,"attemptName":"fix"})";
  PostWith(true, kTwo);
  EXPECT_EQ(call_.status, 200) << call_.body;
  state_.plan_batch = 1;
  PostWith(true, kTwo);
  EXPECT_EQ(call_.status, 200) << call_.body;
  PostWith(true, kTwoSessions);
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(store_.window_flags, (std::vector<uint32_t>{WFP_WINDOW_LAST_READ, 0, 0}));
  EXPECT_EQ(store_.begins, 3);
  EXPECT_EQ(store_.reads_after_end, 0);
}

// In batches, each pass lists past the window as before; the answer is the same.
TEST_F(WindowTest, ADryRunInBatchesAnswersAsWithoutTheWindow) {
  store_.existing = SessionsAroundJanuary();
  for (size_t batch : {1, 2, 4}) {
    state_.plan_batch = batch;
    ExpectSameAnswers(kJanuary);
  }
}

// A session the window visited that the plugin could not take (here a struct too short) ends the
// request: a 500, as for list_sessions, even though a listing of the same sessions would work.
TEST_F(WindowTest, ASessionTheWindowCouldNotTakeIsA500) {
  AddHourlySessions();
  store_.window_short_info = true;
  state_.store.load_schedule_window = Window;
  Post(ThreeDaysFromJanuary1(false));
  EXPECT_EQ(call_.status, 500) << call_.body;
  EXPECT_EQ(store_.window_calls, 1);
  EXPECT_EQ(store_.list_calls, 0);
  EXPECT_TRUE(store_.session_times.empty());
  EXPECT_EQ(store_.commits, 0);
  bool logged = false;
  for (const auto& line : g_log)
    logged |= line.find("load_schedule_window visited") != std::string::npos;
  EXPECT_TRUE(logged);
}

// The window's faults are load_schedule's: an unknown schedule is a 404, a busy store a 503; a
// request without fromTime reads as before.
TEST_F(WindowTest, FaultsAndRequestsWithoutFromTime) {
  state_.store.load_schedule_window = Window;
  Post(R"({"dryRun":true,"fromTime":"2024-01-08T00:00:00Z","count":1,"attemptName":"a"})",
       RenderBackfillResponse, "6");
  EXPECT_EQ(call_.status, 404) << call_.body;
  call_ = wfp_call{};
  store_.window_status = WFP_ERR_BUSY;
  Post(R"({"dryRun":true,"fromTime":"2024-01-08T00:00:00Z","count":1,"attemptName":"a"})");
  EXPECT_EQ(call_.status, 503) << call_.body;
  EXPECT_EQ(store_.window_calls, 2);
  EXPECT_FALSE(store_.open);
  call_ = wfp_call{};
  store_.window_status = WFP_OK;
  Post(R"({"dryRun":true,"skipExisting":true,"advanceSchedule":true})");
  EXPECT_EQ(call_.status, 200) << call_.body;
  EXPECT_EQ(store_.window_calls, 2);  // no fromTime: load_schedule, as before
}

}  // namespace
}  // namespace wfp::backfill
