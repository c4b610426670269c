#include "metrics/metrics.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

namespace wfp::host {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

// Seconds, from a fast request (a 404, a dry run of one session) to a large backfill.
const Histogram::BucketBoundaries kDurationBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

std::string_view MethodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                "OPTIONS", "CONNECT", "TRACE", "PATCH"};
  for (std::string_view m : kKnown)
    if (m == method) return m;
  return "other";
}

bool IsNameChar(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return alpha || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool IsValidName(std::string_view name, bool colon) {
  if (name.empty() || name.size() > 200) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!IsNameChar(name[i], i == 0, colon)) return false;
  return true;
}

}  // namespace

bool IsValidMetricName(std::string_view name) { return IsValidName(name, true); }
bool IsValidLabelName(std::string_view name) {
  return IsValidName(name, false) && name.substr(0, 2) != "__";
}

struct Metrics::Series {
  Kind kind = Kind::kCounter;
  std::vector<std::string> label_names;
  Family<Counter>* counters = nullptr;
  Family<Histogram>* histograms = nullptr;
  Histogram::BucketBoundaries buckets;
  std::mutex mu;  // guards the count of label combinations against kMaxSeriesPerMetric
  size_t count = 0;
};

struct Metrics::State {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  Family<Counter>& requests =
      prometheus::BuildCounter()
          .Name("wfp_http_requests_total")
          .Help("HTTP requests answered, by route template, method and status.")
          .Register(*registry);
  Family<Histogram>& durations =
      prometheus::BuildHistogram()
          .Name("wfp_http_request_duration_seconds")
          .Help("Time from a request's first byte to its response's last, by route template.")
          .Register(*registry);
  Family<Histogram>& transactions =
      prometheus::BuildHistogram()
          .Name("wfp_store_transaction_duration_seconds")
          .Help("Store transactions from begin to commit or rollback, by mode (read or write).")
          .Register(*registry);
  Histogram& lock_wait =
      prometheus::BuildHistogram()
          .Name("wfp_store_lock_wait_seconds")
          .Help("Time a write transaction took to get its schedule lock (begin and load_schedule).")
          .Register(*registry)
          .Add({}, kDurationBuckets);
  Counter& busy = prometheus::BuildCounter()
                      .Name("wfp_store_busy_total")
                      .Help("Store operations that did not get the lock in time (answered 503).")
                      .Register(*registry)
                      .Add({});
  Gauge& connections = prometheus::BuildGauge()
                           .Name("wfp_store_open_connections")
                           .Help("Database connections the host holds open.")
                           .Register(*registry)
                           .Add({});
  Histogram& read_transactions = transactions.Add({{"mode", "read"}}, kDurationBuckets);
  Histogram& write_transactions = transactions.Add({{"mode", "write"}}, kDurationBuckets);

  std::mutex mu;  // guards names and plugin_series
  std::set<std::string, std::less<>> names = {"wfp_http_requests_total",
                                              "wfp_http_request_duration_seconds",
                                              "wfp_store_transaction_duration_seconds",
                                              "wfp_store_lock_wait_seconds",
                                              "wfp_store_busy_total",
                                              "wfp_store_open_connections"};
  std::vector<std::unique_ptr<Series>> plugin_series;
};

Metrics::Metrics() : state_(std::make_unique<State>()) {}
Metrics::~Metrics() = default;

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             double seconds) {
  const std::string route_label = route.empty() ? "unmatched" : std::string(route);
  state_->requests
      .Add({{"route", route_label},
            {"method", std::string(MethodLabel(method))},
            {"status", std::to_string(status)}})
      .Increment();
  state_->durations.Add({{"route", route_label}}, kDurationBuckets).Observe(seconds);
}

void Metrics::Transaction(bool read_only, double seconds) {
  (read_only ? state_->read_transactions : state_->write_transactions).Observe(seconds);
}
void Metrics::LockWait(double seconds) { state_->lock_wait.Observe(seconds); }
void Metrics::Busy() { state_->busy.Increment(); }

Result<Metrics::Series*> Metrics::Register(Kind kind, std::string_view name, std::string_view help,
                                           const std::vector<std::string>& label_names,
                                           std::vector<double> buckets) {
  if (!IsValidMetricName(name)) {
    return Status::InvalidArgument(
        fmt::format("metric name '{}' is not [a-zA-Z_:][a-zA-Z0-9_:]*", name));
  }
  if (label_names.size() > kMaxLabels) {
    return Status::InvalidArgument(
        fmt::format("metric {} has {} labels; at most {}", name, label_names.size(), kMaxLabels));
  }
  std::set<std::string_view> seen;
  for (const std::string& l : label_names)
    if (!IsValidLabelName(l) || (kind == Kind::kHistogram && l == "le") || !seen.insert(l).second) {
      return Status::InvalidArgument(
          fmt::format("metric {}: label name '{}' is invalid, reserved or repeated", name, l));
    }
  if (kind == Kind::kHistogram && buckets.empty()) buckets = kDurationBuckets;
  for (size_t i = 0; i < buckets.size(); ++i)
    if (!std::isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
      return Status::InvalidArgument(
          fmt::format("metric {}: buckets must be finite and strictly ascending", name));
    }
  std::lock_guard lock(state_->mu);
  if (state_->names.count(name)) {
    return Status::Conflict(fmt::format("metric {} is registered already", name));
  }
  auto series = std::make_unique<Series>();
  series->kind = kind;
  series->label_names = label_names;
  series->buckets = std::move(buckets);
  const std::string n(name), h = help.empty() ? std::string(name) : std::string(help);
  if (kind == Kind::kCounter)
    series->counters = &prometheus::BuildCounter().Name(n).Help(h).Register(*state_->registry);
  else
    series->histograms = &prometheus::BuildHistogram().Name(n).Help(h).Register(*state_->registry);
  state_->names.insert(n);
  state_->plugin_series.push_back(std::move(series));
  return state_->plugin_series.back().get();
}

Status Metrics::Record(Series* series, Kind kind, std::span<const std::string_view> label_values,
                       double value) {
  if (!series || series->kind != kind) {
    return Status::InvalidArgument("the metric is not of that kind");
  }
  if (label_values.size() != series->label_names.size()) {
    return Status::InvalidArgument(fmt::format("{} label values for {} label names",
                                               label_values.size(), series->label_names.size()));
  }
  if (!std::isfinite(value) || (kind == Kind::kCounter && value < 0)) {
    return Status::InvalidArgument("the value must be finite (and not negative for a counter)");
  }
  Labels labels;
  for (size_t i = 0; i < label_values.size(); ++i)
    labels.emplace(series->label_names[i], std::string(label_values[i]));
  std::lock_guard lock(series->mu);
  const bool known =
      kind == Kind::kCounter ? series->counters->Has(labels) : series->histograms->Has(labels);
  if (!known && series->count >= kMaxSeriesPerMetric) {
    return Status::InvalidArgument(
        fmt::format("more than {} label combinations", kMaxSeriesPerMetric));
  }
  if (!known) ++series->count;
  if (kind == Kind::kCounter)
    series->counters->Add(labels).Increment(value);
  else
    series->histograms->Add(labels, series->buckets).Observe(value);
  return Status::Ok();
}

std::string Metrics::Text() {
  state_->connections.Set(static_cast<double>(OpenStoreConnections()));
  return prometheus::TextSerializer().Serialize(state_->registry->Collect());
}

}  // namespace wfp::host
