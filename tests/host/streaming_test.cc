// Streaming a large answer (docs/streaming.md): the host's ResponseBuffer holds a small body and
// returns it whole, and passes a large one on to the ResponseStream as the plugin produces it,
// holding at most its hold limit plus one piece; a fault after the body began aborts the stream.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <string>

#include "runtime/host.h"
#include "runtime/response_buffer.h"
#include "test_support.h"

namespace wfp::host::testing {
namespace {

// Records what reaches it; keeps only a running size and the first and last bytes, not the body.
class RecordingStream : public ResponseStream {
 public:
  bool Begin(HttpResponse&& head) override {
    ++begins;
    status = head.status;
    headers = head.headers;
    Take(head.body);
    return true;
  }
  bool Write(std::string_view piece) override {
    ++writes;
    Take(piece);
    return !gone;
  }
  void Finish() override { ++finishes; }
  void Abort() override { ++aborts; }

  void Take(std::string_view piece) {
    if (prefix.size() < 16) prefix.append(piece.substr(0, 16 - prefix.size()));
    const std::string_view last = piece.substr(piece.size() > 16 ? piece.size() - 16 : 0);
    tail = (tail + std::string(last));
    tail.erase(0, tail.size() > 16 ? tail.size() - 16 : 0);
    bytes += piece.size();
  }

  int begins = 0, writes = 0, finishes = 0, aborts = 0, status = 0;
  bool gone = false;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string prefix, tail;
  size_t bytes = 0;
};

TEST(ResponseBuffer, HoldsASmallBodyAndNeverBeginsTheStream) {
  RecordingStream stream;
  ResponseBuffer buffer(&stream, 1024);
  buffer.Start(HttpResponse{200, {{"content-type", "application/json"}}, "{\"a\":"});
  ASSERT_TRUE(buffer.Append("1}"));
  EXPECT_FALSE(buffer.streaming());
  EXPECT_EQ(buffer.TakeHeld().body, "{\"a\":1}");
  EXPECT_EQ(stream.begins, 0);
}

TEST(ResponseBuffer, PassesALargeBodyOnAndHoldsAtMostItsLimitPlusOnePiece) {
  RecordingStream stream;
  constexpr size_t kLimit = 64 * 1024, kPiece = 16 * 1024, kTotal = 32 << 20;
  ResponseBuffer buffer(&stream, kLimit);
  buffer.Start(HttpResponse{200, {{"content-type", "text/plain"}}, "x"});
  const std::string piece(kPiece, 'y');
  size_t most_held = 0;
  for (size_t sent = 1; sent < kTotal; sent += kPiece) {
    ASSERT_TRUE(buffer.Append(piece));
    most_held = std::max(most_held, buffer.held_capacity());
  }
  EXPECT_TRUE(buffer.streaming());
  EXPECT_LE(most_held, kLimit + kPiece);
  EXPECT_LT(buffer.held_capacity(), 64u);  // what was held went out with the head
  EXPECT_EQ(stream.begins, 1);
  EXPECT_EQ(stream.bytes, 1 + (kTotal / kPiece) * kPiece);
  const HttpResponse head = buffer.EndStream(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(stream.finishes, 1);
  EXPECT_EQ(stream.aborts, 0);
}

TEST(ResponseBuffer, AReceiverGoneIsReportedAndTheRestDropped) {
  RecordingStream stream;
  ResponseBuffer buffer(&stream, 4);
  buffer.Start(HttpResponse{200, {}, "abc"});
  ASSERT_TRUE(buffer.Append("defg"));  // past the limit: streamed
  stream.gone = true;
  EXPECT_FALSE(buffer.Append("h"));
  EXPECT_FALSE(buffer.Append("i"));
  EXPECT_EQ(stream.writes, 2);  // the second one is not even tried
}

TEST(ResponseBuffer, AStreamBegunAndNotEndedIsAbortedOnDestruction) {
  RecordingStream stream;
  {
    ResponseBuffer buffer(&stream, 1);
    buffer.Start(HttpResponse{200, {}, "ab"});
    ASSERT_TRUE(buffer.Append("cd"));
  }
  EXPECT_EQ(stream.aborts, 1);
}

class StreamingHostTest : public ::testing::Test {
 protected:
  StreamingHostTest() : host_(TestOptions(&log_)) {
    EXPECT_TRUE(IsOk(host_.LoadPlugin(PluginPath("streams"))));
  }
  CapturedLog log_;
  Host host_;
};

TEST_F(StreamingHostTest, ALargeBodyGoesToTheStreamInPiecesWhileTheHandlerRuns) {
  RecordingStream stream;
  constexpr size_t kBytes = 8 << 20;
  const HttpResponse r = host_.Handle(Get("/stream/" + std::to_string(kBytes)), &stream);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(stream.begins, 1);
  EXPECT_EQ(stream.finishes, 1);
  EXPECT_EQ(stream.aborts, 0);
  EXPECT_GT(stream.writes, 100);  // 64 KiB pieces, passed on one by one
  EXPECT_EQ(stream.bytes, kBytes);
  EXPECT_EQ(stream.prefix, "{\"fill\":\"aaaaaaa");
  EXPECT_EQ(stream.tail, "aaaaaaaaaaaaaa\"}");
  EXPECT_NE(FindHeader(stream.headers, "content-type"), nullptr);
}

TEST_F(StreamingHostTest, ASmallBodyIsReturnedWholeEvenWithAStream) {
  RecordingStream stream;
  const HttpResponse r = host_.Handle(Get("/stream/1000"), &stream);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 1000u);
  EXPECT_NO_THROW(boost::json::parse(r.body));
  EXPECT_EQ(stream.begins, 0);
}

TEST_F(StreamingHostTest, WithoutAStreamTheWholeBodyIsReturned) {
  const HttpResponse r = host_.Handle(Get("/stream/3000000"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 3000000u);
}

TEST_F(StreamingHostTest, AFaultAfterTheBodyBeganAbortsTheStreamAndIsLogged) {
  RecordingStream stream;
  const HttpResponse r = host_.Handle(Get("/stream-fault/2000000"), &stream);
  EXPECT_EQ(stream.begins, 1);
  EXPECT_EQ(stream.aborts, 1);
  EXPECT_EQ(stream.finishes, 0);
  EXPECT_EQ(r.status, 200);  // the head that went out; the body is cut off
  EXPECT_TRUE(log_.Contains("cut off")) << log_.All();
}

TEST_F(StreamingHostTest, AFaultBeforeTheHoldLimitIsStillA500) {
  RecordingStream stream;
  const HttpResponse r = host_.Handle(Get("/stream-fault/1000"), &stream);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(stream.begins, 0);
}

}  // namespace
}  // namespace wfp::host::testing
