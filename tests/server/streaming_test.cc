// The server's side of a streamed body (docs/streaming.md) against real sockets: HTTP/1.1 gets
// chunked transfer encoding and keeps the connection; a body cut off ends without the last chunk;
// HTTP/1.0 gets a body ended by the close; HEAD and 204 send no body; a small body keeps its
// Content-Length. The handler here drives the ResponseStream the way the host does.
#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace wfp::host
