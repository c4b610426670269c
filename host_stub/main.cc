// wfp-host: the command line of the stub host (the contract is docs/cli.md).
//
//   wfp-host call   --db PATH --plugin SO ... METHOD TARGET [BODY | @FILE]
//   wfp-host seed   --db PATH FILE
//   wfp-host dump   --db PATH
//   wfp-host serve  --db PATH --plugin SO ... [--listen HOST:PORT]
//   wfp-host demo   [--db FILE] [--plugin SO] [--listen HOST:PORT]
//   wfp-host backfill ...   (an HTTP client of a running server)
//   wfp-host plugins --plugin SO ...   (what each plugin is and which routes it adds)
//   wfp-host --version
//
// Errors go to stderr with a non-zero exit status: 2 for a bad command line, 1 for anything else.
// Plugins and the store are set up before anything is written, so a failing command leaves the
// store as it was.
#include <fmt/format.h>
#include <unistd.h>
#include <wfp/openapi_document.h>
#include <wfp/plugin_abi.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "call_output.h"
#include "cli_args.h"
#include "demo_fixture.h"
#include "http_types.h"
#include "metrics/metrics.h"
#include "native_routes.h"
#include "plugin_search.h"
#include "runtime/clock.h"
#include "runtime/host.h"
#include "store/key_cache.h"
#include "store/store.h"
#include "wfp_text/strict_json.h"
#ifdef WFP_HAVE_SERVER
#include "server/ops.h"
#include "server/page_link.h"
#include "server/server.h"
#endif
#include "client/backfill_client.h"

namespace wfp::host {
namespace {

constexpr int kUsageError = 2;
constexpr int kFailure = 1;

constexpr std::string_view kMainUsage = R"(usage: wfp-host COMMAND [OPTIONS]

A small workflow-server host: loads plugins (.so) through the wfp C ABI, authenticates callers by
API key, keeps its state in SQLite (or PostgreSQL), and serves HTTP.

commands:
  call      serve one request in-process and print the response as JSON
  seed      load a fixture (JSON) into a store
  dump      print a whole store as a fixture
  serve     serve HTTP until SIGINT/SIGTERM
  demo      serve an example store with the backfill plugin on 127.0.0.1:8080
  backfill  ask a running server for a backfill (an HTTP client)
  plugins   load plugins and list each one's name, version, ABI, routes and settings

Run `wfp-host COMMAND --help` for a command's options; `wfp-host --version` for the version and
the plugin ABI it speaks. `serve` also answers GET /api/openapi.json (no key needed).

--plugin takes a path to a .so, or a name such as `backfill` looked up on the plugin search path:
the directories of $WFP_PLUGIN_PATH (':'-separated), then the plugin directory of this
installation (../lib/wfp/plugins beside the bin directory), then ../lib (a build tree).
)";

constexpr std::string_view kCallUsage =
    R"(usage: wfp-host call --db PATH --plugin NAME|PATH [--plugin ...] [--fixture FILE] [--now TIME]
                     [--api-key KEY] [--header 'Name: value' ...] [--setting KEY=VALUE ...]
                     METHOD TARGET [BODY | @FILE]

Serves one request in-process, through the same router, auth and store as `serve`, and prints one
JSON object: {"status": N, "headers": {...lower-case names...}, "body": <parsed when JSON, else a string>}.
Exits 0 whenever a response was produced, whatever its HTTP status.

options:
  --db PATH             the store (created if missing): an SQLite file, `:memory:` for a
                        throw-away one, or a PostgreSQL URL (postgresql://...)
  --plugin NAME|PATH    a plugin to load (repeatable): a name on the plugin search path
                        (`backfill`; see `wfp-host --help`) or a path to a .so
  --fixture FILE        load this fixture into the store before the call
  --now TIME            fix the clock given to plugins (ISO-8601 with offset: 2024-01-12T03:00:00Z)
  --api-key KEY         send `Authorization: Bearer KEY`
  --header 'Name: value'  add a request header (repeatable)
  --setting KEY=VALUE   a plugin setting, e.g. backfill.max_sessions=1000 (repeatable)
  BODY | @FILE          the request body, given inline or read from FILE (@- reads stdin); a body
                        without a Content-Type header is sent as application/json
)";

constexpr std::string_view kSeedUsage = R"(usage: wfp-host seed --db PATH FILE

Loads the fixture FILE (JSON, the format of `dump`) into the store at PATH (created if missing).
The whole fixture is checked first: on any error nothing is loaded.
)";

constexpr std::string_view kDumpUsage = R"(usage: wfp-host dump --db PATH

Prints the whole store as a fixture (JSON): every field filled, times in UTC with Z, objects in id
order, API keys never written (only "apiKeyCount").
)";

constexpr std::string_view kServeUsage =
    R"(usage: wfp-host serve --db PATH --plugin NAME|PATH [--plugin ...] [--listen 127.0.0.1:8080]
                      [--fixture FILE] [--now TIME] [--threads N] [--setting KEY=VALUE ...]
                      [--drain-period SECONDS] [--log-format text|json]

Opens (creating if needed) the store, loads the fixture if given, loads each plugin, and serves HTTP
until SIGINT/SIGTERM (then finishes the requests in flight and exits 0). The first line on stdout,
once connections are accepted, is `listening on http://HOST:PORT`. Also answers, without a key,
GET /healthz, GET /readyz (503 while draining or when the store does not answer) and GET /metrics
(Prometheus text format).

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
)";

constexpr std::string_view kDemoUsage =
    R"(usage: wfp-host demo [--db FILE] [--plugin NAME|PATH] [--listen 127.0.0.1:8080] [--now TIME]
                     [--threads N] [--setting KEY=VALUE ...]

Creates a fresh store with example projects and schedules (site key "demo-key"), loads the backfill
plugin, serves it, and prints example curl commands that work as printed. Ctrl-C stops it.

options:
  --db FILE             where to create the store (must not exist); default: a temporary file,
                        removed at exit
  --plugin NAME|PATH    the plugin (default: `backfill`, found on the plugin search path:
                        $WFP_PLUGIN_PATH, then this installation's plugin directory)
  --listen HOST:PORT    default 127.0.0.1:8080
  --now TIME            fix the clock (and the example schedules around it)
  --threads N           worker threads
  --setting KEY=VALUE   a plugin setting (repeatable)
)";

constexpr std::string_view kPluginsUsage =
    R"(usage: wfp-host plugins [--plugin NAME|PATH ...]

Loads each plugin as `serve` would (without a store), prints for each one
`NAME VERSION (ABI M.m) from PATH` and then one line per route it adds, `  METHOD TEMPLATE`, and
shuts them down. Without --plugin: every plugin (*.so) on the plugin search path ($WFP_PLUGIN_PATH,
then this installation's plugin directory). Exits 1, with the reason on stderr, when a plugin is
refused or none is found.
)";

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

int UsageError(std::string_view command, std::string_view message, std::string_view usage) {
  std::cerr << "wfp-host " << command << ": " << message << "\n\n" << usage;
  return kUsageError;
}

int Fail(std::string_view command, std::string_view message) {
  std::cerr << "wfp-host " << command << ": " << message << "\n";
  return kFailure;
}

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  if (path == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("cannot read {}", path);
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) {
    *error = fmt::format("cannot read {}", path);
    return false;
  }
  *out = std::move(s).str();
  return true;
}

bool ReadJsonFile(const std::string& path, boost::json::value* out, std::string* error) {
  std::string text;
  if (!ReadFile(path, &text, error)) return false;
  wfp::text::JsonProblem problem;
  if (wfp::text::ParseStrictJson(text, out, &problem)) return true;
  if (!problem.object_path.empty())  // refused like the fixture's other errors: with its path
    *error =
        fmt::format("{}: {}.{}: key given twice", path, problem.object_path, problem.duplicate_key);
  else
    *error = fmt::format("{} is not JSON: {}", path, problem.syntax);
  return false;
}

// Options shared by call, serve and demo.
struct RuntimeFlags {
  std::optional<int64_t> now_micros;
  std::map<std::string, std::string, std::less<>> settings;
  // serve and demo: the registry plugins record into (/metrics); X-Request-Id on every answer; log
  // lines as JSON (--log-format json).
  Metrics* metrics = nullptr;
  bool serving = false;
  bool json_logs = false;
};

bool ParseRuntimeFlags(const Args& args, RuntimeFlags* out, std::string* error) {
  if (const std::string* now = args.Get("now")) {
    out->now_micros = ParseInstantMicros(*now);
    if (!out->now_micros) {
      *error = fmt::format(
          "--now '{}' is not an ISO-8601 instant with an offset (e.g. 2024-01-12T03:00:00Z)", *now);
      return false;
    }
  }
  for (const std::string& s : args.All("setting")) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = fmt::format("--setting '{}' is not KEY=VALUE", s);
      return false;
    }
    out->settings[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return true;
}

// A store with the host runtime wired to it: the store outlives the host's connections. The store
// logs into the host's log (source "store") while there is a host; before (opening the store) and
// after, where a store logs by default.
struct Runtime {
  std::shared_ptr<std::atomic<Host*>> log_host = std::make_shared<std::atomic<Host*>>(nullptr);
  std::unique_ptr<Store> store;
  std::unique_ptr<Host> host;

  ~Runtime() { log_host->store(nullptr); }  // before the members: the host goes first
  void SetHost(std::unique_ptr<Host> h) {
    host = std::move(h);
    log_host->store(host.get());
  }
  StoreLog StoreLogToHost() const {
    return [log_host = log_host](std::string_view message) {
      if (Host* h = log_host->load()) return h->Log(WFP_LOG_ERROR, "store", message);
      WriteStoreLogDefault(message);
    };
  }
};

// Whether --db names an SQLite file (not ":memory:", not a PostgreSQL URL).
bool IsStoreFile(const std::string& db) {
  return db != ":memory:" && Store::KindOf(db) == Store::Kind::kSqlite;
}

// Removes the store file a command created, unless Keep() was called: a command that fails leaves
// no new file behind. Declare it before the Store so that it runs after the Store is closed.
class NewStoreFile {
 public:
  explicit NewStoreFile(std::string db) : db_(std::move(db)) {
    std::error_code ec;
    created_ = IsStoreFile(db_) && !std::filesystem::exists(db_, ec) && !ec;
  }
  NewStoreFile(const NewStoreFile&) = delete;
  NewStoreFile& operator=(const NewStoreFile&) = delete;
  ~NewStoreFile() {
    if (!created_ || kept_) return;
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(db_ + suffix, ec);
  }
  void Keep() { kept_ = true; }

 private:
  std::string db_;
  bool created_ = false;
  bool kept_ = false;
};

bool OpenStore(const std::string& db, std::unique_ptr<Store>* out, std::string* error,
               const StoreOptions& options = {}) {
  std::string why;
  *out = Store::Open(db, options, &why);
  if (!*out) {
    *error = why;  // names the store already (with a URL's password hidden)
    return false;
  }
  return true;
}

bool OpenStore(const std::string& db, Runtime* rt, std::string* error) {
  StoreOptions options;
  options.log = rt->StoreLogToHost();
  return OpenStore(db, &rt->store, error, options);
}

std::unique_ptr<Host> MakeHost(Store* store, const RuntimeFlags& flags) {
  HostOptions o;
  o.fixed_now_micros = flags.now_micros;
  o.settings = flags.settings;
  o.store = StoreApi();
  o.connect = [store](std::string* error) -> std::shared_ptr<StoreConnection> {
    return std::shared_ptr<StoreConnection>(store->Connect(error));
  };
  // A key found is remembered for KeyCache::kDefaultTtl (2 s): no store round trip per request.
  auto keys = std::make_shared<KeyCache>(
      [store](std::string_view key) { return store->LookUpApiKey(key); });
  o.authenticate = [keys](std::string_view key) {
    const Store::KeyLookup found = keys->LookUp(key);
    return HostOptions::Authentication(found.site, found.failed);
  };
  o.openapi_document = wfp::kOpenApiDocument;
  o.native_routes = NativeRoutes(store);  // GET /api/projects, /api/schedules, ...
  o.metrics = flags.metrics;
  o.echo_request_id = flags.serving;
  o.json_logs = flags.json_logs;
  return std::make_unique<Host>(std::move(o));
}

// Loads the plugins, then refuses settings none of them reads (the known keys are those the
// plugins ask for in their init, see Host::CheckSettings).
bool LoadPlugins(Host* host, const std::vector<std::string>& plugins, std::string* error) {
  for (const std::string& p : plugins)
    if (!host->LoadPlugin(p, error)) return false;
  return host->CheckSettings(error);
}

bool SeedFile(Store* store, const std::string& path, std::string* error) {
  boost::json::value fixture;
  if (!ReadJsonFile(path, &fixture, error)) return false;
  std::string why;
  if (!store->Seed(fixture, &why)) {
    *error = fmt::format("{}: {}", path, why);
    return false;
  }
  return true;
}

bool ParseHeader(const std::string& text, std::pair<std::string, std::string>* out) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return false;
  std::string name = text.substr(0, colon);
  std::string value = text.substr(colon + 1);
  auto trim = [](std::string& s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    s.erase(0, i);
  };
  trim(name);
  trim(value);
  if (name.empty()) return false;
  for (char& c : name) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (char c : value)
    if (c == '\r' || c == '\n') return false;
  *out = {std::move(name), std::move(value)};
  return true;
}

int RunCall(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "call";
  if (WantsHelp(argv)) return std::cout << kCallUsage, 0;
  Args args;
  std::string error;
  if (!args.Parse(argv,
                  {{"db"},
                   {"plugin", true, true},
                   {"fixture"},
                   {"now"},
                   {"api-key"},
                   {"header", true, true},
                   {"setting", true, true}},
                  &error))
    return UsageError(kCmd, error, kCallUsage);
  const std::string* db = args.Get("db");
  if (!db) return UsageError(kCmd, "--db is required", kCallUsage);
  if (!args.Has("plugin")) return UsageError(kCmd, "--plugin is required", kCallUsage);
  std::vector<std::string> plugins;
  if (!ResolvePlugins(args.All("plugin"), DefaultPluginSearchPath(), &plugins, &error))
    return Fail(kCmd, error);
  const auto& pos = args.positionals();
  if (pos.size() < 2 || pos.size() > 3)
    return UsageError(kCmd, "expected METHOD TARGET [BODY | @FILE]", kCallUsage);
  RuntimeFlags flags;
  if (!ParseRuntimeFlags(args, &flags, &error)) return UsageError(kCmd, error, kCallUsage);

  HttpRequest request;
  request.method = pos[0];
  request.target = pos[1];
  if (request.method.empty()) return UsageError(kCmd, "METHOD is empty", kCallUsage);
  if (request.target.empty() || request.target[0] != '/')
    return UsageError(kCmd, fmt::format("TARGET '{}' must start with '/'", request.target),
                      kCallUsage);
  for (const std::string& h : args.All("header")) {
    std::pair<std::string, std::string> header;
    if (!ParseHeader(h, &header))
      return UsageError(kCmd, fmt::format("--header '{}' is not 'Name: value'", h), kCallUsage);
    request.headers.push_back(std::move(header));
  }
  if (const std::string* key = args.Get("api-key"))
    request.headers.emplace_back("authorization", "Bearer " + *key);
  if (pos.size() == 3) {
    if (!pos[2].empty() && pos[2][0] == '@') {
      if (!ReadFile(pos[2].substr(1), &request.body, &error)) return Fail(kCmd, error);
    } else {
      request.body = pos[2];
    }
    if (!FindHeader(request.headers, "content-type"))
      request.headers.emplace_back("content-type", "application/json");
  }

  NewStoreFile new_file(*db);
  Runtime rt;
  if (!OpenStore(*db, &rt, &error)) return Fail(kCmd, error);
  rt.SetHost(MakeHost(rt.store.get(), flags));
  if (!LoadPlugins(rt.host.get(), plugins, &error)) return Fail(kCmd, error);
  if (const std::string* fixture = args.Get("fixture"))
    if (!SeedFile(rt.store.get(), *fixture, &error)) return Fail(kCmd, "--fixture " + error);
  new_file.Keep();

  // A large body goes to stdout as the plugin produces it (docs/streaming.md).
  CallOutputStream streamed(std::cout);
  const HttpResponse response = rt.host->Handle(std::move(request), &streamed);
  if (!streamed.begun()) WriteCallOutput(std::cout, response);
  std::cout.flush();
  if (streamed.cut_off())
    return Fail(kCmd, fmt::format("the response was cut off after {} bytes of its body (the "
                                  "handler failed; see the log above): the output is incomplete",
                                  streamed.body_bytes()));
  return std::cout ? 0 : kFailure;
}

int RunSeed(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "seed";
  if (WantsHelp(argv)) return std::cout << kSeedUsage, 0;
  Args args;
  std::string error;
  if (!args.Parse(argv, {{"db"}}, &error)) return UsageError(kCmd, error, kSeedUsage);
  const std::string* db = args.Get("db");
  if (!db) return UsageError(kCmd, "--db is required", kSeedUsage);
  if (args.positionals().size() != 1) return UsageError(kCmd, "expected one FILE", kSeedUsage);
  boost::json::value fixture;
  if (!ReadJsonFile(args.positionals()[0], &fixture, &error)) return Fail(kCmd, error);
  NewStoreFile new_file(*db);
  std::unique_ptr<Store> store;
  if (!OpenStore(*db, &store, &error)) return Fail(kCmd, error);
  if (!store->Seed(fixture, &error))
    return Fail(kCmd, fmt::format("{}: {}", args.positionals()[0], error));
  new_file.Keep();
  return 0;
}

int RunDump(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "dump";
  if (WantsHelp(argv)) return std::cout << kDumpUsage, 0;
  Args args;
  std::string error;
  if (!args.Parse(argv, {{"db"}}, &error)) return UsageError(kCmd, error, kDumpUsage);
  const std::string* db = args.Get("db");
  if (!db) return UsageError(kCmd, "--db is required", kDumpUsage);
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kDumpUsage);
  if (IsStoreFile(*db) && !std::filesystem::exists(*db))
    return Fail(kCmd, fmt::format("no store at {}", *db));
  std::unique_ptr<Store> store;
  if (!OpenStore(*db, &store, &error)) return Fail(kCmd, error);
  const boost::json::value dump = store->Dump(&error);
  if (dump.is_null()) return Fail(kCmd, "cannot dump the store: " + error);
  std::cout << boost::json::serialize(dump) << "\n";
  std::cout.flush();
  return std::cout ? 0 : kFailure;
}

#ifdef WFP_HAVE_SERVER
bool ParseThreads(const Args& args, ServerOptions* options, std::string* error) {
  if (const std::string* t = args.Get("threads")) {
    int n = 0;
    auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
    if (ec != std::errc() || p != t->data() + t->size() || n < 1 || n > 1024) {
      *error = fmt::format("--threads '{}' is not a number from 1 to 1024", *t);
      return false;
    }
    options->threads = n;
  }
  return true;
}

// --drain-period SECONDS (0 to 3600, fractions allowed) and --log-format text|json.
bool ParseOperationsFlags(const Args& args, RuntimeFlags* flags, ServerOptions* options,
                          std::string* error) {
  if (const std::string* d = args.Get("drain-period")) {
    double seconds = -1;
    auto [p, ec] = std::from_chars(d->data(), d->data() + d->size(), seconds);
    if (ec != std::errc() || p != d->data() + d->size() || !(seconds >= 0 && seconds <= 3600)) {
      *error = fmt::format("--drain-period '{}' is not a number of seconds from 0 to 3600", *d);
      return false;
    }
    options->drain_period = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  if (const std::string* f = args.Get("log-format")) {
    if (!ParseAccessLogFormat(*f, &options->access_log_format)) {
      *error = fmt::format("--log-format '{}' is not text or json", *f);
      return false;
    }
    flags->json_logs = options->access_log_format == AccessLogFormat::kJson;
  }
  return true;
}

// The flags `serve` and `demo` share: the runtime's (--now, --setting) and the server's (--listen,
// --threads, --drain-period, --log-format).
bool ParseServingFlags(const Args& args, RuntimeFlags* flags, ServerOptions* options,
                       std::string* error) {
  if (!ParseRuntimeFlags(args, flags, error)) return false;
  if (!ParseOperationsFlags(args, flags, options, error)) return false;
  if (const std::string* listen = args.Get("listen")) {
    if (!ParseListen(*listen, options, error)) {
      *error = "--listen: " + *error;
      return false;
    }
  }
  return ParseThreads(args, options, error);
}

// Serves `host` with the operations routes in front (/healthz, /readyz, /metrics), the metrics of
// every answered request, and readiness turning 503 when the drain begins.
int Serve(Store* store, Host* host, Metrics* metrics, ServerOptions options) {
  OpsOptions ops_options;
  ops_options.store_ready = [store](std::string* error) { return store->Ping(error); };
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
  SetStoreObserver(metrics);
  const int rc = RunServer(options, [&ops, host](HttpRequest&& r, ResponseStream* stream) {
    if (std::optional<HttpResponse> answer = ops.Handle(r)) return std::move(*answer);
    return host->Handle(std::move(r), stream);
  });
  SetStoreObserver(nullptr);
  return rc;
}
#endif

int RunServe(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "serve";
  if (WantsHelp(argv)) return std::cout << kServeUsage, 0;
#ifndef WFP_HAVE_SERVER
  (void)argv;
  return Fail(kCmd, "this wfp-host was built without its HTTP server (host_stub/server)");
#else
  Args args;
  std::string error;
  if (!args.Parse(argv,
                  {{"db"},
                   {"plugin", true, true},
                   {"listen"},
                   {"fixture"},
                   {"now"},
                   {"threads"},
                   {"drain-period"},
                   {"log-format"},
                   {"setting", true, true}},
                  &error))
    return UsageError(kCmd, error, kServeUsage);
  const std::string* db = args.Get("db");
  if (!db) return UsageError(kCmd, "--db is required", kServeUsage);
  if (!args.Has("plugin")) return UsageError(kCmd, "--plugin is required", kServeUsage);
  std::vector<std::string> plugins;
  if (!ResolvePlugins(args.All("plugin"), DefaultPluginSearchPath(), &plugins, &error))
    return Fail(kCmd, error);
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kServeUsage);
  RuntimeFlags flags;
  ServerOptions options;
  Metrics metrics;
  flags.metrics = &metrics;
  flags.serving = true;
  if (!ParseServingFlags(args, &flags, &options, &error))
    return UsageError(kCmd, error, kServeUsage);

  NewStoreFile new_file(*db);
  Runtime rt;
  if (!OpenStore(*db, &rt, &error)) return Fail(kCmd, error);
  rt.SetHost(MakeHost(rt.store.get(), flags));
  if (!LoadPlugins(rt.host.get(), plugins, &error)) return Fail(kCmd, error);
  if (const std::string* fixture = args.Get("fixture"))
    if (!SeedFile(rt.store.get(), *fixture, &error)) return Fail(kCmd, "--fixture " + error);
  new_file.Keep();
  return Serve(rt.store.get(), rt.host.get(), &metrics, std::move(options));
#endif
}

std::string ExecutablePath(const char* argv0) {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) exe = std::filesystem::absolute(argv0, ec);
  return exe.lexically_normal().string();
}

int RunDemo(const std::vector<std::string>& argv, const char* argv0) {
  constexpr std::string_view kCmd = "demo";
  if (WantsHelp(argv)) return std::cout << kDemoUsage, 0;
#ifndef WFP_HAVE_SERVER
  (void)argv;
  (void)argv0;
  return Fail(kCmd, "this wfp-host was built without its HTTP server (host_stub/server)");
#else
  Args args;
  std::string error;
  if (!args.Parse(argv,
                  {{"db"},
                   {"plugin"},
                   {"listen"},
                   {"now"},
                   {"threads"},
                   {"drain-period"},
                   {"log-format"},
                   {"setting", true, true}},
                  &error))
    return UsageError(kCmd, error, kDemoUsage);
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kDemoUsage);
  RuntimeFlags flags;
  ServerOptions options;
  Metrics metrics;
  flags.metrics = &metrics;
  flags.serving = true;
  if (!ParseServingFlags(args, &flags, &options, &error))
    return UsageError(kCmd, error, kDemoUsage);
  std::string plugin;
  if (!ResolvePlugin(args.Get("plugin") ? *args.Get("plugin") : "backfill",
                     DefaultPluginSearchPath(), &plugin, &error))
    return Fail(kCmd, error);

  // A fresh store: the named file must not exist; else a temporary one, removed at exit.
  std::string db;
  bool temporary = false;
  if (const std::string* given = args.Get("db")) {
    if (std::filesystem::exists(*given))
      return Fail(kCmd, fmt::format("{} exists; the demo needs a fresh store (remove it, or name "
                                    "another file)",
                                    *given));
    db = *given;
  } else {
    std::string pattern = (std::filesystem::temp_directory_path() / "wfp-demo-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) return Fail(kCmd, "cannot create a temporary store file");
    close(fd);
    std::filesystem::remove(pattern);
    db = pattern + ".db";
    temporary = true;
  }
  struct Cleanup {
    std::string db;
    bool active;
    ~Cleanup() {
      if (!active) return;
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"})
        std::filesystem::remove(db + suffix, ec);
    }
  } cleanup{db, temporary};

  NewStoreFile new_file(temporary ? ":memory:" : db);  // a temporary store has its own cleanup
  Runtime rt;
  if (!OpenStore(db, &rt, &error)) return Fail(kCmd, error);
  rt.SetHost(MakeHost(rt.store.get(), flags));
  if (!LoadPlugins(rt.host.get(), {plugin}, &error)) return Fail(kCmd, error);
  const int64_t now_seconds = (flags.now_micros ? *flags.now_micros : RealNowMicros()) / 1000000;
  DemoInfo info;
  if (!rt.store->Seed(DemoFixture(now_seconds, &info), &error))
    return Fail(kCmd, "the demo fixture was refused: " + error);
  new_file.Keep();

  const std::string host_name = options.host;
  const std::string exe = ExecutablePath(argv0);
  options.on_listening = [info, host_name, db, temporary, exe](uint16_t port) {
    const std::string url = fmt::format(
        "http://{}:{}",
        host_name.find(':') != std::string::npos ? "[" + host_name + "]" : host_name, port);
    const std::string auth = fmt::format("-H 'Authorization: Bearer {}'", info.api_key);
    const std::string json = "-H 'Content-Type: application/json'";
    PageLinkFields fields;
    fields.api_key = info.api_key;
    fields.schedule_id = std::to_string(info.daily_schedule_id);
    fields.from_time = info.daily_from_time;
    fields.attempt_name = "demo-fix";
    const std::string page = BackfillPageLink(url, fields);
    std::cout << fmt::format(
        R"(
wfp-host demo: store {} ({}), backfill plugin loaded, API key "{}".
Schedules: 1 = etl/daily_load (daily>: 09:00:00, Asia/Tokyo), 2 = etl/hourly_sync (hourly>: 05:00,
UTC), 3 = etl/nightly_report (cron>: 30 2 * * *, America/Los_Angeles). Try:

# What a backfill of the last three days would create (dry run: nothing is written):
curl -s -X POST {url}/api/schedules/1/backfill {auth} {json} -d '{{"fromTime":"{daily}","attemptName":"demo-fix","dryRun":true}}'

# Only the sessions that never ran, unnamed attempts (sessions with attempts are listed as skipped):
curl -s -X POST {url}/api/schedules/1/backfill {auth} {json} -d '{{"fromTime":"{daily}","skipExisting":true,"dryRun":true}}'

# The same plan in the browser (timeline, ETag, Apply): the backfill page, form filled from the link:
{page}

# Do it for real (the same request again is a 409: the attempts exist by then):
curl -s -X POST {url}/api/schedules/1/backfill {auth} {json} -d '{{"fromTime":"{daily}","attemptName":"demo-fix","dryRun":false}}'

# Catch the hourly schedule up to now, moving its pointer:
curl -s -X POST {url}/api/schedules/2/backfill {auth} {json} -d '{{"fromTime":"{hourly}","skipExisting":true,"advanceSchedule":true,"dryRun":false}}'

# Errors: no key (401), another site's key (404), a bad body (400):
curl -s -X POST {url}/api/schedules/1/backfill {json} -d '{{"dryRun":true}}'
curl -s -X POST {url}/api/schedules/1/backfill -H 'Authorization: Bearer other-key' {json} -d '{{"fromTime":"{daily}","attemptName":"x","dryRun":true}}'
curl -s -X POST {url}/api/schedules/1/backfill {auth} {json} -d '{{"fromTime":"{daily}","attemptName":"x","dryRun":true,"skipExisiting":true}}'

# The same through the bundled client, as `digdag backfill` takes it (the time is read in the
# workflow's time zone; without --name an attempt name is generated):
{exe} backfill etl daily_load --from '{daily_day}' --dry-run --server {url} --api-key {key}
{exe} backfill etl daily_load --from '{daily_day}' --name demo-fix2 --server {url} --api-key {key}

Ctrl-C stops the server.
)",
        Store::Redact(db), temporary ? "temporary, removed at exit" : "kept", info.api_key,
        fmt::arg("url", url), fmt::arg("auth", auth), fmt::arg("json", json),
        fmt::arg("daily", info.daily_from_time), fmt::arg("hourly", info.hourly_from_time),
        fmt::arg("daily_day", info.daily_from_time.substr(0, 10)), fmt::arg("key", info.api_key),
        fmt::arg("exe", exe), fmt::arg("page", page));
    std::cout.flush();
  };
  return Serve(rt.store.get(), rt.host.get(), &metrics, std::move(options));
#endif
}

int RunPlugins(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "plugins";
  if (WantsHelp(argv)) return std::cout << kPluginsUsage, 0;
  Args args;
  std::string error;
  if (!args.Parse(argv, {{"plugin", true, true}}, &error))
    return UsageError(kCmd, error, kPluginsUsage);
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kPluginsUsage);
  const std::vector<std::string> search = DefaultPluginSearchPath();
  std::vector<std::string> plugins;
  if (!args.Has("plugin")) {
    plugins = ListPlugins(search);
    if (plugins.empty())
      return Fail(
          kCmd, fmt::format("no plugins on the plugin search path {}", DescribeSearchPath(search)));
  } else if (!ResolvePlugins(args.All("plugin"), search, &plugins, &error)) {
    return Fail(kCmd, error);
  }
  HostOptions options;
  options.log_sink = [](std::string_view line) {  // warnings and errors only: stdout is the list
    if (line.rfind("[INFO]", 0) != 0 && line.rfind("[DEBUG]", 0) != 0) std::cerr << line << "\n";
  };
  Host host(std::move(options));
  if (!LoadPlugins(&host, plugins, &error)) return Fail(kCmd, error);
  std::string out;
  for (const PluginInfo& p : host.plugins()) {
    out += fmt::format("{} {} (ABI {}.{}) from {}\n", p.name, p.version.empty() ? "-" : p.version,
                       p.abi_major, p.abi_minor, p.path);
    for (const auto& [method, path_template] : p.routes)
      out += fmt::format("  {} {}\n", method, path_template);
    for (const std::string& key : p.settings) out += fmt::format("  setting {}\n", key);
  }
  host.Shutdown();
  std::cout << out;
  std::cout.flush();
  return std::cout ? 0 : kFailure;
}

int PrintVersion() {
  std::cout << fmt::format("{} {}\nplugin ABI {}.{} (accepts plugins of ABI {}.0 to {}.{})\n",
                           kHostName, kHostVersion, WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MINOR,
                           WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MINOR);
  std::cout.flush();
  return std::cout ? 0 : kFailure;
}

int RunBackfill(int argc, char** argv) {
#ifdef WFP_HAVE_SERVER
  return RunBackfillClient(argc, argv);
#else
  (void)argc;
  (void)argv;
  return Fail("backfill", "this wfp-host was built without its HTTP client (host_stub/server)");
#endif
}

}  // namespace
}  // namespace wfp::host

int main(int argc, char** argv) {
  using namespace wfp::host;
  if (argc < 2) {
    std::cerr << kMainUsage;
    return kUsageError;
  }
  const std::string command = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    if (command == "--help" || command == "-h" || command == "help")
      return std::cout << kMainUsage, 0;
    if (command == "--version") return PrintVersion();
    if (command == "plugins") return RunPlugins(rest);
    if (command == "call") return RunCall(rest);
    if (command == "seed") return RunSeed(rest);
    if (command == "dump") return RunDump(rest);
    if (command == "serve") return RunServe(rest);
    if (command == "demo") return RunDemo(rest, argv[0]);
    if (command == "backfill") return RunBackfill(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    std::cerr << "wfp-host " << command << ": " << e.what() << "\n";
    return kFailure;
  }
  std::cerr << "wfp-host: unknown command '" << command << "'\n\n" << kMainUsage;
  return kUsageError;
}
