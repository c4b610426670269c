// The strict fake host's tables (strict_host.h): the host table (log, routes, settings, respond,
// metrics) and a small in-memory store, each function recording what the plugin did wrong, and
// traps in every slot past a table's struct_size.
#include "plugin_check/strict_host.h"

#include <fmt/format.h>
#include <wfp/abi_struct.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "wfp_version.h"

namespace wfp::plugin_check {

State* g_state = nullptr;

namespace {

constexpr int64_t kNowMicros = 1705028400LL * 1000000;  // 2024-01-12T03:00:00Z

// ---- traps: what a plugin calls past a table's struct_size ------------------------------------

// The name of a known function slot at `offset` of a table, for the trap's message.
std::string SlotName(bool host_table, size_t offset) {
  if (host_table && offset == offsetof(wfp_host_api, respond_append)) return "respond_append";
  if (!host_table && offset == offsetof(wfp_store_api, begin_read)) return "begin_read";
  if (!host_table && offset == offsetof(wfp_store_api, load_schedule_window))
    return "load_schedule_window";
  if (host_table && offset == offsetof(wfp_host_api, register_metric)) return "register_metric";
  if (host_table && offset == offsetof(wfp_host_api, metric_add)) return "metric_add";
  if (host_table && offset == offsetof(wfp_host_api, metric_observe)) return "metric_observe";
  return fmt::format("the function at byte {}", offset);
}

template <bool HostTable, size_t Slot>
int32_t Trap() {
  const size_t size =
      HostTable ? g_state->host_table.table.struct_size : g_state->store_table.table.struct_size;
  g_state->Violation(
      kSizes, fmt::format("called {} of the {} table, past its struct_size ({} bytes: a "
                          "1.{} host has no such function); read it only when "
                          "WFP_HAS_FIELD says the table covers it",
                          SlotName(HostTable, Slot * sizeof(void*)), HostTable ? "host" : "store",
                          size, g_state->minor));
  return WFP_ERR_UNSUPPORTED;
}

template <bool HostTable, size_t... Slots>
constexpr auto TrapTable(std::index_sequence<Slots...>) {
  return std::array<int32_t (*)(), sizeof...(Slots)>{&Trap<HostTable, Slots>...};
}

// Cuts `t` to `size` bytes: struct_size says so, and every pointer slot from there to the end of
// the buffer is a trap.
template <bool HostTable, typename T>
void CutTable(TrappedTable<T>* t, size_t size) {
  constexpr size_t kSlots = sizeof(TrappedTable<T>) / sizeof(void*);
  static constexpr auto kTraps = TrapTable<HostTable>(std::make_index_sequence<kSlots>());
  t->table.struct_size = static_cast<uint32_t>(size);
  auto* bytes = reinterpret_cast<unsigned char*>(t);
  for (size_t slot = (size + sizeof(void*) - 1) / sizeof(void*); slot < kSlots; ++slot)
    std::memcpy(bytes + slot * sizeof(void*), &kTraps[slot], sizeof(void*));
}

// ---- the host table ---------------------------------------------------------------------------

bool CheckHost(wfp_host* host, const char* function) {
  if (host != &g_state->host || host->magic != kMagic) {
    g_state->Violation(
        kHostTable, fmt::format("{} called with a host pointer the host did not give", function));
    return false;
  }
  return true;
}

void Log(wfp_host* host, wfp_log_level level, wfp_str message) {
  if (!CheckHost(host, "log")) return;
  if (level < WFP_LOG_DEBUG || level > WFP_LOG_ERROR)
    g_state->Violation(kHostTable, fmt::format("log with level {}, not a WFP_LOG_* level", level));
  if (!message.data && message.size)
    g_state->Violation(kHostTable, "log with a null message of non-zero size");
}

int64_t Now(wfp_host* host) {
  CheckHost(host, "now_micros");
  return kNowMicros;
}

// A well-formed route: its struct covers ABI 1.0's fields, a method, a template starting with '/'.
bool CheckRoute(const wfp_route* given, wfp_route* out) {
  if (!given) return g_state->Violation(kRoutes, "register_route with a null route"), false;
  *out = abi::ReadStruct(given);
  if (given->struct_size < g_state->MinSize(kMinorSizes.route)) {
    g_state->Violation(kSizes, fmt::format("register_route with a wfp_route of struct_size {}, "
                                           "smaller than ABI 1.0's {}",
                                           given->struct_size, kMinorSizes.route[0]));
    return false;
  }
  if (!out->handler || !out->method.data || View(out->path_template).empty() ||
      View(out->path_template)[0] != '/') {
    g_state->Violation(kRoutes,
                       "register_route with a malformed route (no handler, no method, or "
                       "a template not starting with '/')");
    return false;
  }
  return true;
}

wfp_status RegisterRoute(wfp_host* host, const wfp_route* given) {
  if (!CheckHost(host, "register_route")) return WFP_ERR_INVALID_ARGUMENT;
  if (!g_state->in_init) {
    g_state->Violation(kRoutes, "register_route called outside init");
    return WFP_ERR_STATE;
  }
  if (std::this_thread::get_id() != g_state->init_thread) {
    g_state->Violation(kThreads, "register_route called from another thread than init's");
    return WFP_ERR_STATE;
  }
  wfp_route r{};
  if (!CheckRoute(given, &r)) return WFP_ERR_INVALID_ARGUMENT;
  for (const auto& known : g_state->routes)
    if (known.method == View(r.method) && known.path_template == View(r.path_template)) {
      g_state->Violation(
          kRoutes, fmt::format("route {} {} registered twice", known.method, known.path_template));
      return WFP_ERR_CONFLICT;
    }
  const bool is_public = g_state->minor >= 2 && WFP_HAS_FIELD(wfp_route, &r, flags) &&
                         (r.flags & WFP_ROUTE_PUBLIC) != 0;
  g_state->routes.push_back({std::string(View(r.method)), std::string(View(r.path_template)),
                             r.handler, r.user_data, is_public});
  return WFP_OK;
}

wfp_status GetSetting(wfp_host* host, wfp_str key, wfp_str* out) {
  if (!CheckHost(host, "get_setting")) return WFP_ERR_INVALID_ARGUMENT;
  if (!key.data || !out) {
    g_state->Violation(kHostTable, "get_setting with a null key or out");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  return WFP_ERR_NOT_FOUND;
}

bool CheckCall(wfp_call* call, const char* function) {
  if (!call)
    return g_state->Violation(kHostTable, fmt::format("{} with a null call", function)), false;
  if (!call->active) {
    g_state->Violation(kAnswers, fmt::format("{} on a call that has returned", function));
    return false;
  }
  if (call->thread != std::this_thread::get_id()) {
    g_state->Violation(kThreads,
                       fmt::format("{} from another thread than the handler's", function));
    return false;
  }
  return true;
}

bool CheckResponse(const wfp_response* given, wfp_response* r) {
  if (!given) return g_state->Violation(kStatuses, "respond with a null response"), false;
  if (given->struct_size < g_state->MinSize(kMinorSizes.response)) {
    g_state->Violation(kSizes, fmt::format("respond with a wfp_response of struct_size {}, smaller "
                                           "than ABI 1.0's {}",
                                           given->struct_size, kMinorSizes.response[0]));
    return false;
  }
  *r = abi::ReadStruct(given);
  if (r->status < 100 || r->status > 599) {
    g_state->Violation(kStatuses,
                       fmt::format("respond with status {}, outside 100..599", r->status));
    return false;
  }
  if (r->header_count && !r->headers) {
    g_state->Violation(kStatuses, "respond with header_count > 0 and null headers");
    return false;
  }
  for (size_t i = 0; i < r->header_count; ++i) {
    const std::string_view name = View(r->headers[i].name);
    if (name.empty() || name.find_first_of("\r\n: ") != std::string_view::npos ||
        View(r->headers[i].value).find_first_of("\r\n") != std::string_view::npos)
      g_state->Violation(kStatuses, fmt::format("respond with a malformed header '{}'", name));
  }
  return true;
}

wfp_status Respond(wfp_call* call, const wfp_response* given) {
  if (!CheckCall(call, "respond")) return WFP_ERR_STATE;
  if (++call->responds > 1) {
    g_state->Violation(kAnswers, "a handler answered twice (respond called again)");
    return WFP_ERR_STATE;
  }
  wfp_response r{};
  if (!CheckResponse(given, &r)) return WFP_ERR_INVALID_ARGUMENT;
  // Touch every byte: the plugin must keep them valid until respond returns.
  volatile size_t sum = 0;
  for (char c : View(r.body)) sum = sum + static_cast<unsigned char>(c);
  call->status = r.status;
  g_state->statuses[r.status / 100]++;
  return WFP_OK;
}

wfp_status RespondAppend(wfp_call* call, wfp_str chunk) {
  if (!CheckCall(call, "respond_append")) return WFP_ERR_STATE;
  if (call->responds == 0) {
    g_state->Violation(kAnswers, "respond_append before respond");
    return WFP_ERR_STATE;
  }
  if (chunk.size && !chunk.data) {
    g_state->Violation(kStatuses, "respond_append with a null chunk of non-zero size");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  return WFP_OK;
}

// ---- metrics (1.3) -----------------------------------------------------------------------------

// Prometheus's rules: a metric name, or a label name (no ':' and not starting with "__").
bool IsMetricName(std::string_view s, bool label) {
  if (s.empty() || (label && s.substr(0, 2) == "__")) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (c == ':' && !label) || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// What is wrong with a wfp_metric_desc the plugin wrote (its 1.3 fields all there); "" if nothing.
std::string MetricDescFault(const wfp_metric_desc& d) {
  const std::string name(View(d.name));
  if (!IsMetricName(name, false))
    return fmt::format("register_metric with a bad name '{}' ([a-zA-Z_:][a-zA-Z0-9_:]*)", name);
  if (d.kind != WFP_METRIC_COUNTER && d.kind != WFP_METRIC_HISTOGRAM)
    return fmt::format("register_metric {} with kind {}, not a WFP_METRIC_* kind", name, d.kind);
  if (d.label_count > 8 || (d.label_count && !d.label_names))
    return fmt::format("register_metric {} with {} label names (at most 8, not null)", name,
                       d.label_count);
  for (size_t i = 0; i < d.label_count; ++i)
    if (!IsMetricName(View(d.label_names[i]), true))
      return fmt::format("register_metric {} with a bad label name '{}'", name,
                         View(d.label_names[i]));
  if (d.bucket_count && !d.buckets)
    return fmt::format("register_metric {} with bucket_count > 0 and null buckets", name);
  for (size_t i = 0; i < d.bucket_count; ++i)
    if (!std::isfinite(d.buckets[i]) || (i > 0 && d.buckets[i] <= d.buckets[i - 1]))
      return fmt::format("register_metric {}: buckets must be finite and ascending", name);
  return "";
}

wfp_status RegisterMetric(wfp_host* host, const wfp_metric_desc* given, wfp_metric** out) {
  if (!CheckHost(host, "register_metric")) return WFP_ERR_INVALID_ARGUMENT;
  if (!g_state->in_init) {
    g_state->Violation(kHostTable, "register_metric called outside init");
    return WFP_ERR_STATE;
  }
  if (std::this_thread::get_id() != g_state->init_thread) {
    g_state->Violation(kThreads, "register_metric called from another thread than init's");
    return WFP_ERR_STATE;
  }
  if (!given || !out) {
    g_state->Violation(kHostTable, "register_metric with a null desc or out");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  // Every field of wfp_metric_desc is of 1.3, the minor that introduced it.
  const wfp_metric_desc d = abi::ReadStruct(given);
  if (given->struct_size < kMinorSizes.metric_desc[3]) {
    g_state->Violation(kSizes, fmt::format("register_metric with a wfp_metric_desc of struct_size "
                                           "{}, smaller than ABI 1.3's {}",
                                           given->struct_size, kMinorSizes.metric_desc[3]));
    return WFP_ERR_INVALID_ARGUMENT;
  }
  if (const std::string fault = MetricDescFault(d); !fault.empty()) {
    g_state->Violation(kHostTable, fault);
    return WFP_ERR_INVALID_ARGUMENT;
  }
  std::lock_guard lock(g_state->mu);
  for (const auto& m : g_state->metrics)
    if (m->name == View(d.name)) {
      if (g_state->counts[kHostTable]++ == 0)
        g_state->violations[kHostTable].push_back(
            fmt::format("metric {} registered twice", m->name));
      return WFP_ERR_CONFLICT;
    }
  g_state->metrics.push_back(
      std::make_unique<wfp_metric>(wfp_metric{d.kind, d.label_count, std::string(View(d.name))}));
  *out = g_state->metrics.back().get();
  return WFP_OK;
}

// metric_add and metric_observe: a handle register_metric gave, of that kind, with one value per
// label name, and a finite value (a counter's not negative). Any thread, any time before shutdown.
wfp_status Record(wfp_metric* metric, wfp_metric_kind kind, const wfp_str* values, size_t count,
                  double value, const char* function) {
  g_state->recorded++;
  {
    std::lock_guard lock(g_state->mu);
    bool known = false;
    for (const auto& m : g_state->metrics) known = known || m.get() == metric;
    if (!known) {
      if (g_state->counts[kHostTable]++ == 0)
        g_state->violations[kHostTable].push_back(
            fmt::format("{} with a metric handle register_metric did not give", function));
      return WFP_ERR_INVALID_ARGUMENT;
    }
  }
  std::string fault;
  if (metric->kind != kind)
    fault = fmt::format("{} on {}, a metric of another kind", function, metric->name);
  else if (count != metric->label_count || (count && !values))
    fault = fmt::format("{} on {} with {} label values; it has {} label names", function,
                        metric->name, count, metric->label_count);
  else if (!std::isfinite(value) || (kind == WFP_METRIC_COUNTER && value < 0))
    fault = fmt::format("{} on {} with the value {}", function, metric->name, value);
  for (size_t i = 0; fault.empty() && i < count; ++i)
    if (!values[i].data && values[i].size)
      fault =
          fmt::format("{} on {} with a null label value of non-zero size", function, metric->name);
  if (fault.empty()) return WFP_OK;
  g_state->Violation(kHostTable, fault);
  return WFP_ERR_INVALID_ARGUMENT;
}
wfp_status MetricAdd(wfp_metric* metric, const wfp_str* values, size_t count, double value) {
  return Record(metric, WFP_METRIC_COUNTER, values, count, value, "metric_add");
}
wfp_status MetricObserve(wfp_metric* metric, const wfp_str* values, size_t count, double value) {
  return Record(metric, WFP_METRIC_HISTOGRAM, values, count, value, "metric_observe");
}

// ---- the store: schedule 5 of site 1 (daily 09:00 UTC) with one session; nothing else ----------

bool CheckTxn(wfp_txn* txn, const char* function) {
  if (!txn || !txn->call) {
    g_state->Violation(kTransactions, fmt::format("{} with a null transaction", function));
    return false;
  }
  if (txn->call->open != txn) {
    g_state->Violation(kTransactions, fmt::format("{} on a finished transaction", function));
    return false;
  }
  return CheckCall(txn->call, function);
}
// A read after load_schedule_window was told it was the transaction's last.
bool CheckRead(wfp_txn* txn, const char* function) {
  if (!CheckTxn(txn, function)) return false;
  if (!txn->last_read) return true;
  g_state->Violation(kTransactions,
                     fmt::format("{} after load_schedule_window's WFP_WINDOW_LAST_READ", function));
  return false;
}

wfp_status BeginTxn(wfp_call* call, wfp_txn** out, bool read_only, const char* function) {
  if (!CheckCall(call, function) || !out) return WFP_ERR_INVALID_ARGUMENT;
  if (call->open) {
    g_state->Violation(kTransactions,
                       fmt::format("{} while a transaction of the same call is open", function));
    return WFP_ERR_STATE;
  }
  call->open = new wfp_txn{call, read_only};
  *out = call->open;
  return WFP_OK;
}
wfp_status Begin(wfp_call* call, wfp_txn** out) {
  return BeginTxn(call, out, false, "store.begin");
}
wfp_status BeginRead(wfp_call* call, wfp_txn** out) {
  return BeginTxn(call, out, true, "store.begin_read");
}
void End(wfp_txn* txn) {
  txn->call->open = nullptr;
  delete txn;
}
wfp_status Commit(wfp_txn* txn) {
  if (!CheckTxn(txn, "store.commit")) return WFP_ERR_STATE;
  End(txn);
  return WFP_OK;
}
void Rollback(wfp_txn* txn) {
  if (CheckTxn(txn, "store.rollback")) End(txn);
}

wfp_status Load(wfp_txn* txn, int64_t site, int64_t id, wfp_schedule_info* out) {
  if (!CheckRead(txn, "store.load_schedule")) return WFP_ERR_STATE;
  if (!out || out->struct_size < g_state->MinSize(kMinorSizes.schedule_info)) {
    g_state->Violation(kSizes,
                       fmt::format("store.load_schedule with an out struct_size of {}, "
                                   "smaller than ABI 1.0's {}",
                                   out ? out->struct_size : 0, kMinorSizes.schedule_info[0]));
    return WFP_ERR_INVALID_ARGUMENT;
  }
  if (site != 1 || id != 5) return WFP_ERR_NOT_FOUND;
  wfp_schedule_info info{};
  info.struct_size = static_cast<uint32_t>(g_state->Size(kMinorSizes.schedule_info));
  info.schedule_id = 5;
  info.site_id = 1;
  info.project_id = 1;
  info.project_name = Str("etl");
  info.workflow_definition_id = 11;
  info.workflow_name = Str("load");
  info.timezone = Str("UTC");
  info.schedule_json = Str(R"({"daily>":"09:00:00"})");
  info.next_schedule_time = 1704931200;  // 2024-01-11T00:00:00Z
  info.next_run_time = 1704963600;       // 2024-01-11T09:00:00Z
  // Only as far as the plugin's struct_size and this minor's size go; struct_size says so.
  const uint32_t room = out->struct_size;
  out->struct_size = std::min<uint32_t>(room, info.struct_size);
  abi::WriteStruct(info, out);
  return WFP_OK;
}

// One session at `from`, with a named and an unnamed attempt, in a struct of exactly this minor's
// size followed by poison bytes.
wfp_status List(wfp_txn* txn, int64_t, wfp_str name, wfp_epoch_seconds from, wfp_epoch_seconds to,
                wfp_session_visitor visitor, void* user_data) {
  if (!CheckRead(txn, "store.list_sessions")) return WFP_ERR_STATE;
  if (!visitor || !name.data || from > to) {
    g_state->Violation(kHostTable, "store.list_sessions with a null visitor or name, or from > to");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  if (from == to) return WFP_OK;
  const std::array<wfp_attempt_ref, 2> attempts = {wfp_attempt_ref{Str("fix"), 1},
                                                   wfp_attempt_ref{wfp_str{nullptr, 0}, 2}};
  struct {
    wfp_session_info info;
    unsigned char poison[64];
  } buffer;
  std::memset(&buffer, 0xa5, sizeof buffer);
  buffer.info.struct_size = static_cast<uint32_t>(g_state->Size(kMinorSizes.session_info));
  buffer.info.session_id = 77;
  buffer.info.uuid = Str("00000000-0000-4000-8000-000000000077");
  buffer.info.session_time = from;
  buffer.info.attempts = attempts.data();
  buffer.info.attempt_count = attempts.size();
  visitor(user_data, &buffer.info);
  return WFP_OK;
}

wfp_status Latest(wfp_txn* txn, int64_t, wfp_str, wfp_epoch_seconds, int32_t* found,
                  wfp_epoch_seconds* time) {
  if (!CheckRead(txn, "store.latest_session_before")) return WFP_ERR_STATE;
  if (!found || !time) return WFP_ERR_INVALID_ARGUMENT;
  *found = 0;
  *time = 0;
  return WFP_OK;
}

// load_schedule_window (1.4): Load, then List's one session at `from`, and none before it. A window
// must cover the 1.4 fields and ask for something; WFP_WINDOW_LAST_READ ends a read-only
// transaction's reads.
wfp_status Window(wfp_txn* txn, int64_t site, int64_t id, wfp_schedule_info* out,
                  wfp_session_window* w) {
  if (!CheckRead(txn, "store.load_schedule_window")) return WFP_ERR_STATE;
  if (!w || w->struct_size < kMinorSizes.session_window[4] || !w->visitor || w->from > w->to ||
      w->max_sessions == 0) {
    g_state->Violation(kHostTable,
                       "store.load_schedule_window with a window that is null, smaller than ABI "
                       "1.4's, without a visitor, with from > to or with max_sessions 0");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  if (wfp_status st = Load(txn, site, id, out); st != WFP_OK) return st;
  if (wfp_status st = List(txn, 1, Str("load"), w->from, w->to, w->visitor, w->user_data);
      st != WFP_OK)
    return st;
  w->complete = 1;
  w->has_latest_before = 0;
  w->latest_before = 0;
  if (txn->read_only && (w->flags & WFP_WINDOW_LAST_READ)) txn->last_read = true;
  return WFP_OK;
}

// Checks an array the plugin wrote: every element covers ABI 1.0's fields and has the first one's
// struct_size. Calls check(element) on each, read with the element's own size.
template <typename T, typename F>
bool CheckArray(const T* array, size_t n, size_t min_size, const char* what, F check) {
  if (n && !array) return g_state->Violation(kHostTable, fmt::format("{} with null", what)), false;
  for (size_t i = 0; i < n; ++i) {
    const T* e = i ? abi::ArrayElement(array, i) : array;
    if (e->struct_size < min_size || e->struct_size != array->struct_size) {
      g_state->Violation(kSizes,
                         fmt::format("{}: element {} has struct_size {} (the first has {}, "
                                     "ABI 1.0's is {})",
                                     what, i, e->struct_size, array->struct_size, min_size));
      return false;
    }
    check(abi::ReadStruct(e));
  }
  return true;
}

wfp_status Sessions(wfp_txn* txn, const wfp_new_session* s, size_t n, int64_t* ids) {
  if (!CheckTxn(txn, "store.create_sessions")) return WFP_ERR_STATE;
  if (txn->read_only) return WFP_ERR_STATE;
  if (!CheckArray(s, n, kMinorSizes.new_session[0], "store.create_sessions",
                  [](const wfp_new_session& e) {
                    if (View(e.uuid).size() != 36 || !e.workflow_name.data)
                      g_state->Violation(kHostTable,
                                         "store.create_sessions with a session "
                                         "without a 36-character uuid or a workflow");
                  }))
    return WFP_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < n; ++i) ids[i] = g_state->next_id++;
  return WFP_OK;
}

wfp_status Attempts(wfp_txn* txn, const wfp_new_attempt* a, size_t n, int64_t* ids) {
  if (!CheckTxn(txn, "store.create_attempts")) return WFP_ERR_STATE;
  if (txn->read_only) return WFP_ERR_STATE;
  if (!CheckArray(a, n, kMinorSizes.new_attempt[0], "store.create_attempts",
                  [](const wfp_new_attempt& e) {
                    if (e.state != WFP_ATTEMPT_QUEUED && e.state != WFP_ATTEMPT_BLOCKED)
                      g_state->Violation(kHostTable, fmt::format("store.create_attempts with "
                                                                 "state {}",
                                                                 e.state));
                  }))
    return WFP_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < n; ++i) ids[i] = g_state->next_id++;
  return WFP_OK;
}

wfp_status Move(wfp_txn* txn, int64_t, const wfp_schedule_pointer* p) {
  if (!CheckTxn(txn, "store.move_schedule_pointer")) return WFP_ERR_STATE;
  if (txn->read_only) return WFP_ERR_STATE;
  if (!p || p->struct_size < kMinorSizes.schedule_pointer[0]) {
    g_state->Violation(kSizes,
                       "store.move_schedule_pointer with a pointer struct smaller than "
                       "ABI 1.0's");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  return WFP_OK;
}

}  // namespace

// The host's tables, cut to the minor's size (traps past it).
void MakeTables(State* state) {
  wfp_store_api& s = state->store_table.table;
  s.begin = Begin;
  s.commit = Commit;
  s.rollback = Rollback;
  s.load_schedule = Load;
  s.list_sessions = List;
  s.latest_session_before = Latest;
  s.create_sessions = Sessions;
  s.create_attempts = Attempts;
  s.move_schedule_pointer = Move;
  s.begin_read = BeginRead;
  s.load_schedule_window = Window;
  CutTable<false>(&state->store_table, state->Size(kMinorSizes.store_api));
  wfp_host_api& h = state->host_table.table;
  h.abi_major = WFP_ABI_VERSION_MAJOR;
  h.abi_minor = static_cast<uint16_t>(state->minor);
  h.host = &state->host;
  h.host_name = Str("wfp-plugin-check");
  h.host_version = Str(WFP_VERSION);
  h.log = Log;
  h.now_micros = Now;
  h.register_route = RegisterRoute;
  h.get_setting = GetSetting;
  h.respond = Respond;
  h.store = &s;
  h.respond_append = RespondAppend;
  h.register_metric = RegisterMetric;
  h.metric_add = MetricAdd;
  h.metric_observe = MetricObserve;
  CutTable<true>(&state->host_table, state->Size(kMinorSizes.host_api));
}

}  // namespace wfp::plugin_check
