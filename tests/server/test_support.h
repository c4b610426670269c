// Helpers for the server tests: an in-process server on 127.0.0.1:0 run on its own thread, and a
// tiny blocking HTTP/1.1 client over a POSIX socket whose every read and write has a timeout, so
// that no test can hang on the network.
#ifndef WFP_TESTS_SERVER_TEST_SUPPORT_H_
#define WFP_TESTS_SERVER_TEST_SUPPORT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "server/server.h"

namespace wfp::host::testing {

// Runs RunServer on a thread for the lifetime of the object; collects its log lines (the access
// log and the server's notes).
class TestServer {
 public:
  TestServer(ServerOptions options, Handler handler)
      : TestServer(std::move(options), StreamingHandler([handler = std::move(handler)](
                                                            HttpRequest&& r, ResponseStream*) {
                     return handler(std::move(r));
                   })) {}
  TestServer(ServerOptions options, StreamingHandler handler) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.threads == 0) options.threads = 2;
    auto ready = std::make_shared<std::promise<uint16_t>>();
    std::future<uint16_t> port = ready->get_future();
    options.on_listening = [ready](uint16_t p) { ready->set_value(p); };
    options.log_sink = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      log_.emplace_back(line);
    };
    thread_ = std::thread([this, options, handler = std::move(handler), ready]() mutable {
      result_ = RunServer(options, std::move(handler));
      if (result_ != 0) ready->set_value(0);
    });
    if (port.wait_for(std::chrono::seconds(30)) == std::future_status::ready) port_ = port.get();
  }
  ~TestServer() { Stop(); }

  uint16_t port() const { return port_; }
  // Asks the server to stop and waits for RunServer to return; its exit status.
  int Stop() {
    if (thread_.joinable()) {
      RequestStop();
      thread_.join();
    }
    return result_;
  }
  // Waits for RunServer to return without asking it to (it must have been asked already).
  int Join() {
    if (thread_.joinable()) thread_.join();
    return result_;
  }
  std::vector<std::string> log() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

 private:
  std::thread thread_;
  uint16_t port_ = 0;
  int result_ = -1;
  mutable std::mutex mu_;
  std::vector<std::string> log_;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A blocking client connection to 127.0.0.1:port with a 10 s timeout on each read and write.
class Conn {
 public:
  explicit Conn(uint16_t port, int timeout_seconds = 10) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{timeout_seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response. `head`: the request was HEAD (no body follows the header).
  // nullopt when the connection ends (or times out) before a whole response arrived.
  std::optional<Response> Read(bool head = false) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return std::nullopt;
    Response r;
    std::string_view header(buffer_.data(), end);
    size_t line_end = header.find("\r\n");
    std::string_view status_line = header.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(std::string(status_line.substr(9, 3)));
    while (line_end != std::string_view::npos) {
      header.remove_prefix(line_end + 2);
      line_end = header.find("\r\n");
      std::string_view line = header.substr(0, line_end);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      r.headers[name] = std::string(value);
    }
    buffer_.erase(0, end + 4);
    const bool no_body = head || r.status < 200 || r.status == 204 || r.status == 304;
    if (!no_body && r.Header("transfer-encoding") == "chunked") {
      if (!ReadChunked(&r.body)) return std::nullopt;
      return r;
    }
    if (!no_body && !r.headers.count("content-length")) {  // ended by the server's close
      while (Fill()) {
      }
      r.body = std::move(buffer_);
      buffer_.clear();
      return r;
    }
    size_t length = 0;
    if (!head && r.status >= 200 && r.status != 204 && r.status != 304 &&
        r.headers.count("content-length"))
      length = std::stoul(r.headers["content-length"]);
    while (buffer_.size() < length)
      if (!Fill()) return std::nullopt;
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  // Decodes a chunked body into *out. False when the connection ends before the last chunk.
  bool ReadChunked(std::string* out) {
    for (;;) {
      size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos)
        if (!Fill()) return false;
      const size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
      buffer_.erase(0, eol + 2);
      while (buffer_.size() < size + 2)
        if (!Fill()) return false;
      if (size == 0) {  // the last chunk; no trailers expected
        buffer_.erase(0, 2);
        return true;
      }
      out->append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
  }

  // Reads the raw bytes available until `marker` appears (or the connection ends).
  std::string ReadUntil(std::string_view marker) {
    while (buffer_.find(marker) == std::string::npos)
      if (!Fill()) break;
    size_t end = buffer_.find(marker);
    std::string out =
        buffer_.substr(0, end == std::string::npos ? buffer_.size() : end + marker.size());
    buffer_.erase(0, out.size());
    return out;
  }

  // True when the server closes the connection (EOF or reset) before the read timeout; data that
  // arrives first is discarded.
  bool WaitClosed() {
    char chunk[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET || errno == EPIPE;
    }
  }

  // True when the connection is readable (data or EOF) within `ms`.
  bool Readable(int ms) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }

 private:
  bool Fill() {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

inline std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return std::string("GET ") + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra_headers) + "\r\n";
}

inline std::string Post(std::string_view target, std::string_view body,
                        std::string_view extra_headers = "") {
  return std::string("POST ") + std::string(target) +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" +
         std::string(body);
}

}  // namespace wfp::host::testing

#endif  // WFP_TESTS_SERVER_TEST_SUPPORT_H_
