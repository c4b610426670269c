// wfp_abi_conformance: checks the v1 ABI contract on any plugin, from the host's side of the table.
//
//   wfp_abi_conformance [gtest flags] PLUGIN.so [PLUGIN.so ...]
//   WFP_PLUGIN_UNDER_TEST=a.so:b.so wfp_abi_conformance
//
// It is a strict fake host: it loads each plugin (dlopen, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE),
// checks the entry point and the descriptor before calling anything, calls init once from one
// thread, then calls every registered handler from several threads at once with valid and invalid
// requests over a small in-memory store, and finally calls shutdown once. It records every contract
// violation it can see: registration outside init or off the init thread, a handler answering zero
// or two times, a status outside 100..599, an answer from another thread, a non-zero return, an
// exception escaping, a store call on another thread or a finished transaction, a transaction left
// open, a wrong host pointer.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <wfp/plugin_abi.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

// The fake host's opaque types.
struct wfp_host {
  int magic;
};
struct wfp_call {
  std::thread::id thread;
  std::atomic<bool> active{true};
  int responds = 0;
  int32_t status = 0;
  wfp_txn* open = nullptr;
};
struct wfp_txn {
  wfp_call* call;
};

namespace {

constexpr int kMagic = 0x77667068;
constexpr int kThreads = 8;
constexpr int kRounds = 3;
constexpr int64_t kNowMicros = 1705028400LL * 1000000;  // 2024-01-12T03:00:00Z

std::vector<std::string> g_plugins;

std::string_view View(wfp_str s) { return s.data ? std::string_view(s.data, s.size) : ""; }
wfp_str Str(std::string_view s) { return wfp_str{s.data(), s.size()}; }

// What the fake host saw. One per plugin run; reached by the table's functions through g_state.
struct State {
  wfp_host host{kMagic};
  std::mutex mu;
  std::vector<std::string> violations;
  std::atomic<bool> in_init{false};
  std::thread::id init_thread;
  struct Route {
    std::string method, path_template;
    wfp_handler_fn handler;
    void* user_data;
  };
  std::vector<Route> routes;
  std::atomic<int64_t> next_id{1000};
  std::atomic<int> log_lines{0};
  std::atomic<int> statuses[6] = {};  // answers by class: [1] 1xx ... [5] 5xx

  void Violation(std::string what) {
    std::lock_guard lock(mu);
    if (violations.size() < 50) violations.push_back(std::move(what));
  }
};
State* g_state = nullptr;

bool CheckHost(wfp_host* host, const char* function) {
  if (host != &g_state->host || host->magic != kMagic) {
    g_state->Violation(std::string(function) + " called with a host pointer the host did not give");
    return false;
  }
  return true;
}

void Log(wfp_host* host, wfp_log_level level, wfp_str message) {
  if (!CheckHost(host, "log")) return;
  if (level < WFP_LOG_DEBUG || level > WFP_LOG_ERROR) g_state->Violation("log with a bad level");
  if (!message.data && message.size) g_state->Violation("log with a null message of non-zero size");
  g_state->log_lines++;
}

int64_t Now(wfp_host* host) {
  CheckHost(host, "now_micros");
  return kNowMicros;
}

wfp_status RegisterRoute(wfp_host* host, const wfp_route* route) {
  if (!CheckHost(host, "register_route")) return WFP_ERR_INVALID_ARGUMENT;
  if (!g_state->in_init) {
    g_state->Violation("register_route called outside init");
    return WFP_ERR_STATE;
  }
  if (std::this_thread::get_id() != g_state->init_thread) {
    g_state->Violation("register_route called from another thread than init's");
    return WFP_ERR_STATE;
  }
  if (!route || route->struct_size < sizeof(wfp_route) || !route->handler || !route->method.data ||
      !route->path_template.data || View(route->path_template).empty() ||
      View(route->path_template)[0] != '/') {
    g_state->Violation("register_route with a malformed route");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  for (const auto& r : g_state->routes)
    if (r.method == View(route->method) && r.path_template == View(route->path_template)) {
      g_state->Violation("route " + r.method + " " + r.path_template + " registered twice");
      return WFP_ERR_CONFLICT;
    }
  g_state->routes.push_back({std::string(View(route->method)),
                             std::string(View(route->path_template)), route->handler,
                             route->user_data});
  return WFP_OK;
}

wfp_status GetSetting(wfp_host* host, wfp_str key, wfp_str* out) {
  if (!CheckHost(host, "get_setting")) return WFP_ERR_INVALID_ARGUMENT;
  if (!key.data || !out) {
    g_state->Violation("get_setting with a null key or out");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  return WFP_ERR_NOT_FOUND;
}

bool CheckCall(wfp_call* call, const char* function) {
  if (!call) {
    g_state->Violation(std::string(function) + " with a null call");
    return false;
  }
  if (!call->active) {
    g_state->Violation(std::string(function) + " on a call that has returned");
    return false;
  }
  if (call->thread != std::this_thread::get_id()) {
    g_state->Violation(std::string(function) + " from another thread than the handler's");
    return false;
  }
  return true;
}

wfp_status Respond(wfp_call* call, const wfp_response* response) {
  if (!CheckCall(call, "respond")) return WFP_ERR_STATE;
  call->responds++;
  if (call->responds > 1) {
    g_state->Violation("a handler answered twice");
    return WFP_ERR_STATE;
  }
  if (!response || response->struct_size < sizeof(wfp_response)) {
    g_state->Violation("respond with a malformed response");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  if (response->status < 100 || response->status > 599) {
    g_state->Violation("respond with status " + std::to_string(response->status));
    return WFP_ERR_INVALID_ARGUMENT;
  }
  if (response->header_count && !response->headers) {
    g_state->Violation("respond with null headers");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < response->header_count; ++i) {
    const std::string_view name = View(response->headers[i].name);
    if (name.empty() || name.find_first_of("\r\n: ") != std::string_view::npos ||
        View(response->headers[i].value).find_first_of("\r\n") != std::string_view::npos)
      g_state->Violation("respond with a malformed header");
  }
  // Touch every byte: the plugin must keep them valid until respond returns.
  volatile size_t sum = 0;
  for (char c : View(response->body)) sum = sum + static_cast<unsigned char>(c);
  call->status = response->status;
  g_state->statuses[response->status / 100]++;
  return WFP_OK;
}

// The store: schedule 5 of site 1 (daily 09:00 UTC), no sessions; everything else is not found.
bool CheckTxn(wfp_txn* txn, const char* function) {
  if (!txn || !txn->call) {
    g_state->Violation(std::string(function) + " with a null transaction");
    return false;
  }
  if (txn->call->open != txn) {
    g_state->Violation(std::string(function) + " on a finished transaction");
    return false;
  }
  return CheckCall(txn->call, function);
}

wfp_status Begin(wfp_call* call, wfp_txn** out) {
  if (!CheckCall(call, "store.begin") || !out) return WFP_ERR_INVALID_ARGUMENT;
  if (call->open) {
    g_state->Violation("store.begin while a transaction of the same call is open");
    return WFP_ERR_STATE;
  }
  call->open = new wfp_txn{call};
  *out = call->open;
  return WFP_OK;
}
void End(wfp_txn* txn) {
  txn->call->open = nullptr;
  delete txn;
}
wfp_status Commit(wfp_txn* txn) {
  if (!CheckTxn(txn, "store.commit")) return WFP_ERR_STATE;
  End(txn);
  return WFP_OK;
}
void Rollback(wfp_txn* txn) {
  if (CheckTxn(txn, "store.rollback")) End(txn);
}
wfp_status Load(wfp_txn* txn, int64_t site, int64_t id, wfp_schedule_info* out) {
  if (!CheckTxn(txn, "store.load_schedule")) return WFP_ERR_STATE;
  if (!out || out->struct_size == 0) {
    g_state->Violation("store.load_schedule without an out struct_size");
    return WFP_ERR_INVALID_ARGUMENT;
  }
  if (site != 1 || id != 5) return WFP_ERR_NOT_FOUND;
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  info.schedule_id = 5;
  info.site_id = 1;
  info.project_id = 1;
  info.project_name = Str("etl");
  info.workflow_definition_id = 11;
  info.workflow_name = Str("load");
  info.timezone = Str("UTC");
  info.schedule_json = Str(R"({"daily>":"09:00:00"})");
  info.pool_id = wfp_str{nullptr, 0};
  info.next_schedule_time = 1704931200;  // 2024-01-11T00:00:00Z
  info.next_run_time = 1704963600;       // 2024-01-11T09:00:00Z
  std::memcpy(out, &info, std::min<size_t>(out->struct_size, sizeof info));
  out->struct_size = std::min<uint32_t>(out->struct_size, sizeof info);
  return WFP_OK;
}
wfp_status List(wfp_txn* txn, int64_t, wfp_str, wfp_epoch_seconds from, wfp_epoch_seconds to,
                wfp_session_visitor visitor, void*) {
  if (!CheckTxn(txn, "store.list_sessions")) return WFP_ERR_STATE;
  if (!visitor || from > to) g_state->Violation("store.list_sessions with bad arguments");
  return WFP_OK;
}
wfp_status Latest(wfp_txn* txn, int64_t, wfp_str, wfp_epoch_seconds, int32_t* found,
                  wfp_epoch_seconds* time) {
  if (!CheckTxn(txn, "store.latest_session_before")) return WFP_ERR_STATE;
  if (!found || !time) return WFP_ERR_INVALID_ARGUMENT;
  *found = 0;
  return WFP_OK;
}
wfp_status Sessions(wfp_txn* txn, const wfp_new_session* s, size_t n, int64_t* ids) {
  if (!CheckTxn(txn, "store.create_sessions")) return WFP_ERR_STATE;
  for (size_t i = 0; i < n; ++i) {
    if (s[i].struct_size < sizeof(wfp_new_session) || View(s[i].uuid).size() != 36)
      g_state->Violation("store.create_sessions with a malformed session");
    ids[i] = g_state->next_id++;
  }
  return WFP_OK;
}
wfp_status Attempts(wfp_txn* txn, const wfp_new_attempt* a, size_t n, int64_t* ids) {
  if (!CheckTxn(txn, "store.create_attempts")) return WFP_ERR_STATE;
  for (size_t i = 0; i < n; ++i) {
    if (a[i].struct_size < sizeof(wfp_new_attempt))
      g_state->Violation("store.create_attempts with a malformed attempt");
    ids[i] = g_state->next_id++;
  }
  return WFP_OK;
}
wfp_status Move(wfp_txn* txn, int64_t, const wfp_schedule_pointer* p) {
  if (!CheckTxn(txn, "store.move_schedule_pointer")) return WFP_ERR_STATE;
  if (!p || p->struct_size < sizeof(wfp_schedule_pointer)) return WFP_ERR_INVALID_ARGUMENT;
  return WFP_OK;
}

const wfp_store_api kStore = {sizeof(wfp_store_api),
                              Begin,
                              Commit,
                              Rollback,
                              Load,
                              List,
                              Latest,
                              Sessions,
                              Attempts,
                              Move,
                              Begin /* begin_read: the fake makes no difference between the two */};

// A loaded plugin; closes the library on destruction.
class Library {
 public:
  explicit Library(const std::string& path) {
    // RTLD_NODELETE: dlclose does not unmap the library. A plugin's dependencies keep process-wide
    // caches (cctz's time-zone map, allocated once and never freed by design); unmapped with the
    // plugin, they would look leaked to LeakSanitizer. Kept mapped, a real leak still shows.
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!handle_) error_ = dlerror();
  }
  ~Library() {
    if (handle_) dlclose(handle_);
  }
  void* handle() const { return handle_; }
  const std::string& error() const { return error_; }

 private:
  void* handle_ = nullptr;
  std::string error_;
};

// Checks the entry point and the descriptor; null (with failures reported) when unusable.
const wfp_plugin_v1* CheckDescriptor(const Library& lib, const std::string& path) {
  EXPECT_NE(lib.handle(), nullptr) << path << ": " << lib.error();
  if (!lib.handle()) return nullptr;
  auto entry =
      reinterpret_cast<wfp_plugin_entry_v1_fn>(dlsym(lib.handle(), WFP_PLUGIN_ENTRY_V1_NAME));
  EXPECT_NE(entry, nullptr) << path << ": no " << WFP_PLUGIN_ENTRY_V1_NAME;
  if (!entry) return nullptr;
  const wfp_plugin_v1* d = entry();
  EXPECT_NE(d, nullptr) << path << ": the entry point returned null";
  if (!d) return nullptr;
  EXPECT_EQ(entry(), d) << path << ": the descriptor must be static (same pointer every call)";
  EXPECT_GE(d->struct_size, sizeof(wfp_plugin_v1)) << path;
  EXPECT_EQ(d->abi_major, WFP_ABI_VERSION_MAJOR) << path;
  EXPECT_LE(d->abi_minor, WFP_ABI_VERSION_MINOR) << path;
  if (d->struct_size < sizeof(wfp_plugin_v1) || d->abi_major != WFP_ABI_VERSION_MAJOR ||
      d->abi_minor > WFP_ABI_VERSION_MINOR)
    return nullptr;  // never call into a plugin whose descriptor is wrong
  EXPECT_TRUE(d->name && *d->name) << path << ": no name";
  EXPECT_TRUE(d->version && *d->version) << path << ": no version";
  EXPECT_NE(d->init, nullptr) << path;
  EXPECT_NE(d->shutdown, nullptr) << path;
  if (!d->init || !d->shutdown) return nullptr;
  return d;
}

wfp_host_api MakeApi(State* state) {
  wfp_host_api api{};
  api.struct_size = sizeof api;
  api.abi_major = WFP_ABI_VERSION_MAJOR;
  api.abi_minor = WFP_ABI_VERSION_MINOR;
  api.host = &state->host;
  api.host_name = Str("wfp_abi_conformance");
  api.host_version = Str("1");
  api.log = Log;
  api.now_micros = Now;
  api.register_route = RegisterRoute;
  api.get_setting = GetSetting;
  api.respond = Respond;
  api.store = &kStore;
  return api;
}

struct Sample {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Requests for a route: its method with every parameter set to several values, various bodies.
std::vector<Sample> SamplesFor(const State::Route& route) {
  std::vector<std::string> names;
  std::string_view t = route.path_template;
  for (size_t pos = 0; (pos = t.find('{', pos)) != std::string_view::npos;) {
    const size_t end = t.find('}', pos);
    if (end == std::string_view::npos) break;
    names.emplace_back(t.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  const std::vector<std::string> values = {"5", "1", "abc", "0", "99999999999", "%2F"};
  const std::vector<std::string> bodies = {
      "",
      "{}",
      "not json",
      R"({"fromTime":"2024-01-08T00:00:00Z","attemptName":"fix","dryRun":true})",
      R"({"fromTime":"2024-01-08T00:00:00Z","attemptName":"fix","dryRun":false})",
      R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false})",
      std::string(70000, '['),
  };
  std::vector<Sample> out;
  for (const std::string& v : values) {
    for (const std::string& b : bodies) {
      for (int variant = 0; variant < 3; ++variant) {
        Sample s;
        s.method = route.method;
        s.target = std::string(route.path_template);
        for (const std::string& n : names) {
          s.params.emplace_back(n, v);
          s.target.replace(s.target.find("{" + n + "}"), n.size() + 2, v);
        }
        s.headers = {{"content-type", variant == 1 ? "text/plain" : "application/json"}};
        if (variant == 2) s.headers.emplace_back("if-match", "\"not-the-plan\"");
        s.body = b;
        out.push_back(std::move(s));
        if (names.empty()) break;
      }
    }
    if (names.empty()) break;
  }
  return out;
}

void CallHandler(const State::Route& route, const Sample& s, uint64_t n) {
  std::vector<wfp_path_param> params;
  for (const auto& [k, v] : s.params) params.push_back({Str(k), Str(v)});
  std::vector<wfp_header> headers;
  for (const auto& [k, v] : s.headers) headers.push_back({Str(k), Str(v)});
  const std::string request_id = "conf-" + std::to_string(n);
  wfp_request r{};
  r.struct_size = sizeof r;
  r.method = Str(s.method);
  r.target = Str(s.target);
  r.path_params = params.data();
  r.path_param_count = params.size();
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = Str(s.body);
  r.site_id = 1;
  r.request_id = Str(request_id);
  wfp_call call;
  call.thread = std::this_thread::get_id();
  int32_t rc = 0;
  try {
    rc = route.handler(route.user_data, &r, &call);
  } catch (...) {
    g_state->Violation("an exception escaped the handler of " + route.method + " " + s.target);
  }
  call.active = false;
  const std::string what = route.method + " " + s.target;
  if (rc != 0) g_state->Violation("the handler of " + what + " returned " + std::to_string(rc));
  if (call.responds == 0) g_state->Violation("the handler of " + what + " did not answer");
  if (call.open) {
    g_state->Violation("the handler of " + what + " left a transaction open");
    delete call.open;
  }
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "  " + s + "\n";
  return out;
}

class AbiConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if (g_plugins.empty())
      GTEST_SKIP() << "no plugin given (argv or WFP_PLUGIN_UNDER_TEST=a.so:b.so)";
  }
};

TEST_F(AbiConformance, EntryPointAndVersions) {
  for (const std::string& path : g_plugins) {
    SCOPED_TRACE(path);
    Library lib(path);
    CheckDescriptor(lib, path);
  }
}

TEST_F(AbiConformance, InitOnceRoutesOnlyDuringInitShutdownOnce) {
  for (const std::string& path : g_plugins) {
    SCOPED_TRACE(path);
    Library lib(path);
    const wfp_plugin_v1* d = CheckDescriptor(lib, path);
    if (!d) continue;
    State state;
    g_state = &state;
    const wfp_host_api api = MakeApi(&state);
    void* plugin_state = nullptr;
    state.init_thread = std::this_thread::get_id();
    state.in_init = true;
    int32_t rc = -1;
    try {
      rc = d->init(&api, &plugin_state);
    } catch (...) {
      ADD_FAILURE() << "an exception escaped init";
    }
    state.in_init = false;
    EXPECT_EQ(rc, 0) << "init failed";
    if (rc == 0) {
      try {
        d->shutdown(plugin_state);
      } catch (...) {
        ADD_FAILURE() << "an exception escaped shutdown";
      }
    }
    EXPECT_TRUE(state.violations.empty()) << Join(state.violations);
    g_state = nullptr;
  }
}

TEST_F(AbiConformance, HandlersAnswerExactlyOnceFromManyThreads) {
  for (const std::string& path : g_plugins) {
    SCOPED_TRACE(path);
    Library lib(path);
    const wfp_plugin_v1* d = CheckDescriptor(lib, path);
    if (!d) continue;
    State state;
    g_state = &state;
    const wfp_host_api api = MakeApi(&state);
    void* plugin_state = nullptr;
    state.init_thread = std::this_thread::get_id();
    state.in_init = true;
    int32_t rc = -1;
    try {
      rc = d->init(&api, &plugin_state);
    } catch (...) {
    }
    state.in_init = false;
    ASSERT_EQ(rc, 0) << "init failed";
    EXPECT_FALSE(state.routes.empty()) << "the plugin registered no route";

    std::vector<std::pair<const State::Route*, Sample>> work;
    for (const auto& route : state.routes)
      for (Sample& s : SamplesFor(route)) work.emplace_back(&route, std::move(s));
    std::atomic<bool> go{false};
    std::atomic<uint64_t> counter{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        while (!go) std::this_thread::yield();
        for (int round = 0; round < kRounds; ++round)
          for (size_t i = 0; i < work.size(); ++i) {
            const auto& [route, sample] = work[(i + t * 7) % work.size()];
            CallHandler(*route, sample, ++counter);
          }
      });
    }
    go = true;
    for (auto& th : threads) th.join();
    EXPECT_EQ(counter.load(), static_cast<uint64_t>(kThreads) * kRounds * work.size());
    std::printf(
        "%s: %llu handler calls on %zu routes from %d threads; answers 2xx %d, 3xx %d, "
        "4xx %d, 5xx %d\n",
        path.c_str(), static_cast<unsigned long long>(counter.load()), state.routes.size(),
        kThreads, state.statuses[2].load(), state.statuses[3].load(), state.statuses[4].load(),
        state.statuses[5].load());

    try {
      d->shutdown(plugin_state);
    } catch (...) {
      ADD_FAILURE() << "an exception escaped shutdown";
    }
    EXPECT_TRUE(state.violations.empty()) << Join(state.violations);
    g_state = nullptr;
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) g_plugins.emplace_back(argv[i]);
  if (const char* env = std::getenv("WFP_PLUGIN_UNDER_TEST"); env && g_plugins.empty()) {
    std::string_view list = env;
    while (!list.empty()) {
      const size_t colon = list.find(':');
      if (colon != 0) g_plugins.emplace_back(list.substr(0, colon));
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
  }
  return RUN_ALL_TESTS();
}
