// `wfp-host seed`: loads a fixture into a store, all of it or nothing.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/host_setup.h"

namespace wfp::host::cli {
namespace {

constexpr std::string_view kSeedUsage = R"(usage: wfp-host seed --db PATH FILE

Loads the fixture FILE (JSON, the format of `dump`) into the store at PATH (created if missing).
The whole fixture is checked first: on any error nothing is loaded.
)";

}  // namespace

int RunSeed(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "seed";
  if (WantsHelp(argv)) return std::cout << kSeedUsage, 0;
  Args args;
  if (const Status parsed = args.Parse(argv, {{"db"}}); !parsed.ok())
    return UsageError(kCmd, parsed.message(), kSeedUsage);
  const std::string* db = args.Get("db");
  if (!db) return UsageError(kCmd, "--db is required", kSeedUsage);
  if (args.positionals().size() != 1) return UsageError(kCmd, "expected one FILE", kSeedUsage);
  const Result<boost::json::value> fixture = ReadJsonFile(args.positionals()[0]);
  if (!fixture.ok()) return Fail(kCmd, fixture.status().message());
  NewStoreFile new_file(*db);
  Result<std::unique_ptr<Store>> opened = OpenStore(*db);
  if (!opened.ok()) return Fail(kCmd, opened.status().message());
  const std::unique_ptr<Store> store = std::move(*opened);
  if (const Status seeded = store->Seed(*fixture); !seeded.ok())
    return Fail(kCmd, fmt::format("{}: {}", args.positionals()[0], seeded.message()));
  new_file.Keep();
  return 0;
}

}  // namespace wfp::host::cli
