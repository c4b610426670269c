// The metrics registry (what ABI 1.3's register_metric / metric_add / metric_observe reach),
// request ids and the access-log line formats.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/request_id.h"
#include "server/access_log.h"
#include "server/ops.h"

namespace wfp::host {
namespace {

using Kind = Metrics::Kind;

TEST(Metrics, HostSeriesAreExposedWithHelpAndType) {
  Metrics m;
  m.ObserveRequest("/api/schedules/{id}/backfill", "POST", 200, 0.003);
  m.ObserveRequest("", "BREW", 404, 0.001);
  m.Transaction(true, 0.01);
  m.LockWait(0.002);
  m.Busy();
  const std::string text = m.Text();
  EXPECT_NE(text.find("# TYPE wfp_http_requests_total counter"), std::string::npos) << text;
  EXPECT_NE(
      text.find(
          R"(wfp_http_requests_total{method="POST",route="/api/schedules/{id}/backfill",status="200"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(wfp_http_requests_total{method="other",route="unmatched",status="404"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE wfp_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find(R"(wfp_store_transaction_duration_seconds_count{mode="read"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find("wfp_store_lock_wait_seconds_count 1"), std::string::npos);
  EXPECT_NE(text.find("wfp_store_busy_total 1"), std::string::npos);
  EXPECT_NE(text.find("# TYPE wfp_store_open_connections gauge"), std::string::npos);
}

TEST(Metrics, PluginCountersAndHistogramsRecordByLabels) {
  Metrics m;
  Result<Metrics::Series*> c_r =
      m.Register(Kind::kCounter, "p_things_total", "Things.", {"kind"}, {});
  ASSERT_TRUE(c_r.ok()) << c_r.status().message();
  Metrics::Series* c = *c_r;
  Result<Metrics::Series*> h_r = m.Register(Kind::kHistogram, "p_size", "Sizes.", {}, {1, 10});
  ASSERT_TRUE(h_r.ok()) << h_r.status().message();
  Metrics::Series* h = *h_r;
  const std::vector<std::string_view> a{"a"}, none{};
  EXPECT_TRUE(m.Record(c, Kind::kCounter, a, 2).ok());
  EXPECT_TRUE(m.Record(c, Kind::kCounter, a, 3).ok());
  EXPECT_TRUE(m.Record(h, Kind::kHistogram, none, 5).ok());
  const std::string text = m.Text();
  EXPECT_NE(text.find(R"(p_things_total{kind="a"} 5)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(p_size_bucket{le="10"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(p_size_bucket{le="1"} 0)"), std::string::npos) << text;
}

TEST(Metrics, RefusesBadRegistrationsAndRecords) {
  Metrics m;
  EXPECT_EQ(m.Register(Kind::kCounter, "wfp_http_requests_total", "", {}, {}).status().code(),
            WFP_ERR_CONFLICT);
  EXPECT_EQ(m.Register(Kind::kCounter, "1bad", "", {}, {}).status().code(),
            WFP_ERR_INVALID_ARGUMENT);
  EXPECT_FALSE(m.Register(Kind::kCounter, "ok_total", "", {"__x"}, {}).ok());
  EXPECT_FALSE(m.Register(Kind::kCounter, "ok_total", "", {"a", "a"}, {}).ok());
  EXPECT_FALSE(m.Register(Kind::kHistogram, "ok_h", "", {"le"}, {}).ok());
  EXPECT_FALSE(m.Register(Kind::kHistogram, "ok_h", "", {}, {2, 1}).ok());
  Result<Metrics::Series*> c_r = m.Register(Kind::kCounter, "ok_total", "", {"a"}, {});
  ASSERT_TRUE(c_r.ok()) << c_r.status().message();
  Metrics::Series* c = *c_r;
  const std::vector<std::string_view> one{"x"}, two{"x", "y"};
  EXPECT_FALSE(m.Record(c, Kind::kHistogram, one, 1).ok());  // wrong kind
  EXPECT_FALSE(m.Record(c, Kind::kCounter, two, 1).ok());    // wrong label count
  EXPECT_FALSE(m.Record(c, Kind::kCounter, one, -1).ok());   // a counter never goes down
  // At most kMaxSeriesPerMetric label combinations; known ones still record after that.
  for (size_t i = 0; i < Metrics::kMaxSeriesPerMetric; ++i) {
    const std::string v = std::to_string(i);
    const std::vector<std::string_view> values{v};
    ASSERT_TRUE(m.Record(c, Kind::kCounter, values, 1).ok()) << i;
  }
  const std::vector<std::string_view> extra{"one-too-many"}, known{"0"};
  EXPECT_FALSE(m.Record(c, Kind::kCounter, extra, 1).ok());
  EXPECT_TRUE(m.Record(c, Kind::kCounter, known, 1).ok());
}

// The ABI lets plugins record from any thread at once, while a scrape reads: nothing is lost.
TEST(Metrics, RecordsFromManyThreadsWhileScraped) {
  Metrics m;
  Result<Metrics::Series*> c_r = m.Register(Kind::kCounter, "p_hits_total", "Hits.", {"who"}, {});
  ASSERT_TRUE(c_r.ok()) << c_r.status().message();
  Metrics::Series* c = *c_r;
  Result<Metrics::Series*> h_r = m.Register(Kind::kHistogram, "p_lat", "Latency.", {}, {1});
  ASSERT_TRUE(h_r.ok()) << h_r.status().message();
  Metrics::Series* h = *h_r;
  constexpr int kThreads = 4, kEach = 2000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load())
      EXPECT_NE(m.Text().find("# TYPE wfp_store_open_connections gauge"), std::string::npos);
  });
  std::vector<std::thread> pool;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] {
      const std::string who = t % 2 ? "odd" : "even";
      const std::vector<std::string_view> label{who}, none{};
      for (int i = 0; i < kEach; ++i)
        if (!m.Record(c, Kind::kCounter, label, 1).ok() ||
            !m.Record(h, Kind::kHistogram, none, 0.5).ok())
          failures++;
    });
  for (auto& th : pool) th.join();
  done = true;
  scraper.join();
  EXPECT_EQ(failures.load(), 0);
  const std::string text = m.Text();
  EXPECT_NE(text.find(R"(p_hits_total{who="even"} 4000)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(p_hits_total{who="odd"} 4000)"), std::string::npos) << text;
  EXPECT_NE(text.find("p_lat_count 8000"), std::string::npos) << text;
}

TEST(RequestId, KeepsSafeIdsAndReplacesOthers) {
  EXPECT_TRUE(IsValidRequestId("3f2a-11:ab/cd+ef=@x_y.z"));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId(std::string(129, 'a')));
  EXPECT_TRUE(IsValidRequestId(std::string(128, 'a')));
  for (const char* bad : {"a b", "a\"b", "a\nb", "a;b", "a,b", "\xc3\xa9"})
    EXPECT_FALSE(IsValidRequestId(bad)) << bad;
  EXPECT_EQ(RequestIdFor({{"x-request-id", "given-1"}}), "given-1");
  const std::string replaced = RequestIdFor({{"x-request-id", "not ok"}});
  EXPECT_EQ(replaced.size(), 20u);
  EXPECT_NE(RequestIdFor({}), RequestIdFor({}));
}

TEST(AccessLog, TextAndJsonLines) {
  AccessRecord r{
      "POST", "/api/schedules/5/backfill", "/api/schedules/{id}/backfill", "id-1", 200, 0.0125, 3};
  EXPECT_EQ(FormatAccessLine(r, AccessLogFormat::kText),
            "POST /api/schedules/5/backfill 200 12ms request=id-1");
  const auto o = boost::json::parse(FormatAccessLine(r, AccessLogFormat::kJson)).as_object();
  EXPECT_EQ(o.at("request_id").as_string(), "id-1");
  EXPECT_EQ(o.at("route").as_string(), "/api/schedules/{id}/backfill");
  EXPECT_EQ(o.at("status").as_int64(), 200);
  EXPECT_EQ(o.at("site").as_int64(), 3);
  EXPECT_DOUBLE_EQ(o.at("duration_ms").as_double(), 12.5);
  // Milliseconds as a plain decimal with 3 digits after the point, as docs/operations.md shows
  // (never an exponent: 2.32E0, 8.7E-2).
  for (const auto& [seconds, written] :
       std::vector<std::pair<double, std::string>>{{0.0125, "12.500"},
                                                   {0.00232, "2.320"},
                                                   {0.0000871, "0.087"},
                                                   {0, "0.000"},
                                                   {3.1121, "3112.100"},
                                                   {0.0031124, "3.112"}}) {
    AccessRecord timed = r;
    timed.seconds = seconds;
    const std::string line = FormatAccessLine(timed, AccessLogFormat::kJson);
    EXPECT_NE(line.find("\"status\":200,\"duration_ms\":" + written + ",\"site\":3}"),
              std::string::npos)
        << line;
    EXPECT_TRUE(boost::json::parse(line).is_object()) << line;
  }
  AccessRecord refused{"-", "-", "", "", 400, 0, 0};
  const auto p = boost::json::parse(FormatAccessLine(refused, AccessLogFormat::kJson)).as_object();
  EXPECT_TRUE(p.at("request_id").is_null());
  EXPECT_TRUE(p.at("site").is_null());
  EXPECT_EQ(FormatAccessLine(refused, AccessLogFormat::kText), "- - 400 0ms");
}

// /readyz needs no key: its body must not show what the store said (a URL, a socket path, a
// user); the detail goes to the host's log, once for each change of the store's state.
TEST(Readiness, AFailingStoreIsOnlyUnavailableInTheAnonymousBody) {
  OpsOptions options;
  bool failing = true;
  options.store_ready = [&failing] {
    if (!failing) return Status::Ok();
    return Status::Unsupported(
        "cannot connect to the store postgresql://wfp:***@/postgres?host=/run/pg&port=5432: "
        "connection to server on socket \"/run/pg/.s.PGSQL.5432\" failed");
  };
  options.plugin_count = [] { return size_t{1}; };
  std::vector<std::string> logged;
  options.log = [&logged](std::string_view line) { logged.emplace_back(line); };
  OpsRoutes ops(std::move(options));
  for (int probe = 0; probe < 3; ++probe) {
    std::optional<HttpResponse> r = ops.Handle(HttpRequest{"GET", "/readyz", {}, ""});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(boost::json::parse(r->body).at("checks").at("store"), "unavailable") << r->body;
    for (const char* secret : {"postgresql", "socket", "wfp", "5432"})
      EXPECT_EQ(r->body.find(secret), std::string::npos) << r->body;
  }
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("connection to server on socket"), std::string::npos) << logged[0];
  failing = false;
  EXPECT_EQ(ops.Handle(HttpRequest{"GET", "/readyz", {}, ""})->status, 200);
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_NE(logged[1].find("answers again"), std::string::npos) << logged[1];
}

}  // namespace
}  // namespace wfp::host
