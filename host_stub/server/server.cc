// The Beast server behind RunServer: one io_context, a fixed pool of threads, one strand per
// connection (session.cc), the listener, the signals and the stop. The answers are written by
// response_writer.cc.
#include "server/server.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/server_core.h"

namespace wfp::host {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using server_detail::ServerCore;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// After the connections in flight are cut, how long the server lets them end (their handlers
// return, their access-log lines are written) before it stops its threads.
constexpr std::chrono::milliseconds kCutGrace{1000};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& ioc, tcp::acceptor acceptor, std::shared_ptr<ServerCore> core)
      : ioc_(ioc),
        acceptor_(std::move(acceptor)),
        retry_(acceptor_.get_executor()),
        core_(std::move(core)) {}

  void Run() {
    asio::dispatch(acceptor_.get_executor(),
                   beast::bind_front_handler(&Listener::DoAccept, shared_from_this()));
  }
  void Stop() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
  }

 private:
  void DoAccept() {
    if (!acceptor_.is_open()) return;
    acceptor_.async_accept(asio::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open() || ec == asio::error::operation_aborted) return;
    if (ec) {
      // E.g. out of file descriptors: back off a little instead of spinning.
      core_->Note(ServerNoteLevel::kError, "accept failed: " + ec.message());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->DoAccept();
      });
      return;
    }
    server_detail::StartSession(std::move(socket), core_);
    DoAccept();
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::shared_ptr<ServerCore> core_;
};

// The running servers, for RequestStop.
std::mutex g_servers_mu;
std::vector<ServerCore*> g_servers;

bool ParsePort(std::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

// SIGTERM asks for a stop after the drain period, SIGINT for one without; the set stays armed so
// that a second signal during the drain ends it.
void WaitForSignal(asio::signal_set& signals, const std::shared_ptr<ServerCore>& core) {
  signals.async_wait([&signals, core](beast::error_code ec, int signal) {
    if (ec) return;
    core->RequestStop(/*now=*/signal == SIGINT);
    WaitForSignal(signals, core);
  });
}

std::string HostForUrl(const asio::ip::address& address) {
  return address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
}

}  // namespace

Status ParseListen(std::string_view text, std::string* host_out, uint16_t* port_out) {
  auto fail = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("bad listen address '{}': {} (expected HOST:PORT, HOST an IPv4 address, "
                    "[IPv6] or localhost, e.g. 127.0.0.1:8080)",
                    text, why));
  };
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail("missing ':PORT'");
    port_text = text.substr(close + 2);
    beast::error_code ec;
    asio::ip::make_address_v6(std::string(host), ec);
    if (ec || host.empty()) return fail("not an IPv6 address");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("missing ':PORT'");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.empty()) return fail("missing host");
    if (host.find(':') != std::string_view::npos) return fail("write an IPv6 address in brackets");
    if (host != "localhost") {
      beast::error_code ec;
      asio::ip::make_address_v4(std::string(host), ec);
      if (ec) return fail("not an IPv4 address or localhost");
    }
  }
  uint16_t port = 0;
  if (!ParsePort(port_text, &port)) return fail("port must be a number from 0 to 65535");
  *host_out = std::string(host);
  *port_out = port;
  return Status::Ok();
}

Status ParseListen(std::string_view text, ServerOptions* out) {
  return ParseListen(text, &out->host, &out->port);
}

namespace {

StreamingHandler Streaming(Handler handler) {
  return [handler = std::move(handler)](HttpRequest&& request, ResponseStream*) {
    return handler(std::move(request));
  };
}

}  // namespace

int RunServer(const ServerOptions& options, Handler handler) {
  return RunServer(options, Streaming(std::move(handler)));
}

namespace {

// Resolves options.host (preferring IPv4 for "localhost") and binds and listens on it, before
// anything runs, so a bad address is a plain error. False after "wfp-host: cannot listen on ..." on
// stderr (`name`, when given, names the listener there).
bool Listen(asio::io_context& ioc, const ServerOptions& options, std::string_view name,
            tcp::acceptor* acceptor, tcp::endpoint* bound) {
  const std::string where = fmt::format("{}:{}{}", options.host, options.port,
                                        name.empty() ? "" : fmt::format(" ({})", name));
  beast::error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(options.host, std::to_string(options.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      std::fprintf(stderr, "wfp-host: cannot listen on %s: %s\n", where.c_str(),
                   ec ? ec.message().c_str() : "no address");
      return false;
    }
    endpoint = results.begin()->endpoint();
    for (const auto& entry : results)  // prefer IPv4 for "localhost"
      if (entry.endpoint().address().is_v4()) {
        endpoint = entry.endpoint();
        break;
      }
  }
  auto fail = [&](std::string_view step) {
    std::fprintf(stderr, "wfp-host: cannot listen on %s: %.*s: %s\n", where.c_str(),
                 static_cast<int>(step.size()), step.data(), ec.message().c_str());
    return false;
  };
  if (acceptor->open(endpoint.protocol(), ec); ec) return fail("open");
  if (acceptor->set_option(asio::socket_base::reuse_address(true), ec); ec)
    return fail("setsockopt");
  if (acceptor->bind(endpoint, ec); ec) return fail("bind");
  if (acceptor->listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  *bound = acceptor->local_endpoint(ec);
  if (ec) return fail("getsockname");
  return true;
}

// `threads` workers running `ioc` until it stops; an exception escaping a handler is noted in
// core's log and the worker goes on.
std::vector<std::thread> StartWorkers(asio::io_context& ioc, int threads, const ServerCore& core) {
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&ioc, &core] {
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          core.Note(ServerNoteLevel::kError, fmt::format("worker caught: {}", e.what()));
        } catch (...) {
          core.Note(ServerNoteLevel::kError, "worker caught an unknown exception");
        }
      }
    });
  return pool;
}

// Adds (or removes) a running server to those RequestStop reaches.
void Register(ServerCore* core, bool running) {
  std::lock_guard<std::mutex> lock(g_servers_mu);
  if (running)
    g_servers.push_back(core);
  else
    g_servers.erase(std::find(g_servers.begin(), g_servers.end(), core));
}

// Step 3 of the stop: the requests in flight may finish within the drain timeout; then (or at once
// on another SIGTERM or SIGINT) every connection still open is shut down, a streamed answer
// included (its handler's next write fails), and the server waits a moment for them to go.
void FinishOrCut(ServerCore& core) {
  const auto waited = core.WaitForNoSessions(Clock::now() + core.options().drain_timeout);
  if (waited == ServerCore::Wait::kNoSessions) return;
  if (waited == ServerCore::Wait::kDeadline)
    core.Note(ServerNoteLevel::kWarn,
              fmt::format("requests still in flight after {} ms; closing them",
                          static_cast<long long>(core.options().drain_timeout.count())));
  else
    core.Note(ServerNoteLevel::kWarn, "stop requested again; closing the requests in flight");
  core.CutAll();
  core.WaitForNoSessions(Clock::now() + kCutGrace);
}

// The operations listener (ServerOptions::ops): its own io_context run by one thread, and its own
// ServerCore (the main options with its address, handler and precheck; one thread, no drain).
class OpsServer {
 public:
  explicit OpsServer(const ServerOptions& main)
      : name_(main.ops->name),
        core_(std::make_shared<ServerCore>(OptionsOf(main), Streaming(main.ops->handler))),
        acceptor_(asio::make_strand(ioc_)) {}
  ~OpsServer() { Stop(); }
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  // Binds its address; false after the message on stderr.
  bool Listen() { return wfp::host::Listen(ioc_, core_->options(), name_, &acceptor_, &bound_); }
  const tcp::endpoint& bound() const { return bound_; }
  void Start() {
    listener_ = std::make_shared<Listener>(ioc_, std::move(acceptor_), core_);
    listener_->Run();
    threads_ = StartWorkers(ioc_, 1, *core_);
  }
  // Stops accepting, gives the requests in flight a moment (a probe's is short), closes what is
  // left and ends its thread.
  void Stop() {
    if (threads_.empty()) return;
    core_->MarkStopping();
    listener_->Stop();
    server_detail::StopIdleSessions(*core_);
    if (core_->WaitForNoSessions(Clock::now() + kCutGrace) != ServerCore::Wait::kNoSessions) {
      core_->CutAll();
      core_->WaitForNoSessions(Clock::now() + kCutGrace);
    }
    ioc_.stop();
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

 private:
  static ServerOptions OptionsOf(const ServerOptions& main) {
    ServerOptions o = main;
    o.host = main.ops->host;
    o.port = main.ops->port;
    o.threads = 1;
    o.drain_period = std::chrono::milliseconds(0);
    o.on_drain = nullptr;
    o.precheck = main.ops->precheck;
    o.on_listening = nullptr;
    o.ops.reset();
    return o;
  }

  const std::string name_;
  asio::io_context ioc_{1};
  std::shared_ptr<ServerCore> core_;
  tcp::acceptor acceptor_;
  tcp::endpoint bound_;
  std::shared_ptr<Listener> listener_;
  std::vector<std::thread> threads_;
};

void PrintListening(std::string_view what, const tcp::endpoint& bound) {
  std::fprintf(stdout, "%.*slistening on http://%s:%u\n", static_cast<int>(what.size()),
               what.data(), HostForUrl(bound.address()).c_str(),
               static_cast<unsigned>(bound.port()));
  std::fflush(stdout);
}

}  // namespace

int RunServer(const ServerOptions& options, StreamingHandler handler) {
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  asio::io_context ioc(threads);
  auto core = std::make_shared<ServerCore>(options, std::move(handler));
  tcp::acceptor acceptor(asio::make_strand(ioc));
  tcp::endpoint bound;
  if (!Listen(ioc, options, "", &acceptor, &bound)) return 1;
  std::optional<OpsServer> ops;
  if (options.ops && !ops.emplace(options).Listen()) return 1;

  auto listener = std::make_shared<Listener>(ioc, std::move(acceptor), core);
  asio::signal_set signals(asio::make_strand(ioc), SIGINT, SIGTERM);
  WaitForSignal(signals, core);
  Register(core.get(), true);
  listener->Run();
  std::vector<std::thread> pool = StartWorkers(ioc, threads, *core);

  PrintListening("", bound);
  if (ops) {
    ops->Start();
    PrintListening("ops ", ops->bound());
    if (options.ops->on_listening) options.ops->on_listening(ops->bound().port());
  }
  if (options.on_listening) options.on_listening(bound.port());

  core->WaitForStopRequest();
  core->Drain();
  core->MarkStopping();
  listener->Stop();
  server_detail::StopIdleSessions(*core);
  FinishOrCut(*core);
  if (ops) ops->Stop();  // after the main requests: probes are answered until the end
  asio::post(signals.get_executor(), [&signals] {
    beast::error_code ignored;
    signals.cancel(ignored);
  });
  ioc.stop();
  for (auto& thread : pool) thread.join();
  Register(core.get(), false);
  return 0;
}

void RequestStop() {
  std::lock_guard<std::mutex> lock(g_servers_mu);
  for (ServerCore* core : g_servers) core->RequestStop();
}

}  // namespace wfp::host