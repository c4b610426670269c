// One connection of the HTTP server. It reads one request at a time (header first, so `Expect:
// 100-continue` can be answered), calls the handler on its worker thread, writes the response, and
// reads the next one or closes. Errors the client caused (too large, malformed) are answered with a
// JSON error and a lingering close, so the client gets to read the answer before the socket goes
// away.
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

#include "common/error_body.h"
#include "server/request_head.h"
#include "server/response_writer.h"
#include "server/server_core.h"

namespace wfp::host::server_detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// Bounds of the lingering close after an error answer.
constexpr std::chrono::milliseconds kLingerMax{2000};
constexpr size_t kLingerBytes = 1 << 20;

}  // namespace

// One connection. Every member is touched only on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<ServerCore> core)
      : stream_(std::move(socket)), core_(std::move(core)) {}
  ~Session() { core_->Remove(this); }

  void Start() {
    core_->Add(this, weak_from_this(), stream_.socket().native_handle());
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
      core_->Note(ServerNoteLevel::kError, fmt::format("request handler failed: {}", e.what()));
      response = InternalError();
    } catch (...) {
      core_->Note(ServerNoteLevel::kError, "request handler failed with an unknown exception");
      response = InternalError();
    }
    if (response.status < 200 || response.status > 599) {
      core_->Note(ServerNoteLevel::kError,
                  fmt::format("request handler answered an invalid status {}", response.status));
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

  void NoteDroppedHeaders(size_t dropped) const {
    for (size_t i = 0; i < dropped; ++i)
      core_->Note(ServerNoteLevel::kWarn, "dropped an invalid response header from the handler");
  }

  // The handler wrote its body to the socket itself (SocketStream): log, then go on or close.
  void OnStreamed(const SocketStream& out) {
    NoteDroppedHeaders(out.dropped_headers());
    LogAccess(out.status());
    if (!out.delivered()) return Close();  // cut off, or the client is gone: close at once
    if (out.keep_alive() && !core_->stopping()) return DoRead();
    // The last response (HTTP/1.0 ends its body by closing); linger if more was pipelined.
    if (buffer_.size() > 0) return LingeringClose();
    Close();
  }

  static HttpResponse InternalError() {
    return HttpResponse{
        500, {{"content-type", "application/json"}}, ErrorBody(500, "internal server error")};
  }

  // `head_length`: for a HEAD whose body was streamed (only counted), the length it would have had.
  void Respond(HttpResponse response, unsigned version, bool keep_alive, bool head,
               std::optional<size_t> head_length = std::nullopt, bool linger = false) {
    NoteDroppedHeaders(FillHead(res_, response, version, keep_alive && !core_->closing()));
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
    res_.body() = ErrorBody(status, message);
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
    core_->Closing(this);
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

void StartSession(tcp::socket&& socket, std::shared_ptr<ServerCore> core) {
  std::make_shared<Session>(std::move(socket), std::move(core))->Start();
}

void StopIdleSessions(ServerCore& core) {
  for (auto& session : core.LiveSessions()) session->OnStop();
}

}  // namespace wfp::host::server_detail
