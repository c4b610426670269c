// The host runtime: loads plugins through the v1 C ABI (Boost.DLL), gives each one the host table
// (log, clock, route registration, settings, respond, store), and serves requests: route match,
// authentication, request checks, the plugin's handler, fault containment.
//
// A plugin that breaks the contract at load time (not a shared library, no entry point, another ABI
// major, a newer minor, a null or short descriptor, init failing, a route registered twice) is
// refused with a message naming the file and the reason; the host keeps its other plugins and goes
// on serving. A handler that throws, returns non-zero, answers twice, answers a bad status or does
// not answer is answered with a generic 500 and logged; a transaction it left open is rolled back.
//
// The runtime knows nothing of SQL: the store comes in as a `wfp_store_api` table, a connection
// factory (one connection per concurrently running handler, pooled) and an authenticator.
//
// Thread-safety: LoadPlugin and Shutdown must not run concurrently with anything else (load every
// plugin, then serve). Handle may be called from any number of threads at once.
// Ownership: the Host owns the loaded libraries; plugins are shut down (in reverse load order) and
// unloaded by Shutdown or the destructor.
#ifndef WFP_HOST_STUB_RUNTIME_HOST_H_
#define WFP_HOST_STUB_RUNTIME_HOST_H_

#include <wfp/plugin_abi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/limits.h"
#include "common/status.h"
#include "http_types.h"
#include "response_stream.h"
#include "wfp_version.h"

namespace wfp::host {

class StoreConnection;
class Metrics;

inline constexpr std::string_view kHostName = "wfp-host";
// The project's version: CMake's project(VERSION), through the generated wfp_version.h.
inline constexpr std::string_view kHostVersion = WFP_VERSION;

struct HostOptions {
  // The clock given to plugins: fixed when set, else the real one.
  std::optional<int64_t> fixed_now_micros;
  // Plugin settings (get_setting), e.g. {"backfill.max_sessions", "1000"}.
  std::map<std::string, std::string, std::less<>> settings;
  // Larger request bodies, once decoded, are answered 413 before any plugin sees them (the server
  // checks the same limit before reading; see common/limits.h for why both do).
  size_t body_limit = kDefaultBodyLimit;
  // The store table given to plugins; null: a table whose every function is WFP_ERR_UNSUPPORTED.
  const wfp_store_api* store = nullptr;
  // Opens a store connection for a handler call (pooled by the host); may be empty (no store).
  // A connection, or why there is none.
  std::function<Result<std::shared_ptr<StoreConnection>>()> connect;
  // What `authenticate` found for a key: its site; no site (an unknown key: 401); or `unavailable`:
  // the key could not be looked up (the store is down or busy), so the request is answered 503 with
  // Retry-After rather than 401, which would tell the client its key is wrong.
  struct Authentication {
    Authentication() = default;
    Authentication(std::optional<int64_t> s) : site(s) {}  // NOLINT: a site or none, implicitly
    Authentication(std::optional<int64_t> s, bool u) : site(s), unavailable(u) {}
    std::optional<int64_t> site;
    bool unavailable = false;
  };
  // Looks up the site of an API key. Empty: every request is refused 401. Must be thread-safe.
  std::function<Authentication(std::string_view key)> authenticate;
  // Where log lines go (one line each, no newline; one call at a time). Empty: stderr, each line
  // in one write (common/log_writer.h).
  std::function<void(std::string_view line)> log_sink;
  // Write one access-log line per request (method, path, status, duration; never a key or a body).
  bool access_log = false;
  // The OpenAPI document served at GET /api/openapi.json without authentication (static data that
  // must outlive the Host). Empty: that path is unknown like any other.
  std::string_view openapi_document;

  // Routes the host answers itself (its projects and schedules: cli/native_routes.h). They are
  // matched, authenticated and checked like plugin routes, then the handler gets the caller's site,
  // the path parameters and the query string. Registered before any plugin: a plugin that registers
  // the same route is refused. A handler that throws is answered with a generic 500.
  struct NativeRequest {
    int64_t site_id = 0;
    std::vector<std::pair<std::string, std::string>> params;  // name, percent-decoded value
    std::string_view query;                                   // after '?', "" when none
  };
  struct NativeRoute {
    std::string method;
    std::string path_template;
    std::function<HttpResponse(const NativeRequest&)> handler;
  };
  std::vector<NativeRoute> native_routes;
  // The metrics registry plugins record into (ABI 1.3 register_metric, metric_add, metric_observe);
  // must outlive the Host. Null: the host table's metric functions are null.
  Metrics* metrics = nullptr;
  // Answer every request with its id in `X-Request-Id` (the client's when valid, else a new one).
  bool echo_request_id = false;
  // Log lines as JSON objects ({"time","level","source","request_id","message"}) instead of
  // `[LEVEL] SOURCE: message`.
  bool json_logs = false;
};

// What the host knows of a loaded plugin.
struct PluginInfo {
  std::string path;
  std::string name;
  std::string version;
  int abi_major = 0;
  int abi_minor = 0;
  std::vector<std::pair<std::string, std::string>> routes;  // (method, path template), in order
  std::vector<std::string> settings;  // the setting keys it asked for (get_setting), sorted
};

class Host {
 public:
  explicit Host(HostOptions options);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Loads, checks and initialises the plugin at `path`. InvalidArgument ("plugin PATH refused:
  // REASON") when it is refused; the host is then as it was before.
  Status LoadPlugin(const std::string& path);

  // Serves one request. Thread-safe; never throws. With a `stream`, a body larger than
  // ResponseBuffer::kDefaultHoldLimit goes to it in pieces as the plugin produces it (Begin, Write,
  // then Finish, or Abort when the handler fails after the body began); the returned response then
  // carries the status and headers only. A smaller body, and every host-made answer, is returned
  // whole and the stream is not used.
  HttpResponse Handle(HttpRequest&& request, ResponseStream* stream = nullptr);

  // What Handle would refuse from the request's head alone (no body): an unknown path or method,
  // ambiguous, malformed, missing or unknown credentials. A server calls it before it answers
  // `Expect: 100-continue`, so that a refused client is not asked for its body. Thread-safe.
  std::optional<HttpResponse> Precheck(const HttpRequest& head) const;

  // Shuts every plugin down (reverse load order) and unloads it. Idempotent; the destructor calls
  // it.
  void Shutdown();

  // Whether every setting given (HostOptions::settings) is one a loaded plugin asked for through
  // get_setting (plugins read their settings in init). InvalidArgument naming the unknown ones
  // and the known ones: a typo must not be silently ignored. Call it after loading.
  Status CheckSettings() const;

  size_t plugin_count() const;
  size_t route_count() const;
  // The live plugins, in load order. Not to be called concurrently with LoadPlugin/Shutdown.
  std::vector<PluginInfo> plugins() const;

  // Writes a line to the host's log ("[LEVEL] SOURCE: message"). Thread-safe.
  void Log(wfp_log_level level, std::string_view source, std::string_view message);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// An answer the host makes itself: `status`, Content-Type application/json, and the error body
// every such answer carries (common/error_body.h).
HttpResponse ErrorResponse(int status, std::string_view message);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_HOST_H_
