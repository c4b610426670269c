// Where wfp-host finds its plugins. `--plugin` takes a path (anything with a '/') or a bare name
// such as `backfill`, which is looked up on the plugin search path:
//   1. each directory of $WFP_PLUGIN_PATH (':'-separated), in order;
//   2. the installed layout next to the executable: <exe dir>/../lib/wfp/plugins (the install's
//      plugin directory, relative to its bin directory);
//   3. the build tree's layout: <exe dir>/../lib (build/bin/wfp-host, build/lib/*.so).
// In each directory a name NAME matches the file NAME (when it ends in .so), libwfp_NAME.so,
// libNAME.so or NAME.so, in that order. The executable's directory comes from /proc/self/exe.
// Pure functions over their arguments, except for the filesystem checks of Resolve/List.
#ifndef WFP_HOST_STUB_CLI_PLUGIN_SEARCH_H_
#define WFP_HOST_STUB_CLI_PLUGIN_SEARCH_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wfp::host {

// The path of the running executable (/proc/self/exe), or "" when it cannot be read.
std::string SelfExecutablePath();

// The search path: $WFP_PLUGIN_PATH's directories (`env` may be null), then the directories
// relative to `exe` (skipped when `exe` is empty). Directories are normalised, duplicates dropped.
std::vector<std::string> PluginSearchPath(const char* env, const std::string& exe);

// The search path of this process (from $WFP_PLUGIN_PATH and /proc/self/exe).
std::vector<std::string> DefaultPluginSearchPath();

// Resolves one --plugin value to a path. A value with a '/' is a path and is returned as given. A
// bare name is looked up on `search`; when no directory has it, a file of that name in the current
// directory is used. Invalid argument for an empty value; not found, naming what was looked for and
// where, when no file has the name.
Result<std::string> ResolvePlugin(std::string_view spec, const std::vector<std::string>& search);

// Resolves every value, in order; the first error.
Result<std::vector<std::string>> ResolvePlugins(const std::vector<std::string>& specs,
                                                const std::vector<std::string>& search);

// What ListPlugins finds.
struct PluginFiles {
  // Every plugin file (*.so) on the search path, directory by directory, sorted by name within one.
  std::vector<std::string> paths;
  // The files left out, each with the file that hides it: the one `--plugin NAME` finds for the
  // same NAME (PluginName) earlier on the search path, or earlier in the order of the names tried
  // within one directory (libwfp_NAME.so, libNAME.so, NAME.so).
  std::vector<std::pair<std::string, std::string>> hidden;
};
PluginFiles ListPlugins(const std::vector<std::string>& search);

// The name `--plugin NAME` finds a plugin file by: its file name without .so and without a
// libwfp_ or lib prefix (libwfp_backfill.so, libbackfill.so and backfill.so are all `backfill`).
std::string PluginName(std::string_view file_name);

// "DIR1:DIR2:..." for messages.
std::string DescribeSearchPath(const std::vector<std::string>& search);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_CLI_PLUGIN_SEARCH_H_
