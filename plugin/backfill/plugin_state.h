// What the backfill plugin keeps between calls: the host's tables, read once at init as far as
// their struct_size covers (zero past it: a function a 1.0 host does not have is null here, so
// every later use is a plain null check), its settings and its compiled schedules. Built by
// plugin.cc's Init; read by the writer (writer.h) and the answer (answer.h).
//
// Compiled into each build of the plugin against the ABI header of that build (the ABI matrix
// builds the plugin against older and newer headers), never into wfp_backfill_core.
#ifndef WFP_PLUGIN_BACKFILL_PLUGIN_STATE_H_
#define WFP_PLUGIN_BACKFILL_PLUGIN_STATE_H_

#include <wfp/plugin_abi.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "backfill/planner.h"
#include "backfill/schedule_cache.h"

namespace wfp::backfill {

inline wfp_str Str(std::string_view s) { return wfp_str{s.data(), s.size()}; }
inline std::string_view View(wfp_str s) {
  return s.data ? std::string_view(s.data, s.size) : std::string_view();
}

struct PluginState {
  wfp_host_api host{};
  wfp_store_api store{};
  uint64_t max_sessions = kDefaultMaxSessions;
  // How many candidates a dry run plans, and renders, at a time (writer_dry_run.cc); tests make it
  // small.
  size_t plan_batch = 4096;
  mutable ScheduleCache schedules;  // compiled definitions, shared by every request (thread-safe)
#if WFP_ABI_VERSION_MINOR >= 3
  // ABI 1.3 metrics, registered in init when the host offers them; null otherwise.
  wfp_metric* requests = nullptr;  // wfp_backfill_requests_total{outcome}
  wfp_metric* sessions = nullptr;  // wfp_backfill_sessions_total{result}
#endif
};

inline void Log(const PluginState& state, wfp_log_level level, std::string_view message) {
  state.host.log(state.host.host, level, Str(message));
}

// Since ABI 1.1; null when the host's table does not have it (or the header compiled against is
// older).
inline auto RespondAppend(const wfp_host_api& host) {
#if WFP_ABI_VERSION_MINOR >= 1
  return host.respond_append;
#else
  (void)host;
  return static_cast<wfp_status (*)(wfp_call*, wfp_str)>(nullptr);
#endif
}
inline auto BeginRead(const wfp_store_api& store) {
#if WFP_ABI_VERSION_MINOR >= 1
  return store.begin_read;
#else
  (void)store;
  return static_cast<wfp_status (*)(wfp_call*, wfp_txn**)>(nullptr);
#endif
}

#if WFP_ABI_VERSION_MINOR >= 4
// Since ABI 1.4; null when the host's table does not have it.
inline auto LoadScheduleWindow(const wfp_store_api& store) { return store.load_schedule_window; }
#endif

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_PLUGIN_STATE_H_
