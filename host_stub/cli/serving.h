// What `serve` and `demo` share: their server flags and serving a host over HTTP.
#ifndef WFP_HOST_STUB_CLI_SERVING_H_
#define WFP_HOST_STUB_CLI_SERVING_H_

#include <string>

#include "cli/host_setup.h"
#include "server/server.h"

namespace wfp::host::cli {

// The flags `serve` and `demo` share: the runtime's (--now, --setting) and the server's (--listen,
// --threads, --drain-period, --log-format).
bool ParseServingFlags(const Args& args, RuntimeFlags* flags, ServerOptions* options,
                       std::string* error);

// Serves `host` with the operations routes in front (/healthz, /readyz, /metrics), the metrics of
// every answered request, and readiness turning 503 when the drain begins. Returns RunServer's
// exit status.
int Serve(Store* store, Host* host, Metrics* metrics, ServerOptions options);

}  // namespace wfp::host::cli

#endif  // WFP_HOST_STUB_CLI_SERVING_H_
