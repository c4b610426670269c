// `wfp-host plugins`: loads plugins (without a store) and lists what each one is and adds.
#include <fmt/format.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/host_setup.h"
#include "cli/plugin_search.h"

namespace wfp::host::cli {
namespace {

constexpr std::string_view kPluginsUsage =
    R"(usage: wfp-host plugins [--plugin NAME|PATH ...]

Loads each plugin as `serve` would (without a store), prints for each one
`NAME VERSION (ABI M.m) from PATH` and then one line per route it adds, `  METHOD TEMPLATE`, and
shuts them down. Without --plugin: every plugin (*.so) on the plugin search path ($WFP_PLUGIN_PATH,
then this installation's plugin directory). Exits 1, with the reason on stderr, when a plugin is
refused or none is found.
)";

}  // namespace

int RunPlugins(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "plugins";
  if (WantsHelp(argv)) return std::cout << kPluginsUsage, 0;
  Args args;
  if (const Status parsed = args.Parse(argv, {{"plugin", true, true}}); !parsed.ok())
    return UsageError(kCmd, parsed.message(), kPluginsUsage);
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kPluginsUsage);
  const std::vector<std::string> search = DefaultPluginSearchPath();
  std::vector<std::string> plugins;
  if (!args.Has("plugin")) {
    plugins = ListPlugins(search);
    if (plugins.empty())
      return Fail(
          kCmd, fmt::format("no plugins on the plugin search path {}", DescribeSearchPath(search)));
  } else {
    Result<std::vector<std::string>> resolved = ResolvePlugins(args.All("plugin"), search);
    if (!resolved.ok()) return Fail(kCmd, resolved.status().message());
    plugins = std::move(*resolved);
  }
  HostOptions options;
  options.log_sink = [](std::string_view line) {  // warnings and errors only: stdout is the list
    if (line.rfind("[INFO]", 0) != 0 && line.rfind("[DEBUG]", 0) != 0) std::cerr << line << "\n";
  };
  Host host(std::move(options));
  if (const Status loaded = LoadPlugins(&host, plugins); !loaded.ok())
    return Fail(kCmd, loaded.message());
  std::string out;
  for (const PluginInfo& p : host.plugins()) {
    out += fmt::format("{} {} (ABI {}.{}) from {}\n", p.name, p.version.empty() ? "-" : p.version,
                       p.abi_major, p.abi_minor, p.path);
    for (const auto& [method, path_template] : p.routes)
      out += fmt::format("  {} {}\n", method, path_template);
    for (const std::string& key : p.settings) out += fmt::format("  setting {}\n", key);
  }
  host.Shutdown();
  std::cout << out;
  std::cout.flush();
  return std::cout ? 0 : kFailure;
}

}  // namespace wfp::host::cli
