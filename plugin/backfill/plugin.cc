// The backfill plugin's ABI surface: the one exported entry point, init/shutdown, the handler of
// POST /api/schedules/{id}/backfill and the page's. Everything here is glue: the request is carried
// out by the writer (writer.cc: parse, plan, write, answer). Every function the host calls catches
// everything.
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

#include <charconv>
#include <exception>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "backfill/answer.h"
#include "backfill/plugin_state.h"
#include "backfill/writer.h"
#include "ui/page.h"
#include "wfp_version.h"

namespace wfp::backfill {
namespace {

constexpr std::string_view kPagePath = "/ui/backfill";

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

constexpr std::string_view kOutcomes[] = {"created", "dry_run",   "conflict", "precondition_failed",
                                          "invalid", "not_found", "busy",     "error"};
constexpr std::string_view kSessionResults[] = {"created", "skipped"};

// Every series of `metric` at 0, so that it is scraped before its first request (rate() and
// absent() alerts need it).
template <size_t N>
void StartAtZero(const PluginState& state, wfp_metric* metric,
                 const std::string_view (&values)[N]) {
  if (!metric) return;
  for (std::string_view v : values) {
    const wfp_str value = Str(v);
    state.host.metric_add(metric, &value, 1, 0);
  }
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
  StartAtZero(*state, state->requests, kOutcomes);
  StartAtZero(*state, state->sessions, kSessionResults);
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
  } catch (...) {
    Log(*state, WFP_LOG_ERROR,
        fmt::format("request {}: backfill failed: {}", View(request->request_id),
                    CurrentExceptionText()));
    answer = Internal();
  }
  try {
    CountAnswer(*state, answer);
  } catch (...) {
  }
  if (answer.sent) return answer.cut ? 1 : 0;  // cut: the host cuts the streamed answer off
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
// Built field by field from a zeroed struct, so that fields a later header appends (which this
// plugin does not know) are zero, as the compatibility rules ask, without a missing-initializer
// warning when the plugin is compiled against such a header.
constexpr wfp_plugin_v1 MakeDescriptor() {
  wfp_plugin_v1 d{};
  d.struct_size = sizeof(wfp_plugin_v1);
  d.abi_major = WFP_ABI_VERSION_MAJOR;
  d.abi_minor = 0;
  d.name = "backfill";
  d.version = WFP_VERSION;
  d.init = Init;
  d.shutdown = Shutdown;
  return d;
}
constexpr wfp_plugin_v1 kDescriptor = MakeDescriptor();

}  // namespace
}  // namespace wfp::backfill

extern "C" WFP_EXPORT const wfp_plugin_v1* wfp_plugin_entry_v1(void) {
  return &wfp::backfill::kDescriptor;
}
