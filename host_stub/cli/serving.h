// What `serve` and `demo` share: their server flags and serving a host over HTTP.
#ifndef WFP_HOST_STUB_CLI_SERVING_H_
#define WFP_HOST_STUB_CLI_SERVING_H_

#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/host_setup.h"
#include "metrics/metrics.h"
#include "server/server.h"

namespace wfp::host::cli {

// The command's own options followed by those `serve` and `demo` share: --listen, --now,
// --threads, --drain-period, --log-format and --setting (repeatable).
std::vector<OptionSpec> WithServingOptions(std::vector<OptionSpec> own);

// What a serving command sets up from those options: the metrics registry, the runtime flags
// (recording into it, serving) and the server's options. Set up by ParseServingFlags; the command
// adds what is its own (the demo: the guide printed once it listens).
struct Serving {
  Serving() {
    flags.metrics = &metrics;
    flags.serving = true;
  }
  Serving(const Serving&) = delete;
  Serving& operator=(const Serving&) = delete;

  Metrics metrics;
  RuntimeFlags flags;
  ServerOptions options;
};

// Reads the options above: the runtime's (--now, --setting) and the server's (--listen, --threads,
// --drain-period, --log-format). Invalid argument naming the option, a usage error.
Status ParseServingFlags(const Args& args, Serving* serving);

// Reads --ops-listen HOST:PORT (serve's own option) into serving->options.ops, after
// ParseServingFlags (it must differ from the --listen address). Invalid argument naming the option,
// a usage error.
Status ParseOpsListen(const Args& args, Serving* serving);

// Makes serving->options.on_listening keep `new_file` first (then call what was there): a server
// that cannot listen leaves no store file it created. `new_file` must outlive the serving.
void KeepOnListening(NewStoreFile* new_file, Serving* serving);

// Serves rt's host with the operations routes in front (/healthz, /readyz, /metrics), the metrics
// of every answered request, and readiness turning 503 when the drain begins; with --ops-listen,
// the operations routes alone on that listener too. Returns RunServer's exit status.
int Serve(const Runtime& rt, Serving* serving);

}  // namespace wfp::host::cli

#endif  // WFP_HOST_STUB_CLI_SERVING_H_
