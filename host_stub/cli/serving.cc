// The flags and the serving `serve` and `demo` share (serving.h).
#include "cli/serving.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <utility>

#include "server/ops.h"
#include "store/observer.h"

namespace wfp::host::cli {
namespace {

Status ParseThreads(const Args& args, ServerOptions* options) {
  if (const std::string* t = args.Get("threads")) {
    int n = 0;
    auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
    if (ec != std::errc() || p != t->data() + t->size() || n < 1 || n > 1024)
      return Status::InvalidArgument(
          fmt::format("--threads '{}' is not a number from 1 to 1024", *t));
    options->threads = n;
  }
  return Status::Ok();
}

// --drain-period SECONDS (0 to 3600, fractions allowed) and --log-format text|json.
Status ParseOperationsFlags(const Args& args, RuntimeFlags* flags, ServerOptions* options) {
  if (const std::string* d = args.Get("drain-period")) {
    double seconds = -1;
    auto [p, ec] = std::from_chars(d->data(), d->data() + d->size(), seconds);
    if (ec != std::errc() || p != d->data() + d->size() || !(seconds >= 0 && seconds <= 3600))
      return Status::InvalidArgument(
          fmt::format("--drain-period '{}' is not a number of seconds from 0 to 3600", *d));
    options->drain_period = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  if (const std::string* f = args.Get("log-format")) {
    if (!ParseAccessLogFormat(*f, &options->access_log_format))
      return Status::InvalidArgument(fmt::format("--log-format '{}' is not text or json", *f));
    flags->json_logs = options->access_log_format == AccessLogFormat::kJson;
  }
  return Status::Ok();
}

}  // namespace

std::vector<OptionSpec> WithServingOptions(std::vector<OptionSpec> own) {
  for (const char* name : {"listen", "now", "threads", "drain-period", "log-format"})
    own.push_back({name});
  own.push_back({"setting", true, true});
  return own;
}

Status ParseServingFlags(const Args& args, Serving* serving) {
  RuntimeFlags* flags = &serving->flags;
  ServerOptions* options = &serving->options;
  if (Status s = ParseRuntimeFlags(args, flags); !s.ok()) return s;
  if (Status s = ParseOperationsFlags(args, flags, options); !s.ok()) return s;
  if (const std::string* listen = args.Get("listen"))
    if (Status s = ParseListen(*listen, options); !s.ok()) return s.WithContext("--listen: ");
  return ParseThreads(args, options);
}

Status ParseOpsListen(const Args& args, Serving* serving) {
  const std::string* text = args.Get("ops-listen");
  if (!text) return Status::Ok();
  ServerOptions::OpsListener ops;
  if (Status s = ParseListen(*text, &ops.host, &ops.port); !s.ok())
    return s.WithContext("--ops-listen: ");
  const ServerOptions& main = serving->options;
  if (ops.port != 0 && ops.host == main.host && ops.port == main.port)
    return Status::InvalidArgument(fmt::format(
        "--ops-listen {} is the --listen address: give the operations routes a port of their own",
        *text));
  serving->options.ops = std::move(ops);
  return Status::Ok();
}

void KeepOnListening(NewStoreFile* new_file, Serving* serving) {
  serving->options.on_listening = [new_file,
                                   then = std::move(serving->options.on_listening)](uint16_t port) {
    new_file->Keep();
    if (then) then(port);
  };
}

int Serve(const Runtime& rt, Serving* serving) {
  Store* store = rt.store.get();
  Host* host = rt.host.get();
  Metrics* metrics = &serving->metrics;
  ServerOptions options = std::move(serving->options);
  OpsOptions ops_options;
  ops_options.store_ready = [store] { return store->Ping(); };
  ops_options.log = [host](std::string_view line) { host->Log(WFP_LOG_WARN, "host", line); };
  ops_options.plugin_count = [host] { return host->plugin_count(); };
  ops_options.metrics = metrics;
  OpsRoutes ops(std::move(ops_options));
  options.on_drain = [&ops] { ops.SetDraining(); };
  options.on_served = [metrics](const AccessRecord& r) {
    metrics->ObserveRequest(r.route, r.method, r.status, r.seconds);
  };
  // The operations routes are the server's own: the host's route and key checks do not apply.
  options.precheck = [&ops, host](const HttpRequest& head) -> std::optional<HttpResponse> {
    if (ops.Owns(head)) return std::nullopt;
    return host->Precheck(head);
  };
  if (options.ops) {  // the operations routes alone, without the host's checks
    options.ops->handler = [&ops](HttpRequest&& r) { return ops.HandleOnly(r); };
    options.ops->precheck = [&ops](const HttpRequest& head) -> std::optional<HttpResponse> {
      if (ops.Owns(head)) return std::nullopt;
      return ops.HandleOnly(head);  // a 404, before the body is read
    };
  }
  SetStoreObserver(metrics);
  const int rc = RunServer(options, [&ops, host](HttpRequest&& r, ResponseStream* stream) {
    if (std::optional<HttpResponse> answer = ops.Handle(r)) return std::move(*answer);
    return host->Handle(std::move(r), stream);
  });
  SetStoreObserver(nullptr);
  return rc;
}

}  // namespace wfp::host::cli
