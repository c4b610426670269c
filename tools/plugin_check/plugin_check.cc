// wfp-plugin-check: checks a plugin against the v1 ABI contract, as a strict host of a chosen
// minor.
//
//   wfp-plugin-check [--host-minor N] [--threads N] PLUGIN.so
//
// It loads the plugin (dlopen RTLD_NOW | RTLD_LOCAL), checks the entry point and the descriptor
// before calling anything, calls init once with a host table of exactly the chosen minor's size,
// then calls every registered handler with valid and invalid requests over a small in-memory store:
// first one call at a time, then from several threads at once, and compares the two. Last it calls
// shutdown. It prints one line per clause of the contract, `CLAUSE: ok` or `CLAUSE: FAIL: REASON`,
// and exits 1 when any clause failed (2 for a usage error).
//
// struct_size discipline: the host table and the store table are cut to the chosen minor's size,
// and every function slot past their struct_size (the table's own later fields, and more behind
// the table) is a trap that reports the call. Everything the plugin hands over must cover the
// fields of ABI 1.0; arrays must have one struct_size. What the checker writes into the plugin's
// structs goes only as far as their struct_size, which then says what was written.
#include <wfp/plugin_abi.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "plugin_check/checker.h"

namespace wfp::plugin_check {
namespace {

int Usage(const char* why) {
  std::fprintf(stderr,
               "wfp-plugin-check: %s\n"
               "usage: wfp-plugin-check [--host-minor N] [--threads N] PLUGIN.so\n"
               "  --host-minor N  check as a host of ABI 1.N (0..%d; default %d)\n"
               "  --threads N     handler threads for the concurrent pass (default 8)\n",
               why, WFP_ABI_VERSION_MINOR, WFP_ABI_VERSION_MINOR);
  return 2;
}

bool ParseInt(const char* s, int low, int high, int* out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < low || v > high) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace
}  // namespace wfp::plugin_check

int main(int argc, char** argv) {
  using namespace wfp::plugin_check;
  Options options;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--host-minor" || arg == "--threads") {
      if (i + 1 == argc) return Usage((arg + " needs a value").c_str());
      const bool minor = arg == "--host-minor";
      if (!ParseInt(argv[++i], minor ? 0 : 1, minor ? WFP_ABI_VERSION_MINOR : 64,
                    minor ? &options.host_minor : &options.threads))
        return Usage(minor ? "--host-minor must be a minor version this checker knows (0.."
                             "the header's minor)"
                           : "--threads must be 1..64");
    } else if (arg == "--help" || arg == "-h") {
      Usage("checks a wfp plugin against the ABI contract");
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage(("unknown option " + arg).c_str());
    } else if (path.empty()) {
      path = arg;
    } else {
      return Usage("one plugin at a time");
    }
  }
  if (path.empty()) return Usage("no plugin given");
  try {
    const Report report = CheckPlugin(path, options);
    std::printf("wfp-plugin-check: %s as a host of ABI %d.%d\n", path.c_str(),
                WFP_ABI_VERSION_MAJOR, options.host_minor);
    int failed = 0;
    for (const ClauseResult& c : report.clauses) {
      if (!c.checked && c.failure.empty()) {
        ++failed;
        std::printf("%s: not checked: %s\n", c.name.c_str(), c.note.c_str());
      } else if (c.failure.empty()) {
        std::printf("%s: ok%s%s\n", c.name.c_str(), c.note.empty() ? "" : " (",
                    c.note.empty() ? "" : (c.note + ")").c_str());
      } else {
        ++failed;
        std::printf("%s: FAIL: %s\n", c.name.c_str(), c.failure.c_str());
      }
    }
    std::printf("%zu clauses, %d failed or not checked\n", report.clauses.size(), failed);
    return report.ok() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wfp-plugin-check: %s\n", e.what());
    return 1;
  }
}
