// `wfp-host plugins`: loads plugins (without a store) and lists what each one is and adds.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/host_setup.h"
#include "cli/plugin_search.h"

namespace wfp::host::cli {
namespace {

constexpr std::string_view kCmd = "plugins";

constexpr std::string_view kPluginsUsage =
    R"(usage: wfp-host plugins [--plugin NAME|PATH ...]

Loads each plugin as `serve` would (without a store), prints for each one
`NAME VERSION (ABI M.m) from PATH`, then one line per route it adds, `  METHOD TEMPLATE`, and one
line per setting it reads, `  setting KEY` (give it with --setting KEY=VALUE to call, serve, demo),
and shuts them down.

With --plugin: those plugins; the first one refused stops the command (exit 1, the reason on
stderr, nothing listed). Without --plugin: every plugin (*.so) on the plugin search path
($WFP_PLUGIN_PATH, then this installation's plugin directory); a file that is refused is reported
on stderr (its path and the reason) and the others are still listed, with exit status 1. A plugin
name found again later on the search path is not loaded (`--plugin NAME` would not find it): a
warning on stderr names both files. Exits 1 when no plugin is found.
)";

// The lines of one loaded plugin.
std::string Describe(const PluginInfo& p) {
  std::string out =
      fmt::format("{} {} (ABI {}.{}) from {}\n", p.name, p.version.empty() ? "-" : p.version,
                  p.abi_major, p.abi_minor, p.path);
  for (const auto& [method, path_template] : p.routes)
    out += fmt::format("  {} {}\n", method, path_template);
  for (const std::string& key : p.settings) out += fmt::format("  setting {}\n", key);
  return out;
}

// Loads every plugin on the search path into *host: one that is refused is reported and the others
// are loaded; one hidden by an earlier one of the same name is not loaded, with a warning. 0, or
// kFailure when a file was refused or none was found.
int LoadEveryPlugin(const std::vector<std::string>& search, Host* host) {
  const PluginFiles files = ListPlugins(search);
  for (const auto& [path, by] : files.hidden)
    Warn(kCmd, fmt::format("{} is hidden by {} (the same plugin name, '{}', earlier on the plugin "
                           "search path) and is not loaded",
                           path, by, PluginName(std::filesystem::path(path).filename().string())));
  if (files.paths.empty())
    return Fail(kCmd,
                fmt::format("no plugins on the plugin search path {}", DescribeSearchPath(search)));
  int rc = 0;
  for (const std::string& path : files.paths)
    if (const Status loaded = host->LoadPlugin(path); !loaded.ok())
      rc = Fail(kCmd, loaded.message());
  return rc;
}

}  // namespace

int RunPlugins(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::cout << kPluginsUsage, 0;
  Args args;
  if (const Status parsed = args.Parse(argv, {{"plugin", true, true}}); !parsed.ok())
    return UsageError(kCmd, parsed.message(), kPluginsUsage);
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kPluginsUsage);
  const std::vector<std::string> search = DefaultPluginSearchPath();
  HostOptions options;
  options.log_sink = [](std::string_view line) {  // warnings and errors only: stdout is the list
    if (line.rfind("[INFO]", 0) != 0 && line.rfind("[DEBUG]", 0) != 0) std::cerr << line << "\n";
  };
  Host host(std::move(options));
  int rc = 0;
  if (!args.Has("plugin")) {
    rc = LoadEveryPlugin(search, &host);
  } else {
    Result<std::vector<std::string>> resolved = ResolvePlugins(args.All("plugin"), search);
    if (!resolved.ok()) return Fail(kCmd, resolved.status().message());
    if (const Status loaded = LoadPlugins(&host, *resolved); !loaded.ok())
      return Fail(kCmd, loaded.message());
  }
  std::string out;
  for (const PluginInfo& p : host.plugins()) out += Describe(p);
  host.Shutdown();
  std::cout << out;
  std::cout.flush();
  return std::cout ? rc : kFailure;
}

}  // namespace wfp::host::cli
