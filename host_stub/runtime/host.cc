#include "runtime/host.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <wfp/abi_struct.h>

#include <atomic>
#include <boost/dll/shared_library.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "call.h"
#include "metrics/metrics.h"
#include "runtime/clock.h"
#include "runtime/content_coding.h"
#include "runtime/request_id.h"
#include "runtime/router.h"

namespace wfp::host {
struct PluginRecord;
}

// The opaque handle each plugin gets in its host table: which host, and which plugin is calling.
struct wfp_host {
  wfp::host::Host::Impl* impl = nullptr;
  wfp::host::PluginRecord* plugin = nullptr;
};

// A metric family registered by a plugin (ABI 1.3), owned by the plugin's record.
struct wfp_metric {
  wfp::host::Metrics* metrics = nullptr;
  wfp::host::Metrics::Series* series = nullptr;
  std::string name;
};

namespace wfp::host {
namespace {

constexpr std::string_view kInternalError = "Internal server error";
constexpr std::string_view kOpenApiPath = "/api/openapi.json";
// The router's owner of the host's own routes (plugins are numbered from 1).
constexpr size_t kNativeOwner = 0;
// The router needs a handler; native routes are dispatched by owner and never call it.
int32_t NativeRouteMarker(void*, const wfp_request*, wfp_call*) { return 1; }

// The id of the request this thread is serving (set around a handler call), for the plugin's log
// lines: the host's log function adds it without the plugin passing it.
thread_local const std::string* t_request_id = nullptr;

class CurrentRequest {
 public:
  explicit CurrentRequest(const std::string* id) : previous_(t_request_id) { t_request_id = id; }
  ~CurrentRequest() { t_request_id = previous_; }
  CurrentRequest(const CurrentRequest&) = delete;
  CurrentRequest& operator=(const CurrentRequest&) = delete;

 private:
  const std::string* previous_;
};

std::string_view View(wfp_str s) {
  return s.data ? std::string_view(s.data, s.size) : std::string_view();
}
wfp_str Str(std::string_view s) { return wfp_str{s.data(), s.size()}; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One log line: control characters escaped so that a message cannot forge other lines.
std::string Sanitize(std::string_view s, size_t limit = 4096) {
  std::string out;
  out.reserve(std::min(s.size(), limit));
  for (char c : s) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string_view LevelName(wfp_log_level level) {
  switch (level) {
    case WFP_LOG_DEBUG:
      return "DEBUG";
    case WFP_LOG_INFO:
      return "INFO";
    case WFP_LOG_WARN:
      return "WARN";
    case WFP_LOG_ERROR:
      return "ERROR";
    default:
      return "LOG";
  }
}

// One log line as a JSON object (serialize escapes control characters).
std::string JsonLogLine(wfp_log_level level, std::string_view source, std::string_view request_id,
                        std::string_view message) {
  boost::json::object o;
  o["time"] = FormatInstantUtc(RealNowMicros() / 1000000);
  o["level"] = Lower(LevelName(level));
  o["source"] = source.substr(0, 128);
  o["request_id"] =
      request_id.empty() ? boost::json::value(nullptr) : boost::json::value(request_id);
  o["message"] = message.substr(0, 4096);
  return boost::json::serialize(o);
}

bool IsJsonContentType(std::string_view ct) {
  return IEquals(Trim(ct.substr(0, ct.find(';'))), "application/json");
}

bool IsValidHeaderName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':') return false;
  }
  return true;
}

bool IsValidHeaderValue(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

constexpr std::string_view kHowToSendAKey =
    "send the key as 'Authorization: Bearer KEY' or as 'X-API-Key: KEY'";

// The API key a request carries, or why it cannot be used. A request is refused rather than
// guessed at when its credentials are ambiguous: a header given twice, or both headers naming
// different keys (400); or malformed: an Authorization that is not "Bearer KEY" (401).
struct Credentials {
  std::optional<std::string_view> key;
  int refusal = 0;  // 400 or 401 when the credentials are refused
  std::string message;
};

Credentials ReadCredentials(const HttpRequest& r) {
  Credentials c;
  std::vector<std::string_view> bearer, api_key;
  for (const auto& [name, value] : r.headers) {
    if (IEquals(name, "authorization")) bearer.push_back(Trim(value));
    if (IEquals(name, "x-api-key")) api_key.push_back(Trim(value));
  }
  auto refuse = [&c](int status, std::string message) {
    c.refusal = status;
    c.message = std::move(message);
    return c;
  };
  if (bearer.size() > 1 || api_key.size() > 1)
    return refuse(400, fmt::format("the {} header is given {} times; {}, once",
                                   bearer.size() > 1 ? "Authorization" : "X-API-Key",
                                   std::max(bearer.size(), api_key.size()), kHowToSendAKey));
  std::optional<std::string_view> from_bearer, from_api_key;
  if (!bearer.empty()) {
    const std::string_view v = bearer.front();
    const size_t space = v.find_first_of(" \t");
    const std::string_view token = space == v.npos ? std::string_view() : Trim(v.substr(space));
    if (space != 6 || !IEquals(v.substr(0, 6), "bearer") || token.empty() ||
        token.find_first_of(" \t") != token.npos)
      return refuse(401, fmt::format("malformed Authorization header: {}", kHowToSendAKey));
    from_bearer = token;
  }
  if (!api_key.empty()) {
    if (api_key.front().empty())
      return refuse(401, fmt::format("the X-API-Key header is empty: {}", kHowToSendAKey));
    from_api_key = api_key.front();
  }
  if (from_bearer && from_api_key && *from_bearer != *from_api_key)
    return refuse(400, "Authorization and X-API-Key name different keys; send one key");
  c.key = from_bearer ? from_bearer : from_api_key;
  return c;
}

// The store table of a host without a store.
wfp_status NoBegin(wfp_call*, wfp_txn**) { return WFP_ERR_UNSUPPORTED; }
wfp_status NoCommit(wfp_txn*) { return WFP_ERR_UNSUPPORTED; }
void NoRollback(wfp_txn*) {}
wfp_status NoLoad(wfp_txn*, int64_t, int64_t, wfp_schedule_info*) { return WFP_ERR_UNSUPPORTED; }
wfp_status NoList(wfp_txn*, int64_t, wfp_str, wfp_epoch_seconds, wfp_epoch_seconds,
                  wfp_session_visitor, void*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status NoLatest(wfp_txn*, int64_t, wfp_str, wfp_epoch_seconds, int32_t*, wfp_epoch_seconds*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status NoSessions(wfp_txn*, const wfp_new_session*, size_t, int64_t*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status NoAttempts(wfp_txn*, const wfp_new_attempt*, size_t, int64_t*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status NoMove(wfp_txn*, int64_t, const wfp_schedule_pointer*) { return WFP_ERR_UNSUPPORTED; }

const wfp_store_api kNoStore = {sizeof(wfp_store_api),
                                NoBegin,
                                NoCommit,
                                NoRollback,
                                NoLoad,
                                NoList,
                                NoLatest,
                                NoSessions,
                                NoAttempts,
                                NoMove,
                                NoBegin};

// A file that does not start with the ELF magic is not a shared library (on the platforms we
// build).
bool HasElfMagic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
         magic[3] == 'F';
}

}  // namespace

struct PluginRecord {
  size_t index = 0;
  std::string path;
  std::string name;
  std::string version;
  boost::dll::shared_library library;
  const wfp_plugin_v1* descriptor = nullptr;
  void* state = nullptr;
  wfp_host handle;
  wfp_host_api api{};
  // Set while init runs, on the init thread: the only time register_route is accepted.
  std::atomic<bool> initializing{false};
  std::thread::id init_thread;
  std::vector<std::string> init_faults;  // conflicts found during init: the plugin is refused
  std::vector<std::pair<std::string, std::string>> routes;  // registered (method, template)
  std::set<std::string, std::less<>> settings_read;         // keys asked for through get_setting
  std::vector<std::unique_ptr<wfp_metric>> metrics;         // registered during init (ABI 1.3)
};

// One handler invocation's runtime state, reached from `wfp_call::runtime`.
struct CallContext {
  Host::Impl* impl = nullptr;
  PluginRecord* plugin = nullptr;
  std::string request_id;
  std::thread::id thread;
  std::string fault;  // the first contract violation seen; the answer is then a 500
  std::atomic<bool> foreign_thread{false};  // respond was called from another thread
};

struct Host::Impl {
  explicit Impl(HostOptions o) : options(std::move(o)) {
    store = options.store ? options.store : &kNoStore;
    for (HostOptions::NativeRoute& r : options.native_routes) {
      std::string error;
      if (router.Add(r.method, r.path_template, NativeRouteMarker, &r, kNativeOwner, &error) !=
          Router::AddResult::kOk)
        throw std::invalid_argument(fmt::format("host route {} {}: {}", r.method, r.path_template,
                                                error.empty() ? "registered twice" : error));
    }
  }

  HttpResponse ServeNative(const Route& route, const Router::Match& match, int64_t site,
                           std::string_view target);

  HostOptions options;
  const wfp_store_api* store = nullptr;
  Router router;
  std::vector<std::unique_ptr<PluginRecord>> plugins;  // live plugins, in load order
  size_t next_index = 1;
  std::mutex log_mu;
  std::mutex pool_mu;
  std::vector<std::shared_ptr<StoreConnection>> idle;
  mutable std::mutex settings_mu;  // guards each plugin's settings_read

  void Log(wfp_log_level level, std::string_view source, std::string_view message) {
    const std::string_view id = t_request_id ? std::string_view(*t_request_id) : "";
    const std::string line =
        options.json_logs ? JsonLogLine(level, source, id, message)
        : id.empty()
            ? fmt::format("[{}] {}: {}", LevelName(level), Sanitize(source, 128), Sanitize(message))
            : fmt::format("[{}] {}: {} (request {})", LevelName(level), Sanitize(source, 128),
                          Sanitize(message), id);
    std::lock_guard lock(log_mu);
    if (options.log_sink) {
      options.log_sink(line);
    } else {
      std::fputs((line + "\n").c_str(), stderr);
      std::fflush(stderr);
    }
  }

  std::shared_ptr<StoreConnection> Acquire(std::string* error) {
    {
      std::lock_guard lock(pool_mu);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    return options.connect(error);
  }

  void Release(std::shared_ptr<StoreConnection> c) {
    if (!c) return;
    std::lock_guard lock(pool_mu);
    idle.push_back(std::move(c));
  }

  // Serving a request: the document, admission (head only), the body's checks, the handler.
  struct Admission {
    Router::Match match;
    int64_t site = 0;
    std::optional<HttpResponse> refusal;
    Admission& Refuse(HttpResponse r) {
      refusal = std::move(r);
      return *this;
    }
  };
  // What Serve learned for the access log and metrics.
  struct Served {
    std::string route;
    int64_t site_id = 0;
  };
  HttpResponse Serve(HttpRequest& request, ResponseStream* stream, const std::string& request_id,
                     Served* served);
  std::optional<HttpResponse> Precheck(const HttpRequest& head) const;
  // Gives `response` its request id (and X-Request-Id when the host echoes ids).
  void Identify(HttpResponse* response, std::string request_id) const;
  std::optional<HttpResponse> ServeDocument(const HttpRequest& request,
                                            std::string_view path) const;
  Admission Admit(const HttpRequest& request, std::string_view path) const;
  std::optional<HttpResponse> CheckBody(HttpRequest& request) const;
  HttpResponse Dispatch(HttpRequest& request, const Admission& admission, ResponseStream* stream,
                        const std::string& request_id);
  HttpResponse FinishAnswer(ResponseBuffer& answer, const std::string& fault,
                            const std::string& where);

  // The host table's functions.
  static void ApiLog(wfp_host* host, wfp_log_level level, wfp_str message);
  static int64_t ApiNow(wfp_host* host);
  static wfp_status ApiRegisterRoute(wfp_host* host, const wfp_route* route);
  static wfp_status ApiGetSetting(wfp_host* host, wfp_str key, wfp_str* out);
  static wfp_status ApiRespond(wfp_call* call, const wfp_response* response);
  static wfp_status ApiRespondAppend(wfp_call* call, wfp_str chunk);
  static wfp_status ApiRegisterMetric(wfp_host* host, const wfp_metric_desc* desc,
                                      wfp_metric** out);
  static wfp_status ApiMetricAdd(wfp_metric* metric, const wfp_str* values, size_t count,
                                 double value);
  static wfp_status ApiMetricObserve(wfp_metric* metric, const wfp_str* values, size_t count,
                                     double value);
};

void Host::Impl::ApiLog(wfp_host* host, wfp_log_level level, wfp_str message) {
  if (!host || !host->impl) return;
  try {
    host->impl->Log(level, host->plugin->name, View(message));
  } catch (...) {
  }
}

int64_t Host::Impl::ApiNow(wfp_host* host) {
  if (host && host->impl && host->impl->options.fixed_now_micros)
    return *host->impl->options.fixed_now_micros;
  return RealNowMicros();
}

wfp_status Host::Impl::ApiRegisterRoute(wfp_host* host, const wfp_route* given) {
  if (!host || !host->impl || !host->plugin) return WFP_ERR_INVALID_ARGUMENT;
  PluginRecord& p = *host->plugin;
  Impl& impl = *host->impl;
  try {
    if (!p.initializing.load() || std::this_thread::get_id() != p.init_thread) {
      impl.Log(
          WFP_LOG_WARN, "host",
          fmt::format("plugin {} tried to register a route outside its init: refused", p.name));
      return WFP_ERR_STATE;
    }
    // The fields the plugin's struct_size covers, and no more (a plugin of any minor).
    const wfp_route copy = given ? abi::ReadStruct(given) : wfp_route{};
    const wfp_route* route = &copy;
    if (!given || !WFP_HAS_FIELD(wfp_route, route, user_data) || !route->method.data ||
        !route->path_template.data) {
      impl.Log(WFP_LOG_WARN, "host",
               fmt::format("plugin {}: register_route with a malformed wfp_route", p.name));
      return WFP_ERR_INVALID_ARGUMENT;
    }
    std::string error;
    size_t owner = 0;
    // Since 1.2: flags, read only when the plugin's struct has them. Unknown bits are ignored.
    const bool is_public =
        WFP_HAS_FIELD(wfp_route, route, flags) && (route->flags & WFP_ROUTE_PUBLIC) != 0;
    switch (impl.router.Add(View(route->method), View(route->path_template), route->handler,
                            route->user_data, p.index, &error, &owner, is_public)) {
      case Router::AddResult::kOk:
        p.routes.emplace_back(Sanitize(View(route->method), 64),
                              Sanitize(View(route->path_template), 256));
        return WFP_OK;
      case Router::AddResult::kConflict: {
        const std::string what = fmt::format("{} {}", Sanitize(View(route->method), 64),
                                             Sanitize(View(route->path_template), 256));
        std::string by = owner == kNativeOwner ? "the host" : "another plugin";
        for (const auto& other : impl.plugins)
          if (other->index == owner) by = "plugin " + other->name;
        p.init_faults.push_back(
            owner == p.index ? fmt::format("registers route {} twice", what)
                             : fmt::format("route {} is registered already by {}", what, by));
        return WFP_ERR_CONFLICT;
      }
      case Router::AddResult::kInvalid:
        impl.Log(WFP_LOG_WARN, "host",
                 fmt::format("plugin {}: route {} {} refused: {}", p.name,
                             Sanitize(View(route->method), 64),
                             Sanitize(View(route->path_template), 256), error));
        return WFP_ERR_INVALID_ARGUMENT;
    }
    return WFP_ERR_INTERNAL;
  } catch (...) {
    return WFP_ERR_INTERNAL;
  }
}

wfp_status Host::Impl::ApiGetSetting(wfp_host* host, wfp_str key, wfp_str* out) {
  if (!host || !host->impl || !out || !key.data) return WFP_ERR_INVALID_ARGUMENT;
  try {
    std::lock_guard lock(host->impl->settings_mu);
    host->plugin->settings_read.emplace(View(key));
  } catch (...) {
  }
  const auto& settings = host->impl->options.settings;
  const auto it = settings.find(View(key));
  if (it == settings.end()) return WFP_ERR_NOT_FOUND;
  *out = Str(it->second);
  return WFP_OK;
}

wfp_status Host::Impl::ApiRespond(wfp_call* call, const wfp_response* given) {
  if (!call || !call->runtime) return WFP_ERR_INVALID_ARGUMENT;
  auto& ctx = *static_cast<CallContext*>(call->runtime);
  auto fault = [&ctx](std::string what) {
    if (ctx.fault.empty()) ctx.fault = std::move(what);
  };
  try {
    if (std::this_thread::get_id() != ctx.thread) {
      ctx.foreign_thread = true;  // not `fault`: that belongs to the handler's thread
      return WFP_ERR_STATE;
    }
    if (call->responded) {
      fault("answered twice (respond called again)");
      return WFP_ERR_STATE;
    }
    // The fields the plugin's struct_size covers, and no more (a plugin of any minor).
    const wfp_response copy = given ? abi::ReadStruct(given) : wfp_response{};
    const wfp_response* response = &copy;
    if (!given || !WFP_HAS_FIELD(wfp_response, response, body)) {
      fault("called respond with a malformed wfp_response");
      return WFP_ERR_INVALID_ARGUMENT;
    }
    if (response->status < 100 || response->status > 599) {
      fault(fmt::format("answered status {}, outside 100..599", response->status));
      return WFP_ERR_INVALID_ARGUMENT;
    }
    if (response->header_count > 0 && !response->headers) {
      fault("answered headers through a null pointer");
      return WFP_ERR_INVALID_ARGUMENT;
    }
    HttpResponse out;
    out.status = response->status;
    for (size_t i = 0; i < response->header_count; ++i) {
      const std::string_view name = View(response->headers[i].name);
      const std::string_view value = View(response->headers[i].value);
      if (!IsValidHeaderName(name) || !IsValidHeaderValue(value)) {
        fault("answered a malformed header");
        return WFP_ERR_INVALID_ARGUMENT;
      }
      std::string lower = Lower(name);
      if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection")
        continue;  // framing is the host's business
      out.headers.emplace_back(std::move(lower), std::string(value));
    }
    out.body = std::string(View(response->body));
    // The id goes with the head: a streamed answer's head leaves before Handle sees it.
    if (ctx.impl->options.echo_request_id) out.headers.emplace_back("x-request-id", ctx.request_id);
    call->response.Start(std::move(out));
    call->responded = true;
    return WFP_OK;
  } catch (...) {
    fault("respond failed inside the host");
    return WFP_ERR_INTERNAL;
  }
}

wfp_status Host::Impl::ApiRespondAppend(wfp_call* call, wfp_str chunk) {
  if (!call || !call->runtime) return WFP_ERR_INVALID_ARGUMENT;
  auto& ctx = *static_cast<CallContext*>(call->runtime);
  try {
    if (std::this_thread::get_id() != ctx.thread) {
      ctx.foreign_thread = true;
      return WFP_ERR_STATE;
    }
    if (!call->responded) {
      if (ctx.fault.empty()) ctx.fault = "called respond_append before respond";
      return WFP_ERR_STATE;
    }
    if (chunk.size > 0 && !chunk.data) {
      if (ctx.fault.empty()) ctx.fault = "appended a body chunk through a null pointer";
      return WFP_ERR_INVALID_ARGUMENT;
    }
    // Not the plugin's fault when the client is gone: it may stop producing the body.
    if (!call->response.Append(std::string_view(chunk.data ? chunk.data : "", chunk.size)))
      return WFP_ERR_INTERNAL;
    return WFP_OK;
  } catch (...) {
    if (ctx.fault.empty()) ctx.fault = "respond_append failed inside the host";
    return WFP_ERR_INTERNAL;
  }
}

wfp_status Host::Impl::ApiRegisterMetric(wfp_host* host, const wfp_metric_desc* given,
                                         wfp_metric** out) {
  if (!host || !host->impl || !host->plugin || !host->impl->options.metrics)
    return WFP_ERR_INVALID_ARGUMENT;
  PluginRecord& p = *host->plugin;
  Impl& impl = *host->impl;
  try {
    if (!p.initializing.load() || std::this_thread::get_id() != p.init_thread) return WFP_ERR_STATE;
    // Every field of wfp_metric_desc is of 1.3: the plugin's struct must cover them all.
    const wfp_metric_desc copy = given ? abi::ReadStruct(given) : wfp_metric_desc{};
    const wfp_metric_desc* desc = &copy;
    if (!out || !given || !WFP_HAS_FIELD(wfp_metric_desc, desc, bucket_count) || !desc->name.data ||
        (desc->kind != WFP_METRIC_COUNTER && desc->kind != WFP_METRIC_HISTOGRAM) ||
        (desc->label_count > 0 && !desc->label_names) ||
        (desc->bucket_count > 0 && !desc->buckets) || desc->label_count > Metrics::kMaxLabels) {
      impl.Log(WFP_LOG_WARN, "host",
               fmt::format("plugin {}: register_metric with a malformed wfp_metric_desc", p.name));
      return WFP_ERR_INVALID_ARGUMENT;
    }
    std::vector<std::string> labels;
    for (size_t i = 0; i < desc->label_count; ++i) labels.emplace_back(View(desc->label_names[i]));
    std::vector<double> buckets(desc->buckets, desc->buckets + desc->bucket_count);
    const auto kind =
        desc->kind == WFP_METRIC_COUNTER ? Metrics::Kind::kCounter : Metrics::Kind::kHistogram;
    bool conflict = false;
    std::string error;
    Metrics::Series* series = impl.options.metrics->Register(
        kind, View(desc->name), View(desc->help), labels, std::move(buckets), &conflict, &error);
    if (!series) {
      impl.Log(WFP_LOG_WARN, "host", fmt::format("plugin {}: register_metric: {}", p.name, error));
      return conflict ? WFP_ERR_CONFLICT : WFP_ERR_INVALID_ARGUMENT;
    }
    auto metric = std::make_unique<wfp_metric>();
    metric->metrics = impl.options.metrics;
    metric->series = series;
    metric->name = std::string(View(desc->name));
    *out = metric.get();
    p.metrics.push_back(std::move(metric));
    return WFP_OK;
  } catch (...) {
    return WFP_ERR_INTERNAL;
  }
}

namespace {
wfp_status RecordMetric(wfp_metric* metric, Metrics::Kind kind, const wfp_str* values, size_t count,
                        double value) {
  if (!metric || !metric->metrics || (count > 0 && !values) || count > Metrics::kMaxLabels)
    return WFP_ERR_INVALID_ARGUMENT;
  try {
    std::string_view views[Metrics::kMaxLabels];
    for (size_t i = 0; i < count; ++i) {
      if (!values[i].data && values[i].size > 0) return WFP_ERR_INVALID_ARGUMENT;
      views[i] = View(values[i]);
    }
    std::string error;
    return metric->metrics->Record(metric->series, kind, std::span(views, count), value, &error)
               ? WFP_OK
               : WFP_ERR_INVALID_ARGUMENT;
  } catch (...) {
    return WFP_ERR_INTERNAL;
  }
}
}  // namespace

wfp_status Host::Impl::ApiMetricAdd(wfp_metric* metric, const wfp_str* values, size_t count,
                                    double value) {
  return RecordMetric(metric, Metrics::Kind::kCounter, values, count, value);
}

wfp_status Host::Impl::ApiMetricObserve(wfp_metric* metric, const wfp_str* values, size_t count,
                                        double value) {
  return RecordMetric(metric, Metrics::Kind::kHistogram, values, count, value);
}

std::string ErrorBody(int status, std::string_view message) {
  boost::json::object o;
  o["message"] = message;
  o["status"] = status;
  return boost::json::serialize(o);
}

HttpResponse ErrorResponse(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.body = ErrorBody(status, message);
  return r;
}

// GET (and HEAD) /api/openapi.json: public, answered before authentication, whatever the key.
std::optional<HttpResponse> Host::Impl::ServeDocument(const HttpRequest& request,
                                                      std::string_view path) const {
  if (options.openapi_document.empty() || path != kOpenApiPath) return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = ErrorResponse(405, "Method not allowed");
    r.headers.emplace_back("allow", "GET, HEAD");
    return r;
  }
  HttpResponse r;
  r.status = 200;
  r.headers.emplace_back("content-type", "application/json");
  r.body = std::string(options.openapi_document);
  return r;
}

// What can be decided from the request's head alone (so before its body is read): the route, the
// method, the credentials and the key. Either a refusal, or the route and the caller's site.
Host::Impl::Admission Host::Impl::Admit(const HttpRequest& request, std::string_view path) const {
  Admission a;
  // HEAD is served wherever GET is (the server sends the head of GET's answer).
  const std::string_view method =
      request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  a.match = router.Find(method, path);
  if (a.match.kind == Router::MatchKind::kNoPath) return a.Refuse(ErrorResponse(404, "Not found"));
  if (a.match.kind == Router::MatchKind::kNoMethod) {
    HttpResponse r = ErrorResponse(405, "Method not allowed");
    const bool get = (", " + a.match.allow + ",").find(", GET,") != std::string::npos;
    r.headers.emplace_back("allow", get ? a.match.allow + ", HEAD" : a.match.allow);
    return a.Refuse(std::move(r));
  }

  // Authentication comes before anything the plugin sees, except on a public route (site 0: no
  // caller; its credentials are not looked at). Keys are never logged.
  if (a.match.route->is_public) return a;  // site 0
  const Credentials credentials = ReadCredentials(request);
  if (credentials.refusal) {
    HttpResponse r = ErrorResponse(credentials.refusal, credentials.message);
    if (credentials.refusal == 401)
      r.headers.emplace_back("www-authenticate",
                             R"(Bearer realm="wfp-host", error="invalid_request")");
    return a.Refuse(std::move(r));
  }
  const std::optional<std::string_view> key = credentials.key;
  HostOptions::Authentication auth;
  if (key && options.authenticate) auth = options.authenticate(*key);
  if (auth.unavailable) {
    HttpResponse r = ErrorResponse(503, "The store is unavailable; try again later");
    r.headers.emplace_back("retry-after", "1");
    return a.Refuse(std::move(r));
  }
  if (!auth.site) {
    HttpResponse r = ErrorResponse(
        401, key ? "Invalid API key" : fmt::format("Missing API key: {}", kHowToSendAKey));
    r.headers.emplace_back(
        "www-authenticate",
        key ? R"(Bearer realm="wfp-host", error="invalid_token")" : R"(Bearer realm="wfp-host")");
    return a.Refuse(std::move(r));
  }
  a.site = *auth.site;
  return a;
}

// The body's checks, once it is read: its coding (gzip and deflate are decoded in place), its
// size once decoded (413), its media type (415).
std::optional<HttpResponse> Host::Impl::CheckBody(HttpRequest& request) const {
  if (auto refusal = DecodeContentCoding(&request, options.body_limit))
    return ErrorResponse(refusal->status, refusal->message);
  if (request.body.size() > options.body_limit)
    return ErrorResponse(
        413, fmt::format("Request body is too large (limit {} bytes)", options.body_limit));
  if (!request.body.empty()) {
    const std::string* ct = nullptr;
    for (const auto& [name, value] : request.headers)
      if (IEquals(name, "content-type")) ct = &value;
    if (!ct || !IsJsonContentType(*ct))
      return ErrorResponse(415, "Content-Type must be application/json");
  }
  return std::nullopt;
}

std::optional<HttpResponse> Host::Impl::Precheck(const HttpRequest& head) const {
  const std::string_view target = head.target;
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (ServeDocument(head, path)) return std::nullopt;
  Admission admission = Admit(head, path);
  if (admission.refusal && admission.match.route)
    admission.refusal->route = admission.match.route->path_template;
  return std::move(admission.refusal);
}

void Host::Impl::Identify(HttpResponse* response, std::string request_id) const {
  if (options.echo_request_id && !request_id.empty() &&
      !FindHeader(response->headers, "x-request-id"))
    response->headers.emplace_back("x-request-id", request_id);
  response->request_id = std::move(request_id);
}

HttpResponse Host::Impl::Serve(HttpRequest& request, ResponseStream* stream,
                               const std::string& request_id, Served* served) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (auto document = ServeDocument(request, path)) {
    served->route = kOpenApiPath;
    return std::move(*document);
  }
  Admission admission = Admit(request, path);
  if (admission.match.route) served->route = admission.match.route->path_template;
  if (admission.refusal) return std::move(*admission.refusal);
  served->site_id = admission.site;
  if (auto refusal = CheckBody(request)) return std::move(*refusal);
  return Dispatch(request, admission, stream, request_id);
}

HttpResponse Host::Impl::Dispatch(HttpRequest& request, const Admission& admission,
                                  ResponseStream* stream, const std::string& request_id) {
  const Router::Match& match = admission.match;
  const int64_t site = admission.site;
  const Route& route = *match.route;
  if (route.owner == kNativeOwner) return ServeNative(route, match, site, request.target);
  PluginRecord* plugin = nullptr;
  for (auto& p : plugins)
    if (p->index == route.owner) plugin = p.get();

  // The request view. Credentials are not passed on: the plugin gets the site instead.
  std::vector<std::string> header_names;
  header_names.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) header_names.push_back(Lower(name));
  std::vector<wfp_header> headers;
  headers.reserve(request.headers.size());
  for (size_t i = 0; i < request.headers.size(); ++i) {
    if (header_names[i] == "authorization" || header_names[i] == "x-api-key") continue;
    headers.push_back(wfp_header{Str(header_names[i]), Str(request.headers[i].second)});
  }
  std::vector<wfp_path_param> params;
  params.reserve(match.params.size());
  for (const auto& [name, value] : match.params)
    params.push_back(wfp_path_param{Str(name), Str(value)});

  CallContext ctx;
  ctx.impl = this;
  ctx.plugin = plugin;
  ctx.request_id = request_id;
  ctx.thread = std::this_thread::get_id();

  wfp_request view{};
  view.struct_size = sizeof view;
  view.method = Str(route.method);  // HEAD is served as GET
  view.target = Str(request.target);
  view.path_params = params.data();
  view.path_param_count = params.size();
  view.headers = headers.data();
  view.header_count = headers.size();
  view.body = Str(request.body);
  view.site_id = site;
  view.request_id = Str(ctx.request_id);

  const std::string plugin_name = plugin ? plugin->name : "?";
  const std::string where = fmt::format("plugin {}: {} {} (request {})", plugin_name, route.method,
                                        route.path_template, ctx.request_id);

  std::shared_ptr<StoreConnection> connection;
  if (options.connect) {
    std::string error;
    connection = Acquire(&error);
    if (!connection) {
      Log(WFP_LOG_ERROR, "host", fmt::format("{}: no store connection: {}", where, error));
      return ErrorResponse(500, kInternalError);
    }
  }

  wfp_call call;
  call.response = ResponseBuffer(stream);
  call.store = connection.get();
  call.runtime = &ctx;
  int32_t rc = 0;
  try {
    rc = route.handler(route.user_data, &view, &call);
  } catch (const std::exception& e) {
    ctx.fault = fmt::format("the handler threw an exception: {}", e.what());
  } catch (...) {
    ctx.fault = "the handler threw an exception";
  }
  if (call.open_txn) {
    wfp_txn* txn = call.open_txn;
    call.open_txn = nullptr;
    try {
      store->rollback(txn);
    } catch (...) {
    }
    if (ctx.fault.empty()) ctx.fault = "the handler left a store transaction open (rolled back)";
    Log(WFP_LOG_ERROR, "host", fmt::format("{}: a transaction left open was rolled back", where));
  }
  call.runtime = nullptr;
  Release(std::move(connection));

  if (ctx.fault.empty() && ctx.foreign_thread)
    ctx.fault = "called respond from another thread than the handler's";
  if (ctx.fault.empty() && rc != 0) ctx.fault = fmt::format("the handler returned {}", rc);
  if (ctx.fault.empty() && !call.responded) ctx.fault = "the handler returned without answering";
  return FinishAnswer(call.response, ctx.fault, where);
}

// The handler's answer once it returned: held (a fault makes it a 500), or streamed already (a
// fault can only cut it off: the stream is aborted so that the client can tell).
HttpResponse Host::Impl::FinishAnswer(ResponseBuffer& answer, const std::string& fault,
                                      const std::string& where) {
  if (answer.streaming()) {
    if (!fault.empty())
      Log(WFP_LOG_ERROR, "host",
          fmt::format("{}: {}; the answer was streamed already and is cut off", where, fault));
    return answer.EndStream(fault.empty());
  }
  if (!fault.empty()) {
    Log(WFP_LOG_ERROR, "host", fmt::format("{}: {}; answered 500", where, fault));
    return ErrorResponse(500, kInternalError);
  }
  return answer.TakeHeld();
}

HttpResponse Host::Impl::ServeNative(const Route& route, const Router::Match& match, int64_t site,
                                     std::string_view target) {
  const auto& native = *static_cast<const HostOptions::NativeRoute*>(route.user_data);
  HostOptions::NativeRequest request;
  request.site_id = site;
  request.params = match.params;
  const size_t q = target.find('?');
  if (q != std::string_view::npos) request.query = target.substr(q + 1, target.find('#') - q - 1);
  try {
    return native.handler(request);
  } catch (const std::exception& e) {
    Log(WFP_LOG_ERROR, "host",
        fmt::format("{} {}: {}; answered 500", route.method, route.path_template, e.what()));
  } catch (...) {
    Log(WFP_LOG_ERROR, "host",
        fmt::format("{} {}: failed; answered 500", route.method, route.path_template));
  }
  return ErrorResponse(500, kInternalError);
}

Host::Host(HostOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Host::~Host() { Shutdown(); }

void Host::Log(wfp_log_level level, std::string_view source, std::string_view message) {
  impl_->Log(level, source, message);
}

size_t Host::plugin_count() const { return impl_->plugins.size(); }
size_t Host::route_count() const { return impl_->router.size(); }

std::vector<PluginInfo> Host::plugins() const {
  std::vector<PluginInfo> out;
  out.reserve(impl_->plugins.size());
  for (const auto& p : impl_->plugins) {
    std::lock_guard lock(impl_->settings_mu);
    out.push_back(PluginInfo{p->path,
                             p->name,
                             p->version,
                             p->descriptor->abi_major,
                             p->descriptor->abi_minor,
                             p->routes,
                             {p->settings_read.begin(), p->settings_read.end()}});
  }
  return out;
}

bool Host::LoadPlugin(const std::string& path, std::string* error) {
  Impl& impl = *impl_;
  auto record = std::make_unique<PluginRecord>();
  PluginRecord& p = *record;
  p.index = impl.next_index++;
  p.path = path;
  p.name = std::filesystem::path(path).filename().string();

  auto refuse = [&](std::string_view reason) {
    impl.router.RemoveOwner(p.index);
    std::string message = fmt::format("plugin {} refused: {}", path, reason);
    impl.Log(WFP_LOG_ERROR, "host", message);
    if (error) *error = std::move(message);
    return false;
  };

  try {
    std::error_code fs_error;
    const auto status = std::filesystem::status(path, fs_error);
    if (fs_error || !std::filesystem::exists(status)) return refuse("no such file");
    if (std::filesystem::is_directory(status))
      return refuse("is a directory, not a shared library");
    if (!HasElfMagic(path)) return refuse("not a shared library (no ELF header)");

    boost::dll::fs::error_code ec;
    dlerror();  // clear any earlier message
    p.library.load(path, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    if (ec || !p.library.is_loaded()) {
      const char* why = dlerror();
      return refuse(fmt::format("not a loadable shared library ({})", why ? why : ec.message()));
    }

    for (const auto& other : impl.plugins)
      if (other->library.native() == p.library.native())
        return refuse(fmt::format("the same library is loaded already (as plugin {} from {})",
                                  other->name, other->path));

    if (!p.library.has(WFP_PLUGIN_ENTRY_V1_NAME)) {
      for (int major = 2; major <= 9; ++major) {
        const std::string other = fmt::format("wfp_plugin_entry_v{}", major);
        if (p.library.has(other))
          return refuse(fmt::format(
              "exports {}: built for ABI major {}; this host speaks ABI major {} ({} missing)",
              other, major, WFP_ABI_VERSION_MAJOR, WFP_PLUGIN_ENTRY_V1_NAME));
      }
      return refuse(
          fmt::format("no entry point {} (not a wfp plugin, or built for another ABI major)",
                      WFP_PLUGIN_ENTRY_V1_NAME));
    }
    auto& entry = p.library.get<const wfp_plugin_v1*()>(WFP_PLUGIN_ENTRY_V1_NAME);
    const wfp_plugin_v1* d = nullptr;
    try {
      d = entry();
    } catch (...) {
      return refuse("its entry point threw an exception");
    }
    if (!d) return refuse("its entry point returned no descriptor");
    // Every field of the descriptor is of ABI 1.0: a descriptor must cover them all (a newer
    // plugin's may be larger; what lies past them is not read).
    if (!WFP_HAS_FIELD(wfp_plugin_v1, d, shutdown))
      return refuse(fmt::format("descriptor struct_size {} is smaller than the v1 descriptor ({})",
                                d->struct_size, sizeof(wfp_plugin_v1)));
    if (d->abi_major != WFP_ABI_VERSION_MAJOR)
      return refuse(fmt::format("built for ABI major {}; this host speaks ABI major {}",
                                d->abi_major, WFP_ABI_VERSION_MAJOR));
    if (d->abi_minor > WFP_ABI_VERSION_MINOR)
      return refuse(fmt::format("needs ABI {}.{}, newer than this host's {}.{}", d->abi_major,
                                d->abi_minor, WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MINOR));
    if (!d->init || !d->shutdown) return refuse("its descriptor has no init or no shutdown");
    p.descriptor = d;
    if (d->name) p.name = Sanitize(std::string_view(d->name).substr(0, 128));
    if (d->version) p.version = Sanitize(std::string_view(d->version).substr(0, 64));

    p.handle.impl = &impl;
    p.handle.plugin = &p;
    p.api.struct_size = sizeof(wfp_host_api);
    p.api.abi_major = WFP_ABI_VERSION_MAJOR;
    p.api.abi_minor = WFP_ABI_VERSION_MINOR;
    p.api.host = &p.handle;
    p.api.host_name = Str(kHostName);
    p.api.host_version = Str(kHostVersion);
    p.api.log = &Impl::ApiLog;
    p.api.now_micros = &Impl::ApiNow;
    p.api.register_route = &Impl::ApiRegisterRoute;
    p.api.get_setting = &Impl::ApiGetSetting;
    p.api.respond = &Impl::ApiRespond;
    p.api.store = impl.store;
    p.api.respond_append = &Impl::ApiRespondAppend;
    if (impl.options.metrics) {  // a host without metrics leaves them null (ABI 1.3)
      p.api.register_metric = &Impl::ApiRegisterMetric;
      p.api.metric_add = &Impl::ApiMetricAdd;
      p.api.metric_observe = &Impl::ApiMetricObserve;
    }

    p.init_thread = std::this_thread::get_id();
    p.initializing = true;
    int32_t rc = 0;
    bool threw = false;
    try {
      rc = d->init(&p.api, &p.state);
    } catch (...) {
      threw = true;
    }
    p.initializing = false;
    if (threw) return refuse("its init threw an exception");
    if (rc != 0)
      return refuse(fmt::format("its init failed (returned {}){}", rc,
                                p.init_faults.empty() ? "" : "; " + p.init_faults.front()));
    if (!p.init_faults.empty()) {
      try {
        d->shutdown(p.state);
      } catch (...) {
      }
      return refuse(p.init_faults.front());
    }
  } catch (const std::exception& e) {
    return refuse(fmt::format("could not be loaded: {}", e.what()));
  }
  impl.Log(WFP_LOG_INFO, "host",
           fmt::format("loaded plugin {} {} from {}", p.name, p.version, path));
  impl.plugins.push_back(std::move(record));
  return true;
}

void Host::Shutdown() {
  Impl& impl = *impl_;
  while (!impl.plugins.empty()) {
    std::unique_ptr<PluginRecord> p = std::move(impl.plugins.back());
    impl.plugins.pop_back();
    impl.router.RemoveOwner(p->index);
    try {
      p->descriptor->shutdown(p->state);
    } catch (...) {
      impl.Log(WFP_LOG_ERROR, "host", fmt::format("plugin {}: shutdown threw", p->name));
    }
    p->library.unload();
  }
  std::lock_guard lock(impl.pool_mu);
  impl.idle.clear();
}

bool Host::CheckSettings(std::string* error) const {
  std::set<std::string, std::less<>> known;
  {
    std::lock_guard lock(impl_->settings_mu);
    for (const auto& p : impl_->plugins)
      known.insert(p->settings_read.begin(), p->settings_read.end());
  }
  std::string unknown;
  for (const auto& [key, value] : impl_->options.settings)
    if (!known.contains(key)) unknown += fmt::format("{}'{}'", unknown.empty() ? "" : ", ", key);
  if (unknown.empty()) return true;
  std::string names;
  for (const std::string& k : known) names += (names.empty() ? "" : ", ") + k;
  if (error)
    *error = fmt::format("unknown setting {}: the loaded plugins read {}", unknown,
                         names.empty() ? "no settings" : names);
  return false;
}

std::optional<HttpResponse> Host::Precheck(const HttpRequest& head) const {
  try {
    std::optional<HttpResponse> refusal = impl_->Precheck(head);
    if (refusal) impl_->Identify(&*refusal, RequestIdFor(head.headers));
    return refusal;
  } catch (...) {
    return std::nullopt;  // Handle meets the same fault and answers it
  }
}

HttpResponse Host::Handle(HttpRequest&& request, ResponseStream* stream) {
  const auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  Impl::Served served;
  std::string request_id;
  try {
    request_id = RequestIdFor(request.headers);
    const CurrentRequest current(&request_id);
    response = impl_->Serve(request, stream, request_id, &served);
  } catch (const std::exception& e) {
    impl_->Log(WFP_LOG_ERROR, "host", fmt::format("request failed inside the host: {}", e.what()));
    response = ErrorResponse(500, kInternalError);
  } catch (...) {
    impl_->Log(WFP_LOG_ERROR, "host", "request failed inside the host");
    response = ErrorResponse(500, kInternalError);
  }
  response.route = std::move(served.route);
  response.site_id = served.site_id;
  impl_->Identify(&response, std::move(request_id));
  if (impl_->options.access_log) {
    try {
      const std::string_view target = request.target;
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count();
      impl_->Log(WFP_LOG_INFO, "access",
                 fmt::format("{} {} {} {:.3f}ms", Sanitize(request.method, 32),
                             Sanitize(target.substr(0, target.find_first_of("?#")), 512),
                             response.status, micros / 1000.0));
    } catch (...) {
    }
  }
  return response;
}

}  // namespace wfp::host
