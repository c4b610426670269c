// The strict fake host of wfp-plugin-check, shared by its two halves: strict_host.cc (the host and
// store tables a plugin is given, each function checking the plugin's use of it) and checker.cc
// (load, descriptor, init, handler calls, shutdown, the report). Private to this directory.
//
// The tables' functions reach the run's State through g_state, as C function pointers carry no
// context: one check per process at a time (checker.h).
#ifndef WFP_TOOLS_PLUGIN_CHECK_STRICT_HOST_H_
#define WFP_TOOLS_PLUGIN_CHECK_STRICT_HOST_H_

#include <wfp/plugin_abi.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "plugin_check/minor_sizes.h"

// The checker's opaque types.
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
  bool read_only;
  bool last_read = false;  // load_schedule_window was told WFP_WINDOW_LAST_READ
};
struct wfp_metric {
  wfp_metric_kind kind;
  size_t label_count;
  std::string name;
};

namespace wfp::plugin_check {

inline constexpr int kMagic = 0x77667068;

enum Clause {
  kLibrary,
  kEntryPoint,
  kDescriptor,
  kInit,
  kRoutes,
  kHostTable,
  kAnswers,
  kStatuses,
  kReturnValue,
  kTransactions,
  kExceptions,
  kThreads,
  kSizes,
  kShutdown,
  kClauseCount
};

inline std::string_view View(wfp_str s) { return s.data ? std::string_view(s.data, s.size) : ""; }
inline wfp_str Str(std::string_view s) { return wfp_str{s.data(), s.size()}; }

struct RouteInfo {
  std::string method, path_template;
  wfp_handler_fn handler;
  void* user_data;
  bool is_public;  // WFP_ROUTE_PUBLIC, on a host of 1.2 or later: called with site_id 0
};

// A table cut to a minor's size, with traps in every function slot past its struct_size.
template <typename T>
struct TrappedTable {
  T table;
  void* beyond[8];
};

struct State {
  int minor = WFP_ABI_VERSION_MINOR;
  wfp_host host{kMagic};
  std::mutex mu;
  std::array<std::vector<std::string>, kClauseCount> violations;
  std::array<int, kClauseCount> counts{};
  std::array<bool, kClauseCount> reached{};
  std::atomic<bool> in_init{false};
  std::thread::id init_thread;
  std::vector<RouteInfo> routes;
  std::atomic<int64_t> next_id{1000};
  std::atomic<int> statuses[6] = {};
  TrappedTable<wfp_host_api> host_table{};
  TrappedTable<wfp_store_api> store_table{};
  std::vector<std::unique_ptr<wfp_metric>> metrics;  // registered (1.3); guarded by mu
  std::atomic<uint64_t> recorded{0};                 // metric_add and metric_observe calls

  void Violation(Clause c, std::string what) {
    std::lock_guard lock(mu);
    if (counts[c]++ == 0) violations[c].push_back(std::move(what));
  }
  size_t MinSize(const Sizes& s) const { return s[0]; }
  size_t Size(const Sizes& s) const { return s[minor]; }
};
extern State* g_state;  // the run under way (CheckPlugin), null between runs

// Fills the run's host and store tables and cuts them to its minor's sizes (traps past them).
void MakeTables(State* state);

}  // namespace wfp::plugin_check

#endif  // WFP_TOOLS_PLUGIN_CHECK_STRICT_HOST_H_
