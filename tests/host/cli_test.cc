// wfp-host's command line, run as a subprocess as outside scripts run it (stub-host.md): call with
// a fixture, seed then dump, serve over a real socket, and the errors (stderr, non-zero exit).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wfp/plugin_abi.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

const std::string kHost = WFP_HOST_BINARY;
std::string Plugin(const std::string& name) {
  return std::string(WFP_TEST_PLUGIN_DIR) + "/libwfp_tp_" + name + ".so";
}

struct Result {
  int exit_code = -1;
  std::string out, err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "wfp-cli-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::ofstream(File(name), std::ios::binary) << content;
    return File(name);
  }

 private:
  std::string path_;
};

// Runs wfp-host with `args`, stdout and stderr captured through files.
Result RunHost(const std::vector<std::string>& args, const TempDir& dir) {
  const std::string out = dir.File("stdout"), err = dir.File("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> all = {kHost};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  Result r;
  if (posix_spawn(&pid, kHost.c_str(), &actions, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

boost::json::value Json(const std::string& text) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << "not JSON: " << text;
  return v;
}

constexpr const char* kFixture = R"({
  "sites": [{"id": 1, "apiKeys": ["k1"]}, {"id": 2, "apiKeys": ["k2"]}],
  "projects": [{"id": 1, "siteId": 1, "name": "etl"}],
  "workflows": [{"id": 11, "projectId": 1, "name": "load", "timezone": "Asia/Tokyo",
                 "schedule": {"daily>": "09:00:00"}, "poolId": "42"}],
  "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-11T00:00:00+09:00",
                 "nextRunTime": "2024-01-11T00:00:00Z", "lastSessionTime": null, "disabledAt": null}],
  "sessions": [{"id": 100, "projectId": 1, "workflowName": "load",
                "sessionTime": "2024-01-09T15:00:00Z", "uuid": "2b91a014-076e-4c6d-8b51-f4f91089cab2",
                "attempts": [{"id": 1000, "index": 1, "name": null, "status": "success", "params": {},
                              "createdAt": "2024-01-10T00:00:00Z", "finishedAt": "2024-01-10T00:10:00Z",
                              "poolId": null, "dependsOnSessionId": null}]}]
})";

class CliTest : public ::testing::Test {
 protected:
  CliTest() { fixture_ = dir_.Write("fixture.json", kFixture); }

  Result Call(std::vector<std::string> args) {
    std::vector<std::string> all = {"call",       "--db",      ":memory:", "--plugin",
                                    Plugin("ok"), "--fixture", fixture_};
    all.insert(all.end(), args.begin(), args.end());
    return RunHost(all, dir_);
  }

  TempDir dir_;
  std::string fixture_;
};

TEST_F(CliTest, CallPrintsStatusHeadersAndTheParsedBody) {
  Result r = Call({"--api-key", "k1", "GET", "/store/5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = Json(r.out);
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out.as_object().size(), 3u);
  EXPECT_EQ(out.at("status"), 200);
  EXPECT_EQ(out.at("headers").at("content-type"), "application/json");
  EXPECT_EQ(out.at("body"),
            Json(R"({"begin":0,"load":0,"project":"etl","workflow":"load","site":1})"));
}

TEST_F(CliTest, CallScopesTheStoreToTheKeysSite) {
  Result r = Call({"--api-key", "k2", "GET", "/store/5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json(r.out).at("body").at("load"), 2);  // WFP_ERR_NOT_FOUND for site 2
}

TEST_F(CliTest, CallAnswersErrorsWithExitZero) {
  Result r = Call({"GET", "/store/5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = Json(r.out);
  EXPECT_EQ(out.at("status"), 401);
  EXPECT_EQ(out.at("body").at("status"), 401);
  EXPECT_NE(std::string(out.at("headers").at("www-authenticate").as_string()).find("Bearer"),
            std::string::npos);
  r = Call({"--api-key", "wrong", "GET", "/store/5"});
  EXPECT_EQ(Json(r.out).at("status"), 401);
  EXPECT_EQ(r.err.find("wrong"), std::string::npos) << "a key was logged: " << r.err;
  r = Call({"--api-key", "k1", "GET", "/nothing"});
  EXPECT_EQ(Json(r.out).at("body"), Json(R"({"message":"Not found","status":404})"));
  r = Call({"--api-key", "k1", "POST", "/store/5"});
  EXPECT_EQ(Json(r.out).at("status"), 405);
  EXPECT_EQ(Json(r.out).at("headers").at("allow"), "GET, HEAD");
}

TEST_F(CliTest, CallSendsBodyHeadersSettingsAndTheFixedClock) {
  const std::string body = dir_.Write("body.json", R"({"hello": "world"})");
  Result r = Call({"--api-key", "k1", "--header", "X-Test: from-cli", "--setting", "ok.greeting=hi",
                   "--now", "2024-01-12T12:00:00+09:00", "POST", "/echo/someone", "@" + body});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto b = Json(r.out).at("body");
  EXPECT_EQ(b.at("name"), "someone");
  EXPECT_EQ(b.at("bodySize"), 18);
  EXPECT_EQ(b.at("xTest"), "from-cli");
  EXPECT_EQ(b.at("greeting"), "hi");
  EXPECT_EQ(b.at("nowMicros"), 1705028400LL * 1000000);
  EXPECT_EQ(b.at("site"), 1);
  // Inline body; an explicit non-JSON Content-Type is refused like serve would.
  r = Call({"--api-key", "k1", "--header", "Content-Type: text/plain", "POST", "/echo/x", "{}"});
  EXPECT_EQ(Json(r.out).at("status"), 415);
  r = Call({"--api-key", "k1", "POST", "/echo/x", std::string(70000, ' ')});
  EXPECT_EQ(Json(r.out).at("status"), 413);
}

TEST_F(CliTest, CallFaultsOfThePluginAre500WithExitZero) {
  Result r = RunHost({"call", "--db", ":memory:", "--plugin", Plugin("handler_throws"), "--fixture",
                      fixture_, "--api-key", "k1", "GET", "/fault"},
                     dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json(r.out).at("body"), Json(R"({"message":"Internal server error","status":500})"));
  EXPECT_NE(r.err.find("plugin handler_throws: GET /fault"), std::string::npos) << r.err;
}

// A body past the host's hold limit is written to stdout as the plugin streams it: the output is
// the same JSON object, without a content-length (docs/streaming.md).
TEST_F(CliTest, CallWritesAStreamedBodyAsItComes) {
  auto call = [&](const std::string& target) {
    return RunHost({"call", "--db", ":memory:", "--plugin", Plugin("streams"), "--fixture",
                    fixture_, "--api-key", "k1", "GET", target},
                   dir_);
  };
  Result r = call("/stream/3000000");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = Json(r.out);
  EXPECT_EQ(out.at("status"), 200);
  EXPECT_EQ(out.at("headers").at("content-type"), "application/json");
  EXPECT_FALSE(out.at("headers").as_object().contains("content-length"));
  EXPECT_EQ(out.at("body").at("fill").as_string().size(), 3000000u - 11);
  r = call("/stream-text/1000000");  // not JSON: one JSON string, written piece by piece
  ASSERT_EQ(r.exit_code, 0) << r.err;
  out = Json(r.out);
  EXPECT_EQ(out.at("body").as_string().size(), 1000000u);
  EXPECT_EQ(std::string(out.at("body").as_string()).substr(0, 9), "{\"fill\":\"");
  r = call("/stream/1000");  // small: held and written whole, with its length
  EXPECT_EQ(Json(r.out).at("headers").at("content-length"), "1000");
}

// HEAD is answered as GET without the body, as over HTTP: the same status and headers, the
// content-length of the body GET would have, and an empty body.
TEST_F(CliTest, CallAnswersHeadAsGetWithoutTheBody) {
  const Result get = Call({"--api-key", "k1", "GET", "/api/schedules/5"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  const Result head = Call({"--api-key", "k1", "HEAD", "/api/schedules/5"});
  ASSERT_EQ(head.exit_code, 0) << head.err;
  const auto got = Json(get.out), headed = Json(head.out);
  EXPECT_EQ(headed.at("status"), 200);
  EXPECT_EQ(headed.at("body"), "");
  EXPECT_EQ(headed.at("headers"), got.at("headers"));
  EXPECT_NE(got.at("headers").at("content-length"), "0");
  // A body the plugin would stream: nothing of it is written either.
  const Result streamed =
      RunHost({"call", "--db", ":memory:", "--plugin", Plugin("streams"), "--fixture", fixture_,
               "--api-key", "k1", "HEAD", "/stream/3000000"},
              dir_);
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_LT(streamed.out.size(), 1000u);
  EXPECT_EQ(Json(streamed.out).at("body"), "");
}

// The handler fails after its body began: stdout stops (not valid JSON), the exit status is 1 and
// stderr says the output is cut off.
TEST_F(CliTest, CallTellsAStreamCutOff) {
  Result r = RunHost({"call", "--db", ":memory:", "--plugin", Plugin("streams"), "--fixture",
                      fixture_, "--api-key", "k1", "GET", "/stream-fault/2000000"},
                     dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cut off"), std::string::npos) << r.err;
  boost::json::error_code ec;
  boost::json::parse(r.out, ec);
  EXPECT_TRUE(ec) << "a cut-off answer parsed as JSON";
  EXPECT_GT(r.out.size(), 1000000u);
}

TEST_F(CliTest, CallUsageErrorsExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"call", "--plugin", Plugin("ok"), "GET", "/ping"},
           {"call", "--db", ":memory:", "GET", "/ping"},
           {"call", "--db", ":memory:", "--plugin", Plugin("ok"), "GET"},
           {"call", "--db", ":memory:", "--plugin", Plugin("ok"), "GET", "ping"},
           {"call", "--db", ":memory:", "--plugin", Plugin("ok"), "--now", "yesterday", "GET",
            "/p"},
           {"call", "--db", ":memory:", "--plugin", Plugin("ok"), "--bogus", "GET", "/p"},
           {"call", "--db", ":memory:", "--plugin", Plugin("ok"), "--header", "novalue", "GET",
            "/p"},
           {"call", "--db", ":memory:", "--plugin", Plugin("ok"), "--setting", "=x", "GET", "/p"},
           {"nonsense"},
           {}}) {
    Result r = RunHost(args, dir_);
    EXPECT_EQ(r.exit_code, 2) << args.size();
    EXPECT_FALSE(r.err.empty());
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST_F(CliTest, CallRefusesABadPluginNamingTheFileAndReason) {
  const std::string not_lib = std::string(WFP_SOURCE_DIR) + "/tests/plugins/not_a_library.so";
  Result r = RunHost({"call", "--db", ":memory:", "--plugin", not_lib, "GET", "/ping"}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(not_lib), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a shared library"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(CliTest, SeedThenDumpRoundTrips) {
  const std::string db = dir_.File("store.db");
  Result r = RunHost({"seed", "--db", db, fixture_}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunHost({"dump", "--db", db}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto dump = Json(r.out);
  EXPECT_EQ(dump.at("sites").as_array().size(), 2u);
  EXPECT_EQ(dump.at("sites").at(0).at("apiKeys").as_array().size(), 0u);
  EXPECT_EQ(dump.at("sites").at(0).at("apiKeyCount"), 1);
  EXPECT_EQ(dump.at("schedules").at(0).at("nextScheduleTime"), "2024-01-10T15:00:00Z");
  EXPECT_EQ(dump.at("sessions").at(0).at("attempts").at(0).at("id"), 1000);
  EXPECT_EQ(r.out.find("k1"), std::string::npos) << "a key left the store";
  // The dump seeds an empty store to the same dump, keys aside (they never leave the store).
  const std::string copy = dir_.File("copy.db");
  const std::string dumped = dir_.Write("dump.json", r.out);
  ASSERT_EQ(RunHost({"seed", "--db", copy, dumped}, dir_).exit_code, 0);
  auto expected = dump;
  for (auto& site : expected.at("sites").as_array()) site.as_object()["apiKeyCount"] = 0;
  EXPECT_EQ(Json(RunHost({"dump", "--db", copy}, dir_).out), expected);
}

// A store file that cannot be opened is refused with the system's reason, not SQLite's alone
// ("unable to open database file" says neither that the directory is missing nor that it is not
// writable), and no command leaves anything behind.
TEST_F(CliTest, AStoreThatCannotBeOpenedSaysWhy) {
  const std::string missing = dir_.File("no-such-dir") + "/store.db";
  const std::vector<std::vector<std::string>> commands = {
      {"seed", "--db", missing, fixture_},
      {"call", "--db", missing, "--plugin", Plugin("ok"), "GET", "/ping"}};
  for (const std::vector<std::string>& args : commands) {
    const Result r = RunHost(args, dir_);
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_NE(r.err.find("cannot open the store " + missing), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(dir_.File("no-such-dir")));
}

// A key given twice in a fixture is refused with its path (the last would silently win).
TEST_F(CliTest, AFixtureWithAKeyGivenTwiceIsRefusedWithItsPath) {
  const std::string db = dir_.File("dup.db");
  const std::string dup = dir_.Write(
      "dup.json", R"({"sites": [{"id": 1, "apiKeys": ["k1"], "id": 2}], "projects": []})");
  Result r = RunHost({"seed", "--db", db, dup}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("$.sites[0].id: key given twice"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(db));
  r = RunHost(
      {"call", "--db", ":memory:", "--plugin", Plugin("ok"), "--fixture", dup, "GET", "/ping"},
      dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("key given twice"), std::string::npos) << r.err;
}

// A setting no loaded plugin reads (a typo) stops call and serve, naming the known settings.
TEST_F(CliTest, AnUnknownSettingStopsCallAndServe) {
  std::vector<std::string> commands = {"call", "serve"};
  for (const std::string& command : commands) {
    std::vector<std::string> args = {command,      "--db",      ":memory:",     "--plugin",
                                     Plugin("ok"), "--setting", "ok.greting=hi"};
    if (command == "call") {
      args.push_back("GET");
      args.push_back("/ping");
    } else {
      args.push_back("--listen=127.0.0.1:0");
    }
    Result r = RunHost(args, dir_);
    EXPECT_EQ(r.exit_code, 1) << command;
    EXPECT_NE(r.err.find("unknown setting 'ok.greting': the loaded plugins read ok.greeting"),
              std::string::npos)
        << command << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST_F(CliTest, ABadFixtureWritesNothing) {
  const std::string db = dir_.File("store.db");
  ASSERT_EQ(RunHost({"seed", "--db", db, fixture_}, dir_).exit_code, 0);
  const std::string before = RunHost({"dump", "--db", db}, dir_).out;
  const std::string bad =
      dir_.Write("bad.json", R"({"projects": [{"id": 7, "siteId": 1, "name": "p"}], "bogus": 1})");
  Result r = RunHost({"seed", "--db", db, bad}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bogus"), std::string::npos) << r.err;
  r = RunHost({"call", "--db", db, "--plugin", Plugin("ok"), "--fixture", bad, "GET", "/ping"},
              dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  r = RunHost({"seed", "--db", db, dir_.Write("notjson.json", "{nope")}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not JSON"), std::string::npos) << r.err;
  EXPECT_EQ(RunHost({"dump", "--db", db}, dir_).out, before);
  // A command that fails leaves no new store file behind.
  const std::string fresh = dir_.File("fresh.db");
  EXPECT_EQ(RunHost({"seed", "--db", fresh, bad}, dir_).exit_code, 1);
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(RunHost({"call", "--db", fresh, "--plugin", Plugin("wrong_major"), "GET", "/p"}, dir_)
                .exit_code,
            1);
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(RunHost({"dump", "--db", fresh}, dir_).exit_code, 1);
  EXPECT_FALSE(fs::exists(fresh));
}

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* command : {"call", "seed", "dump", "serve", "demo"}) {
    Result r = RunHost({command, "--help"}, dir_);
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_EQ(r.out.rfind(std::string("usage: wfp-host ") + command, 0), 0u) << r.out;
  }
  Result r = RunHost({"--help"}, dir_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("commands:"), std::string::npos);
  r = RunHost({"backfill", "--help"}, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CliTest, CallServesTheOpenApiDocumentWithoutAKey) {
  Result r = Call({"GET", "/api/openapi.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = Json(r.out);
  EXPECT_EQ(out.at("status"), 200);
  EXPECT_EQ(out.at("headers").at("content-type"), "application/json");
  const auto& body = out.at("body");
  ASSERT_TRUE(body.is_object()) << r.out.substr(0, 200);
  EXPECT_EQ(std::string(body.at("openapi").as_string()).rfind("3.1.", 0), 0u);
  // Exactly the document in the source tree (the one it was built with).
  EXPECT_EQ(body, Json(Slurp(std::string(WFP_SOURCE_DIR) + "/openapi/openapi.json")));
  r = Call({"--api-key", "k1", "POST", "/api/openapi.json", "{}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json(r.out).at("status"), 405);
  EXPECT_EQ(Json(r.out).at("headers").at("allow"), "GET, HEAD");
}

TEST_F(CliTest, VersionNamesTheHostAndItsPluginAbi) {
  Result r = RunHost({"--version"}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first, std::string("wfp-host ") + WFP_PROJECT_VERSION);  // CMake's project(VERSION)
  EXPECT_EQ(second, "plugin ABI " + std::to_string(WFP_ABI_VERSION_MAJOR) + "." +
                        std::to_string(WFP_ABI_VERSION_MINOR) + " (accepts plugins of ABI " +
                        std::to_string(WFP_ABI_VERSION_MAJOR) + ".0 to " +
                        std::to_string(WFP_ABI_VERSION_MAJOR) + "." +
                        std::to_string(WFP_ABI_VERSION_MINOR) + ")");
  r = RunHost({"--help"}, dir_);
  EXPECT_NE(r.out.find("--version"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  plugins "), std::string::npos) << r.out;
}

TEST_F(CliTest, PluginsListsEachPluginAndItsRoutes) {
  Result r = RunHost({"plugins", "--plugin", Plugin("ok")}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ok 1.0.0 (ABI " + std::to_string(WFP_ABI_VERSION_MAJOR) + "." +
                std::to_string(WFP_ABI_VERSION_MINOR) + ") from " + Plugin("ok") +
                "\n  GET /ping\n  POST /echo/{name}\n  GET /store/{id}\n  setting ok.greeting\n");
#ifdef WFP_BACKFILL_PLUGIN
  r = RunHost({"plugins", "--plugin", WFP_BACKFILL_PLUGIN, "--plugin", Plugin("ok")}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("backfill ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(std::string(" from ") + WFP_BACKFILL_PLUGIN + "\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\n  POST /api/schedules/{id}/backfill\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nok 1.0.0 "), std::string::npos) << r.out;
#endif
}

#ifdef WFP_BACKFILL_PLUGIN
// The backfill plugin's descriptor carries CMake's project(VERSION), as `wfp-host --version` does.
TEST_F(CliTest, BackfillPluginReportsTheProjectVersion) {
  Result r = RunHost({"plugins", "--plugin", WFP_BACKFILL_PLUGIN}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(std::string("backfill ") + WFP_PROJECT_VERSION + " (ABI ", 0), 0u) << r.out;
}
#endif

TEST_F(CliTest, PluginsRefusalExitsOneAndUsageErrorsTwo) {
  Result r =
      RunHost({"plugins", "--plugin", Plugin("ok"), "--plugin", Plugin("wrong_major")}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find(Plugin("wrong_major")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ABI major"), std::string::npos) << r.err;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"plugins", "--plugin", Plugin("ok"), "extra"}, {"plugins", "--db", "x"}}) {
    r = RunHost(args, dir_);
    EXPECT_EQ(r.exit_code, 2) << args.size();
    EXPECT_FALSE(r.err.empty());
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  r = RunHost({"plugins", "--help"}, dir_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("usage: wfp-host plugins", 0), 0u) << r.out;
  // Without --plugin: what the search path has (here the build tree's lib/, beside bin/).
  r = RunHost({"plugins"}, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("backfill ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("/lib/libwfp_backfill.so\n"), std::string::npos) << r.out;
  // A bare name is looked up there too; an unknown one says where it looked.
  r = RunHost({"plugins", "--plugin", "backfill"}, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = RunHost({"plugins", "--plugin", "nosuch"}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no plugin 'nosuch' on the plugin search path"), std::string::npos) << r.err;
}

// Without --plugin, a file on the search path that is not a plugin is reported (its path and the
// reason, on stderr) and the others are still listed, with exit status 1; a plugin name found again
// later on the path is not loaded, with a warning naming both files.
TEST_F(CliTest, PluginsListsTheGoodOnesAndReportsEachBadFile) {
  const fs::path a = dir_.File("a"), b = dir_.File("b");
  fs::create_directories(a);
  fs::create_directories(b);
  fs::copy_file(Plugin("no_entry"), a / "libz.so");
  fs::copy_file(Plugin("ok"), a / "libwfp_tp_ok.so");
  fs::copy_file(Plugin("ok"), b / "libwfp_tp_ok.so");  // the same file name
  fs::copy_file(Plugin("ok_copy"), b / "tp_ok.so");    // the same name for --plugin
  ::setenv("WFP_PLUGIN_PATH", (a.string() + ":" + b.string()).c_str(), 1);
  const Result r = RunHost({"plugins"}, dir_);
  ::unsetenv("WFP_PLUGIN_PATH");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out.rfind("ok 1.0.0 (ABI ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" from " + (a / "libwfp_tp_ok.so").string() + "\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("backfill "), std::string::npos) << r.out;  // the build tree's lib/
  EXPECT_EQ(r.out.find(b.string()), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("wfp-host plugins: plugin " + (a / "libz.so").string() +
                       " refused: no entry point"),
            std::string::npos)
      << r.err;
  for (const char* hidden : {"libwfp_tp_ok.so", "tp_ok.so"})
    EXPECT_NE(r.err.find("wfp-host plugins: warning: " + (b / hidden).string() + " is hidden by " +
                         (a / "libwfp_tp_ok.so").string()),
              std::string::npos)
        << r.err;
}

// Every error line is "wfp-host COMMAND: ..." and says why: a file that cannot be read names the
// system's reason.
TEST_F(CliTest, ErrorsNameTheCommandAndTheReason) {
  const std::string missing = dir_.File("nonexist.json");
  Result r = RunHost({"seed", "--db", dir_.File("s.db"), missing}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "wfp-host seed: cannot read " + missing + ": No such file or directory\n");
  r = Call({"--api-key", "k1", "POST", "/echo/x", "@" + missing});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "wfp-host call: cannot read " + missing + ": No such file or directory\n");
  r = RunHost({"seed", "--db", dir_.File("s.db"), dir_.File("")}, dir_);  // a directory
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("wfp-host seed: cannot read " + dir_.File("") + ": ", 0), 0u) << r.err;
}

// demo's --db is a file to keep: a throw-away store is not one (leave --db out for that).
TEST_F(CliTest, DemoRefusesAMemoryStore) {
  const Result r = RunHost({"demo", "--db", ":memory:", "--listen", "127.0.0.1:0"}, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err.rfind("wfp-host demo: --db :memory: is not a file", 0), 0u) << r.err;
}

// The synopsis block of a document (the code block with the `wfp-host --version` line): each
// command's lines (`wfp-host CMD ...` and the indented lines after it), joined.
std::map<std::string, std::string> Synopses(const std::string& doc) {
  std::istringstream in(Slurp(std::string(WFP_SOURCE_DIR) + "/" + doc));
  std::vector<std::string> block;
  bool inside = false, found = false;
  for (std::string line; !found && std::getline(in, line);) {
    if (line.rfind("```", 0) == 0) {
      inside = !inside;
      if (!inside) {
        for (const std::string& l : block) found = found || l.rfind("wfp-host --version", 0) == 0;
        if (!found) block.clear();
      }
    } else if (inside) {
      block.push_back(line);
    }
  }
  std::map<std::string, std::string> out;
  std::string command;
  for (const std::string& line : block) {
    if (line.rfind("wfp-host ", 0) == 0) command = line.substr(9, line.find(' ', 9) - 9);
    if (!command.empty()) out[command] += line + "\n";
  }
  return out;
}

// Every --flag in `text`, in order.
std::vector<std::string> Flags(const std::string& text) {
  std::vector<std::string> flags;
  for (size_t at = text.find("--"); at != std::string::npos; at = text.find("--", at + 2)) {
    size_t end = at + 2;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '-'))
      ++end;
    if (end > at + 2) flags.push_back(text.substr(at, end - at));
  }
  return flags;
}

// The synopses of README.md and docs/cli.md list every flag the command's --help shows in its
// usage lines (backfill: every option of its --help, in README's synopsis).
TEST_F(CliTest, SynopsesListEveryFlagTheHelpShows) {
  for (const char* doc : {"README.md", "docs/cli.md"}) {
    const auto synopses = Synopses(doc);
    for (const char* command : {"serve", "call", "seed", "dump", "demo", "plugins", "backfill"}) {
      const Result help = RunHost({command, "--help"}, dir_);
      std::string listed = help.out.substr(0, help.out.find("\n\n"));
      if (std::string(command) == "backfill") {
        if (std::string(doc) == "docs/cli.md") continue;  // `[options]`, described below it
        listed.clear();
        std::istringstream lines(help.out);
        for (std::string line; std::getline(lines, line);)
          if (line.rfind("  --", 0) == 0 && line.rfind("  --help", 0) != 0) listed += line + "\n";
      }
      ASSERT_TRUE(synopses.count(command)) << doc << ": no synopsis of " << command;
      for (const std::string& flag : Flags(listed)) {
        EXPECT_NE(synopses.at(command).find(flag), std::string::npos)
            << doc << ": the synopsis of " << command << " misses " << flag;
      }
      if (std::string(command) == "call") {  // repeatable, as --help says
        EXPECT_NE(synopses.at(command).find("[--plugin ...]"), std::string::npos) << doc;
      }
    }
  }
}

// A server process: started with `args`, its stdout and stderr in files.
struct ServerProcess {
  pid_t pid = -1;
  std::string out, err;
  int port = 0;
};

// Starts wfp-host and waits for its "listening on http://127.0.0.1:PORT" first line.
void StartServer(std::vector<std::string> all, const TempDir& dir, ServerProcess* p) {
  p->out = dir.File("serve.out");
  p->err = dir.File("serve.err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, p->out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, p->err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  all.insert(all.begin(), kHost);
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  ASSERT_EQ(posix_spawn(&p->pid, kHost.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  std::string line;
  for (int i = 0; i < 3000 && line.find('\n') == std::string::npos; ++i) {
    usleep(10000);
    line = Slurp(p->out);
    int status;
    if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
      p->pid = -1;
      FAIL() << "the server exited: " << Slurp(p->err);
    }
  }
  const std::string prefix = "listening on http://127.0.0.1:";
  ASSERT_EQ(line.rfind(prefix, 0), 0u) << line << Slurp(p->err);
  p->port = std::stoi(line.substr(prefix.size()));
}

// Sends one HTTP/1.1 request (Connection: close) and returns the whole raw response.
std::string HttpExchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return "";
  }
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) response.append(buf, n);
  close(fd);
  return response;
}

// SIGTERM, then the exit status (0 expected).
int StopServer(ServerProcess* p) {
  if (p->pid < 0) return -1;
  kill(p->pid, SIGTERM);
  int status = 0;
  waitpid(p->pid, &status, 0);
  p->pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(CliTest, ServeAnswersOverHttpAndStopsOnSigterm) {
  ServerProcess server;
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"serve", "--db", ":memory:", "--plugin", Plugin("ok"), "--fixture", fixture_,
                   "--listen", "127.0.0.1:0", "--threads", "2"},
                  dir_, &server));
  std::string response = HttpExchange(
      server.port,
      "GET /store/5 HTTP/1.1\r\nHost: x\r\nX-API-Key: k1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find(R"("project":"etl")"), std::string::npos) << response;
  response =
      HttpExchange(server.port, "GET /store/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 401", 0), 0u) << response;
  EXPECT_EQ(StopServer(&server), 0) << Slurp(server.err);
}

TEST_F(CliTest, ServeRollsBackATransactionAHandlerLeftOpen) {
  for (const char* db : {":memory:", "file"}) {
    SCOPED_TRACE(db);
    const std::string path = std::string(db) == "file" ? dir_.File("leak.db") : db;
    ServerProcess server;
    ASSERT_NO_FATAL_FAILURE(StartServer(
        {"serve", "--db", path, "--plugin", Plugin("ok"), "--plugin", Plugin("handler_leaks_txn"),
         "--fixture", fixture_, "--listen", "127.0.0.1:0", "--threads", "1"},
        dir_, &server));
    const std::string auth = "Host: x\r\nX-API-Key: k1\r\nConnection: close\r\n\r\n";
    std::string response = HttpExchange(server.port, "GET /fault HTTP/1.1\r\n" + auth);
    EXPECT_EQ(response.rfind("HTTP/1.1 500", 0), 0u) << response;
    // The store is usable again at once: the next transaction begins (no lock, no nesting).
    response = HttpExchange(server.port, "GET /store/5 HTTP/1.1\r\n" + auth);
    EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
    EXPECT_NE(response.find(R"({"begin":0,"load":0,)"), std::string::npos) << response;
    EXPECT_EQ(StopServer(&server), 0) << Slurp(server.err);
    EXPECT_NE(Slurp(server.err)
                  .find("the handler left a store transaction open (rolled back); answered 500"),
              std::string::npos);
  }
}

#ifdef WFP_BACKFILL_PLUGIN
// The demo serves the backfill plugin on its example store; its first printed example works.
TEST_F(CliTest, DemoServesItsPrintedExample) {
  ServerProcess server;
  ASSERT_NO_FATAL_FAILURE(StartServer({"demo", "--plugin", WFP_BACKFILL_PLUGIN, "--listen",
                                       "127.0.0.1:0", "--now", "2024-01-12T03:00:00Z"},
                                      dir_, &server));
  std::string printed;
  for (int i = 0; i < 3000 && printed.find("Ctrl-C") == std::string::npos; ++i) {
    usleep(10000);
    printed = Slurp(server.out);
  }
  // The first example: its body after -d '...'.
  const size_t curl =
      printed.find("curl -s -X POST http://127.0.0.1:" + std::to_string(server.port) +
                   "/api/schedules/1/backfill -H 'Authorization: Bearer demo-key'");
  ASSERT_NE(curl, std::string::npos) << printed;
  const size_t d = printed.find("-d '", curl) + 4;
  const std::string body = printed.substr(d, printed.find('\'', d) - d);
  EXPECT_EQ(body,
            R"({"fromTime":"2024-01-10T00:00:00+09:00","attemptName":"demo-fix","dryRun":true})");
  const std::string response =
      HttpExchange(server.port,
                   "POST /api/schedules/1/backfill HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                   "demo-key\r\nContent-Type: application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find(R"("sessionTime":"2024-01-10T00:00:00+09:00")"), std::string::npos)
      << response;
  // The temporary store it named is removed at exit.
  const size_t store = printed.find("store ") + 6;
  const std::string db = printed.substr(store, printed.find(' ', store) - store);
  EXPECT_TRUE(fs::exists(db)) << db;
  EXPECT_EQ(StopServer(&server), 0) << Slurp(server.err);
  EXPECT_FALSE(fs::exists(db)) << db;
}
#endif

TEST_F(CliTest, ServeRefusesABadPluginBeforeListening) {
  Result r = RunHost(
      {"serve", "--db", ":memory:", "--plugin", Plugin("wrong_major"), "--listen", "127.0.0.1:0"},
      dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("built for ABI major 2"), std::string::npos) << r.err;
  // Said once: by the command, not also by the host's log.
  EXPECT_EQ(r.err.find("built for ABI major 2"), r.err.rfind("built for ABI major 2")) << r.err;
}

// A port something else listens on, held while the object lives: binding to it fails.
class TakenPort {
 public:
  TakenPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 1);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~TakenPort() { close(fd_); }
  std::string Listen() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A serve or demo that cannot listen leaves no store file it created (a failing command leaves
// the store as it was); a store that was there before stays.
TEST_F(CliTest, ServeThatCannotListenLeavesNoNewStore) {
  const TakenPort taken;
  const std::string fresh = dir_.File("fresh.db");
  Result r = RunHost({"serve", "--db", fresh, "--plugin", Plugin("ok"), "--fixture", fixture_,
                      "--listen", taken.Listen()},
                     dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("wfp-host: cannot listen on " + taken.Listen()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_FALSE(fs::exists(fresh + "-wal"));
  const std::string kept = dir_.File("kept.db");
  ASSERT_EQ(RunHost({"seed", "--db", kept, fixture_}, dir_).exit_code, 0);
  r = RunHost({"serve", "--db", kept, "--plugin", Plugin("ok"), "--listen", taken.Listen()}, dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(fs::exists(kept));
  // The operations listener (--ops-listen) is bound before anything serves, in the same way.
  r = RunHost({"serve", "--db", fresh, "--plugin", Plugin("ok"), "--fixture", fixture_, "--listen",
               "127.0.0.1:0", "--ops-listen", taken.Listen()},
              dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;  // not even the main listener's line
  EXPECT_NE(r.err.find("wfp-host: cannot listen on " + taken.Listen() + " (--ops-listen)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(fresh));
#ifdef WFP_BACKFILL_PLUGIN
  const std::string demo = dir_.File("demo.db");
  r = RunHost({"demo", "--db", demo, "--plugin", WFP_BACKFILL_PLUGIN, "--listen", taken.Listen()},
              dir_);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(demo));
#endif
}

// --ops-listen HOST:PORT: a malformed address, or the one --listen has, is a usage error that names
// the flag (exit 2, before anything is opened).
TEST_F(CliTest, ServeRefusesABadOpsListenNamingTheFlag) {
  const std::string db = dir_.File("ops.db");
  auto serve = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"serve", "--db", db, "--plugin", Plugin("ok")};
    args.insert(args.end(), more.begin(), more.end());
    return RunHost(args, dir_);
  };
  for (const char* bad : {"nonsense", "127.0.0.1:65536", "[::1]", ":8081"}) {
    const Result r = serve({"--listen", "127.0.0.1:0", "--ops-listen", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.err.rfind(
                  "wfp-host serve: --ops-listen: bad listen address '" + std::string(bad) + "'", 0),
              0u)
        << r.err;
  }
  Result r = serve({"--listen", "127.0.0.1:18089", "--ops-listen", "127.0.0.1:18089"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("wfp-host serve: --ops-listen 127.0.0.1:18089 is the --listen address", 0),
            0u)
      << r.err;
  r = serve({"--listen", "127.0.0.1:0", "--ops-listen"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("wfp-host serve: --ops-listen needs a value", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(db));
}

}  // namespace
