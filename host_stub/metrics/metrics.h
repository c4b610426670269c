// wfp-host's metrics registry (prometheus-cpp core): the host's HTTP and store series, the series
// plugins register through the ABI (1.3: register_metric, metric_add, metric_observe), and their
// exposition in the Prometheus text format 0.0.4 for GET /metrics.
//
// Series of the host:
//   wfp_http_requests_total{route,method,status}        counter
//   wfp_http_request_duration_seconds{route}            histogram
//   wfp_store_transaction_duration_seconds{mode}        histogram (mode: read | write)
//   wfp_store_lock_wait_seconds                         histogram
//   wfp_store_busy_total                                counter (WFP_ERR_BUSY: answered 503)
//   wfp_store_open_connections                          gauge
// `route` is the matched route template (or a fixed name: "unmatched" for no route), never the raw
// path, and `method` one of the standard methods or "other", so the number of series stays bounded.
//
// Thread-safety: every member function may be called from any thread at once.
// Ownership: the Metrics owns its registry and every family in it; a Series handle stays valid as
// long as the Metrics.
#ifndef WFP_HOST_STUB_METRICS_METRICS_H_
#define WFP_HOST_STUB_METRICS_METRICS_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/observer.h"

namespace wfp::host {

class Metrics : public StoreObserver {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";
  // A plugin metric may have at most this many label combinations; then recording is refused.
  static constexpr size_t kMaxSeriesPerMetric = 1000;
  static constexpr size_t kMaxLabels = 8;

  Metrics();
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One HTTP request answered: `route` the matched template ("" when none), its status and how long
  // it took from the request's first byte to the response's last.
  void ObserveRequest(std::string_view route, std::string_view method, int status, double seconds);

  // StoreObserver.
  void Transaction(bool read_only, double seconds) override;
  void LockWait(double seconds) override;
  void Busy() override;

  // A metric registered by a plugin (through the ABI).
  enum class Kind { kCounter, kHistogram };
  struct Series;
  // Registers a new family. Conflict when the name is taken; InvalidArgument when a name, a label
  // or a bucket list is bad.
  Result<Series*> Register(Kind kind, std::string_view name, std::string_view help,
                           const std::vector<std::string>& label_names,
                           std::vector<double> buckets);
  // Adds to a counter / observes in a histogram. InvalidArgument for the wrong kind, the wrong
  // number of label values, a bad value, or too many series.
  Status Record(Series* series, Kind kind, std::span<const std::string_view> label_values,
                double value);

  // Every series in the Prometheus text format, version 0.0.4.
  std::string Text();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Whether `name` is a valid Prometheus metric name / label name (a label name may not start with
// "__", which Prometheus reserves).
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_METRICS_METRICS_H_
