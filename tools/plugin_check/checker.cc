// The checks of wfp-plugin-check: with the strict fake host of strict_host.h, the sequence load,
// descriptor, init, handler calls (serial, then concurrent), shutdown, and the report.
#include "plugin_check/checker.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include "plugin_check/minor_sizes.h"
#include "plugin_check/strict_host.h"

namespace wfp::plugin_check {
namespace {

constexpr int kRounds = 2;

constexpr std::array<const char*, kClauseCount> kClauseNames = {"library",
                                                                "entry point",
                                                                "descriptor",
                                                                "init",
                                                                "route registration",
                                                                "host table use",
                                                                "answers exactly once",
                                                                "statuses and headers",
                                                                "handler return value",
                                                                "transactions",
                                                                "exceptions",
                                                                "thread safety",
                                                                "struct_size discipline",
                                                                "shutdown"};

struct Sample {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> params, headers;
  std::string body;
};

// Requests for a route: its method, each path parameter set to several values, various bodies.
std::vector<Sample> SamplesFor(const RouteInfo& route) {
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
      R"({"fromTime":"2024-01-08T00:00:00Z","attemptName":"fix","dryRun":true,"count":1})",
      R"({"fromTime":"2024-01-08T00:00:00Z","attemptName":"new","dryRun":false})",
      R"({"advanceSchedule":true,"skipExisting":true,"dryRun":false})",
      std::string(70000, '[')};
  std::vector<Sample> out;
  for (const std::string& v : values) {
    for (const std::string& b : bodies)
      for (int variant = 0; variant < 3; ++variant) {
        Sample s{route.method, route.path_template, {}, {}, b};
        for (const std::string& n : names) {
          s.params.emplace_back(n, v);
          s.target.replace(s.target.find("{" + n + "}"), n.size() + 2, v);
        }
        s.headers = {{"content-type", variant == 1 ? "text/plain" : "application/json"}};
        if (variant == 2) s.headers.emplace_back("if-match", "\"not-the-plan\"");
        out.push_back(std::move(s));
      }
    if (names.empty()) break;
  }
  return out;
}

// Calls a handler once as the host does; returns the status answered (0 for none).
int32_t CallHandler(const RouteInfo& route, const Sample& s, uint64_t n) {
  std::vector<wfp_path_param> params;
  for (const auto& [k, v] : s.params) params.push_back({Str(k), Str(v)});
  std::vector<wfp_header> headers;
  for (const auto& [k, v] : s.headers) headers.push_back({Str(k), Str(v)});
  const std::string request_id = fmt::format("check-{}", n);
  struct {
    wfp_request request;
    unsigned char poison[64];
  } buffer;
  std::memset(&buffer, 0xa5, sizeof buffer);
  wfp_request& r = buffer.request;
  r.struct_size = static_cast<uint32_t>(g_state->Size(kMinorSizes.request));
  r.method = Str(s.method);
  r.target = Str(s.target);
  r.path_params = params.data();
  r.path_param_count = params.size();
  r.headers = headers.data();
  r.header_count = headers.size();
  r.body = Str(s.body);
  r.site_id = route.is_public ? 0 : 1;  // nobody is authenticated on a public route
  r.request_id = Str(request_id);
  wfp_call call;
  call.thread = std::this_thread::get_id();
  int32_t rc = 0;
  const std::string what = s.method + " " + s.target.substr(0, 60);
  try {
    rc = route.handler(route.user_data, &r, &call);
  } catch (...) {
    g_state->Violation(kExceptions, "an exception escaped the handler of " + what);
  }
  call.active = false;
  if (rc != 0)
    g_state->Violation(kReturnValue, fmt::format("the handler of {} returned {}", what, rc));
  if (call.responds == 0)
    g_state->Violation(kAnswers, "the handler of " + what + " did not answer");
  if (call.open) {
    g_state->Violation(kTransactions, "the handler of " + what + " left a transaction open");
    delete call.open;
  }
  return call.responds ? call.status : 0;
}

void (*g_step)(const char*) = nullptr;

// Tells Options::step what comes next (see checker.h).
void Step(const std::string& what) {
  if (g_step) g_step(what.c_str());
}

// Loads the library and checks its entry point and descriptor; null when unusable.
const wfp_plugin_v1* LoadAndDescribe(const std::string& path, void** handle) {
  g_state->reached[kLibrary] = true;
  Step("loading the library (its constructors)");
  *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!*handle) {
    const char* why = dlerror();
    g_state->Violation(kLibrary, fmt::format("cannot be loaded: {}", why ? why : "?"));
    return nullptr;
  }
  g_state->reached[kEntryPoint] = true;
  void* sym = dlsym(*handle, WFP_PLUGIN_ENTRY_V1_NAME);
  if (!sym) {
    std::string why = fmt::format("no {} exported (not a wfp plugin of ABI major {})",
                                  WFP_PLUGIN_ENTRY_V1_NAME, WFP_ABI_VERSION_MAJOR);
    for (int major = 2; major <= 9; ++major)
      if (dlsym(*handle, fmt::format("wfp_plugin_entry_v{}", major).c_str()))
        why = fmt::format("no {} exported; it exports wfp_plugin_entry_v{}: built for ABI major {}",
                          WFP_PLUGIN_ENTRY_V1_NAME, major, major);
    g_state->Violation(kEntryPoint, why);
    return nullptr;
  }
  auto entry = reinterpret_cast<wfp_plugin_entry_v1_fn>(sym);
  Step("its entry point");
  const wfp_plugin_v1* d = nullptr;
  try {
    d = entry();
  } catch (...) {
    g_state->Violation(kExceptions, "an exception escaped the entry point");
  }
  if (!d) return g_state->Violation(kEntryPoint, "the entry point returned no descriptor"), nullptr;
  if (entry() != d)
    g_state->Violation(kEntryPoint,
                       "the entry point returned another descriptor on a second call "
                       "(it must be static)");
  return d;
}

// The descriptor's rules; false when nothing in the plugin may be called.
bool CheckDescriptor(const wfp_plugin_v1* d) {
  g_state->reached[kDescriptor] = true;
  if (d->struct_size < kMinorSizes.plugin_v1[0]) {
    g_state->Violation(kDescriptor, fmt::format("descriptor struct_size {} does not cover the v1 "
                                                "descriptor's fields ({} bytes)",
                                                d->struct_size, kMinorSizes.plugin_v1[0]));
    return false;
  }
  if (d->abi_major != WFP_ABI_VERSION_MAJOR) {
    g_state->Violation(kDescriptor, fmt::format("abi_major {}: built for ABI major {}, this host "
                                                "speaks major {}",
                                                d->abi_major, d->abi_major, WFP_ABI_VERSION_MAJOR));
    return false;
  }
  if (d->abi_minor > g_state->minor) {
    g_state->Violation(kDescriptor, fmt::format("abi_minor {}: needs ABI {}.{}, newer than this "
                                                "host's {}.{}",
                                                d->abi_minor, d->abi_major, d->abi_minor,
                                                WFP_ABI_VERSION_MAJOR, g_state->minor));
    return false;
  }
  if (!d->name || !*d->name || !d->version || !*d->version)
    g_state->Violation(kDescriptor, "no name or no version (NUL-terminated, static strings)");
  if (!d->init || !d->shutdown) {
    g_state->Violation(kDescriptor, "no init or no shutdown function");
    return false;
  }
  return true;
}

// init once, from this thread; false when it refused.
bool RunInit(const wfp_plugin_v1* d, void** plugin_state) {
  g_state->reached[kInit] = g_state->reached[kRoutes] = g_state->reached[kHostTable] = true;
  g_state->init_thread = std::this_thread::get_id();
  g_state->in_init = true;
  int32_t rc = -1;
  Step("init");
  try {
    rc = d->init(&g_state->host_table.table, plugin_state);
  } catch (...) {
    g_state->Violation(kExceptions, "an exception escaped init");
  }
  g_state->in_init = false;
  if (rc != 0) {
    // What init did before it failed was checked (its violations are reported); the rest was not.
    g_state->reached[kRoutes] = g_state->reached[kHostTable] = false;
    g_state->Violation(kInit,
                       fmt::format("init failed (returned {}) with a host table of ABI "
                                   "1.{} ({} bytes)",
                                   rc, g_state->minor, g_state->host_table.table.struct_size));
    return false;
  }
  if (g_state->routes.empty()) g_state->Violation(kRoutes, "the plugin registered no route");
  return true;
}

using Work = std::vector<std::pair<const RouteInfo*, Sample>>;

// Every sample once, one at a time: the status each one is answered with.
std::vector<int32_t> SerialPass(const Work& work) {
  std::vector<int32_t> statuses;
  uint64_t n = 0;
  for (const auto& [route, sample] : work) {
    Step(fmt::format("the handler of {} {}", sample.method, sample.target));
    statuses.push_back(CallHandler(*route, sample, ++n));
  }
  return statuses;
}

// Every sample again from `threads` threads at once, kRounds times; each answer is compared with
// the serial one. Returns the number of calls.
uint64_t ConcurrentPass(const Work& work, const std::vector<int32_t>& serial, int threads) {
  g_state->reached[kThreads] = true;
  Step(fmt::format("the handlers, from {} threads at once", threads));
  std::atomic<bool> go{false};
  std::atomic<uint64_t> counter{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      for (int round = 0; round < kRounds; ++round)
        for (size_t i = 0; i < work.size(); ++i) {
          const size_t k = (i + static_cast<size_t>(t) * 7) % work.size();
          const int32_t status = CallHandler(*work[k].first, work[k].second, ++counter);
          if (status != serial[k])
            g_state->Violation(kThreads, fmt::format("{} {} answered {} under concurrent calls, "
                                                     "{} when called alone",
                                                     work[k].second.method, work[k].second.target,
                                                     status, serial[k]));
        }
    });
  go = true;
  for (auto& th : pool) th.join();
  return counter.load();
}

std::string Served(uint64_t calls, size_t routes, int threads) {
  return fmt::format("{} calls on {} route(s), {} threads; answers 2xx {}, 4xx {}, 5xx {}", calls,
                     routes, threads, g_state->statuses[2].load(), g_state->statuses[4].load(),
                     g_state->statuses[5].load());
}

// Calls every handler with every sample, alone and then concurrently; returns what was done.
std::string Serve(const Options& options) {
  for (Clause c : {kAnswers, kStatuses, kReturnValue, kTransactions, kExceptions, kSizes})
    g_state->reached[c] = true;
  Work work;
  for (const auto& route : g_state->routes)
    for (Sample& s : SamplesFor(route)) work.emplace_back(&route, std::move(s));
  const std::vector<int32_t> serial = SerialPass(work);
  const uint64_t calls = work.size() + ConcurrentPass(work, serial, options.threads);
  return Served(calls, g_state->routes.size(), options.threads);
}

Report Assemble(const std::string& first_failure) {
  Report report;
  for (int c = 0; c < kClauseCount; ++c) {
    ClauseResult r;
    r.name = kClauseNames[c];
    r.checked = g_state->reached[c];
    if (!g_state->violations[c].empty()) {
      r.checked = true;
      r.failure = g_state->violations[c].front();
      if (g_state->counts[c] > 1)
        r.failure += fmt::format(" (and {} more)", g_state->counts[c] - 1);
    } else if (!r.checked) {
      r.note = first_failure;
    }
    report.clauses.push_back(std::move(r));
  }
  return report;
}

}  // namespace

Report CheckPlugin(const std::string& path, const Options& options) {
  State state;
  state.minor = options.host_minor;
  g_state = &state;
  g_step = options.step;
  MakeTables(&state);
  void* handle = nullptr;
  std::string stopped = "the plugin could not be loaded";
  const wfp_plugin_v1* d = LoadAndDescribe(path, &handle);
  void* plugin_state = nullptr;
  std::string served;
  if (handle && !d) stopped = "the plugin has no usable entry point";
  if (d && !CheckDescriptor(d)) stopped = "the descriptor refuses the plugin before init";
  if (d && state.violations[kDescriptor].empty() && !state.reached[kInit]) {
    if (RunInit(d, &plugin_state)) {
      served = Serve(options);
      state.reached[kShutdown] = true;
      Step("shutdown");
      try {
        d->shutdown(plugin_state);
      } catch (...) {
        state.Violation(kShutdown, "an exception escaped shutdown");
      }
    } else {
      stopped = "init refused the host";
    }
  }
  Report report = Assemble(stopped);
  if (!served.empty()) {
    report.clauses[kAnswers].note = served;
    if (state.minor >= 3)
      report.clauses[kHostTable].note = fmt::format("{} metric(s) registered, {} value(s) recorded",
                                                    state.metrics.size(), state.recorded.load());
    report.clauses[kSizes].note =
        fmt::format("host table {} bytes, store table {} bytes", state.host_table.table.struct_size,
                    state.store_table.table.struct_size);
  }
  Step("unloading the library (its destructors)");
  if (handle) dlclose(handle);
  g_state = nullptr;
  g_step = nullptr;
  return report;
}

}  // namespace wfp::plugin_check
