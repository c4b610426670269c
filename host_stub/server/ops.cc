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

std::string_view PathOf(const HttpRequest& request) {
  const std::string_view target = request.target;
  return target.substr(0, target.find_first_of("?#"));
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
  const Status store = options_.store_ready ? options_.store_ready() : Status::Unsupported("");
  NoteStoreState(store);
  checks["store"] = store.ok() ? "ok" : "unavailable";
  if (!store.ok()) ready = false;
  boost::json::object body;
  body["status"] = ready ? "ready" : "not ready";
  body["checks"] = std::move(checks);
  return Json(ready ? 200 : 503, body);
}

void OpsRoutes::NoteStoreState(const Status& store) const {
  const std::string failure =
      store.ok() ? "" : (store.message().empty() ? "unavailable" : store.message());
  std::lock_guard lock(state_mu_);
  if (failure == last_failure_) return;
  if (options_.log)
    options_.log(failure.empty() ? "readiness: the store answers again"
                                 : "readiness: the store does not answer: " + failure);
  last_failure_ = failure;
}

bool OpsRoutes::Owns(const HttpRequest& request) const {
  const std::string_view path = PathOf(request);
  return path == "/healthz" || path == "/readyz" || (path == "/metrics" && options_.metrics);
}

std::optional<HttpResponse> OpsRoutes::Handle(const HttpRequest& request) const {
  if (!Owns(request)) return std::nullopt;
  const std::string_view path = PathOf(request);
  HttpResponse r;
  // HEAD is answered as GET (the server sends only the head), as on every other route.
  if (request.method != "GET" && request.method != "HEAD") {
    r = ErrorResponse(405, "Method not allowed");
    r.headers.emplace_back("allow", "GET, HEAD");
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

HttpResponse OpsRoutes::HandleOnly(const HttpRequest& request) const {
  if (std::optional<HttpResponse> answer = Handle(request)) return std::move(*answer);
  HttpResponse r = ErrorResponse(404, "Not found");
  r.request_id = RequestIdFor(request.headers);
  r.headers.emplace_back("x-request-id", r.request_id);
  return r;
}

}  // namespace wfp::host
