// The Beast server against real sockets on 127.0.0.1: keep-alive, limits, timeouts, faults,
// concurrency, graceful stop and the access log. No assertion depends on timing: timeouts are
// short on the server and long (10 s) on the test's client, and the tests assert what happened.
#include "server/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <condition_variable>
#include <csignal>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace wfp::host {
namespace {

using testing::Conn;
using testing::Get;
using testing::Post;
using testing::TestServer;

// Echoes what it got: "METHOD TARGET body-size=N body" and a custom header.
HttpResponse Echo(HttpRequest&& req) {
  HttpResponse res;
  res.status = 200;
  res.headers = {{"content-type", "text/plain"}, {"x-echo-method", req.method}};
  if (const std::string* v = FindHeader(req.headers, "x-probe"))
    res.headers.push_back({"x-probe", *v});
  res.body = req.method + " " + req.target + " body-size=" + std::to_string(req.body.size());
  if (req.body.size() < 100) res.body += " " + req.body;
  return res;
}

TEST(ServerParseListen, AcceptsIpv4Ipv6AndLocalhost) {
  ServerOptions o;
  ASSERT_TRUE(ParseListen("127.0.0.1:0", &o).ok());
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 0);
  ASSERT_TRUE(ParseListen("[::1]:8081", &o).ok());
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 8081);
  ASSERT_TRUE(ParseListen("localhost:65535", &o).ok());
  EXPECT_EQ(o.host, "localhost");
  EXPECT_EQ(o.port, 65535);
}

TEST(ServerParseListen, RejectsBadValuesWithAMessage) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "127.0.0.1:8o",
                          "::1:8080", "[::1]8080", "[nope]:80", "example.com:80", "1.2.3:80"}) {
    ServerOptions o;
    o.port = 1234;
    const Status parsed = ParseListen(bad, &o);
    EXPECT_EQ(parsed.code(), WFP_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_NE(parsed.message().find("bad listen address"), std::string::npos) << bad;
    EXPECT_EQ(o.port, 1234) << "unchanged on error: " << bad;
  }
}

TEST(Server, KeepAliveServesTwoRequestsOnOneConnection) {
  TestServer server({}, Echo);
  ASSERT_NE(server.port(), 0);
  Conn c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/one?x=1", "X-Probe: p1\r\n")));
  auto r1 = c.Read();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "GET /one?x=1 body-size=0 ");
  EXPECT_EQ(r1->Header("x-probe"), "p1");
  EXPECT_EQ(r1->Header("content-type"), "text/plain");
  EXPECT_EQ(r1->Header("content-length"), std::to_string(r1->body.size()));
  EXPECT_EQ(r1->Header("server"), "wfp-host/" WFP_PROJECT_VERSION);  // CMake's project(VERSION)
  EXPECT_NE(r1->Header("connection"), "close");
  ASSERT_TRUE(c.Send(Post("/two", "{\"a\":1}")));
  auto r2 = c.Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "POST /two body-size=7 {\"a\":1}");
}

TEST(Server, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server({}, Echo);
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/a") + Get("/b") + Post("/c", "xyz")));
  for (const char* want :
       {"GET /a body-size=0 ", "GET /b body-size=0 ", "POST /c body-size=3 xyz"}) {
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, want);
  }
}

TEST(Server, ConnectionCloseIsHonoured) {
  TestServer server({}, Echo);
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/bye", "Connection: close\r\n")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(Server, Http10WithoutKeepAliveIsClosedAfterTheResponse) {
  TestServer server({}, Echo);
  Conn c(server.port());
  ASSERT_TRUE(c.Send("GET /old HTTP/1.0\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GET /old body-size=0 ");
  EXPECT_TRUE(c.WaitClosed());
}

TEST(Server, BodyJustOverTheLimitIs413WithoutCallingTheHandler) {
  std::atomic<int> calls{0};
  TestServer server({}, [&](HttpRequest&& r) {
    ++calls;
    return Echo(std::move(r));
  });
  Conn c(server.port());
  c.Send(Post("/api/schedules/5/backfill", std::string(64 * 1024 + 1, 'x')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, R"({"message":"request body is larger than 65536 bytes","status":413})");
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(calls.load(), 0);
  bool logged = false;
  for (const auto& line : server.log())
    logged |= line.rfind("POST /api/schedules/5/backfill 413 ", 0) == 0;
  EXPECT_TRUE(logged);
}

TEST(Server, BodyExactlyAtTheLimitReachesTheHandler) {
  TestServer server({}, Echo);
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Post("/full", std::string(64 * 1024, 'x'))));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /full body-size=65536");
}

TEST(Server, ChunkedBodyOverTheLimitIs413) {
  ServerOptions o;
  o.body_limit = 100;
  std::atomic<int> calls{0};
  TestServer server(o, [&](HttpRequest&& r) {
    ++calls;
    return Echo(std::move(r));
  });
  Conn c(server.port());
  std::string chunk(80, 'y');
  c.Send("POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n" + chunk +
         "\r\n50\r\n" + chunk + "\r\n0\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, R"({"message":"request body is larger than 100 bytes","status":413})");
  EXPECT_EQ(calls.load(), 0);
}

TEST(Server, HeaderBlockOverTheLimitIs431) {
  std::atomic<int> calls{0};
  TestServer server({}, [&](HttpRequest&& r) {
    ++calls;
    return Echo(std::move(r));
  });
  Conn c(server.port());
  c.Send(Get("/big", "X-Big: " + std::string(17 * 1024, 'h') + "\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_NE(r->body.find("\"status\":431"), std::string::npos);
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(calls.load(), 0);

  Conn ok(server.port());  // a header block under the limit passes
  ok.Send(Get("/fine", "X-Big: " + std::string(15 * 1024, 'h') + "\r\n"));
  auto r2 = ok.Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
}

TEST(Server, MalformedRequestIs400AndClosed) {
  TestServer server({}, Echo);
  Conn c(server.port());
  c.Send("GET /x HTTP/1.1\r\nBad Header Name: v\r\n\r\n");
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("\"status\":400"), std::string::npos);
  EXPECT_TRUE(c.WaitClosed());
}

TEST(Server, IdleClientIsDroppedAfterTheReadTimeout) {
  ServerOptions o;
  o.read_timeout = std::chrono::milliseconds(300);
  TestServer server(o, Echo);
  Conn c(server.port());
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.WaitClosed());  // the client's own timeout is 10 s: this is the server closing
}

TEST(Server, IdleKeepAliveConnectionIsDroppedAfterTheReadTimeout) {
  ServerOptions o;
  o.read_timeout = std::chrono::milliseconds(300);
  TestServer server(o, Echo);
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/once")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.WaitClosed());
}

TEST(Server, TricklingClientIsDroppedEvenThoughItKeepsSending) {
  ServerOptions o;
  o.read_timeout = std::chrono::milliseconds(300);
  std::atomic<int> calls{0};
  TestServer server(o, [&](HttpRequest&& r) {
    ++calls;
    return Echo(std::move(r));
  });
  Conn c(server.port());
  // One byte every 20 ms, far more often than the read timeout: only a whole-request deadline
  // stops it. Bounded: at most 500 bytes (10 s).
  const std::string request = Get("/slow", "X-Pad: " + std::string(600, 'p') + "\r\n");
  bool closed = false;
  for (size_t i = 0; i < 500 && !closed; ++i) {
    if (!c.Send(request.substr(i, 1))) {
      closed = true;
      break;
    }
    if (c.Readable(20)) closed = c.WaitClosed();
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(calls.load(), 0);
}

TEST(Server, ClientThatDoesNotReadIsDroppedAfterTheWriteTimeout) {
  ServerOptions o;
  o.write_timeout = std::chrono::milliseconds(300);
  // Far more than the socket buffers of both ends can hold, so the write cannot finish.
  TestServer server(o, [](HttpRequest&&) {
    return HttpResponse{200, {}, std::string(64 << 20, 'z')};
  });
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/huge")));
  // The access-log line is written when the write ends (here: fails). Bounded wait: 20 s.
  bool logged = false;
  for (int i = 0; i < 2000 && !logged; ++i) {
    for (const auto& line : server.log()) logged |= line.rfind("GET /huge 200 ", 0) == 0;
    if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(logged);
  EXPECT_FALSE(c.Read());  // what arrived is cut short: the server gave up and closed
}

TEST(Server, HandlerThatThrowsGives500AndTheServerGoesOn) {
  TestServer server({}, [](HttpRequest&& r) -> HttpResponse {
    if (r.target == "/boom") throw std::runtime_error("kaput");
    if (r.target == "/weird") throw 42;
    return Echo(std::move(r));
  });
  Conn c(server.port());
  for (const char* target : {"/boom", "/weird"}) {
    ASSERT_TRUE(c.Send(Get(target)));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
    EXPECT_EQ(r->Header("content-type"), "application/json");
    EXPECT_EQ(r->body, R"({"message":"internal server error","status":500})");
  }
  ASSERT_TRUE(c.Send(Get("/fine")));  // same connection still served
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  Conn other(server.port());
  ASSERT_TRUE(other.Send(Get("/also-fine")));
  auto r2 = other.Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
}

TEST(Server, InvalidStatusFromTheHandlerIs500) {
  TestServer server({}, [](HttpRequest&&) { return HttpResponse{42, {}, "?"}; });
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/x")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
}

TEST(Server, HandlerHeadersAreKeptButFramingIsTheServers) {
  TestServer server({}, [](HttpRequest&&) {
    return HttpResponse{405,
                        {{"allow", "POST"},
                         {"content-length", "999"},
                         {"connection", "close"},
                         {"x-bad", "a\r\nInjected: yes"},
                         {"server", "custom"}},
                        "{}"};
  });
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Get("/x")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("allow"), "POST");
  EXPECT_EQ(r->Header("content-length"), "2");
  EXPECT_EQ(r->Header("server"), "custom");
  EXPECT_EQ(r->headers.count("injected"), 0u);
  EXPECT_EQ(r->body, "{}");
  ASSERT_TRUE(c.Send(Get("/again")));  // still keep-alive: the handler does not frame
  EXPECT_TRUE(c.Read());
}

TEST(Server, HeadResponseHasTheLengthButNoBody) {
  TestServer server({}, Echo);
  Conn c(server.port());
  ASSERT_TRUE(c.Send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.Read(/*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"),
            std::to_string(std::string("HEAD /h body-size=0 ").size()));
  ASSERT_TRUE(c.Send(Get("/next")));  // a body sent after HEAD would be read as this response
  auto r2 = c.Read();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "GET /next body-size=0 ");
}

TEST(Server, ExpectContinueIsAnsweredBeforeTheBody) {
  TestServer server({}, Echo);
  Conn c(server.port());
  ASSERT_TRUE(
      c.Send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  std::string interim = c.ReadUntil("\r\n\r\n");
  EXPECT_EQ(interim.rfind("HTTP/1.1 100", 0), 0u) << interim;
  ASSERT_TRUE(c.Send("abcd"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "POST /e body-size=4 abcd");
}

TEST(Server, ManyConcurrentClientsAreAllAnswered) {
  ServerOptions o;
  o.threads = 4;
  TestServer server(o, Echo);
  constexpr int kClients = 8, kRequests = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t)
    clients.emplace_back([&, t] {
      Conn keep(server.port());
      for (int i = 0; i < kRequests; ++i) {
        const std::string target = "/c" + std::to_string(t) + "/" + std::to_string(i);
        // Even requests on one keep-alive connection, odd ones on a fresh connection each.
        std::optional<testing::Response> r;
        if (i % 2 == 0) {
          if (keep.Send(Post(target, "b"))) r = keep.Read();
        } else {
          Conn fresh(server.port());
          if (fresh.Send(Post(target, "b"))) r = fresh.Read();
        }
        if (r && r->status == 200 && r->body == "POST " + target + " body-size=1 b") ++ok;
      }
    });
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  EXPECT_EQ(server.Stop(), 0);  // every log line is written once the server has returned
  EXPECT_EQ(server.log().size(), static_cast<size_t>(kClients * kRequests));
}

TEST(Server, GracefulStopFinishesTheRequestInFlight) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  TestServer server({}, [&](HttpRequest&& r) {
    if (r.target == "/slow") {
      std::unique_lock<std::mutex> lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return release; });
      HttpResponse res{200, {}, "slow done"};
      return res;
    }
    return Echo(std::move(r));
  });
  const uint16_t port = server.port();
  Conn idle(port);  // a keep-alive connection with nothing in flight
  ASSERT_TRUE(idle.Send(Get("/quick")));
  ASSERT_TRUE(idle.Read());

  Conn slow(port);
  ASSERT_TRUE(slow.Send(Get("/slow")));
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return entered; }));
  }
  RequestStop();
  // Stop accepting: wait (bounded) until a new connection is refused.
  bool refused = false;
  for (int i = 0; i < 3000 && !refused; ++i) {
    Conn probe(port, 1);
    refused = !probe.connected();
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(idle.WaitClosed());  // idle connections are closed at once
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  auto r = slow.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "slow done");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(server.Join(), 0);
}

TEST(Server, AccessLogHasMethodPathStatusDurationAndNoSecrets) {
  TestServer server({}, [](HttpRequest&& r) {
    return HttpResponse{r.target.rfind("/missing", 0) == 0 ? 404 : 201, {}, "ok"};
  });
  Conn c(server.port());
  ASSERT_TRUE(c.Send(Post("/api/schedules/5/backfill?api_key=query-secret", "{\"body-secret\":1}",
                          "Authorization: Bearer key-secret\r\nX-API-Key: key-secret2\r\n")));
  ASSERT_TRUE(c.Read());
  ASSERT_TRUE(c.Send(Get("/missing")));
  ASSERT_TRUE(c.Read());
  EXPECT_EQ(server.Stop(), 0);
  const auto log = server.log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].rfind("POST /api/schedules/5/backfill 201 ", 0), 0u) << log[0];
  EXPECT_EQ(log[1].rfind("GET /missing 404 ", 0), 0u) << log[1];
  for (const auto& line : log) {
    EXPECT_EQ(line.substr(line.size() - 2), "ms") << line;
    for (const char* secret : {"secret", "Bearer", "api_key", "{"})
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
  }
}

// A handler that fails in each way the server notes itself (a throw, an invalid status, a header
// that could forge another): the server's own lines go where its access log goes.
HttpResponse Faulty(HttpRequest&& r) {
  if (r.target == "/throw") throw std::runtime_error("kaput\n{\"forged\":1}");
  if (r.target == "/status") return HttpResponse{42, {}, "?"};
  return HttpResponse{200, {{"x-bad", "a\r\nInjected: yes"}}, "ok"};
}

std::vector<std::string> ServeFaults(AccessLogFormat format) {
  ServerOptions options;
  options.access_log_format = format;
  TestServer server(options, Faulty);
  Conn c(server.port());
  for (const char* target : {"/throw", "/status", "/header"}) {
    EXPECT_TRUE(c.Send(Get(target)));
    EXPECT_TRUE(c.Read()) << target;
  }
  EXPECT_EQ(server.Stop(), 0);
  return server.log();
}

// Under --log-format json a log shipper parses every line: the server's own notes are JSON objects
// of the host's log shape (time, level, source, message), not text beside them.
TEST(ServerLog, InJsonModeTheServersOwnLinesAreJsonObjects) {
  const std::vector<std::string> log = ServeFaults(AccessLogFormat::kJson);
  std::vector<std::string> messages;
  for (const std::string& line : log) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    ASSERT_TRUE(v.is_object()) << line;
    const boost::json::object& o = v.as_object();
    if (o.contains("route")) continue;  // an access-log line
    for (const char* key : {"time", "level", "source", "message"})
      EXPECT_TRUE(o.contains(key)) << key << " in " << line;
    EXPECT_EQ(o.at("source"), "server") << line;
    messages.emplace_back(o.at("level").as_string().c_str() + std::string(" ") +
                          o.at("message").as_string().c_str());
  }
  EXPECT_EQ(messages,
            (std::vector<std::string>{"error request handler failed: kaput\n{\"forged\":1}",
                                      "error request handler answered an invalid status 42",
                                      "warn dropped an invalid response header from the handler"}));
}

// Text mode: the same notes as ever, `wfp-host: MESSAGE`, one line each (control characters
// escaped, so that a message cannot forge another line).
TEST(ServerLog, InTextModeTheServersOwnLinesAreAsBefore) {
  std::vector<std::string> notes;
  for (const std::string& line : ServeFaults(AccessLogFormat::kText))
    if (line.rfind("wfp-host: ", 0) == 0) notes.push_back(line);
  EXPECT_EQ(notes, (std::vector<std::string>{
                       "wfp-host: request handler failed: kaput\\n{\"forged\":1}",
                       "wfp-host: request handler answered an invalid status 42",
                       "wfp-host: dropped an invalid response header from the handler"}));
}

TEST(Server, SigtermAndSigintStopTheServerWithStatusZero) {
  for (int sig : {SIGTERM, SIGINT}) {
    TestServer server({}, Echo);
    ASSERT_NE(server.port(), 0);
    Conn c(server.port());
    ASSERT_TRUE(c.Send(Get("/before")));
    ASSERT_TRUE(c.Read());
    // The server's signal_set owns SIGINT/SIGTERM while it runs, so this does not kill the test.
    ASSERT_EQ(::raise(sig), 0);
    EXPECT_EQ(server.Join(), 0) << sig;
    EXPECT_TRUE(c.WaitClosed());
  }
}

// ServerOptions::ops: a second listener with its own thread and handler. With the one worker of
// the main listener held by a request, it still answers; its requests are logged like the others;
// it stops with the server.
TEST(ServerOps, TheOperationsListenerAnswersWhileTheWorkersAreBusyAndStopsWithTheServer) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  ServerOptions options;
  options.threads = 1;
  auto ops_port = std::make_shared<std::promise<uint16_t>>();
  options.ops.emplace();
  options.ops->handler = [](HttpRequest&& r) { return HttpResponse{200, {}, "ops " + r.target}; };
  options.ops->on_listening = [ops_port](uint16_t p) { ops_port->set_value(p); };
  TestServer server(options, [&](HttpRequest&&) {
    std::unique_lock<std::mutex> lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return release; });
    return HttpResponse{200, {}, "main"};
  });
  auto port = ops_port->get_future();
  ASSERT_EQ(port.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  const uint16_t ops = port.get();
  ASSERT_NE(ops, server.port());
  Conn busy(server.port());
  ASSERT_TRUE(busy.Send(Get("/hold")));
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return entered; }));
  }
  Conn probe(ops);
  ASSERT_TRUE(probe.Send(Get("/healthz")));
  auto r = probe.Read();  // while the only main worker is held
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ops /healthz");
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  auto held = busy.Read();
  ASSERT_TRUE(held);
  EXPECT_EQ(held->body, "main");
  EXPECT_EQ(server.Stop(), 0);
  Conn after(ops, 1);
  EXPECT_FALSE(after.connected());  // its listener is closed: the server returned
  bool logged = false;
  for (const auto& line : server.log()) logged |= line.rfind("GET /healthz 200 ", 0) == 0;
  EXPECT_TRUE(logged);
}

TEST(Server, PortInUseIsAnErrorNotAHang) {
  TestServer first({}, Echo);
  ASSERT_NE(first.port(), 0);
  ServerOptions o;
  o.port = first.port();
  bool called = false;
  o.on_listening = [&](uint16_t) { called = true; };
  ::testing::internal::CaptureStderr();
  const int status = RunServer(o, Echo);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(status, 0);
  EXPECT_FALSE(called);
  EXPECT_NE(err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace wfp::host
