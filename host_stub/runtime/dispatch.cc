// Calling a plugin's handler and containing its faults: the request as the plugin sees it (no
// credentials: the site instead), a pooled store connection, the call, a transaction left open
// rolled back, and the answer: held (a fault makes it a 500) or streamed (a fault cuts it off).
#include <fmt/format.h>

#include <array>
#include <exception>

#include "runtime/fatal_signal.h"
#include "runtime/host_impl.h"

namespace wfp::host {
using namespace runtime_internal;
namespace {

// The request as the plugin's handler sees it, and the storage its views point into.
// Credentials are not passed on: the plugin gets the site instead.
class PluginRequest {
 public:
  PluginRequest(const HttpRequest& request, const Router::Match& match, int64_t site,
                const std::string& request_id) {
    header_names_.reserve(request.headers.size());
    for (const auto& [name, value] : request.headers) header_names_.push_back(Lower(name));
    headers_.reserve(request.headers.size());
    for (size_t i = 0; i < request.headers.size(); ++i) {
      if (header_names_[i] == "authorization" || header_names_[i] == "x-api-key") continue;
      headers_.push_back(wfp_header{Str(header_names_[i]), Str(request.headers[i].second)});
    }
    params_.reserve(match.params.size());
    for (const auto& [name, value] : match.params)
      params_.push_back(wfp_path_param{Str(name), Str(value)});

    wfp_request& view = view_;
    view.struct_size = sizeof view;
    view.method = Str(match.route->method);  // HEAD is served as GET
    view.target = Str(request.target);
    view.path_params = params_.data();
    view.path_param_count = params_.size();
    view.headers = headers_.data();
    view.header_count = headers_.size();
    view.body = Str(request.body);
    view.site_id = site;
    view.request_id = Str(request_id);
  }
  PluginRequest(const PluginRequest&) = delete;
  PluginRequest& operator=(const PluginRequest&) = delete;

  const wfp_request* view() const { return &view_; }

 private:
  std::vector<std::string> header_names_;
  std::vector<wfp_header> headers_;
  std::vector<wfp_path_param> params_;
  wfp_request view_{};
};

// This thread's next call: the calls are used in turn, 16 of them, and never freed while the thread
// runs. A call a plugin kept past its handler (which the ABI forbids) is then a finished one, which
// the host refuses, not a dead stack frame or the call of the request running now, until 15 more
// requests have run on this thread.
wfp_call* NextCall() {
  thread_local std::array<wfp_call, 16> calls;
  thread_local size_t next = 0;
  wfp_call* call = &calls[next];
  next = (next + 1) % calls.size();
  *call = wfp_call{};
  return call;
}

// Calls the handler; an exception it throws is a fault, not the host's end.
int32_t CallHandler(const Route& route, const wfp_request* view, wfp_call* call, CallContext* ctx) {
  try {
    return route.handler(route.user_data, view, call);
  } catch (const std::exception& e) {
    ctx->fault = fmt::format("the handler threw an exception: {}", e.what());
  } catch (...) {
    ctx->fault = "the handler threw an exception";
  }
  return 0;
}

}  // namespace

HttpResponse Host::Impl::Dispatch(HttpRequest& request, const Admission& admission,
                                  ResponseStream* stream, const std::string& request_id) {
  const Router::Match& match = admission.match;
  const Route& route = *match.route;
  if (route.owner == kNativeOwner) return ServeNative(route, match, admission.site, request.target);
  PluginRecord* plugin = nullptr;
  for (auto& p : plugins)
    if (p->index == route.owner) plugin = p.get();

  CallContext ctx;
  ctx.impl = this;
  ctx.plugin = plugin;
  ctx.request_id = request_id;
  ctx.thread = std::this_thread::get_id();
  const PluginRequest view(request, match, admission.site, ctx.request_id);

  // Made only for a log line: the request id is the log's to add.
  auto where = [&] {
    return fmt::format("plugin {}: {} {}", plugin ? plugin->name : "?", route.method,
                       route.path_template);
  };

  std::shared_ptr<StoreConnection> connection;
  if (options.connect) {
    Result<std::shared_ptr<StoreConnection>> acquired = Acquire();
    if (!acquired.ok() || !*acquired) {
      Log(WFP_LOG_ERROR, "host",
          fmt::format("{}: no store connection: {}", where(), acquired.status().message()));
      return ErrorResponse(500, kInternalError);
    }
    connection = std::move(*acquired);
  }

  ctx.response = ResponseBuffer(stream);
  wfp_call* call = NextCall();
  call->store.connection = connection.get();
  call->runtime = &ctx;
  int32_t rc = 0;
  {
    const PluginActivity activity(plugin ? plugin->name.c_str() : "?", route.method.c_str(),
                                  route.path_template.c_str(), ctx.request_id.c_str());
    rc = CallHandler(route, view.view(), call, &ctx);
  }
  RollBackLeftOpen(&call->store, &ctx);
  call->runtime = nullptr;
  call->store = CallStoreState{};  // the connection goes back to the pool
  call->ended = plugin ? &plugin->handle : nullptr;
  Release(std::move(connection));

  if (ctx.fault.empty() && ctx.foreign_thread)
    ctx.fault = "called respond from another thread than the handler's";
  if (ctx.fault.empty() && rc != 0) ctx.fault = fmt::format("the handler returned {}", rc);
  if (ctx.fault.empty() && !ctx.responded) ctx.fault = "the handler returned without answering";
  if (!ctx.fault.empty()) ctx.fault = where() + ": " + ctx.fault;
  return FinishAnswer(ctx.response, ctx.fault);
}

// A transaction the handler left open is rolled back, and is the handler's fault (the first one
// it made unless it made another before: then it is added to that, for the one log line).
void Host::Impl::RollBackLeftOpen(CallStoreState* call, CallContext* ctx) {
  if (!call->open_txn) return;
  wfp_txn* txn = call->open_txn;
  call->open_txn = nullptr;
  try {
    store->rollback(txn);
  } catch (...) {
  }
  constexpr std::string_view kLeftOpen = "the handler left a store transaction open (rolled back)";
  if (ctx->fault.empty())
    ctx->fault = kLeftOpen;
  else
    ctx->fault = fmt::format("{}; and {}", ctx->fault, kLeftOpen);
}

// The handler's answer once it returned: held (a fault makes it a 500), or streamed already (a
// fault can only cut it off: the stream is aborted so that the client can tell). `fault` is the
// whole log line's text, empty when there was none.
HttpResponse Host::Impl::FinishAnswer(ResponseBuffer& answer, const std::string& fault) {
  if (answer.streaming()) {
    if (!fault.empty())
      Log(WFP_LOG_ERROR, "host",
          fmt::format("{}; the answer was streamed already and is cut off", fault));
    return answer.EndStream(fault.empty());
  }
  if (!fault.empty()) {
    Log(WFP_LOG_ERROR, "host", fmt::format("{}; answered 500", fault));
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

}  // namespace wfp::host
