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
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wfp/plugin_abi.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "plugin_check/checker.h"

namespace wfp::plugin_check {
namespace {

// The usage text on `out` (stdout for --help, stderr for a usage error); returns `status`.
int Usage(const char* why, FILE* out = stderr, int status = 2) {
  std::fprintf(out,
               "wfp-plugin-check: %s\n"
               "usage: wfp-plugin-check [--host-minor N] [--threads N] PLUGIN.so\n"
               "  --host-minor N  check as a host of ABI 1.N (0..%d; default %d)\n"
               "  --threads N     handler threads for the concurrent pass (default 8)\n",
               why, WFP_ABI_VERSION_MINOR, WFP_ABI_VERSION_MINOR);
  return status;
}

bool ParseInt(const char* s, int low, int high, int* out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < low || v > high) return false;
  *out = static_cast<int>(v);
  return true;
}

// Prints the report of one check; its exit status.
int PrintReport(const std::string& path, const Options& options) {
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

// What the child shares with the parent: what it was calling into the plugin last, and whether
// it printed its report.
struct Progress {
  char step[256];
  int reported;
};
Progress* g_progress = nullptr;

void NoteStep(const char* what) {
  std::snprintf(g_progress->step, sizeof g_progress->step, "%s", what);
}

// How the child ended, when the plugin ended it: "killed by SIGSEGV", "exited with status 3".
std::string HowItEnded(int status) {
  if (WIFSIGNALED(status)) {
    const char* abbrev = sigabbrev_np(WTERMSIG(status));
    return abbrev ? std::string("killed by SIG") + abbrev
                  : "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// Runs the check in a child process: a plugin that crashes (or exits) ends the child, and the
// parent reports what it was doing. Without fork, the check runs here.
int CheckInChild(const std::string& path, Options options) {
  void* shared =
      mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  std::fflush(nullptr);
  const pid_t child = shared == MAP_FAILED ? -1 : fork();
  if (child < 0) return PrintReport(path, options);
  g_progress = static_cast<Progress*>(shared);
  if (child == 0) {
    options.step = &NoteStep;
    const int status = PrintReport(path, options);
    std::fflush(nullptr);
    g_progress->reported = 1;
    _exit(status);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (g_progress->reported) return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  std::printf("wfp-plugin-check: %s as a host of ABI %d.%d\n", path.c_str(), WFP_ABI_VERSION_MAJOR,
              options.host_minor);
  std::printf("crash: FAIL: the plugin ended the process (%s) during %s\n",
              HowItEnded(status).c_str(), g_progress->step[0] ? g_progress->step : "the check");
  std::printf("the other clauses are not reported: the check ran in that process\n");
  return 1;
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
      return Usage("checks a wfp plugin against the ABI contract", stdout, 0);
    } else if (!arg.empty() && arg[0] == '-') {
      return Usage(("unknown option " + arg).c_str());
    } else if (path.empty()) {
      path = arg;
    } else {
      return Usage("one plugin at a time");
    }
  }
  if (path.empty()) return Usage("no plugin given");
  // A bare file name is the file here, as for any other command (dlopen would search the system's
  // library path for it instead).
  if (path.find('/') == std::string::npos && std::filesystem::exists(path)) path = "./" + path;
  return CheckInChild(path, options);
}
