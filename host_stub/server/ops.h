// The operations routes of `wfp-host serve`, answered before the runtime (no API key needed):
//
//   GET /healthz  200 while the process serves (liveness; draining included).
//   GET /readyz   200 when the store answers a query and at least one plugin is loaded; 503 when
//                 not, and from the start of the drain period after SIGTERM (a load balancer's
//                 health check: it stops sending before the host stops accepting).
//   GET /metrics  the metrics registry in the Prometheus text format 0.0.4.
//
// HEAD is answered as GET; any other method on these paths is a 405 with `Allow: GET, HEAD`. Every
// answer carries X-Request-Id. Thread-safety: Handle may be called from any number of threads at
// once; SetDraining from any.
#ifndef WFP_HOST_STUB_SERVER_OPS_H_
#define WFP_HOST_STUB_SERVER_OPS_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http_types.h"

namespace wfp::host {

class Metrics;

struct OpsOptions {
  // Whether the store answers; the failure if not. /readyz needs no key, so its body says only
  // "unavailable"; the failure's message goes to `log`.
  std::function<Status()> store_ready;
  // Where the store's failures go (the host's log), once for each change: the first failure, a
  // different one, and the store answering again. Null: not logged.
  std::function<void(std::string_view)> log;
  // How many plugins are loaded.
  std::function<size_t()> plugin_count;
  // The registry /metrics exposes; null: /metrics is unknown (falls through).
  Metrics* metrics = nullptr;
};

class OpsRoutes {
 public:
  explicit OpsRoutes(OpsOptions options) : options_(std::move(options)) {}

  // From now on /readyz answers 503 (the drain period has begun).
  void SetDraining() { draining_.store(true, std::memory_order_release); }

  // Whether `request`'s path is an operations route (whatever its method).
  bool Owns(const HttpRequest& request) const;

  // The answer when `request` is for an operations route; nullopt for any other path.
  std::optional<HttpResponse> Handle(const HttpRequest& request) const;

  // The answer of a listener that serves the operations routes only (--ops-listen): Handle's, or a
  // 404 for any other path (with its X-Request-Id, no route).
  HttpResponse HandleOnly(const HttpRequest& request) const;

 private:
  HttpResponse Ready() const;

  // Logs the store's state when it changed since the last probe.
  void NoteStoreState(const Status& store) const;

  const OpsOptions options_;
  std::atomic<bool> draining_{false};
  mutable std::mutex state_mu_;
  mutable std::string last_failure_;  // the last probe's failure; empty while the store answers
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_SERVER_OPS_H_
