// `wfp-host backfill`: argument parsing, the --from conversion (time zones, DST), the request body,
// the URL check, the rendering, and whole runs against an in-process server with a canned handler.
#include "client/backfill_client.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/server.h"
#include "test_support.h"

namespace wfp::host {
namespace {

namespace json = boost::json;

bool Parse(std::vector<const char*> argv, BackfillArgs* args, std::string* error,
           const char* env = nullptr) {
  argv.insert(argv.begin(), "backfill");
  const Status parsed = ParseBackfillArgs(static_cast<int>(argv.size()), argv.data(), env, args);
  *error = parsed.message();
  return parsed.ok();
}

TEST(BackfillArgs, ParsesEveryOption) {
  BackfillArgs a;
  std::string error;
  ASSERT_TRUE(Parse({"--server", "http://127.0.0.1:9", "--api-key", "k1", "5", "--from",
                     "2024-01-08", "--tz=Asia/Tokyo", "--count", "3", "--name", "fix-1",
                     "--skip-existing", "--dry-run", "--if-match", "\"abc\"", "--timeout", "7"},
                    &a, &error))
      << error;
  EXPECT_EQ(a.server, "http://127.0.0.1:9");
  EXPECT_EQ(a.api_key, "k1");
  EXPECT_EQ(a.schedule_id, "5");
  EXPECT_EQ(a.from, "2024-01-08");
  EXPECT_EQ(a.tz, "Asia/Tokyo");
  EXPECT_EQ(a.count, 3);
  EXPECT_EQ(a.name, "fix-1");
  EXPECT_TRUE(a.skip_existing);
  EXPECT_TRUE(a.dry_run);
  EXPECT_FALSE(a.advance);
  EXPECT_EQ(a.if_match, "\"abc\"");
  EXPECT_EQ(a.timeout, std::chrono::seconds(7));
  EXPECT_FALSE(a.help);
}

TEST(BackfillArgs, DefaultsAndEnvironmentKey) {
  BackfillArgs a;
  std::string error;
  ASSERT_TRUE(Parse({"7", "--advance", "--skip-existing"}, &a, &error, "env-key")) << error;
  EXPECT_EQ(a.server, "http://127.0.0.1:8080");
  EXPECT_EQ(a.api_key, "env-key");
  EXPECT_FALSE(a.tz);    // --from is read in the workflow's zone
  EXPECT_FALSE(a.from);  // optional with --advance
  EXPECT_FALSE(a.count);
  EXPECT_FALSE(a.name);
  ASSERT_TRUE(Parse({"7", "--from", "2024-01-01", "--api-key", "flag"}, &a, &error, "env"));
  EXPECT_EQ(a.api_key, "flag");  // the flag wins
}

TEST(BackfillArgs, HelpWinsOverEverythingElse) {
  BackfillArgs a;
  std::string error;
  ASSERT_TRUE(Parse({"--bogus", "--help"}, &a, &error));
  EXPECT_TRUE(a.help);
  EXPECT_NE(BackfillUsage().find("--skip-existing"), std::string::npos);
}

TEST(BackfillArgs, UsageErrorsSayWhatIsWrong) {
  struct Case {
    std::vector<const char*> argv;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"--api-key", "k", "--from", "2024-01-01"}, "missing PROJECT WORKFLOW (or --schedule ID"},
      {{"--api-key", "k", "p", "w", "x", "--from", "2024-01-01"}, "expected PROJECT WORKFLOW"},
      {{"--api-key", "k", "abc", "--from", "2024-01-01"}, "missing PROJECT WORKFLOW"},
      {{"--api-key", "k", "p", "w", "--schedule", "5", "--from", "x"}, "not both"},
      {{"--api-key", "k", "0", "--from", "2024-01-01"}, "--schedule must be a positive integer"},
      {{"--api-key", "k", "--schedule", "x1", "--from", "x"}, "--schedule must be a positive"},
      {{"--api-key", "k", "2147483648", "--from", "x"}, "--schedule must be a positive integer"},
      {{"--api-key", "k", "5", "--advance"}, "--advance requires --skip-existing"},
      {{"--api-key", "k", "5", "--advance", "--skip-existing", "--name", "n"},
       "--name cannot be used with --advance"},
      {{"--api-key", "k", "5", "--from", "x", "--name", ""}, "--name must be 1 to 255"},
      {{"5", "--from", "2024-01-01"}, "missing --api-key"},
      {{"--api-key", "k", "5"}, "missing --from"},
      {{"--api-key", "k", "5", "--from"}, "--from needs a value"},
      {{"--api-key", "k", "5", "--from", "x", "--count", "-1"}, "--count must be"},
      {{"--api-key", "k", "5", "--from", "x", "--count", "3x"}, "--count must be"},
      {{"--api-key", "k", "5", "--from", "x", "--skip-existnig"}, "unknown option --skip-existnig"},
      {{"--api-key", "k", "5", "--from", "x", "--dry-run=yes"}, "--dry-run takes no value"},
      {{"--api-key", "k", "5", "--from", "x", "-n"}, "unknown option -n"},
      {{"--api-key", "k", "5", "--from", "x", "--timeout", "0"}, "--timeout must be"},
  };
  for (const auto& c : cases) {
    BackfillArgs a;
    std::string error;
    EXPECT_FALSE(Parse(c.argv, &a, &error)) << c.message;
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
  }
}

std::string From(std::string_view text, std::string_view tz = "UTC") {
  Result<std::string> iso = ConvertFromTime(text, tz);
  if (!iso.ok()) return "error: " + iso.status().message();
  return *iso;
}

TEST(BackfillFromTime, InstantsWithAnOffsetAreKept) {
  EXPECT_EQ(From("2024-01-08T00:00:00+09:00", "America/New_York"), "2024-01-08T00:00:00+09:00");
  EXPECT_EQ(From("2023-08-18T06:52:33Z"), "2023-08-18T06:52:33Z");
  EXPECT_EQ(From("2023-08-18T06:52:33.250Z"), "2023-08-18T06:52:33.250Z");
  EXPECT_EQ(From("2024-01-08 00:00:00-0530"), "2024-01-08T00:00:00-05:30");
  EXPECT_EQ(From("2024-01-08T00:00:00+09"), "2024-01-08T00:00:00+09:00");
}

TEST(BackfillFromTime, WallClockTimesAreReadInTheZone) {
  EXPECT_EQ(From("2024-01-08"), "2024-01-08T00:00:00+00:00");
  EXPECT_EQ(From("2024-01-08", "Asia/Tokyo"), "2024-01-08T00:00:00+09:00");
  EXPECT_EQ(From("2024-01-08 09:30:15", "Asia/Tokyo"), "2024-01-08T09:30:15+09:00");
  EXPECT_EQ(From("2024-07-01T12:00:00", "Europe/Berlin"), "2024-07-01T12:00:00+02:00");
  EXPECT_EQ(From("2024-02-29", "America/Los_Angeles"), "2024-02-29T00:00:00-08:00");
}

TEST(BackfillFromTime, TimeInASpringForwardGapMovesForwardByTheGap) {
  // New York, 2024-03-10: 02:00 EST -> 03:00 EDT.
  EXPECT_EQ(From("2024-03-10 02:30:00", "America/New_York"), "2024-03-10T03:30:00-04:00");
  // Lord Howe, 2024-10-06: 02:00 +10:30 -> 02:30 +11:00 (a half-hour gap).
  EXPECT_EQ(From("2024-10-06 02:10:00", "Australia/Lord_Howe"), "2024-10-06T02:40:00+11:00");
}

TEST(BackfillFromTime, TimeInAFallBackOverlapIsTheEarlierInstantAsDigdagReadsIt) {
  // New York, 2024-11-03: 01:00-02:00 happens twice. `digdag backfill` reads a local --from with
  // java.time's LocalDateTime.atZone, which takes the earlier offset (EDT, -04:00).
  EXPECT_EQ(From("2024-11-03 01:30:00", "America/New_York"), "2024-11-03T01:30:00-04:00");
  EXPECT_EQ(From("2024-11-03 02:00:00", "America/New_York"), "2024-11-03T02:00:00-05:00");
  EXPECT_EQ(From("2024-11-03 00:59:59", "America/New_York"), "2024-11-03T00:59:59-04:00");
}

TEST(BackfillFromTime, BadValuesAreErrors) {
  for (const char* bad :
       {"yesterday", "2024-02-30", "2024-13-01", "2024-01-08T25:00:00Z", "2024-01-08T10:60:00Z",
        "2024-01-08T10:00Z", "2024-1-8", "2024-01-08X", "2024-01-08T00:00:00+9",
        "2024-01-08T00:00:00+19:00", "2024-01-08T00:00:00.Z", "2024-01-08Z"})
    EXPECT_EQ(From(bad).rfind("error: bad --from", 0), 0u) << bad << " -> " << From(bad);
  EXPECT_EQ(From("2024-01-08", "Mars/Olympus").rfind("error: unknown time zone 'Mars/Olympus'", 0),
            0u);
}

TEST(BackfillBody, HasTheSetFieldsOnly) {
  BackfillArgs a;
  EXPECT_EQ(json::parse(BuildBackfillBody(a, std::string("2024-01-08T00:00:00+09:00"))),
            json::parse(R"({"fromTime":"2024-01-08T00:00:00+09:00","dryRun":false})"));
  a.name = "fix-1";
  a.count = 0;
  a.skip_existing = true;
  a.advance = true;
  a.dry_run = true;
  EXPECT_EQ(json::parse(BuildBackfillBody(a, std::nullopt)),
            json::parse(R"({"attemptName":"fix-1","count":0,"skipExisting":true,
                            "advanceSchedule":true,"dryRun":true})"));
}

TEST(BackfillUrl, AcceptsHttpOnly) {
  Result<HttpUrl> parsed = ParseHttpUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  HttpUrl u = *parsed;
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.base_path, "");
  parsed = ParseHttpUrl("http://localhost/wf/");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  u = *parsed;
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.base_path, "/wf");
  parsed = ParseHttpUrl("http://[::1]:9/");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  u = *parsed;
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 9);
  parsed = ParseHttpUrl("https://127.0.0.1:8443");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("https is not supported"), std::string::npos)
      << parsed.status().message();
  for (const char* bad : {"127.0.0.1:8080", "ftp://x", "http://", "http://:80", "http://h:0",
                          "http://h:99999", "http://h:8o", "http://h/?q=1", "http://u@h/"}) {
    const Status refused = ParseHttpUrl(bad).status();
    EXPECT_EQ(refused.code(), WFP_ERR_INVALID_ARGUMENT) << bad;
    EXPECT_NE(refused.message().find("--server"), std::string::npos) << refused.message();
  }
}

constexpr std::string_view kAnswer = R"({"id":"5","project":{"id":"1","name":"etl"},
  "workflow":{"id":"11","name":"load"},
  "nextScheduleTime":"2024-01-11T00:00:00+09:00","nextRunTime":"2024-01-10T15:00:00Z",
  "attempts":[
   {"id":"1000","index":1,"sessionId":"100","sessionUuid":"u1","sessionTime":"2024-01-08T00:00:00+09:00",
    "retryAttemptName":"fix-1","status":"queued","done":false},
   {"id":"1001","index":2,"sessionId":"102","sessionUuid":"u2","sessionTime":"2024-01-10T00:00:00+09:00",
    "retryAttemptName":"fix-1","status":"blocked","done":false}],
  "skipped":[{"sessionTime":"2024-01-09T00:00:00+09:00","sessionId":"101",
              "reason":"session already has attempts"}]})";

constexpr std::string_view kRendered =
    "schedule 5: project etl, workflow load\n"
    "attempts created:\n"
    "  session time               attempt name  index  status   session id\n"
    "  2024-01-08T00:00:00+09:00  fix-1         1      queued   100\n"
    "  2024-01-10T00:00:00+09:00  fix-1         2      blocked  102\n"
    "skipped (sessions that already exist):\n"
    "  session time               session id  reason\n"
    "  2024-01-09T00:00:00+09:00  101         session already has attempts\n"
    "schedule's next session time: 2024-01-11T00:00:00+09:00\n"
    "schedule's next run time:     2024-01-10T15:00:00Z\n"
    "2 attempts created, 1 skipped\n";

TEST(BackfillRender, PrintsTheTableSkippedPointerAndSummary) {
  const Result<std::string> out = RenderBackfillResult(kAnswer, false);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, kRendered);
}

TEST(BackfillRender, DryRunSaysWouldAndMarksNewSessions) {
  const Result<std::string> rendered = RenderBackfillResult(
      R"({"id":"5","project":{"name":"etl"},"workflow":{"name":"load"},
          "nextScheduleTime":"2024-01-11T00:00:00+09:00","nextRunTime":"2024-01-10T15:00:00Z",
          "attempts":[{"id":"0","index":1,"sessionId":"0","sessionTime":"2024-01-08T00:00:00+09:00",
                       "retryAttemptName":null,"status":"queued"}],"skipped":[]})",
      true);
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  const std::string& out = *rendered;
  EXPECT_NE(out.find("attempts that would be created:\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  2024-01-08T00:00:00+09:00  -             1      queued  (new)\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("skipped ("), std::string::npos) << out;
  EXPECT_NE(out.find("\ndry run: 1 attempt would be created, 0 skipped; nothing was changed\n"),
            std::string::npos)
      << out;
}

TEST(BackfillRender, RejectsAnswersThatAreNotTheRoutes) {
  EXPECT_FALSE(RenderBackfillResult("<html>", false).ok());
  EXPECT_FALSE(RenderBackfillResult(R"({"id":"5"})", false).ok());
  EXPECT_FALSE(RenderBackfillResult("[]", false).ok());
}

TEST(BackfillErrorMessage, PrefersTheJsonMessage) {
  EXPECT_EQ(ErrorMessageOf(409, R"({"message":"Attempt exists","status":409})"), "Attempt exists");
  EXPECT_EQ(ErrorMessageOf(502, "  Bad gateway\r\n"), "Bad gateway");
  EXPECT_EQ(ErrorMessageOf(404, ""), "Not Found");
}

// A whole run: argv -> HTTP request -> the canned server -> stdout/stderr and the exit status.
class BackfillRun : public ::testing::Test {
 protected:
  BackfillRun()
      : server_({}, [this](HttpRequest&& r) {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(r);
          return reply_;
        }) {}

  struct Result {
    int status;
    std::string out, err;
  };
  Result Run(std::vector<std::string> args) {
    std::vector<char*> argv;
    args.insert(args.begin(), "backfill");
    for (auto& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    const int status = RunBackfillClient(static_cast<int>(argv.size()), argv.data());
    Result r{status, ::testing::internal::GetCapturedStdout(),
             ::testing::internal::GetCapturedStderr()};
    return r;
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }

  std::mutex mu_;
  std::vector<HttpRequest> requests_;
  HttpResponse reply_{200, {{"content-type", "application/json"}}, std::string(kAnswer)};
  testing::TestServer server_;
};

TEST_F(BackfillRun, PostsTheRequestAndPrintsTheTable) {
  auto r = Run({"--server", Url(), "--api-key", "k-site1", "5", "--from", "2024-01-08", "--tz",
                "Asia/Tokyo", "--count", "3", "--name", "fix-1", "--skip-existing"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "from: 2024-01-08T00:00:00+09:00 (2024-01-08 read in Asia/Tokyo, from --tz)\n" +
                       std::string(kRendered));
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(requests_.size(), 1u);
  const HttpRequest& req = requests_[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/api/schedules/5/backfill");
  ASSERT_TRUE(FindHeader(req.headers, "authorization"));
  EXPECT_EQ(*FindHeader(req.headers, "authorization"), "Bearer k-site1");
  ASSERT_TRUE(FindHeader(req.headers, "content-type"));
  EXPECT_EQ(*FindHeader(req.headers, "content-type"), "application/json");
  EXPECT_EQ(json::parse(req.body),
            json::parse(R"({"fromTime":"2024-01-08T00:00:00+09:00","attemptName":"fix-1",
                            "count":3,"skipExisting":true,"dryRun":false})"));
}

TEST_F(BackfillRun, AKeyFromTheEnvironmentStaysOutOfThePageLink) {
  ::setenv("WFP_API_KEY", "env-s3cret", 1);
  auto r = Run({"--server", Url(), "5", "--from", "2024-01-07T15:00:00Z", "--skip-existing",
                "--count", "2", "--dry-run"});
  ::unsetenv("WFP_API_KEY");
  EXPECT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(*FindHeader(requests_[0].headers, "authorization"), "Bearer env-s3cret");
  // No --name: the generated one is sent, and the link carries the same one.
  const std::string name(json::parse(requests_[0].body).at("attemptName").as_string());
  EXPECT_NE(r.out.find("\nsee it: " + Url() + "/ui/backfill#schedule=5&from=2024-01-07T15:00:00Z" +
                       "&name=" + name + "&count=2&skipExisting=1\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("env-s3cret"), std::string::npos) << r.out;
}

TEST_F(BackfillRun, DryRunPrintsThePlanToApply) {
  reply_.headers.push_back({"etag", "\"p-123\""});
  auto r = Run({"--server", Url() + "/", "--api-key", "k", "5", "--from", "2024-01-07T15:00:00Z",
                "--name", "n", "--dry-run"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("dry run: 2 attempts would be created, 1 skipped"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("plan: \"p-123\""), std::string::npos) << r.out;
  // The same plan on the backfill page; a key typed with --api-key goes into the link.
  EXPECT_NE(r.out.find("\nsee it: " + Url() +
                       "/ui/backfill#apiKey=k&schedule=5&from=2024-01-07T15:00:00Z&name=n\n"),
            std::string::npos)
      << r.out;
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(json::parse(requests_[0].body),
            json::parse(R"({"fromTime":"2024-01-07T15:00:00Z","attemptName":"n","dryRun":true})"));
  auto applied = Run({"--server", Url(), "--api-key", "k", "5", "--from", "2024-01-07T15:00:00Z",
                      "--name", "n", "--if-match", "\"p-123\""});
  EXPECT_EQ(applied.status, 0) << applied.err;
  ASSERT_EQ(requests_.size(), 2u);
  ASSERT_TRUE(FindHeader(requests_[1].headers, "if-match"));
  EXPECT_EQ(*FindHeader(requests_[1].headers, "if-match"), "\"p-123\"");
}

TEST_F(BackfillRun, AdvanceWithoutFromSendsNoFromTime) {
  auto r = Run({"--server", Url(), "--api-key", "k", "9", "--advance", "--skip-existing"});
  EXPECT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].target, "/api/schedules/9/backfill");
  EXPECT_EQ(json::parse(requests_[0].body),
            json::parse(R"({"skipExisting":true,"advanceSchedule":true,"dryRun":false})"));
}

TEST_F(BackfillRun, ErrorAnswerIsPrintedToStderrWithExitOne) {
  reply_ = HttpResponse{
      409,
      {{"content-type", "application/json"}},
      R"({"message":"Attempt of project id=1 workflow=load instant=2024-01-07T15:00:00Z attempt name=fix-1 already exists","status":409})"};
  auto r = Run({"--server", Url(), "--api-key", "k", "5", "--from", "2024-01-08", "--tz", "UTC",
                "--name", "fix-1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "from: 2024-01-08T00:00:00+00:00 (2024-01-08 read in UTC, from --tz)\n");
  EXPECT_EQ(
      r.err,
      "wfp-host backfill: 409: Attempt of project id=1 workflow=load instant=2024-01-07T15:00:00Z "
      "attempt name=fix-1 already exists\n");
}

TEST_F(BackfillRun, UsageErrorsDoNotSendAnything) {
  auto https =
      Run({"--server", "https://127.0.0.1:1", "--api-key", "k", "5", "--from", "2024-01-08"});
  EXPECT_EQ(https.status, 1);
  EXPECT_NE(https.err.find("https is not supported"), std::string::npos) << https.err;
  auto bad_from = Run({"--server", Url(), "--api-key", "k", "5", "--from", "2024-02-30"});
  EXPECT_EQ(bad_from.status, 1);
  EXPECT_NE(bad_from.err.find("wfp-host backfill: bad --from '2024-02-30'"), std::string::npos)
      << bad_from.err;
  EXPECT_TRUE(requests_.empty());
  auto help = Run({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_EQ(help.out.rfind("usage: wfp-host backfill", 0), 0u);
}

TEST(BackfillRunUnreachable, ConnectionFailureExitsTwo) {
  // A port that was free a moment ago (nothing listens on it now).
  uint16_t port;
  {
    testing::TestServer gone({}, [](HttpRequest&&) { return HttpResponse{}; });
    port = gone.port();
  }
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {"backfill", "--server", url,          "--api-key", "k",
                                   "5",        "--from",   "2024-01-08", "--tz",      "UTC"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStderr();
  const int status = RunBackfillClient(static_cast<int>(argv.size()), argv.data());
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 2);
  EXPECT_EQ(err.rfind("wfp-host backfill: cannot reach " + url + ": connect failed", 0), 0u) << err;
}

TEST(BackfillRunUnreachable, ServerThatClosesWithoutAnswerExitsTwo) {
  // A listener that accepts one connection, reads the request and closes without answering.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread rude([listener] {
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) return;
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    std::string got;
    while (got.find("dryRun") == std::string::npos) {  // the body's last field
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
  });
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::vector<std::string> args = {"backfill",  "--server", url,      "--api-key",
                                   "k",         "5",        "--from", "2024-01-08",
                                   "--timeout", "20",       "--tz",   "UTC"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStderr();
  const int status = RunBackfillClient(static_cast<int>(argv.size()), argv.data());
  const std::string err = ::testing::internal::GetCapturedStderr();
  rude.join();
  ::close(listener);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(err.rfind("wfp-host backfill: no answer from " + url + ": read failed", 0), 0u) << err;
}

TEST(BackfillArgs, ProjectAndWorkflowOrScheduleFlag) {
  BackfillArgs a;
  std::string error;
  ASSERT_TRUE(Parse({"etl", "daily_load", "--from", "2024-01-08", "--api-key", "k", "--dry-run"},
                    &a, &error))
      << error;
  EXPECT_EQ(a.project, "etl");
  EXPECT_EQ(a.workflow, "daily_load");
  EXPECT_EQ(a.schedule_id, "");
  EXPECT_TRUE(a.dry_run);
  ASSERT_TRUE(Parse({"--schedule", "12", "--from", "2024-01-08", "--api-key", "k"}, &a, &error))
      << error;
  EXPECT_EQ(a.schedule_id, "12");
  EXPECT_EQ(a.project, "");
  ASSERT_TRUE(Parse({"12", "--from", "2024-01-08", "--api-key", "k"}, &a, &error)) << error;
  EXPECT_EQ(a.schedule_id, "12");  // the older form
}

TEST(BackfillArgs, HelpShowsFromAsOptionalWithAdvance) {
  const std::string usage = BackfillUsage();
  EXPECT_EQ(usage.rfind("usage: wfp-host backfill PROJECT WORKFLOW [--from TIME]", 0), 0u) << usage;
  EXPECT_NE(usage.find("--schedule ID [--from TIME]"), std::string::npos);
  EXPECT_NE(usage.find("Required, except with --advance"), std::string::npos);
  EXPECT_NE(usage.find("workflow's time zone"), std::string::npos);
  // The --from forms docs/cli.md lists, all read by ConvertFromTime.
  for (const char* form : {"\"yyyy-MM-dd\"", "\"yyyy-MM-dd HH:mm:ss\"", "\"yyyy-MM-ddTHH:mm:ss\""})
    EXPECT_NE(usage.find(form), std::string::npos) << form;
}

TEST(BackfillFromTime, KnowsWhenAZoneIsNeeded) {
  EXPECT_TRUE(FromTimeNeedsZone("2024-01-08"));
  EXPECT_TRUE(FromTimeNeedsZone("2024-01-08 09:00:00"));
  EXPECT_TRUE(FromTimeNeedsZone("2024-01-08T09:00:00"));
  EXPECT_FALSE(FromTimeNeedsZone("2024-01-08T09:00:00Z"));
  EXPECT_FALSE(FromTimeNeedsZone("2024-01-08T09:00:00+09:00"));
  EXPECT_FALSE(FromTimeNeedsZone("2024-01-08T09:00:00-0530"));
}

TEST(BackfillFromTime, FixedOffsetZonesAsWorkflowsNameThem) {
  EXPECT_EQ(From("2024-01-08", "+05:30"), "2024-01-08T00:00:00+05:30");
  EXPECT_EQ(From("2024-01-08 01:00:00", "-0800"), "2024-01-08T01:00:00-08:00");
}

TEST(BackfillNames, GeneratedNamesAreFreshUuids) {
  const std::string a = GenerateAttemptName(), b = GenerateAttemptName();
  EXPECT_NE(a, b);
  for (const std::string& n : {a, b}) {
    ASSERT_EQ(n.size(), 36u) << n;
    EXPECT_EQ(n[14], '4') << n;
    EXPECT_NE(std::string("89ab").find(n[19]), std::string::npos) << n;
    EXPECT_EQ(n.find_first_not_of("0123456789abcdef-"), std::string::npos) << n;
  }
}

TEST(BackfillErrorMessage, SpeaksInTheClientsFlags) {
  EXPECT_EQ(InClientTerms("attemptName is required unless skipExisting is true"),
            "--name is required unless --skip-existing is true");
  EXPECT_EQ(InClientTerms("advanceSchedule requires skipExisting"),
            "--advance requires --skip-existing");
  EXPECT_EQ(InClientTerms("fromTime must have an offset"), "--from must have an offset");
  EXPECT_EQ(InClientTerms("count is set to 5 but there are only 3 attempts until the next "
                          "schedule time"),
            "count is set to 5 but there are only 3 attempts until the next schedule time");
  EXPECT_EQ(InClientTerms("count must be 0 or more"), "--count must be 0 or more");
  EXPECT_EQ(InClientTerms("unknown field 'fromTimes'"), "unknown field 'fromTimes'");
}

// A server that answers the lookups of PROJECT WORKFLOW, then the backfill.
class BackfillByName : public ::testing::Test {
 protected:
  BackfillByName()
      : server_({}, [this](HttpRequest&& r) {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(r);
          const std::string json_type = "application/json";
          if (r.target == "/api/projects?name=my%20etl")
            return HttpResponse{
                200, {{"content-type", json_type}}, R"({"projects":[{"id":"4","name":"my etl"}]})"};
          if (r.target == "/api/projects?name=none")
            return HttpResponse{200, {{"content-type", json_type}}, R"({"projects":[]})"};
          if (r.target == "/api/projects/4/schedules?workflow=load")
            return HttpResponse{200, {{"content-type", json_type}}, std::string(kSchedules)};
          if (r.target == "/api/projects/4/schedules?workflow=manual")
            return HttpResponse{200, {{"content-type", json_type}}, R"({"schedules":[]})"};
          if (r.target == "/api/schedules/5")
            return HttpResponse{200, {{"content-type", json_type}}, std::string(kSchedule)};
          return HttpResponse{
              200, {{"content-type", json_type}, {"etag", "\"p-9\""}}, std::string(kAnswer)};
        }) {}
  static constexpr std::string_view kSchedule =
      R"({"id":"5","project":{"id":"4","name":"my etl"},"workflow":{"id":"11","name":"load"},)"
      R"("nextRunTime":"2024-01-11T00:00:00Z","nextScheduleTime":"2024-01-11T00:00:00+09:00",)"
      R"("disabledAt":null,"timezone":"Asia/Tokyo"})";
  static constexpr std::string_view kSchedules =
      R"({"schedules":[{"id":"5","project":{"id":"4","name":"my etl"},"workflow":{"id":"11",)"
      R"("name":"load"},"nextRunTime":"2024-01-11T00:00:00Z","nextScheduleTime":)"
      R"("2024-01-11T00:00:00+09:00","disabledAt":null,"timezone":"Asia/Tokyo"}]})";

  struct Result {
    int status;
    std::string out, err;
  };
  Result Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"backfill", "--server", Url(), "--api-key", "k"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    const int status = RunBackfillClient(static_cast<int>(argv.size()), argv.data());
    return Result{status, ::testing::internal::GetCapturedStdout(),
                  ::testing::internal::GetCapturedStderr()};
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  std::vector<HttpRequest> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  std::mutex mu_;
  std::vector<HttpRequest> requests_;
  testing::TestServer server_;
};

TEST_F(BackfillByName, LooksUpTheScheduleAndReadsFromInItsZone) {
  auto r = Run({"my etl", "load", "--from", "2024-01-08", "--dry-run"});
  EXPECT_EQ(r.status, 0) << r.err;
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].target, "/api/projects/4/schedules?workflow=load");
  EXPECT_EQ(requests[2].target, "/api/schedules/5/backfill");
  const json::object body = json::parse(requests[2].body).as_object();
  EXPECT_EQ(body.at("fromTime"), "2024-01-08T00:00:00+09:00");
  EXPECT_EQ(body.at("dryRun"), true);
  const std::string name(body.at("attemptName").as_string());
  EXPECT_EQ(name.size(), 36u);
  EXPECT_EQ(r.out.rfind("attempt name: " + name + " (generated; give --name to choose one)\n", 0),
            0u)
      << r.out;
  EXPECT_NE(r.out.find("from: 2024-01-08T00:00:00+09:00 (2024-01-08 read in the workflow's time "
                       "zone, Asia/Tokyo)"),
            std::string::npos)
      << r.out;
  // The page link names the schedule that was looked up, the converted time and the name sent.
  EXPECT_NE(r.out.find("\nsee it: " + Url() +
                       "/ui/backfill#apiKey=k&schedule=5&from=2024-01-08T00:00:00%2B09:00&name=" +
                       name + "\n"),
            std::string::npos)
      << r.out;
}

TEST_F(BackfillByName, ScheduleIdFetchesTheZoneOnlyWhenNeeded) {
  auto r = Run({"--schedule", "5", "--from", "2024-01-08 09:00:00", "--name", "n"});
  EXPECT_EQ(r.status, 0) << r.err;
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/api/schedules/5");
  EXPECT_EQ(json::parse(requests[1].body).at("fromTime"), "2024-01-08T09:00:00+09:00");
  r = Run({"--schedule", "5", "--from", "2024-01-08T00:00:00Z", "--name", "n"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(Requests().size(), 3u);  // an offset needs no zone: the backfill only
  r = Run({"--schedule", "5", "--from", "2024-01-08", "--tz", "UTC", "--name", "n"});
  EXPECT_EQ(Requests().size(), 4u);  // --tz given: no lookup either
  EXPECT_EQ(json::parse(Requests().back().body).at("fromTime"), "2024-01-08T00:00:00+00:00");
}

TEST_F(BackfillByName, TzWinsOverTheWorkflowsZoneAndIsChecked) {
  auto r = Run({"my etl", "load", "--from", "2024-01-08", "--tz", "America/Los_Angeles", "--name",
                "n", "--dry-run"});
  EXPECT_EQ(r.status, 0) << r.err;
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(json::parse(requests[2].body).at("fromTime"), "2024-01-08T00:00:00-08:00");
  EXPECT_NE(r.out.find("from: 2024-01-08T00:00:00-08:00 (2024-01-08 read in "
                       "America/Los_Angeles, from --tz)\n"),
            std::string::npos)
      << r.out;
  // A zone that does not exist is refused before anything is asked, whatever the target and even
  // when --from has its own offset.
  for (std::vector<std::string> target :
       {std::vector<std::string>{"my etl", "load"}, std::vector<std::string>{"--schedule", "5"}}) {
    for (const char* from : {"2024-01-08", "2024-01-08T00:00:00Z"}) {
      std::vector<std::string> args = target;
      args.insert(args.end(), {"--from", from, "--tz", "Mars/Base", "--name", "n"});
      r = Run(args);
      EXPECT_EQ(r.status, 1) << from;
      EXPECT_EQ(r.err.rfind("wfp-host backfill: --tz: unknown time zone 'Mars/Base'", 0), 0u)
          << r.err;
    }
  }
  EXPECT_EQ(Requests().size(), 3u);
}

TEST_F(BackfillByName, TheDryRunsHintAppliesTheSamePlanWithTheGeneratedName) {
  auto r = Run({"--schedule", "5", "--from", "2024-01-08T00:00:00Z", "--dry-run"});
  EXPECT_EQ(r.status, 0) << r.err;
  const std::string name(json::parse(Requests().back().body).at("attemptName").as_string());
  EXPECT_NE(r.out.find("plan: \"p-9\" (apply exactly this plan with --name " + name +
                       " --if-match '\"p-9\"')\n"),
            std::string::npos)
      << r.out;
}

TEST_F(BackfillByName, UnknownProjectOrWorkflowWithoutScheduleAreClearErrors) {
  auto r = Run({"none", "load", "--from", "2024-01-08"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "wfp-host backfill: no project 'none' on " + Url() + " for this API key\n");
  r = Run({"my etl", "manual", "--from", "2024-01-08"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "wfp-host backfill: workflow 'manual' of project 'my etl' has no schedule (or no such "
            "workflow)\n");
  for (const auto& req : Requests()) EXPECT_EQ(req.method, "GET");  // nothing was posted
}

}  // namespace
}  // namespace wfp::host
