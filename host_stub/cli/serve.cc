// `wfp-host serve`: serves HTTP until SIGINT/SIGTERM.
#include <fmt/format.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/host_setup.h"
#include "cli/plugin_search.h"
#include "cli/serving.h"

namespace wfp::host::cli {
namespace {

constexpr std::string_view kServeUsage =
    R"(usage: wfp-host serve --db PATH --plugin NAME|PATH [--plugin ...] [--listen 127.0.0.1:8080]
                      [--fixture FILE] [--now TIME] [--threads N] [--setting KEY=VALUE ...]
                      [--drain-period SECONDS] [--log-format text|json] [--sqlite-exclusive]
                      [--ops-listen HOST:PORT]

Opens (creating if needed) the store, loads the fixture if given, loads each plugin, and serves HTTP
until SIGINT/SIGTERM (then finishes the requests in flight and exits 0). The first line on stdout,
once connections are accepted, is `listening on http://HOST:PORT` (with --ops-listen, `ops
listening on http://HOST:PORT` follows it). Also answers, without a key, GET /healthz, GET /readyz
(503 while draining or when the store does not answer) and GET /metrics (Prometheus text format).

options:
  --db PATH             the store: an SQLite file, `:memory:` for a throw-away one, or a
                        PostgreSQL URL (postgresql://...; several hosts may share one database)
  --plugin NAME|PATH    a plugin to load (repeatable): a name on the plugin search path
                        (`backfill`; see `wfp-host --help`) or a path to a .so
  --listen HOST:PORT    the address to listen on (default 127.0.0.1:8080; port 0 takes a free one)
  --fixture FILE        load this fixture into the store first
  --now TIME            fix the clock given to plugins (ISO-8601 with offset)
  --threads N           worker threads (default: the number of cores)
  --setting KEY=VALUE   a plugin setting, e.g. backfill.max_sessions=1000 (repeatable)
  --drain-period SECONDS  on SIGTERM, first answer /readyz 503 for this long while still serving
                        (each answer closing its connection), then stop accepting, finish the
                        requests in flight and exit; default 0. SIGINT or a second SIGTERM skips it
  --log-format text|json  the access log and log lines on stderr: text (default) or one JSON
                        object per line (request_id, route, status, duration_ms, site, ...)
  --ops-listen HOST:PORT  also answer /healthz, /readyz and /metrics (and nothing else) on this
                        address, on a thread of their own: probes are answered while every worker
                        is busy (port 0 takes a free one; see docs/operations.md)
  --sqlite-exclusive    hold the SQLite file for this server alone while it runs: no other process
                        (another host, `dump`, `seed`, the sqlite3 shell) can open it, and the
                        server fails to start if one has it open; in return a read takes no file
                        lock, which lets more requests through (see docs/operations.md)
)";

// --sqlite-exclusive: only with an SQLite file as --db.
Status ParseExclusive(const Args& args, const std::string& db, RuntimeFlags* flags) {
  flags->sqlite_exclusive = args.Has("sqlite-exclusive");
  if (flags->sqlite_exclusive && !Store::CanBeHeldAlone(db))
    return Status::InvalidArgument(
        fmt::format("--sqlite-exclusive needs an SQLite file as --db, not {}", Store::Redact(db)));
  return Status::Ok();
}

}  // namespace

int RunServe(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "serve";
  if (WantsHelp(argv)) return std::cout << kServeUsage, 0;
  Args args;
  if (const Status parsed = args.Parse(argv, WithServingOptions({{"db"},
                                                                 {"plugin", true, true},
                                                                 {"fixture"},
                                                                 {"sqlite-exclusive", false},
                                                                 {"ops-listen"}}));
      !parsed.ok())
    return UsageError(kCmd, parsed.message(), kServeUsage);
  const std::string* db = args.Get("db");
  if (!db) return UsageError(kCmd, "--db is required", kServeUsage);
  if (!args.Has("plugin")) return UsageError(kCmd, "--plugin is required", kServeUsage);
  const Result<std::vector<std::string>> plugins =
      ResolvePlugins(args.All("plugin"), DefaultPluginSearchPath());
  if (!plugins.ok()) return Fail(kCmd, plugins.status().message());
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kServeUsage);
  Serving serving;
  if (const Status parsed = ParseServingFlags(args, &serving); !parsed.ok())
    return UsageError(kCmd, parsed.message(), kServeUsage);
  if (const Status parsed = ParseOpsListen(args, &serving); !parsed.ok())
    return UsageError(kCmd, parsed.message(), kServeUsage);
  if (const Status exclusive = ParseExclusive(args, *db, &serving.flags); !exclusive.ok())
    return UsageError(kCmd, exclusive.message(), kServeUsage);

  NewStoreFile new_file(*db);
  Runtime rt;
  if (const Status started = StartHost(*db, serving.flags, *plugins, &rt); !started.ok())
    return Fail(kCmd, started.message());
  if (const std::string* fixture = args.Get("fixture"))
    if (const Status seeded = SeedFile(rt.store.get(), *fixture); !seeded.ok())
      return Fail(kCmd, "--fixture " + seeded.message());
  KeepOnListening(&new_file, &serving);  // not before: a failed bind leaves no new file
  return Serve(rt, &serving);
}

}  // namespace wfp::host::cli
