// The HTTP/1.1 front end of wfp-host (Boost.Beast over Asio).
//
// RunServer accepts connections on one address, reads requests with a body limit, a header limit
// and a read timeout, hands each complete request to a Handler (the runtime: routing, auth,
// plugins) and writes its response with Content-Length and a Server header, keeping the connection
// alive when the client allows it; a streamed body (StreamingHandler) goes out as it comes, with
// chunked transfer encoding (docs/streaming.md). It writes one access-log line per request: `METHOD
// PATH STATUS DURATIONms` (no query string, never a header or a body).
//
// Threading: one io_context run by a fixed pool of `threads` threads; each connection is handled on
// its own strand, one request after another. The Handler is called on those worker threads,
// concurrently for different connections, so it must be thread-safe; it blocks its worker while it
// runs. An exception escaping the Handler becomes a 500 JSON error; the server keeps serving.
// Ownership: RunServer owns every socket and the threads; it returns once they are all gone.
#ifndef WFP_HOST_STUB_SERVER_SERVER_H_
#define WFP_HOST_STUB_SERVER_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/limits.h"
#include "common/status.h"
#include "http_types.h"
#include "response_stream.h"
#include "server/access_log.h"

namespace wfp::host {

using Handler =
    std::function<HttpResponse(HttpRequest&&)>;  // called on worker threads, concurrently
// A handler that may stream a large body: it writes it to the ResponseStream (the connection) as it
// is produced instead of returning it; what it returns is then ignored but for the access log.
using StreamingHandler = std::function<HttpResponse(HttpRequest&&, ResponseStream*)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: a free port
  int threads = 0;       // worker threads; 0: std::thread::hardware_concurrency()
  // A larger body is answered 413 without calling the handler, and without reading it: checked here
  // before the body is read, and by the runtime again once it is decoded (common/limits.h).
  size_t body_limit = kDefaultBodyLimit;
  size_t header_limit = 16 * 1024;  // larger header block: 431
  // The whole request (headers and body) must arrive within it, counted from the first read of the
  // request; an idle keep-alive connection is closed after it too.
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  // After a stop request, how long requests in flight may take before the server gives up on them.
  std::chrono::milliseconds drain_timeout{10000};
  // On SIGTERM (or RequestStop) the server first drains for this long: on_drain is called
  // (readiness turns 503), and it goes on accepting and serving, each response with `Connection:
  // close`, so that a load balancer sees it not ready and moves away; then it stops as described at
  // RunServer. SIGINT, or a second SIGTERM, ends the drain at once. 0: no drain.
  std::chrono::milliseconds drain_period{0};
  std::function<void()> on_drain;
  // The format of the server's log lines (see log_sink): text (access lines `METHOD PATH STATUS
  // DURATIONms`, notes `wfp-host: MESSAGE`) or one JSON object per line.
  AccessLogFormat access_log_format = AccessLogFormat::kText;
  // Called once per answered request (after its access-log line), e.g. for metrics. Thread-safe.
  std::function<void(const AccessRecord& record)> on_served;

  // A second listener for the operations routes (`wfp-host serve --ops-listen`), so that probes and
  // scrapes are answered while every worker is busy: its own io_context and thread, its requests
  // given to its own handler (never to the main one), with the same limits, timeouts, log and
  // on_served. It has no drain of its own (a probe of /readyz sees the main one's through the
  // handler) and stops after the main listener's requests are finished or cut.
  struct OpsListener {
    std::string host = "127.0.0.1";
    uint16_t port = 0;  // 0: a free port
    // How the messages name it (a bind failure: `cannot listen on HOST:PORT (NAME): ...`).
    std::string name = "--ops-listen";
    Handler handler;  // called on the listener's thread
    // As `precheck` below, for its requests.
    std::function<std::optional<HttpResponse>(const HttpRequest& head)> precheck;
    // Called once, after its "ops listening on" line, with its bound port (tests, embedding).
    std::function<void(uint16_t port)> on_listening;
  };
  std::optional<OpsListener> ops;

  // Optional hooks (tests, embedding). Both may be called from a worker thread.
  // Called once, after the "listening on" line, with the bound port.
  std::function<void(uint16_t port)> on_listening;
  // Called with a request's head (no body) before the server answers `Expect: 100-continue`: a
  // response refuses the request without reading its body (the host's route and key checks).
  std::function<std::optional<HttpResponse>(const HttpRequest& head)> precheck;
  // Receives each line the server logs (no newline): the access-log lines and the server's own
  // notes (FormatServerNote), both in access_log_format. Empty: the line goes to stderr. Must be
  // thread-safe.
  std::function<void(std::string_view line)> log_sink;
};

// Parses "HOST:PORT" (IPv4, [IPv6], or hostname "localhost") into *host and *port.
// InvalidArgument on a bad value (*host and *port unchanged).
Status ParseListen(std::string_view text, std::string* host, uint16_t* port);
// The same into out->host and out->port.
Status ParseListen(std::string_view text, ServerOptions* out);

// Serves until SIGINT/SIGTERM (or RequestStop), then stops accepting, finishes requests in flight
// (bounded by drain_timeout), returns 0. Prints exactly "listening on http://HOST:PORT\n" to stdout
// (flushed) once it accepts connections (HOST the bound address, PORT the real bound port); with
// `ops`, then "ops listening on http://HOST:PORT\n" for that listener. Both are bound before
// anything runs or is printed.
// Returns non-zero with a message on stderr when it cannot bind (plain text whatever the log
// format: an error of the command that did not start, like its other ones).
int RunServer(const ServerOptions& options, Handler handler);
int RunServer(const ServerOptions& options, StreamingHandler handler);

// Asks every RunServer running in this process to stop (as SIGTERM would). Thread-safe; not
// async-signal-safe. A no-op when no server runs.
void RequestStop();

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_SERVER_SERVER_H_
