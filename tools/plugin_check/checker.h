// The checks of wfp-plugin-check, as a library (the command line is plugin_check.cc).
//
// CheckPlugin loads one plugin as a strict host of ABI 1.<host_minor> and returns one result per
// clause of the contract, in a fixed order: library, entry point, descriptor, init, route
// registration, host table use, answers exactly once, statuses and headers, handler return value,
// transactions, exceptions, thread safety, struct_size discipline, shutdown. A clause fails with
// the first violation seen (and how many more there were); a clause that could not be reached
// because an earlier one made the plugin unusable is "not checked".
//
// Not thread-safe, and one plugin per process at a time: the host table's functions reach the
// checker's state through a global, as C function pointers carry no context.
#ifndef WFP_TOOLS_PLUGIN_CHECK_CHECKER_H_
#define WFP_TOOLS_PLUGIN_CHECK_CHECKER_H_

#include <wfp/plugin_abi.h>

#include <string>
#include <vector>

namespace wfp::plugin_check {

struct Options {
  int host_minor = WFP_ABI_VERSION_MINOR;  // 0..WFP_ABI_VERSION_MINOR
  int threads = 8;                         // for the concurrent pass
  // Told what the checker is about to call in the plugin ("init", "the handler of GET /x"...), so
  // that a plugin that ends the process can be reported with what it was doing. Never concurrently.
  void (*step)(const char* what) = nullptr;
};

struct ClauseResult {
  std::string name;
  std::string failure;   // empty: passed (or not checked)
  std::string note;      // what was checked, or why it was not
  bool checked = false;  // false: an earlier clause made the plugin unusable
};

struct Report {
  std::vector<ClauseResult> clauses;
  bool ok() const {
    for (const auto& c : clauses)
      if (!c.failure.empty() || !c.checked) return false;
    return true;
  }
};

Report CheckPlugin(const std::string& path, const Options& options);

}  // namespace wfp::plugin_check

#endif  // WFP_TOOLS_PLUGIN_CHECK_CHECKER_H_
