// The server's side of a streamed body (docs/streaming.md) against real sockets: HTTP/1.1 gets
// chunked transfer encoding and keeps the connection; a body cut off ends without the last chunk;
// HTTP/1.0 gets a body ended by the close; HEAD and 204 send no body; a small body keeps its
// Content-Length. The handler here drives the ResponseStream the way the host does.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "server/server.h"
#include "test_support.h"

namespace wfp::host {
namespace {

using testing::Conn;
using testing::Get;
using testing::TestServer;

// GET /N streams N pieces of 1000 'p' each after a first piece "[" and finishes with "]"; GET
// /cut/N stops after N pieces and aborts; GET /none/N answers 204 with a streamed "body".
HttpResponse Streamer(HttpRequest&& req, ResponseStream* stream) {
  const bool cut = req.target.rfind("/cut/", 0) == 0;
  const bool none = req.target.rfind("/none/", 0) == 0;
  const int pieces = std::stoi(req.target.substr(req.target.rfind('/') + 1));
  HttpResponse head{none ? 204 : 200, {{"content-type", "text/plain"}}, "["};
  if (!stream->Begin(HttpResponse(head))) return head;
  for (int i = 0; i < pieces; ++i)
    if (!stream->Write(std::string(1000, 'p'))) break;
  if (cut) {
    stream->Abort();
    return head;
  }
  stream->Write("]");
  stream->Finish();
  return head;
}

std::string Expected(int pieces) { return "[" + std::string(1000 * pieces, 'p') + "]"; }

TEST(ServerStreaming, Http11BodyIsChunkedAndTheConnectionKept) {
  TestServer server({}, StreamingHandler(Streamer));
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/300")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(r->Header("content-length"), "");
  EXPECT_EQ(r->Header("content-type"), "text/plain");
  EXPECT_EQ(r->body, Expected(300));
  ASSERT_TRUE(c.Send(Get("/2")));  // the same connection serves the next request
  auto r2 = c.Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, Expected(2));
}

TEST(ServerStreaming, ACutOffBodyEndsWithoutTheLastChunkAndTheConnectionCloses) {
  TestServer server({}, StreamingHandler(Streamer));
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/cut/50")));
  const std::string raw = c.ReadUntil("\r\n0\r\n\r\n");  // reads to the close: no last chunk
  EXPECT_NE(raw.find("Transfer-Encoding: chunked"), std::string::npos) << raw.substr(0, 300);
  EXPECT_NE(raw.find(std::string(1000, 'p')), std::string::npos);
  EXPECT_EQ(raw.find("\r\n0\r\n\r\n"), std::string::npos);
  EXPECT_TRUE(c.WaitClosed());
  bool logged = false;
  for (const auto& line : server.log()) logged |= line.rfind("GET /cut/50 200 ", 0) == 0;
  EXPECT_TRUE(logged);
}

TEST(ServerStreaming, AChunkedClientSeesTheCutAsAnIncompleteResponse) {
  TestServer server({}, StreamingHandler(Streamer));
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/cut/5")));
  EXPECT_FALSE(c.Read());
}

TEST(ServerStreaming, Http10BodyHasNoLengthAndEndsWithTheClose) {
  TestServer server({}, StreamingHandler(Streamer));
  Conn c(server.port());
  ASSERT_TRUE(c.Send("GET /40 HTTP/1.0\r\nHost: x\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("transfer-encoding"), "");
  EXPECT_EQ(r->Header("content-length"), "");
  EXPECT_EQ(r->body, Expected(40));
}

TEST(ServerStreaming, HeadGetsTheLengthTheBodyWouldHaveAndNoBody) {
  TestServer server({}, StreamingHandler(Streamer));
  Conn c(server.port());
  ASSERT_TRUE(c.Send("HEAD /70 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.Read(/*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), std::to_string(Expected(70).size()));
  EXPECT_EQ(r->Header("transfer-encoding"), "");
  ASSERT_TRUE(c.Send(Get("/1")));  // a body sent after HEAD would be read as this response
  auto r2 = c.Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, Expected(1));
}

TEST(ServerStreaming, A204SendsNoBodyWhateverTheHandlerStreams) {
  TestServer server({}, StreamingHandler(Streamer));
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/none/20")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->body, "");
  ASSERT_TRUE(c.Send(Get("/3")));
  auto r2 = c.Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, Expected(3));
}

TEST(ServerStreaming, AHandlerThatDoesNotStreamKeepsItsContentLength) {
  TestServer server({}, StreamingHandler([](HttpRequest&&, ResponseStream*) {
                      return HttpResponse{200, {{"content-type", "text/plain"}}, "small"};
                    }));
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/x")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("content-length"), "5");
  EXPECT_EQ(r->body, "small");
}

// Streams 64 KB pieces (up to 1 GB) until the connection refuses one.
HttpResponse Endless(HttpRequest&&, ResponseStream* stream) {
  HttpResponse head{200, {{"content-type", "text/plain"}}, "["};
  if (!stream->Begin(HttpResponse(head))) return head;
  const std::string piece(64 * 1024, 'p');
  for (int i = 0; i < 16 * 1024; ++i)
    if (!stream->Write(piece)) return head;
  stream->Write("]");
  stream->Finish();
  return head;
}

// A client that reads a streamed answer slowly (4 KB per 100 ms, a small receive buffer) on its own
// thread until the server closes the connection or `give_up` passes (then it closes it itself).
class SlowReader {
 public:
  SlowReader(uint16_t port, std::chrono::seconds give_up) {
    thread_ = std::thread([this, port, give_up] { Run(port, give_up); });
  }
  ~SlowReader() { Wait(); }
  bool started() const { return received_.load() > 0; }
  // After the thread ended: the server closed it (not the client giving up), and the raw bytes.
  void Wait() {
    if (thread_.joinable()) thread_.join();
  }
  bool closed_by_server() const { return closed_by_server_; }
  const std::string& raw() const { return raw_; }

 private:
  void Run(uint16_t port, std::chrono::seconds give_up) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 8 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const std::string request = Get("/endless");
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) <= 0) {
      ::close(fd);
      return;
    }
    const auto end = std::chrono::steady_clock::now() + give_up;
    char chunk[4096];
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        closed_by_server_ = true;
        break;
      }
      raw_.append(chunk, static_cast<size_t>(n));
      if (raw_.size() > (1 << 20)) raw_.erase(0, raw_.size() - 64);  // keep the tail
      received_ += n;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::close(fd);
  }

  std::thread thread_;
  std::atomic<size_t> received_{0};
  bool closed_by_server_ = false;
  std::string raw_;
};

bool WaitStarted(const SlowReader& reader) {
  for (int i = 0; i < 1000 && !reader.started(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return reader.started();
}

// The stream could not end before the reader gives up (30 s); the stop must not wait for it: at
// the drain timeout (1 s) the server closes the connection, the handler's next write fails, and
// RunServer returns. The bound is generous (timeout + 10 s); the old server took the full 30 s.
TEST(ServerStreaming, TheStopClosesAStreamStillBeingWrittenAtTheDrainTimeout) {
  ServerOptions options;
  options.drain_timeout = std::chrono::milliseconds(1000);
  TestServer server(options, StreamingHandler(Endless));
  SlowReader reader(server.port(), std::chrono::seconds(30));
  ASSERT_TRUE(WaitStarted(reader));
  const auto stop = std::chrono::steady_clock::now();
  RequestStop();
  EXPECT_EQ(server.Join(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stop, std::chrono::seconds(11));
  reader.Wait();
  EXPECT_TRUE(reader.closed_by_server());
  EXPECT_EQ(reader.raw().find("\r\n0\r\n\r\n"), std::string::npos);  // cut off: no last chunk
}

// A second stop request while requests are still in flight closes them at once.
TEST(ServerStreaming, ASecondStopRequestClosesTheStreamsAtOnce) {
  ServerOptions options;
  options.drain_timeout = std::chrono::milliseconds(60000);
  TestServer server(options, StreamingHandler(Endless));
  SlowReader reader(server.port(), std::chrono::seconds(30));
  ASSERT_TRUE(WaitStarted(reader));
  const auto stop = std::chrono::steady_clock::now();
  RequestStop();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RequestStop();
  EXPECT_EQ(server.Join(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stop, std::chrono::seconds(15));
  reader.Wait();
  EXPECT_TRUE(reader.closed_by_server());
  EXPECT_EQ(reader.raw().find("\r\n0\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace wfp::host
