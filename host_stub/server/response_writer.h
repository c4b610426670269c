// How the HTTP server writes answers (internal to host_stub/server/): the response head from a
// handler's HttpResponse, and SocketStream, the socket a streaming handler writes its body to. (The
// JSON error body is common/error_body.h's.)
#ifndef WFP_HOST_STUB_SERVER_RESPONSE_WRITER_H_
#define WFP_HOST_STUB_SERVER_RESPONSE_WRITER_H_

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include "http_types.h"
#include "response_stream.h"
#include "wfp_version.h"

namespace wfp::host::server_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kServerHeader = "wfp-host/" WFP_VERSION;

// The path of a request target for the access log: without the query, at most 512 characters.
std::string PathOf(std::string_view target);
// Sends the parts in order on a non-blocking socket, waiting for it to take more until `deadline`.
// False on a socket error or when the deadline passes (a client that does not read).
bool SendAll(int fd, std::initializer_list<std::string_view> parts, Clock::time_point deadline);
// Copies a handler's status and headers into `res` (framing headers are the server's) and sets the
// version, the Server header and keep-alive. A header that could forge another (a CR or LF, a bad
// name) is dropped; the number dropped, for the caller to note.
size_t FillHead(http::response<http::string_body>& res, HttpResponse& response, unsigned version,
                bool keep_alive);

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

  bool Begin(HttpResponse&& head) override;

  bool Write(std::string_view piece) override;

  void Finish() override;
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
  // Headers of the streamed head that FillHead dropped.
  size_t dropped_headers() const { return dropped_headers_; }

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
  size_t counted_ = 0, dropped_headers_ = 0;
  HttpResponse head_;
};

}  // namespace wfp::host::server_detail

#endif  // WFP_HOST_STUB_SERVER_RESPONSE_WRITER_H_
