// The Beast server behind RunServer. One io_context, a fixed pool of threads, one strand per
// connection. A connection reads one request at a time (header first, so `Expect: 100-continue`
// can be answered), calls the handler on its worker thread, writes the response, and reads the
// next one or closes. Errors the client caused (too large, malformed) are answered with a JSON
// error and a lingering close, so the client gets to read the answer before the socket goes away.
#include "server/server.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/request_head.h"
#include "wfp_version.h"

namespace wfp::host {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kServerHeader = "wfp-host/" WFP_VERSION;
// Bounds of the lingering close after an error answer.
constexpr std::chrono::milliseconds kLingerMax{2000};
constexpr size_t kLingerBytes = 1 << 20;

std::string ErrorJson(int status, std::string_view message) {
  // The messages are ours (no quotes or control characters), but escape anyway.
  std::string escaped;
  for (char c : message) {
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      escaped += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      escaped += c;
    }
  }
  return fmt::format(R"({{"message":"{}","status":{}}})", escaped, status);
}

std::string PathOf(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.size() > 512) path = path.substr(0, 512);
  return std::string(path);
}

// Sends every byte of `parts` on the non-blocking socket `fd`, waiting for room until `deadline`.
// False on a socket error or when the deadline passes (a client that does not read).
bool SendAll(int fd, std::initializer_list<std::string_view> parts, Clock::time_point deadline) {
  std::array<iovec, 4> iov{};
  size_t count = 0;
  for (std::string_view p : parts)
    if (!p.empty() && count < iov.size())
      iov[count++] = iovec{const_cast<char*>(p.data()), p.size()};
  size_t first = 0;
  while (first < count) {
    msghdr msg{};
    msg.msg_iov = iov.data() + first;
    msg.msg_iovlen = count - first;
    const ssize_t sent = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX))) < 0 && errno != EINTR)
        return false;
      continue;
    }
    auto n = static_cast<size_t>(sent);
    while (first < count && n >= iov[first].iov_len) n -= iov[first++].iov_len;
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + n;
      iov[first].iov_len -= n;
    }
  }
  return true;
}

// Copies a handler's status and headers into `res` (framing headers are the server's) and sets the
// version, the Server header and keep-alive.
void FillHead(http::response<http::string_body>& res, HttpResponse& response, unsigned version,
              bool keep_alive) {
  res = {};
  res.version(version == 10 ? 10 : 11);
  res.result(static_cast<unsigned>(response.status));
  for (auto& [name, value] : response.headers) {
    if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
        beast::iequals(name, "connection"))
      continue;  // ours to set
    if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      std::fprintf(stderr, "wfp-host: dropped an invalid response header from the handler\n");
      continue;
    }
    res.insert(name, value);
  }
  if (res.find(http::field::server) == res.end()) res.set(http::field::server, kServerHeader);
  res.keep_alive(keep_alive);
}

// A body that the handler streams (see response_stream.h), written to the connection's socket as it
// comes, on the worker running the handler: HTTP/1.1 with chunked transfer encoding (a cut-off body
// ends without the last chunk: the connection closes instead); HTTP/1.0 without a length, ended by
// closing the connection. HEAD, 1xx, 204 and 304 send no body: the pieces are only counted, and the
// head is then answered like any other (HEAD with the length the body would have had). Each write
// must make progress within the write timeout.
class SocketStream : public ResponseStream {
 public:
  SocketStream(tcp::socket& socket, unsigned version, bool keep_alive, bool head,
               std::chrono::milliseconds write_timeout)
      : socket_(socket),
        version_(version),
        keep_alive_(keep_alive),
        head_request_(head),
        timeout_(write_timeout) {}

  bool Begin(HttpResponse&& head) override {
    begun_ = true;
    status_ = head.status;
    counting_ = head_request_ || head.status < 200 || head.status == 204 || head.status == 304;
    if (counting_) {
      counted_ = head.body.size();
      head.body.clear();
      head_ = std::move(head);
      return true;
    }
    http::response<http::string_body> res;
    const std::string first = std::move(head.body);
    FillHead(res, head, version_, keep_alive_ && version_ != 10);
    if (version_ != 10) res.chunked(true);
    std::ostringstream text;
    text << res.base();
    beast::error_code ec;
    socket_.native_non_blocking(true, ec);
    keep_alive_ = res.keep_alive();
    ok_ = !ec && Send({text.str()}) && Write(first);
    return ok_;
  }

  bool Write(std::string_view piece) override {
    if (counting_) {
      counted_ += piece.size();
      return true;
    }
    if (!ok_ || piece.empty()) return ok_;
    if (version_ == 10) return ok_ = Send({piece});
    const std::string size = fmt::format("{:x}\r\n", piece.size());
    return ok_ = Send({size, piece, "\r\n"});
  }

  void Finish() override {
    complete_ = true;
    if (!counting_ && ok_ && version_ != 10) ok_ = Send({"0\r\n\r\n"});
  }
  void Abort() override { aborted_ = true; }

  bool begun() const { return begun_; }
  // Nothing was written: the head is to be answered as usual, with this body length for HEAD.
  bool counting() const { return counting_; }
  size_t counted() const { return counted_; }
  HttpResponse TakeHead() { return std::move(head_); }
  int status() const { return status_; }
  // The body went out whole; keep_alive: the connection may serve another request.
  bool delivered() const { return complete_ && ok_; }
  bool aborted() const { return aborted_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  bool Send(std::initializer_list<std::string_view> parts) {
    return SendAll(socket_.native_handle(), parts, Clock::now() + timeout_);
  }

  tcp::socket& socket_;
  const unsigned version_;
  bool keep_alive_;
  const bool head_request_;
  const std::chrono::milliseconds timeout_;
  bool begun_ = false, counting_ = false, ok_ = true, complete_ = false, aborted_ = false;
  int status_ = 0;
  size_t counted_ = 0;
  HttpResponse head_;
};

class Session;

// What every connection of one RunServer shares. Thread-safe.
class ServerCore {
 public:
  ServerCore(const ServerOptions& options, StreamingHandler handler)
      : options_(options), handler_(std::move(handler)) {}

  const ServerOptions& options() const { return options_; }
  const StreamingHandler& handler() const { return handler_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Draining or stopping: responses close their connection.
  bool closing() const { return draining_.load(std::memory_order_acquire) || stopping(); }

  void Log(std::string_view line) const {
    if (options_.access_log) {
      options_.access_log(line);
      return;
    }
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    std::string with_newline(line);
    with_newline += '\n';
    std::fwrite(with_newline.data(), 1, with_newline.size(), stderr);
    std::fflush(stderr);
  }

  void Add(Session* session, std::weak_ptr<Session> weak) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.emplace(session, std::move(weak));
  }
  void Remove(Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(session);
    cv_.notify_all();
  }
  std::vector<std::shared_ptr<Session>> Live() {
    std::vector<std::shared_ptr<Session>> live;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, weak] : sessions_)
      if (auto s = weak.lock()) live.push_back(std::move(s));
    return live;
  }

  // `now`: skip the drain period (SIGINT). A second request during the drain ends it too.
  void RequestStop(bool now = false) {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requests_ += now ? 2 : 1;
    cv_.notify_all();
  }
  void WaitForStopRequest() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stop_requests_ > 0; });
  }
  // The drain period (see ServerOptions::drain_period): not ready, still serving.
  void Drain() {
    if (options_.drain_period.count() <= 0) return;
    draining_.store(true, std::memory_order_release);
    if (options_.on_drain) options_.on_drain();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.drain_period, [&] { return stop_requests_ > 1; });
  }
  void MarkStopping() { stopping_.store(true, std::memory_order_release); }

  // The access-log line and the on_served hook of one answered request.
  void Served(const AccessRecord& record) const {
    Log(FormatAccessLine(record, options_.access_log_format));
    if (options_.on_served) options_.on_served(record);
  }
  // True when every connection is gone before the deadline.
  bool WaitForNoSessions(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return sessions_.empty(); });
  }

 private:
  const ServerOptions options_;
  const StreamingHandler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int stop_requests_ = 0;                                          // guarded by mu_
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_
};

// One connection. Every member is touched only on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<ServerCore> core)
      : stream_(std::move(socket)), core_(std::move(core)) {}
  ~Session() { core_->Remove(this); }

  void Start() {
    core_->Add(this, weak_from_this());
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

  // The server is stopping: a connection waiting for a request that has not begun is closed now;
  // one with a request in flight finishes it and then closes (see keep_alive in Respond).
  void OnStop() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->state_ == State::kReading && (!self->parser_ || !self->parser_->got_some()) &&
          self->buffer_.size() == 0)
        self->Close();
    });
  }

 private:
  enum class State { kReading, kHandling, kWriting, kClosing, kClosed };

  const ServerOptions& options() const { return core_->options(); }

  void DoRead() {
    if (state_ == State::kClosed) return;
    if (core_->stopping() && buffer_.size() == 0) return Close();
    state_ = State::kReading;
    parser_.emplace();
    parser_->body_limit(options().body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(options().header_limit, std::numeric_limits<std::uint32_t>::max())));
    // One deadline for the whole request: a trickling client cannot extend it.
    stream_.expires_after(options().read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    started_ = Clock::now();
    auto& req = parser_->get();
    if (auto refusal = CheckRequestHead(HeadOf(req)))
      return RespondError(refusal->status, refusal->message, std::string(req.method_string()),
                          PathOf(OriginForm(req.target())));
    if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue"))
      return AnswerExpectContinue();
    ReadBody();
  }

  static RequestHead HeadOf(const http::request<http::string_body>& req) {
    RequestHead head;
    head.version = req.version();
    head.target = std::string_view(req.target().data(), req.target().size());
    for (const auto& field : req) {
      if (field.name() == http::field::host) ++head.host_fields;
      if (field.name() == http::field::transfer_encoding)
        head.transfer_codings.emplace_back(field.value().data(), field.value().size());
    }
    return head;
  }

  // `Expect: 100-continue`: the client waits before sending its body. Ask for it only if the
  // request would be served (route, method, credentials, key: ServerOptions::precheck); else answer
  // now, without reading the body, and close.
  void AnswerExpectContinue() {
    if (options().precheck) {
      auto& msg = parser_->get();
      std::optional<HttpResponse> refusal;
      try {
        refusal = options().precheck(RequestOf(msg, /*with_body=*/false));
      } catch (...) {
      }
      if (refusal) {
        method_ = std::string(msg.method_string());
        path_ = PathOf(OriginForm(msg.target()));
        route_ = std::move(refusal->route);
        request_id_ = std::move(refusal->request_id);
        site_id_ = 0;
        state_ = State::kHandling;
        return Respond(std::move(*refusal), msg.version(), /*keep_alive=*/false,
                       msg.method() == http::verb::head, std::nullopt, /*linger=*/true);
      }
    }
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->ReadBody();
                      });
  }

  // The runtime's view of a request: names lower-case, the target in origin form.
  static HttpRequest RequestOf(http::request<http::string_body>& msg, bool with_body) {
    HttpRequest request;
    request.method = std::string(msg.method_string());
    request.target = OriginForm(msg.target());
    request.headers.reserve(std::distance(msg.begin(), msg.end()));
    for (const auto& field : msg) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    if (with_body) request.body = std::move(msg.body());
    return request;
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->OnRequest();
                     });
  }

  void OnReadError(beast::error_code ec) {
    // The start line (and the fields) are in the message as soon as they were parsed, even when
    // the header as a whole was refused.
    const auto& partial = parser_->get();
    std::string method =
        partial.method_string().empty() ? "-" : std::string(partial.method_string());
    std::string path = partial.target().empty() ? "-" : PathOf(partial.target());
    if (ec == http::error::body_limit)
      return RespondError(413,
                          fmt::format("request body is larger than {} bytes", options().body_limit),
                          std::move(method), std::move(path));
    // Beast consumes the start line and each field once parsed: with no method yet, the bytes
    // received begin with the request line.
    if (ec == http::error::header_limit && partial.method_string().empty() &&
        RequestLineTooLong(ReceivedText()))
      return RespondError(414, fmt::format("request line is longer than {} bytes", kMaxRequestLine),
                          "-", "-");
    if (ec == http::error::header_limit)
      return RespondError(
          431, fmt::format("request header is larger than {} bytes", options().header_limit),
          std::move(method), std::move(path));
    // Any other parse error (bad start line, bad field, bad chunk) is the client's: 400. A client
    // that went away, timed out or closed between requests is simply dropped.
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return RespondError(400, "malformed HTTP request", std::move(method), std::move(path));
    Close();
  }

  // The bytes received and not parsed yet (after a refused header: the header so far).
  std::string_view ReceivedText() const {
    const auto data = buffer_.data();
    return std::string_view(static_cast<const char*>(data.data()), data.size());
  }

  void OnRequest() {
    state_ = State::kHandling;
    auto& msg = parser_->get();
    HttpRequest request = RequestOf(msg, /*with_body=*/true);
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    const bool head = msg.method() == http::verb::head;
    method_ = request.method;
    path_ = PathOf(request.target);

    HttpResponse response;
    SocketStream out(stream_.socket(), version, keep_alive && !core_->closing(), head,
                     options().write_timeout);
    try {
      response = core_->handler()(std::move(request), &out);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "wfp-host: request handler failed: %s\n", e.what());
      response = InternalError();
    } catch (...) {
      std::fprintf(stderr, "wfp-host: request handler failed with an unknown exception\n");
      response = InternalError();
    }
    if (response.status < 200 || response.status > 599) {
      std::fprintf(stderr, "wfp-host: request handler answered an invalid status %d\n",
                   response.status);
      response = InternalError();
    }
    route_ = std::move(response.route);
    request_id_ = std::move(response.request_id);
    site_id_ = response.site_id;
    if (out.begun() && out.counting())  // nothing went out yet: a cut-off body is still a 500
      return out.aborted() ? Respond(InternalError(), version, keep_alive, head)
                           : Respond(out.TakeHead(), version, keep_alive, head, out.counted());
    if (out.begun()) return OnStreamed(out);
    Respond(std::move(response), version, keep_alive, head);
  }

  // The handler wrote its body to the socket itself (SocketStream): log, then go on or close.
  void OnStreamed(const SocketStream& out) {
    LogAccess(out.status());
    if (!out.delivered()) return Close();  // cut off, or the client is gone: close at once
    if (out.keep_alive() && !core_->stopping()) return DoRead();
    // The last response (HTTP/1.0 ends its body by closing); linger if more was pipelined.
    if (buffer_.size() > 0) return LingeringClose();
    Close();
  }

  static HttpResponse InternalError() {
    return HttpResponse{
        500, {{"content-type", "application/json"}}, ErrorJson(500, "internal server error")};
  }

  // `head_length`: for a HEAD whose body was streamed (only counted), the length it would have had.
  void Respond(HttpResponse response, unsigned version, bool keep_alive, bool head,
               std::optional<size_t> head_length = std::nullopt, bool linger = false) {
    FillHead(res_, response, version, keep_alive && !core_->closing());
    const int status = response.status;
    if (status == 204 || status == 304)
      res_.body().clear();
    else
      res_.body() = std::move(response.body);
    try {
      res_.prepare_payload();
    } catch (const std::exception&) {
      res_.body().clear();
      res_.prepare_payload();
    }
    if (head && head_length && status != 204 && status != 304) res_.content_length(*head_length);
    if (head) res_.body().clear();  // Content-Length stays that of the body it would have
    Write(linger);
  }

  void RespondError(int status, std::string_view message, std::string method, std::string path) {
    started_ = Clock::now();
    method_ = std::move(method);
    path_ = std::move(path);
    route_.clear();
    request_id_.clear();
    site_id_ = 0;
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(status));
    res_.set(http::field::server, kServerHeader);
    res_.set(http::field::content_type, "application/json");
    res_.body() = ErrorJson(status, message);
    res_.keep_alive(false);
    res_.prepare_payload();
    Write(/*linger=*/true);
  }

  void Write(bool linger) {
    state_ = State::kWriting;
    stream_.expires_after(options().write_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), linger](beast::error_code ec, size_t) {
                        self->OnWrite(ec, linger);
                      });
  }

  void LogAccess(unsigned status) {
    core_->Served(AccessRecord{method_, path_, route_, request_id_, static_cast<int>(status),
                               std::chrono::duration<double>(Clock::now() - started_).count(),
                               site_id_});
  }

  void OnWrite(beast::error_code ec, bool linger) {
    LogAccess(res_.result_int());
    if (ec) return Close();
    // After an error the client may still be sending (a body we refused): linger so it can read
    // our answer. After a normal last response, linger only if it pipelined more requests.
    if (linger || (!res_.keep_alive() && buffer_.size() > 0)) return LingeringClose();
    if (!res_.keep_alive()) return Close();
    DoRead();
  }

  // Half-closes, then reads and discards what the client still sends (bounded in time and bytes),
  // so that closing does not reset the connection before the client has read our answer.
  void LingeringClose() {
    state_ = State::kClosing;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::min<std::chrono::milliseconds>(options().read_timeout, kLingerMax));
    lingered_ = 0;
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerBytes) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<ServerCore> core_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  State state_ = State::kReading;
  Clock::time_point started_ = Clock::now();
  std::string method_, path_;
  std::string route_, request_id_;  // from the handler's response, for the access log
  int64_t site_id_ = 0;
  std::array<char, 4096> drain_{};
  size_t lingered_ = 0;
};

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
      std::fprintf(stderr, "wfp-host: accept failed: %s\n", ec.message().c_str());
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->DoAccept();
      });
      return;
    }
    std::make_shared<Session>(std::move(socket), core_)->Start();
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

bool ParseListen(std::string_view text, ServerOptions* out, std::string* error) {
  auto fail = [&](std::string_view why) {
    if (error)
      *error = fmt::format(
          "bad listen address '{}': {} (expected HOST:PORT, HOST an IPv4 address, [IPv6] or "
          "localhost, e.g. 127.0.0.1:8080)",
          text, why);
    return false;
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
  out->host = std::string(host);
  out->port = port;
  return true;
}

int RunServer(const ServerOptions& options, Handler handler) {
  return RunServer(options, StreamingHandler([handler = std::move(handler)](HttpRequest&& request,
                                                                            ResponseStream*) {
                     return handler(std::move(request));
                   }));
}

int RunServer(const ServerOptions& options, StreamingHandler handler) {
  const int threads = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  asio::io_context ioc(threads);
  auto core = std::make_shared<ServerCore>(options, std::move(handler));

  // Resolve and bind before anything runs, so a bad address is a plain error.
  const std::string where = fmt::format("{}:{}", options.host, options.port);
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
      std::fprintf(stderr, "error: cannot listen on %s: %s\n", where.c_str(),
                   ec ? ec.message().c_str() : "no address");
      return 1;
    }
    endpoint = results.begin()->endpoint();
    for (const auto& entry : results)  // prefer IPv4 for "localhost"
      if (entry.endpoint().address().is_v4()) {
        endpoint = entry.endpoint();
        break;
      }
  }
  tcp::acceptor acceptor(asio::make_strand(ioc));
  auto fail = [&](std::string_view step) {
    std::fprintf(stderr, "error: cannot listen on %s: %.*s: %s\n", where.c_str(),
                 static_cast<int>(step.size()), step.data(), ec.message().c_str());
    return 1;
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec)
    return fail("setsockopt");
  if (acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  if (ec) return fail("getsockname");

  auto listener = std::make_shared<Listener>(ioc, std::move(acceptor), core);
  asio::signal_set signals(asio::make_strand(ioc), SIGINT, SIGTERM);
  WaitForSignal(signals, core);
  {
    std::lock_guard<std::mutex> lock(g_servers_mu);
    g_servers.push_back(core.get());
  }
  listener->Run();

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&ioc] {
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "wfp-host: worker caught: %s\n", e.what());
        } catch (...) {
          std::fprintf(stderr, "wfp-host: worker caught an unknown exception\n");
        }
      }
    });

  std::fprintf(stdout, "listening on http://%s:%u\n", HostForUrl(bound.address()).c_str(),
               static_cast<unsigned>(bound.port()));
  std::fflush(stdout);
  if (options.on_listening) options.on_listening(bound.port());

  core->WaitForStopRequest();
  core->Drain();
  core->MarkStopping();
  listener->Stop();
  asio::post(signals.get_executor(), [&signals] {
    beast::error_code ignored;
    signals.cancel(ignored);
  });
  for (auto& session : core->Live()) session->OnStop();
  if (!core->WaitForNoSessions(Clock::now() + options.drain_timeout))
    std::fprintf(stderr, "wfp-host: requests still in flight after %lld ms; closing them\n",
                 static_cast<long long>(options.drain_timeout.count()));
  ioc.stop();
  for (auto& thread : pool) thread.join();
  {
    std::lock_guard<std::mutex> lock(g_servers_mu);
    g_servers.erase(std::find(g_servers.begin(), g_servers.end(), core.get()));
  }
  return 0;
}

void RequestStop() {
  std::lock_guard<std::mutex> lock(g_servers_mu);
  for (ServerCore* core : g_servers) core->RequestStop();
}

}  // namespace wfp::host
