// The pieces every command shares (command.h).
#include "cli/command.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>

#include "wfp_text/strict_json.h"

namespace wfp::host::cli {

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

int UsageError(std::string_view command, std::string_view message, std::string_view usage) {
  std::cerr << "wfp-host " << command << ": " << message << "\n\n" << usage;
  return kUsageError;
}

int Fail(std::string_view command, std::string_view message) {
  std::cerr << "wfp-host " << command << ": " << message << "\n";
  return kFailure;
}

void Warn(std::string_view command, std::string_view message) {
  std::cerr << "wfp-host " << command << ": warning: " << message << "\n";
}

Result<std::string> ReadFile(const std::string& path) {
  if (path == "-")
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  auto cannot = [&path](int error) {
    return fmt::format("cannot read {}: {}", path, std::strerror(error));
  };
  std::FILE* in = std::fopen(path.c_str(), "rb");
  if (!in) return Status::NotFound(cannot(errno));
  std::string text;
  char buffer[64 * 1024];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, in)) > 0;) text.append(buffer, n);
  const int error = std::ferror(in) ? errno : 0;
  std::fclose(in);
  if (error) return Status::Internal(cannot(error));
  return text;
}

Result<boost::json::value> ReadJsonFile(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  boost::json::value out;
  wfp::text::JsonProblem problem;
  if (wfp::text::ParseStrictJson(*text, &out, &problem)) return out;
  if (!problem.object_path.empty())  // refused like the fixture's other errors: with its path
    return Status::InvalidArgument(fmt::format("{}: {}.{}: key given twice", path,
                                               problem.object_path, problem.duplicate_key));
  return Status::InvalidArgument(fmt::format("{} is not JSON: {}", path, problem.syntax));
}

}  // namespace wfp::host::cli
