// The commands of wfp-host (the contract is docs/cli.md), one file each in this room, and what
// they share: the exit codes, --help, the error lines, reading a file named on the command line.
// main.cc only dispatches to them.
//
// Errors go to stderr with a non-zero exit status: 2 for a command line the command refuses itself
// (UsageError), 1 for anything else, a --setting the plugins refuse included (docs/cli.md; the
// backfill client has its own rule: 2 when the server cannot be reached).
#ifndef WFP_HOST_STUB_CLI_COMMAND_H_
#define WFP_HOST_STUB_CLI_COMMAND_H_

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wfp::host::cli {

constexpr int kUsageError = 2;
constexpr int kFailure = 1;

// The commands; `argv` is what follows the command's name.
int RunCall(const std::vector<std::string>& argv);     // call.cc
int RunSeed(const std::vector<std::string>& argv);     // seed.cc
int RunDump(const std::vector<std::string>& argv);     // dump.cc
int RunServe(const std::vector<std::string>& argv);    // serve.cc
int RunPlugins(const std::vector<std::string>& argv);  // plugins.cc
// argv0: how wfp-host was started, for the example commands it prints.
int RunDemo(const std::vector<std::string>& argv, const char* argv0);  // demo.cc
// help.cc: `wfp-host --help` (to stdout, exit 0), a missing or unknown command (to stderr, exit 2),
// `wfp-host --version`.
int PrintHelp();
int MissingCommand();
int UnknownCommand(std::string_view command);
int PrintVersion();

// True when --help or -h comes before any `--`.
bool WantsHelp(const std::vector<std::string>& args);
// "wfp-host COMMAND: MESSAGE", a blank line and the usage, on stderr; returns kUsageError.
int UsageError(std::string_view command, std::string_view message, std::string_view usage);
// "wfp-host COMMAND: MESSAGE" on stderr; returns kFailure.
int Fail(std::string_view command, std::string_view message);
// "wfp-host COMMAND: warning: MESSAGE" on stderr (the command goes on).
void Warn(std::string_view command, std::string_view message);

// The contents of the file at `path` ("-": stdin). Not found when it cannot be opened, internal
// when reading fails (a directory), both "cannot read PATH: REASON" (the system's, strerror).
Result<std::string> ReadFile(const std::string& path);
// Reads and parses a JSON file; invalid argument when it is not JSON or gives a key twice (with its
// path in the object).
Result<boost::json::value> ReadJsonFile(const std::string& path);

}  // namespace wfp::host::cli

#endif  // WFP_HOST_STUB_CLI_COMMAND_H_
