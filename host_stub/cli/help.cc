// `wfp-host --help`, `wfp-host --version`, and a missing or unknown command.
#include <fmt/format.h>
#include <wfp/plugin_abi.h>

#include <iostream>

#include "cli/command.h"
#include "runtime/host.h"

namespace wfp::host::cli {
namespace {

constexpr std::string_view kMainUsage = R"(usage: wfp-host COMMAND [OPTIONS]

A small workflow-server host: loads plugins (.so) through the wfp C ABI, authenticates callers by
API key, keeps its state in SQLite (or PostgreSQL), and serves HTTP.

commands:
  call      serve one request in-process and print the response as JSON
  seed      load a fixture (JSON) into a store
  dump      print a whole store as a fixture
  serve     serve HTTP until SIGINT/SIGTERM
  demo      serve an example store with the backfill plugin on 127.0.0.1:8080
  backfill  ask a running server for a backfill (an HTTP client)
  plugins   load plugins and list each one's name, version, ABI, routes and settings

Run `wfp-host COMMAND --help` for a command's options; `wfp-host --version` for the version and
the plugin ABI it speaks. `serve` also answers GET /api/openapi.json (no key needed).

--plugin takes a path to a .so, or a name such as `backfill` looked up on the plugin search path:
the directories of $WFP_PLUGIN_PATH (':'-separated), then the plugin directory of this
installation (../lib/wfp/plugins beside the bin directory), then ../lib (a build tree).
)";

}  // namespace

int PrintHelp() {
  std::cout << kMainUsage;
  return 0;
}

int MissingCommand() {
  std::cerr << kMainUsage;
  return kUsageError;
}

int UnknownCommand(std::string_view command) {
  std::cerr << "wfp-host: unknown command '" << command << "'\n\n" << kMainUsage;
  return kUsageError;
}

int PrintVersion() {
  std::cout << fmt::format("{} {}\nplugin ABI {}.{} (accepts plugins of ABI {}.0 to {}.{})\n",
                           kHostName, kHostVersion, WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MINOR,
                           WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MINOR);
  std::cout.flush();
  return std::cout ? 0 : kFailure;
}

}  // namespace wfp::host::cli
