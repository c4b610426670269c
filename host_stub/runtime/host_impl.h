// The runtime's inside, shared by its files (not part of its interface: include runtime/host.h).
// host.cc serves requests (admission, the body's checks, the log); loader.cc loads plugins
// (Boost.DLL, version negotiation, init); host_api.cc is the host table given to plugins;
// dispatch.cc calls a handler and contains its faults.
#ifndef WFP_HOST_STUB_RUNTIME_HOST_IMPL_H_
#define WFP_HOST_STUB_RUNTIME_HOST_IMPL_H_

#include <wfp/plugin_abi.h>

#include <atomic>
#include <boost/dll/shared_library.hpp>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "call.h"
#include "common/log_line.h"
#include "metrics/metrics.h"
#include "runtime/host.h"
#include "runtime/response_buffer.h"
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
namespace runtime_internal {

inline constexpr std::string_view kInternalError = "Internal server error";
// The router's owner of the host's own routes (plugins are numbered from 1).
inline constexpr size_t kNativeOwner = 0;

inline std::string_view View(wfp_str s) {
  return s.data ? std::string_view(s.data, s.size) : std::string_view();
}
inline wfp_str Str(std::string_view s) { return wfp_str{s.data(), s.size()}; }

std::string Lower(std::string_view s);
// One log line: control characters escaped so that a message cannot forge other lines.
// Log text from a plugin or a client, escaped and cut at the host's bound (common/log_line.h).
inline std::string Sanitize(std::string_view s, size_t limit = 4096) {
  return EscapeControls(s, limit);
}

}  // namespace runtime_internal

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

// One handler invocation's runtime state, reached from `wfp_call::runtime` (the store sees only
// `wfp_call::store`).
struct CallContext {
  Host::Impl* impl = nullptr;
  PluginRecord* plugin = nullptr;
  std::string request_id;
  std::thread::id thread;
  std::string fault;  // the first contract violation seen; the answer is then a 500
  std::atomic<bool> foreign_thread{false};  // respond was called from another thread
  // Set by `respond`; a second call is refused.
  bool responded = false;
  // What `respond` and `respond_append` wrote: held, or passed on to a stream as it comes.
  ResponseBuffer response;
};

struct Host::Impl {
  explicit Impl(HostOptions o);

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

  void Log(wfp_log_level level, std::string_view source, std::string_view message);

  Result<std::shared_ptr<StoreConnection>> Acquire() {
    {
      std::lock_guard lock(pool_mu);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    return options.connect();
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
  void RollBackLeftOpen(CallStoreState* call, CallContext* ctx);
  HttpResponse FinishAnswer(ResponseBuffer& answer, const std::string& fault);

  // The host table's functions.
  static void ApiLog(wfp_host* host, wfp_log_level level, wfp_str message);
  static int64_t ApiNow(wfp_host* host);
  static wfp_status ApiRegisterRoute(wfp_host* host, const wfp_route* route);
  static wfp_status ApiGetSetting(wfp_host* host, wfp_str key, wfp_str* out);
  static wfp_status RefuseEndedCall(const wfp_call* call, std::string_view what);
  static wfp_status ApiRespond(wfp_call* call, const wfp_response* response);
  static wfp_status ApiRespondAppend(wfp_call* call, wfp_str chunk);
  static wfp_status ApiRegisterMetric(wfp_host* host, const wfp_metric_desc* desc,
                                      wfp_metric** out);
  static wfp_status ApiMetricAdd(wfp_metric* metric, const wfp_str* values, size_t count,
                                 double value);
  static wfp_status ApiMetricObserve(wfp_metric* metric, const wfp_str* values, size_t count,
                                     double value);
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_HOST_IMPL_H_
