// The host table given to each plugin (wfp_host_api): log, clock, route registration, settings,
// respond, respond_append and the metrics of ABI 1.3. Each function checks what the plugin passes
// (the fields its struct_size covers, null pointers, the thread) and never throws into the plugin.
#include <fmt/format.h>
#include <wfp/abi_struct.h>

#include <span>

#include "runtime/clock.h"
#include "runtime/host_impl.h"

namespace wfp::host {
using namespace runtime_internal;
namespace {

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

}  // namespace

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
    size_t owner = 0;
    // Since 1.2: flags, read only when the plugin's struct has them. Unknown bits are ignored.
    const bool is_public =
        WFP_HAS_FIELD(wfp_route, route, flags) && (route->flags & WFP_ROUTE_PUBLIC) != 0;
    const Status added =
        impl.router.Add(View(route->method), View(route->path_template), route->handler,
                        route->user_data, p.index, &owner, is_public);
    switch (added.code()) {
      case WFP_OK:
        p.routes.emplace_back(Sanitize(View(route->method), 64),
                              Sanitize(View(route->path_template), 256));
        return WFP_OK;
      case WFP_ERR_CONFLICT: {
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
      default:
        impl.Log(WFP_LOG_WARN, "host",
                 fmt::format("plugin {}: route {} {} refused: {}", p.name,
                             Sanitize(View(route->method), 64),
                             Sanitize(View(route->path_template), 256), added.message()));
        return added.code();
    }
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

// A call used after its handler returned: refused, and its plugin named in the log.
wfp_status Host::Impl::RefuseEndedCall(const wfp_call* call, std::string_view what) {
  if (const auto* owner = static_cast<const wfp_host*>(call->ended))
    owner->impl->Log(WFP_LOG_ERROR, "host",
                     fmt::format("plugin {} used a call after its handler returned ({} refused)",
                                 owner->plugin->name, what));
  return WFP_ERR_STATE;
}

wfp_status Host::Impl::ApiRespond(wfp_call* call, const wfp_response* given) {
  if (!call) return WFP_ERR_INVALID_ARGUMENT;
  if (!call->runtime) return RefuseEndedCall(call, "respond");
  auto& ctx = *static_cast<CallContext*>(call->runtime);
  auto fault = [&ctx](std::string what) {
    if (ctx.fault.empty()) ctx.fault = std::move(what);
  };
  try {
    if (std::this_thread::get_id() != ctx.thread) {
      ctx.foreign_thread = true;  // not `fault`: that belongs to the handler's thread
      return WFP_ERR_STATE;
    }
    if (!ctx.fault.empty()) return WFP_ERR_STATE;  // refused once: the answer is a 500 already
    if (ctx.responded) {
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
    ctx.response.Start(std::move(out));
    ctx.responded = true;
    return WFP_OK;
  } catch (...) {
    fault("respond failed inside the host");
    return WFP_ERR_INTERNAL;
  }
}

wfp_status Host::Impl::ApiRespondAppend(wfp_call* call, wfp_str chunk) {
  if (!call) return WFP_ERR_INVALID_ARGUMENT;
  if (!call->runtime) return RefuseEndedCall(call, "respond_append");
  auto& ctx = *static_cast<CallContext*>(call->runtime);
  try {
    if (std::this_thread::get_id() != ctx.thread) {
      ctx.foreign_thread = true;
      return WFP_ERR_STATE;
    }
    if (!ctx.fault.empty()) return WFP_ERR_STATE;  // the answer is a 500, or cut off
    if (!ctx.responded) {
      if (ctx.fault.empty()) ctx.fault = "called respond_append before respond";
      return WFP_ERR_STATE;
    }
    if (chunk.size > 0 && !chunk.data) {
      if (ctx.fault.empty()) ctx.fault = "appended a body chunk through a null pointer";
      return WFP_ERR_INVALID_ARGUMENT;
    }
    // Not the plugin's fault when the client is gone: it may stop producing the body.
    if (!ctx.response.Append(std::string_view(chunk.data ? chunk.data : "", chunk.size)))
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
    Result<Metrics::Series*> series = impl.options.metrics->Register(
        kind, View(desc->name), View(desc->help), labels, std::move(buckets));
    if (!series.ok()) {
      impl.Log(WFP_LOG_WARN, "host",
               fmt::format("plugin {}: register_metric: {}", p.name, series.status().message()));
      return series.status().code();
    }
    auto metric = std::make_unique<wfp_metric>();
    metric->metrics = impl.options.metrics;
    metric->series = *series;
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
    return metric->metrics->Record(metric->series, kind, std::span(views, count), value).code();
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

}  // namespace wfp::host
