#include "cli/plugin_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace wfp::host {
namespace {

namespace fs = std::filesystem;

// The plugin directory relative to the executable's directory, as installed (set by CMake from
// CMAKE_INSTALL_BINDIR and WFP_INSTALL_PLUGINDIR).
#ifdef WFP_PLUGIN_DIR_FROM_BIN
constexpr std::string_view kInstalledPluginDir = WFP_PLUGIN_DIR_FROM_BIN;
#else
constexpr std::string_view kInstalledPluginDir = "../lib/wfp/plugins";
#endif

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsFile(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

void AddDir(const fs::path& dir, std::vector<std::string>* out) {
  if (dir.empty()) return;
  std::error_code ec;
  const fs::path absolute = fs::absolute(dir, ec);
  const std::string s = (ec ? dir : absolute).lexically_normal().string();
  const std::string trimmed = s.size() > 1 && s.back() == '/' ? s.substr(0, s.size() - 1) : s;
  if (std::find(out->begin(), out->end(), trimmed) == out->end()) out->push_back(trimmed);
}

std::vector<std::string> CandidateNames(std::string_view name) {
  std::vector<std::string> names;
  if (EndsWith(name, ".so")) names.emplace_back(name);
  names.push_back(fmt::format("libwfp_{}.so", name));
  names.push_back(fmt::format("lib{}.so", name));
  names.push_back(fmt::format("{}.so", name));
  return names;
}

}  // namespace

std::string SelfExecutablePath() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.lexically_normal().string();
}

std::vector<std::string> PluginSearchPath(const char* env, const std::string& exe) {
  std::vector<std::string> dirs;
  if (env) {
    std::string_view rest = env;
    while (true) {
      const size_t colon = rest.find(':');
      AddDir(fs::path(std::string(rest.substr(0, colon))), &dirs);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (!exe.empty()) {
    const fs::path bin = fs::path(exe).parent_path();
    AddDir(bin / std::string(kInstalledPluginDir), &dirs);
    AddDir(bin.parent_path() / "lib", &dirs);
  }
  return dirs;
}

std::vector<std::string> DefaultPluginSearchPath() {
  return PluginSearchPath(std::getenv("WFP_PLUGIN_PATH"), SelfExecutablePath());
}

std::string DescribeSearchPath(const std::vector<std::string>& search) {
  if (search.empty()) return "(empty)";
  std::string out;
  for (const std::string& d : search) out += (out.empty() ? "" : ":") + d;
  return out;
}

Result<std::string> ResolvePlugin(std::string_view spec, const std::vector<std::string>& search) {
  if (spec.empty())
    return Status::InvalidArgument(
        "--plugin is empty: give a plugin name (e.g. backfill) or a path to a .so");
  if (spec.find('/') != std::string_view::npos) return std::string(spec);
  const std::vector<std::string> names = CandidateNames(spec);
  for (const std::string& dir : search)
    for (const std::string& name : names)
      if (IsFile(fs::path(dir) / name)) return (fs::path(dir) / name).string();
  if (IsFile(fs::path(std::string(spec)))) return (fs::path(".") / std::string(spec)).string();
  std::string tried;
  for (const std::string& name : names) tried += (tried.empty() ? "" : ", ") + name;
  return Status::NotFound(fmt::format(
      "no plugin '{}' on the plugin search path {} (looked for {}); add its directory to "
      "WFP_PLUGIN_PATH or give --plugin a path",
      spec, DescribeSearchPath(search), tried));
}

Result<std::vector<std::string>> ResolvePlugins(const std::vector<std::string>& specs,
                                                const std::vector<std::string>& search) {
  std::vector<std::string> paths;
  for (const std::string& spec : specs) {
    Result<std::string> path = ResolvePlugin(spec, search);
    if (!path.ok()) return path.status();
    paths.push_back(std::move(*path));
  }
  return paths;
}

std::string PluginName(std::string_view file_name) {
  std::string_view name = file_name;
  if (EndsWith(name, ".so")) name.remove_suffix(3);
  for (std::string_view prefix : {"libwfp_", "lib"})
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) {
      name.remove_prefix(prefix.size());
      break;
    }
  return std::string(name);
}

PluginFiles ListPlugins(const std::vector<std::string>& search) {
  PluginFiles out;
  std::map<std::string, std::string> first;  // plugin name -> the path that has it
  for (const std::string& dir : search) {
    std::vector<std::pair<int, std::string>> here;  // (rank in the names tried, file name)
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!EndsWith(name, ".so") || !IsFile(it->path())) continue;
      const int rank = name.rfind("libwfp_", 0) == 0 ? 0 : name.rfind("lib", 0) == 0 ? 1 : 2;
      here.emplace_back(rank, name);
    }
    std::sort(here.begin(), here.end());
    std::vector<std::string> kept;
    for (const auto& [rank, name] : here) {
      const std::string path = (fs::path(dir) / name).string();
      const auto [at, inserted] = first.emplace(PluginName(name), path);
      if (inserted)
        kept.push_back(path);
      else
        out.hidden.emplace_back(path, at->second);
    }
    std::sort(kept.begin(), kept.end());
    out.paths.insert(out.paths.end(), kept.begin(), kept.end());
  }
  return out;
}

}  // namespace wfp::host
