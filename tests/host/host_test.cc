// The host runtime against the tiny test plugins: every load-time refusal and handler fault,
// routing, authentication and the request view. After each refusal or fault the host must go on
// serving.
#include "runtime/host.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <set>
#include <thread>

#include "runtime/fatal_signal.h"
#include "test_support.h"

namespace wfp::host::testing {
namespace {

boost::json::value Json(const std::string& text) { return boost::json::parse(text); }

// zlib window bits: gzip, the zlib format (HTTP's "deflate"), raw deflate (sent by some clients).
constexpr int kGzip = 16 + MAX_WBITS, kZlib = MAX_WBITS, kRawDeflate = -MAX_WBITS;

std::string Compress(const std::string& data, int window_bits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

const std::string* Header(const HttpResponse& r, std::string_view name) {
  return FindHeader(r.headers, name);
}

class HostTest : public ::testing::Test {
 protected:
  HostTest() : host_(TestOptions(&log_)) { EXPECT_TRUE(IsOk(host_.LoadPlugin(PluginPath("ok")))); }

  // The ok plugin still answers: the host keeps serving.
  void ExpectStillServing() {
    HttpResponse r = host_.Handle(Get("/ping"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Json(r.body), Json(R"({"pong":true})"));
  }

  // Loading `name` is refused with a message naming the file and containing `reason`.
  void ExpectRefused(const std::string& path, const std::string& reason) {
    const size_t routes = host_.route_count();
    const Status refused = host_.LoadPlugin(path);
    const std::string& error = refused.message();
    EXPECT_FALSE(refused.ok());
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("refused"), std::string::npos) << error;
    EXPECT_NE(error.find(reason), std::string::npos) << error;
    EXPECT_FALSE(log_.Contains(error))
        << log_.All();  // the Status reports it: the caller prints it
    EXPECT_EQ(host_.plugin_count(), 1u);
    EXPECT_EQ(host_.route_count(), routes);
    ExpectStillServing();
  }

  // GET /fault of plugin `name` is answered 500 with the generic body, and logged with `reason`.
  void ExpectFault(const std::string& name, const std::string& reason,
                   const std::string& target = "/fault") {
    std::string error;
    ASSERT_TRUE(IsOk(host_.LoadPlugin(PluginPath(name))));
    HttpResponse r = host_.Handle(Get(target));
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(Json(r.body), Json(R"({"message":"Internal server error","status":500})"));
    ASSERT_NE(Header(r, "content-type"), nullptr);
    EXPECT_EQ(*Header(r, "content-type"), "application/json");
    EXPECT_TRUE(log_.Contains("plugin " + name + ": GET " + target)) << log_.All();
    EXPECT_TRUE(log_.Contains(reason)) << log_.All();
    // One line for the fault, naming the request once.
    EXPECT_EQ(log_.Count(reason), 1) << log_.All();
    const std::string line = log_.Line(reason);
    EXPECT_EQ(line.find("(request "), line.rfind("(request ")) << line;
    EXPECT_NE(line.find("(request "), std::string::npos) << line;
    ExpectStillServing();
    // And the same fault again: the host is not left in a bad state.
    EXPECT_EQ(host_.Handle(Get(target)).status, 500);
  }

  CapturedLog log_;
  Host host_;
};

TEST_F(HostTest, ServesTheOkPlugin) {
  EXPECT_EQ(host_.plugin_count(), 1u);
  EXPECT_EQ(host_.route_count(), 3u);
  EXPECT_TRUE(log_.Contains("[INFO] ok: ok plugin ready")) << log_.All();
  EXPECT_TRUE(log_.Contains("loaded plugin ok 1.0.0")) << log_.All();
  ExpectStillServing();
}

TEST_F(HostTest, RefusesATextFile) {
  ExpectRefused(std::string(WFP_SOURCE_DIR) + "/tests/plugins/not_a_library.so",
                "not a shared library");
}

TEST_F(HostTest, RefusesAMissingFile) {
  ExpectRefused(std::string(WFP_TEST_PLUGIN_DIR) + "/libdoes_not_exist.so", "no such file");
}

TEST_F(HostTest, RefusesADirectory) {
  ExpectRefused(std::string(WFP_TEST_PLUGIN_DIR), "is a directory");
}

TEST_F(HostTest, RefusesALibraryWithoutEntryPoint) {
  ExpectRefused(PluginPath("no_entry"), "no entry point wfp_plugin_entry_v1");
}

TEST_F(HostTest, RefusesALibraryOfTheNextMajorByItsEntryPoint) {
  ExpectRefused(PluginPath("next_major_only"),
                "exports wfp_plugin_entry_v2: built for ABI major 2; this host speaks ABI major 1");
}

TEST_F(HostTest, RefusesADescriptorOfAnotherMajor) {
  ExpectRefused(PluginPath("wrong_major"), "built for ABI major 2; this host speaks ABI major 1");
}

TEST_F(HostTest, RefusesAPluginNeedingANewerMinor) {
  ExpectRefused(
      PluginPath("newer_minor"),
      fmt::format("needs ABI {}.{}, newer than this host's {}.{}", WFP_ABI_VERSION_MAJOR,
                  WFP_ABI_VERSION_MINOR + 1, WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MINOR));
}

TEST_F(HostTest, RefusesAShortDescriptor) {
  ExpectRefused(PluginPath("short_descriptor"), "descriptor struct_size 8 is smaller");
}

TEST_F(HostTest, RefusesAPluginWhoseInitFailsAndDropsItsRoutes) {
  ExpectRefused(PluginPath("init_fails"), "its init failed (returned 3)");
  EXPECT_TRUE(log_.Contains("[ERROR] init_fails: init_fails: refusing to start")) << log_.All();
  EXPECT_EQ(host_.Handle(Get("/init-fails")).status, 404);  // the route registered in init is gone
}

TEST_F(HostTest, RefusesAPluginRegisteringARouteTwice) {
  ExpectRefused(PluginPath("route_twice"), "registers route GET /twice twice");
  EXPECT_EQ(host_.Handle(Get("/twice")).status, 404);
}

TEST_F(HostTest, RefusesAPluginWhoseRouteAnotherPluginHas) {
  ExpectRefused(PluginPath("ok_copy"),
                "its init failed (returned 1); route GET /ping is registered already by plugin ok");
}

TEST_F(HostTest, RefusesTheSameLibraryTwice) {
  ExpectRefused(PluginPath("ok"), "the same library is loaded already (as plugin ok");
}

TEST_F(HostTest, RefusesRouteRegistrationOutsideInit) {
  ASSERT_TRUE(IsOk(host_.LoadPlugin(PluginPath("route_outside_init"))));
  HttpResponse r = host_.Handle(Get("/late"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r.body), Json(R"({"registerStatus":5})"));  // WFP_ERR_STATE
  EXPECT_EQ(host_.Handle(Get("/later")).status, 404);
  EXPECT_TRUE(log_.Contains("plugin route_outside_init tried to register a route outside its init"))
      << log_.All();
  ExpectStillServing();
}

TEST_F(HostTest, AHandlerThatDoesNotAnswerIs500) {
  ExpectFault("handler_no_answer", "the handler returned without answering");
}

TEST_F(HostTest, AHandlerThatAnswersTwiceIs500) {
  ExpectFault("handler_answers_twice", "answered twice");
}

TEST_F(HostTest, AHandlerAnsweringABadStatusIs500) {
  ExpectFault("handler_bad_status", "answered status 99, outside 100..599");
}

// A plugin that crashes takes the process with it (it runs in it), but the host's last words name
// the plugin, the route and the request; the signal then ends the process as it would have.
TEST_F(HostTest, AHandlerThatCrashesIsNamedAsTheHostDies) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        InstallFatalSignalNote();
        if (host_.LoadPlugin(PluginPath("handler_crashes")).ok()) host_.Handle(Get("/fault"));
      },
      "wfp-host: fatal signal SIGSEGV in plugin handler_crashes, route GET /fault \\(request "
      "[0-9a-f]+\\); the process ends");
}

TEST_F(HostTest, APluginThatCrashesInInitIsNamedAsTheHostDies) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        InstallFatalSignalNote();
        setenv("WFP_TP_CRASH_IN_INIT", "1", 1);
        (void)host_.LoadPlugin(PluginPath("handler_crashes"));
      },
      "fatal signal SIGSEGV in plugin handler_crashes during its init \\(.*"
      "libwfp_tp_handler_crashes.so\\)");
}

TEST(FatalSignalNote, SaysWhenNoPluginWasRunning) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        InstallFatalSignalNote();
        std::abort();
      },
      "wfp-host: fatal signal SIGABRT outside any plugin call; the process ends");
}

// A refused call is the fault: the plugin's valid answer after it is refused too (WFP_ERR_STATE),
// so the plugin learns that its answer does not go out.
TEST_F(HostTest, AnAnswerAfterARefusedOneIsRefusedToo) {
  ExpectFault("handler_bad_status", "answered status 99, outside 100..599");
  EXPECT_TRUE(log_.Contains("then respond returned 5")) << log_.All();
  // The plugin named the request itself: the host's log does not add the id a second time.
  const std::string line = log_.Line("then respond returned 5");
  EXPECT_EQ(line.find("(request "), std::string::npos) << line;
  EXPECT_FALSE(log_.Contains("then respond returned 0")) << log_.All();
}

TEST_F(HostTest, AHandlerReturningNonZeroIs500) {
  ExpectFault("handler_nonzero", "the handler returned 7");
}

TEST_F(HostTest, AHandlerThrowingAStdExceptionIs500) {
  ExpectFault("handler_throws", "the handler threw an exception: handler_throws: deliberate");
}

TEST_F(HostTest, AHandlerThrowingAnythingIs500) {
  ExpectFault("handler_throws", "the handler threw an exception", "/fault-int");
}

TEST_F(HostTest, AnAnswerFromAnotherThreadIs500) {
  ExpectFault("handler_foreign_thread", "called respond from another thread than the handler's");
}

// A call kept past its handler (the ABI forbids it) is refused, and does not answer the request
// running when it is used: each handler's call is its own, finished once the handler returned.
TEST_F(HostTest, ACallKeptPastItsHandlerIsRefusedAndAnswersNoOtherRequest) {
  ASSERT_TRUE(IsOk(host_.LoadPlugin(PluginPath("handler_keeps_call"))));
  HttpResponse first = host_.Handle(Get("/fault"));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(Json(first.body), Json(R"({"kept":true})"));
  for (int i = 0; i < 3; ++i) {
    HttpResponse next = host_.Handle(Get("/fault"));
    EXPECT_EQ(next.status, 200) << next.body;
    EXPECT_EQ(Json(next.body), Json(R"({"staleRespond":5})"));  // WFP_ERR_STATE
  }
  EXPECT_EQ(log_.Count("plugin handler_keeps_call used a call after its handler returned"), 3)
      << log_.All();
  ExpectStillServing();
}

TEST_F(HostTest, ATransactionLeftOpenIsRolledBackAnd500) {
  const int rollbacks = Stats().rollbacks.load();
  ExpectFault("handler_leaks_txn", "the handler left a store transaction open (rolled back)");
  EXPECT_EQ(Stats().rollbacks.load(), rollbacks + 2);
  EXPECT_EQ(log_.Count("rolled back"), 2) << log_.All();  // one line for each of the two calls
  // The pooled connection is usable again: the next transaction begins.
  HttpResponse r = host_.Handle(Get("/store/5"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r.body),
            Json(R"({"begin":0,"load":0,"project":"etl","workflow":"load","site":1})"));
}

TEST_F(HostTest, UnknownPathIs404) {
  HttpResponse r = host_.Handle(Get("/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"message":"Not found","status":404})");
  EXPECT_EQ(host_.Handle(Get("/ping/")).status, 404);
  EXPECT_EQ(host_.Handle(Get("/ping/extra")).status, 404);
  EXPECT_EQ(host_.Handle(Get("/echo/x")).status, 405);  // path known, method not
}

TEST_F(HostTest, OtherMethodOnAKnownPathIs405WithAllow) {
  HttpResponse r = host_.Handle(Post("/ping", "{}"));
  EXPECT_EQ(r.status, 405);
  ASSERT_NE(Header(r, "allow"), nullptr);
  EXPECT_EQ(*Header(r, "allow"), "GET, HEAD");  // HEAD is served wherever GET is
  EXPECT_EQ(Json(r.body).at("status"), 405);
  r = host_.Handle(Get("/echo/abc"));
  ASSERT_NE(Header(r, "allow"), nullptr);
  EXPECT_EQ(*Header(r, "allow"), "POST");
}

// The metrics and the access log name a 405 by the route its path matched (another method's), not
// as unmatched: a client calling a route with the wrong method shows under that route.
TEST_F(HostTest, A405CarriesTheTemplateOfThePathItMatched) {
  EXPECT_EQ(host_.Handle(Post("/ping", "{}")).route, "/ping");
  EXPECT_EQ(host_.Handle(Get("/echo/abc")).route, "/echo/{name}");
  EXPECT_EQ(host_.Precheck(Get("/echo/a", "k1"))->route, "/echo/{name}");
  EXPECT_EQ(host_.Handle(Get("/nope")).route, "");  // a 404 matched nothing
}

TEST_F(HostTest, TheQueryStringIsNotPartOfThePath) {
  EXPECT_EQ(host_.Handle(Get("/ping?x=1")).status, 200);
}

TEST_F(HostTest, NoKeyIs401WithWwwAuthenticate) {
  HttpResponse r = host_.Handle(Get("/ping", ""));
  EXPECT_EQ(r.status, 401);
  ASSERT_NE(Header(r, "www-authenticate"), nullptr);
  EXPECT_EQ(Header(r, "www-authenticate")->rfind("Bearer", 0), 0u);
  EXPECT_EQ(Json(r.body).at("status"), 401);
}

// ABI 1.2: a route registered with WFP_ROUTE_PUBLIC is served without a key, as site 0, and still
// without the caller's credentials; its neighbours stay authenticated.
TEST_F(HostTest, APublicRouteIsServedWithoutAKeyAsSiteZero) {
  ASSERT_TRUE(IsOk(host_.LoadPlugin(PluginPath("public_route"))));
  HttpResponse r = host_.Handle(Get("/public/x", ""));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body), Json(R"({"site":0,"sawAuth":false})"));
  // A key, even a wrong one, changes nothing: it is neither checked nor passed on.
  HttpRequest req = Get("/public/x", "");
  req.headers.emplace_back("authorization", "Bearer s3cret-wrong-key");
  r = host_.Handle(std::move(req));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body), Json(R"({"site":0,"sawAuth":false})"));
  EXPECT_EQ(host_.Handle(Get("/public/x", "k-store-down")).status, 200);
  EXPECT_EQ(host_.Handle(Post("/public/x", "{}", "")).status, 405);
  // Not public: flags 0, and a 1.1-sized route whose memory after struct_size holds the bit.
  for (const char* target : {"/private", "/old-public"}) {
    EXPECT_EQ(host_.Handle(Get(target, "")).status, 401) << target;
    r = host_.Handle(Get(target, "k2"));
    ASSERT_EQ(r.status, 200) << target << r.body;
    EXPECT_EQ(Json(r.body).at("site"), 2) << target;
  }
}

TEST_F(HostTest, AnUnknownKeyIs401AndIsNeverLogged) {
  HttpRequest req = Get("/ping", "");
  req.headers.emplace_back("authorization", "Bearer s3cret-wrong-key");
  HttpResponse r = host_.Handle(std::move(req));
  EXPECT_EQ(r.status, 401);
  ASSERT_NE(Header(r, "www-authenticate"), nullptr);
  req = Get("/ping", "");
  req.headers.emplace_back("x-api-key", "s3cret-wrong-key");
  EXPECT_EQ(host_.Handle(std::move(req)).status, 401);
  EXPECT_FALSE(log_.Contains("s3cret")) << log_.All();
}

TEST_F(HostTest, AKeyThatCannotBeLookedUpIs503WithRetryAfterNot401) {
  HttpResponse r = host_.Handle(Get("/ping", "k-store-down"));
  EXPECT_EQ(r.status, 503);
  ASSERT_NE(Header(r, "retry-after"), nullptr);
  EXPECT_EQ(*Header(r, "retry-after"), "1");
  EXPECT_EQ(Header(r, "www-authenticate"), nullptr);
  EXPECT_EQ(Json(r.body).at("status"), 503);
  EXPECT_EQ(Json(r.body).at("message"), "The store is unavailable; try again later");
  EXPECT_EQ(host_.Handle(Get("/ping", "k1")).status, 200);  // the next lookup that works is served
}

TEST_F(HostTest, TheKeySelectsTheSiteByBearerOrXApiKey) {
  HttpResponse r = host_.Handle(Post("/echo/a", "{}", "k2"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body).at("site"), 2);
  HttpRequest req = Post("/echo/a", "{}", "");
  req.headers.emplace_back("X-API-Key", "k1");
  r = host_.Handle(std::move(req));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body).at("site"), 1);
  req = Post("/echo/a", "{}", "");
  req.headers.emplace_back("authorization", "bearer   k2  ");
  r = host_.Handle(std::move(req));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body).at("site"), 2);
}

TEST_F(HostTest, StoreLookupsAreScopedToTheCallersSite) {
  HttpResponse r = host_.Handle(Get("/store/5", "k1"));
  EXPECT_EQ(Json(r.body).at("load"), WFP_OK);
  r = host_.Handle(Get("/store/5", "k2"));
  EXPECT_EQ(Json(r.body).at("load"), WFP_ERR_NOT_FOUND);
}

TEST_F(HostTest, ThePluginGetsParamsHeadersSettingsClockButNoCredentials) {
  HttpRequest req = Post("/echo/a%20b", R"({"x":1})");
  req.headers.emplace_back("X-Test", "v1");
  HttpResponse r = host_.Handle(std::move(req));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = Json(r.body);
  EXPECT_EQ(body.at("name"), "a b");
  EXPECT_EQ(body.at("params"), 1);
  EXPECT_EQ(body.at("bodySize"), 7);
  EXPECT_EQ(body.at("xTest"), "v1");
  EXPECT_EQ(body.at("sawAuth"), false);
  EXPECT_EQ(body.at("greeting"), "hello");
  EXPECT_EQ(body.at("nowMicros"), kFixedNowMicros);
  EXPECT_FALSE(body.at("requestId").as_string().empty());
}

TEST_F(HostTest, RequestIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = host_.Handle(Post("/echo/a", "{}"));
    ids.insert(std::string(Json(r.body).at("requestId").as_string()));
  }
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(HostTest, ABodyOverTheLimitIs413) {
  HttpResponse r = host_.Handle(Post("/echo/a", std::string(64 * 1024 + 1, ' ')));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Json(r.body).at("status"), 413);
  EXPECT_EQ(host_.Handle(Post("/echo/a", std::string(64 * 1024, ' '))).status, 200);
}

// Ambiguous credentials are refused, never resolved by taking the first (issue 14).
TEST_F(HostTest, RepeatedOrDisagreeingCredentialsAre400) {
  HttpRequest req = Post("/echo/a", "{}", "k1");
  req.headers.emplace_back("x-api-key", "k2");
  HttpResponse r = host_.Handle(std::move(req));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r.body).at("message"),
            "Authorization and X-API-Key name different keys; send one key");
  req = Post("/echo/a", "{}", "k1");
  req.headers.emplace_back("authorization", "Bearer k2");
  r = host_.Handle(std::move(req));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(Json(r.body).at("message").as_string().find("Authorization header is given 2 times"),
            std::string::npos)
      << r.body;
  req = Post("/echo/a", "{}", "");
  req.headers.emplace_back("x-api-key", "k1");
  req.headers.emplace_back("x-api-key", "k1");
  EXPECT_EQ(host_.Handle(std::move(req)).status, 400);
  // The same key both ways is not ambiguous.
  req = Post("/echo/a", "{}", "k2");
  req.headers.emplace_back("x-api-key", "k2");
  r = host_.Handle(std::move(req));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body).at("site"), 2);
}

TEST_F(HostTest, AMalformedAuthorizationIs401SayingHowToSendAKey) {
  for (const std::string value : {"Token k1", "Basic azE6", "k1", "Bearer", "Bearer k1 k2"}) {
    HttpRequest req = Post("/echo/a", "{}", "");
    req.headers.emplace_back("authorization", value);
    req.headers.emplace_back("x-api-key", "k1");  // a good key beside does not rescue it
    HttpResponse r = host_.Handle(std::move(req));
    EXPECT_EQ(r.status, 401) << value;
    EXPECT_EQ(Json(r.body).at("message"),
              "malformed Authorization header: send the key as 'Authorization: Bearer KEY' or as "
              "'X-API-Key: KEY'")
        << value;
    ASSERT_NE(Header(r, "www-authenticate"), nullptr);
  }
}

TEST_F(HostTest, PrecheckRefusesFromTheHeadAlone) {
  EXPECT_FALSE(host_.Precheck(Post("/echo/a", "", "k1")));
  auto r = host_.Precheck(Post("/echo/a", "", "wrong"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(host_.Precheck(Post("/nope", "", "k1"))->status, 404);
  EXPECT_EQ(host_.Precheck(Get("/echo/a", "k1"))->status, 405);
}

TEST_F(HostTest, HeadIsServedAsGet) {
  HttpRequest req = Get("/ping");
  req.method = "HEAD";
  HttpResponse r = host_.Handle(std::move(req));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r.body), Json(R"({"pong":true})"));  // the server sends only its head
}

TEST_F(HostTest, GzipAndDeflateBodiesAreDecoded) {
  const std::string body = R"({"hello":"world"})";
  for (const auto& [coding, data] :
       {std::pair{"gzip", Compress(body, kGzip)}, std::pair{"deflate", Compress(body, kZlib)},
        std::pair{"deflate", Compress(body, kRawDeflate)}, std::pair{"identity", body}}) {
    HttpRequest req = Post("/echo/a", data);
    req.headers.emplace_back("content-encoding", coding);
    HttpResponse r = host_.Handle(std::move(req));
    ASSERT_EQ(r.status, 200) << coding << ": " << r.body;
    EXPECT_EQ(Json(r.body).at("bodySize"), body.size()) << coding;
  }
}

TEST_F(HostTest, ADecodedBodyOverTheLimitIs413AndOtherCodingsAre415) {
  // 10 MiB of zeros compress to about 10 KiB: refused once 64 KiB are decoded.
  HttpRequest req = Post("/echo/a", Compress(std::string(10 << 20, '0'), kGzip));
  ASSERT_LT(req.body.size(), 64u * 1024);
  req.headers.emplace_back("content-encoding", "gzip");
  HttpResponse r = host_.Handle(std::move(req));
  EXPECT_EQ(r.status, 413) << r.body;
  req = Post("/echo/a", "{}");
  req.headers.emplace_back("content-encoding", "br");
  r = host_.Handle(std::move(req));
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_NE(r.body.find("'br' is not supported"), std::string::npos) << r.body;
  req = Post("/echo/a", "not gzip at all");
  req.headers.emplace_back("content-encoding", "gzip");
  EXPECT_EQ(host_.Handle(std::move(req)).status, 400);
  // A bad key is refused before anything is inflated.
  req = Post("/echo/a", Compress(std::string(10 << 20, '0'), kGzip), "wrong");
  req.headers.emplace_back("content-encoding", "gzip");
  EXPECT_EQ(host_.Handle(std::move(req)).status, 401);
}

TEST(HostSettings, ASettingNoPluginReadsIsRefusedNamingTheKnownOnes) {
  CapturedLog log;
  HostOptions options = TestOptions(&log);
  options.settings["ok.greting"] = "typo";
  Host host(std::move(options));
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
  const Status checked = host.CheckSettings();
  EXPECT_FALSE(checked.ok());
  EXPECT_EQ(checked.message(), "unknown setting 'ok.greting': the loaded plugins read ok.greeting");
  EXPECT_EQ(host.plugins().front().settings, std::vector<std::string>{"ok.greeting"});
}

TEST(HostSettings, SettingsThePluginsReadAreAccepted) {
  CapturedLog log;
  Host host(TestOptions(&log));  // sets ok.greeting
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
  EXPECT_TRUE(IsOk(host.CheckSettings()));
}

TEST_F(HostTest, ABodyThatIsNotJsonIs415) {
  HttpRequest req = Post("/echo/a", "x=1");
  req.headers[1].second = "text/plain";
  HttpResponse r = host_.Handle(std::move(req));
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(Json(r.body).at("status"), 415);
  req = Post("/echo/a", "{}");
  req.headers[1].second = "Application/JSON; charset=utf-8";
  EXPECT_EQ(host_.Handle(std::move(req)).status, 200);
}

TEST_F(HostTest, ServesConcurrently) {
  ASSERT_TRUE(IsOk(host_.LoadPlugin(PluginPath("handler_throws"))));
  std::atomic<int> ok{0}, faults{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        if (host_.Handle(Post("/echo/t" + std::to_string(t), "{}")).status == 200) ++ok;
        if (host_.Handle(Get("/fault")).status == 500) ++faults;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 800);
  EXPECT_EQ(faults.load(), 800);
}

// The log lines containing `needle`, in order.
std::vector<std::string> Lines(const CapturedLog& log, const std::string& needle) {
  std::vector<std::string> out;
  std::string all = log.All();
  for (size_t pos = 0, end; (end = all.find('\n', pos)) != std::string::npos; pos = end + 1) {
    std::string line = all.substr(pos, end - pos);
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

TEST(HostShutdown, ShutsDownEachPluginOnceInReverseLoadOrder) {
  CapturedLog log;
  {
    Host host(TestOptions(&log));
    ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
    ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("route_outside_init"))));
    EXPECT_TRUE(Lines(log, "shutdown").empty());
    host.Shutdown();
    host.Shutdown();
  }  // and the destructor
  EXPECT_EQ(Lines(log, "shutdown"), (std::vector<std::string>{"[INFO] route_outside_init: shutdown",
                                                              "[INFO] ok: shutdown"}));
}

TEST(HostShutdown, APluginRefusedAfterASuccessfulInitIsShutDownOnce) {
  CapturedLog log;
  Host host(TestOptions(&log));
  EXPECT_FALSE(host.LoadPlugin(PluginPath("route_twice")).ok());
  EXPECT_EQ(Lines(log, "shutdown"), (std::vector<std::string>{"[INFO] route_twice: shutdown"}));
  host.Shutdown();
  EXPECT_EQ(Lines(log, "shutdown").size(), 1u);
}

TEST(HostShutdown, ShutdownUnloadsEveryPluginAndIsIdempotent) {
  CapturedLog log;
  Host host(TestOptions(&log));
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("route_outside_init"))));
  EXPECT_EQ(host.plugin_count(), 2u);
  host.Shutdown();
  EXPECT_EQ(host.plugin_count(), 0u);
  EXPECT_EQ(host.route_count(), 0u);
  EXPECT_EQ(host.Handle(Get("/ping")).status, 404);
  host.Shutdown();
}

TEST(HostWithoutStore, StoreFunctionsAreUnsupported) {
  CapturedLog log;
  HostOptions options = TestOptions(&log);
  options.store = nullptr;
  options.connect = nullptr;
  Host host(std::move(options));
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
  HttpResponse r = host.Handle(Get("/store/5"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r.body).at("begin"), WFP_ERR_UNSUPPORTED);
}

TEST(HostWithoutStore, AConnectionFailureIs500) {
  CapturedLog log;
  HostOptions options = TestOptions(&log);
  options.connect = []() -> Result<std::shared_ptr<StoreConnection>> {
    return Status::Internal("disk on fire");
  };
  Host host(std::move(options));
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
  EXPECT_EQ(host.Handle(Get("/ping")).status, 500);
  EXPECT_TRUE(log.Contains("disk on fire")) << log.All();
}

// The OpenAPI document: public (no key), GET only, and absent unless configured.
constexpr std::string_view kTestDocument = R"({"openapi":"3.1.0","info":{"title":"t"}})";

TEST(HostOpenApi, ServedWithoutAKeyAndWhateverTheKey) {
  CapturedLog log;
  HostOptions options = TestOptions(&log);
  options.openapi_document = kTestDocument;
  Host host(std::move(options));
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
  for (const std::string key : {"", "k1", "not-a-key"}) {
    for (const std::string target : {"/api/openapi.json", "/api/openapi.json?x=1"}) {
      HttpResponse r = host.Handle(Get(target, key));
      EXPECT_EQ(r.status, 200) << key << " " << target;
      ASSERT_NE(Header(r, "content-type"), nullptr);
      EXPECT_EQ(*Header(r, "content-type"), "application/json");
      EXPECT_EQ(r.body, kTestDocument);
    }
  }
  // Only that exact path: the others still go through routing and auth.
  EXPECT_EQ(host.Handle(Get("/api/openapi.json/", "k1")).status, 404);
  EXPECT_EQ(host.Handle(Get("/api/openapi", "k1")).status, 404);
  EXPECT_EQ(host.Handle(Get("/ping", "")).status, 401);
  EXPECT_EQ(host.Handle(Get("/ping", "k1")).status, 200);
}

TEST(HostOpenApi, OtherMethodsAre405WithAllowGetHead) {
  CapturedLog log;
  HostOptions options = TestOptions(&log);
  options.openapi_document = kTestDocument;
  Host host(std::move(options));
  HttpRequest head = Get("/api/openapi.json", "");
  head.method = "HEAD";
  EXPECT_EQ(host.Handle(std::move(head)).status, 200);
  for (const std::string method : {"POST", "PUT", "DELETE", "get"}) {
    HttpRequest request = Get("/api/openapi.json", "");
    request.method = method;
    HttpResponse r = host.Handle(std::move(request));
    EXPECT_EQ(r.status, 405) << method;
    ASSERT_NE(Header(r, "allow"), nullptr);
    EXPECT_EQ(*Header(r, "allow"), "GET, HEAD");
    ASSERT_NE(Header(r, "content-type"), nullptr);
    EXPECT_EQ(*Header(r, "content-type"), "application/json");
    EXPECT_EQ(Json(r.body), Json(R"({"message":"Method not allowed","status":405})"));
  }
}

TEST(HostOpenApi, UnknownWhenNotConfigured) {
  CapturedLog log;
  Host host(TestOptions(&log));
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
  for (const std::string key : {"", "k1"}) {
    HttpResponse r = host.Handle(Get("/api/openapi.json", key));
    EXPECT_EQ(r.status, 404) << key;
    EXPECT_EQ(Json(r.body), Json(R"({"message":"Not found","status":404})"));
  }
}

TEST(HostPlugins, ListsEachLivePluginWithItsRoutes) {
  CapturedLog log;
  Host host(TestOptions(&log));
  EXPECT_TRUE(host.plugins().empty());
  ASSERT_TRUE(IsOk(host.LoadPlugin(PluginPath("ok"))));
  EXPECT_FALSE(host.LoadPlugin(PluginPath("route_twice")).ok());
  EXPECT_FALSE(host.LoadPlugin(PluginPath("wrong_major")).ok());
  const std::vector<PluginInfo> plugins = host.plugins();
  ASSERT_EQ(plugins.size(), 1u);  // the refused ones are not listed
  EXPECT_EQ(plugins[0].path, PluginPath("ok"));
  EXPECT_EQ(plugins[0].name, "ok");
  EXPECT_EQ(plugins[0].version, "1.0.0");
  EXPECT_EQ(plugins[0].abi_major, WFP_ABI_VERSION_MAJOR);
  EXPECT_LE(plugins[0].abi_minor, WFP_ABI_VERSION_MINOR);
  using Routes = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(plugins[0].routes,
            (Routes{{"GET", "/ping"}, {"POST", "/echo/{name}"}, {"GET", "/store/{id}"}}));
  host.Shutdown();
  EXPECT_TRUE(host.plugins().empty());
}

}  // namespace
}  // namespace wfp::host::testing
