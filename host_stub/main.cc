// wfp-host: the command line of the stub host (the contract is docs/cli.md). This file only
// dispatches; each command is a file of host_stub/cli/ (the backfill client: host_stub/client/).
//
//   wfp-host call   --db PATH --plugin SO ... METHOD TARGET [BODY | @FILE]
//   wfp-host seed   --db PATH FILE
//   wfp-host dump   --db PATH
//   wfp-host serve  --db PATH --plugin SO ... [--listen HOST:PORT]
//   wfp-host demo   [--db FILE] [--plugin SO] [--listen HOST:PORT]
//   wfp-host backfill ...   (an HTTP client of a running server)
//   wfp-host plugins --plugin SO ...   (what each plugin is and which routes it adds)
//   wfp-host --version
//
// Errors go to stderr with a non-zero exit status: 2 for a command line the command refuses itself,
// 1 for anything else (backfill: 1 for a usage error, 2 when the server cannot be reached).
// Plugins and the store are set up before anything is written, so a failing command leaves the
// store as it was.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "client/backfill_client.h"
#include "runtime/fatal_signal.h"

int main(int argc, char** argv) {
  namespace cli = wfp::host::cli;
  wfp::host::InstallFatalSignalNote();  // a plugin that crashes the host is named as it goes
  if (argc < 2) return cli::MissingCommand();
  const std::string command = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    if (command == "--help" || command == "-h" || command == "help") return cli::PrintHelp();
    if (command == "--version") return cli::PrintVersion();
    if (command == "plugins") return cli::RunPlugins(rest);
    if (command == "call") return cli::RunCall(rest);
    if (command == "seed") return cli::RunSeed(rest);
    if (command == "dump") return cli::RunDump(rest);
    if (command == "serve") return cli::RunServe(rest);
    if (command == "demo") return cli::RunDemo(rest, argv[0]);
    if (command == "backfill") return wfp::host::RunBackfillClient(argc - 1, argv + 1);
  } catch (const std::exception& e) {
    std::cerr << "wfp-host " << command << ": " << e.what() << "\n";
    return cli::kFailure;
  }
  return cli::UnknownCommand(command);
}
