#include "server/ops.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <string_view>

#include "metrics/metrics.h"
#include "runtime/host.h"
#include "runtime/request_id.h"

namespace wfp::host {
namespace {

HttpResponse Json(int status, const boost::json::object& body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.headers.emplace_back("cache-control", "no-store");
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace

HttpResponse OpsRoutes::Ready() const {
  boost::json::object checks;
  bool ready = true;
  const bool draining = draining_.load(std::memory_order_acquire);
  if (draining) ready = false;
  checks["draining"] = draining;
  const size_t plugins = options_.plugin_count ? options_.plugin_count() : 0;
  checks["plugins"] = plugins;
  if (plugins == 0) ready = false;
  std::string error;
  const bool store = options_.store_ready && options_.store_ready(&error);
  checks["store"] = store ? "ok" : (error.empty() ? "unavailable" : error);
  if (!store) ready = false;
  boost::json::object body;
  body["status"] = ready ? "ready" : "not ready";
  body["checks"] = std::move(checks);
  return Json(ready ? 200 : 503, body);
}

std::optional<HttpResponse> OpsRoutes::Handle(const HttpRequest& request) const {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path != "/healthz" && path != "/readyz" && (path != "/metrics" || !options_.metrics))
    return std::nullopt;
  HttpResponse r;
  if (request.method != "GET") {
    r = ErrorResponse(405, "Method not allowed");
    r.headers.emplace_back("allow", "GET");
  } else if (path == "/healthz") {
    r = Json(200, {{"status", "ok"}});
  } else if (path == "/readyz") {
    r = Ready();
  } else {
    r.status = 200;
    r.headers.emplace_back("content-type", std::string(Metrics::kContentType));
    r.headers.emplace_back("cache-control", "no-store");
    r.body = options_.metrics->Text();
  }
  r.route = std::string(path);
  r.request_id = RequestIdFor(request.headers);
  r.headers.emplace_back("x-request-id", r.request_id);
  return r;
}

}  // namespace wfp::host
