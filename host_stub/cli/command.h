// The commands of wfp-host (the contract is docs/cli.md), one file each in this room, and what
// they share: the exit codes, --help, the error lines, reading a file named on the command line.
// main.cc only dispatches to them.
//
// Errors go to stderr with a non-zero exit status: 2 for a bad command line, 1 for anything else.
#ifndef WFP_HOST_STUB_CLI_COMMAND_H_
#define WFP_HOST_STUB_CLI_COMMAND_H_

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

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

// Reads the file at `path` ("-": stdin). False with *error ("cannot read PATH").
bool ReadFile(const std::string& path, std::string* out, std::string* error);
// Reads and parses a JSON file, refusing a key given twice (with its path in the object).
bool ReadJsonFile(const std::string& path, boost::json::value* out, std::string* error);

}  // namespace wfp::host::cli

#endif  // WFP_HOST_STUB_CLI_COMMAND_H_
