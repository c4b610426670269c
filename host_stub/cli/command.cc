// The pieces every command shares (command.h).
#include "cli/command.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

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

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  if (path == "-") {
    out->assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("cannot read {}", path);
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) {
    *error = fmt::format("cannot read {}", path);
    return false;
  }
  *out = std::move(s).str();
  return true;
}

bool ReadJsonFile(const std::string& path, boost::json::value* out, std::string* error) {
  std::string text;
  if (!ReadFile(path, &text, error)) return false;
  wfp::text::JsonProblem problem;
  if (wfp::text::ParseStrictJson(text, out, &problem)) return true;
  if (!problem.object_path.empty())  // refused like the fixture's other errors: with its path
    *error =
        fmt::format("{}: {}.{}: key given twice", path, problem.object_path, problem.duplicate_key);
  else
    *error = fmt::format("{} is not JSON: {}", path, problem.syntax);
  return false;
}

}  // namespace wfp::host::cli
