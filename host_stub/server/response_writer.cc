// The HTTP server's answers: response heads, the streamed body (response_writer.h).
#include "server/response_writer.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <sstream>
#include <utility>

namespace wfp::host::server_detail {

std::string PathOf(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.size() > 512) path = path.substr(0, 512);
  return std::string(path);
}

// Sends every byte of `parts` on the non-blocking socket `fd`, waiting for room until `deadline`.
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

size_t FillHead(http::response<http::string_body>& res, HttpResponse& response, unsigned version,
                bool keep_alive) {
  size_t dropped = 0;
  res = {};
  res.version(version == 10 ? 10 : 11);
  res.result(static_cast<unsigned>(response.status));
  for (auto& [name, value] : response.headers) {
    if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
        beast::iequals(name, "connection"))
      continue;  // ours to set
    if (name.empty() || name.find_first_of("\r\n: ") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      ++dropped;
      continue;
    }
    res.insert(name, value);
  }
  if (res.find(http::field::server) == res.end()) res.set(http::field::server, kServerHeader);
  res.keep_alive(keep_alive);
  return dropped;
}

bool SocketStream::Begin(HttpResponse&& head) {
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
  dropped_headers_ = FillHead(res, head, version_, keep_alive_ && version_ != 10);
  if (version_ != 10) res.chunked(true);
  std::ostringstream text;
  text << res.base();
  beast::error_code ec;
  socket_.native_non_blocking(true, ec);
  keep_alive_ = res.keep_alive();
  ok_ = !ec && Send({text.str()}) && Write(first);
  return ok_;
}

bool SocketStream::Write(std::string_view piece) {
  if (counting_) {
    counted_ += piece.size();
    return true;
  }
  if (!ok_ || piece.empty()) return ok_;
  if (version_ == 10) return ok_ = Send({piece});
  const std::string size = fmt::format("{:x}\r\n", piece.size());
  return ok_ = Send({size, piece, "\r\n"});
}

void SocketStream::Finish() {
  complete_ = true;
  if (!counting_ && ok_ && version_ != 10) ok_ = Send({"0\r\n\r\n"});
}

}  // namespace wfp::host::server_detail
