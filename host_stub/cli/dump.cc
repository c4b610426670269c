// `wfp-host dump`: prints a whole store as a fixture.
#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/host_setup.h"

namespace wfp::host::cli {
namespace {

constexpr std::string_view kDumpUsage = R"(usage: wfp-host dump --db PATH

Prints the whole store as a fixture (JSON): every field filled, times in UTC with Z, objects in id
order, API keys never written (only "apiKeyCount").
)";

}  // namespace

int RunDump(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "dump";
  if (WantsHelp(argv)) return std::cout << kDumpUsage, 0;
  Args args;
  if (const Status parsed = args.Parse(argv, {{"db"}}); !parsed.ok())
    return UsageError(kCmd, parsed.message(), kDumpUsage);
  const std::string* db = args.Get("db");
  if (!db) return UsageError(kCmd, "--db is required", kDumpUsage);
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kDumpUsage);
  if (IsStoreFile(*db) && !std::filesystem::exists(*db))
    return Fail(kCmd, fmt::format("no store at {}", *db));
  Result<std::unique_ptr<Store>> opened = OpenStore(*db);
  if (!opened.ok()) return Fail(kCmd, opened.status().message());
  const std::unique_ptr<Store> store = std::move(*opened);
  const Result<boost::json::value> dump = store->Dump();
  if (!dump.ok()) return Fail(kCmd, "cannot dump the store: " + dump.status().message());
  std::cout << boost::json::serialize(*dump) << "\n";
  std::cout.flush();
  return std::cout ? 0 : kFailure;
}

}  // namespace wfp::host::cli
