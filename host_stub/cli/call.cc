// `wfp-host call`: serves one request in-process and prints the response as JSON.
#include <fmt/format.h>

#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/call_output.h"
#include "cli/command.h"
#include "cli/host_setup.h"
#include "cli/plugin_search.h"
#include "http_types.h"

namespace wfp::host::cli {
namespace {

constexpr std::string_view kCallUsage =
    R"(usage: wfp-host call --db PATH --plugin NAME|PATH [--plugin ...] [--fixture FILE] [--now TIME]
                     [--api-key KEY] [--header 'Name: value' ...] [--setting KEY=VALUE ...]
                     METHOD TARGET [BODY | @FILE]

Serves one request in-process, through the same router, auth and store as `serve`, and prints one
JSON object: {"status": N, "headers": {...lower-case names...}, "body": <parsed when JSON, else a string>}.
Exits 0 whenever a response was produced, whatever its HTTP status.

options:
  --db PATH             the store (created if missing): an SQLite file, `:memory:` for a
                        throw-away one, or a PostgreSQL URL (postgresql://...)
  --plugin NAME|PATH    a plugin to load (repeatable): a name on the plugin search path
                        (`backfill`; see `wfp-host --help`) or a path to a .so
  --fixture FILE        load this fixture into the store before the call
  --now TIME            fix the clock given to plugins (ISO-8601 with offset: 2024-01-12T03:00:00Z)
  --api-key KEY         send `Authorization: Bearer KEY`
  --header 'Name: value'  add a request header (repeatable)
  --setting KEY=VALUE   a plugin setting, e.g. backfill.max_sessions=1000 (repeatable)
  BODY | @FILE          the request body, given inline or read from FILE (@- reads stdin); a body
                        without a Content-Type header is sent as application/json
)";

bool ParseHeader(const std::string& text, std::pair<std::string, std::string>* out) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) return false;
  std::string name = text.substr(0, colon);
  std::string value = text.substr(colon + 1);
  auto trim = [](std::string& s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    s.erase(0, i);
  };
  trim(name);
  trim(value);
  if (name.empty()) return false;
  for (char& c : name) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (char c : value)
    if (c == '\r' || c == '\n') return false;
  *out = {std::move(name), std::move(value)};
  return true;
}

}  // namespace

int RunCall(const std::vector<std::string>& argv) {
  constexpr std::string_view kCmd = "call";
  if (WantsHelp(argv)) return std::cout << kCallUsage, 0;
  Args args;
  if (const Status parsed = args.Parse(argv, {{"db"},
                                              {"plugin", true, true},
                                              {"fixture"},
                                              {"now"},
                                              {"api-key"},
                                              {"header", true, true},
                                              {"setting", true, true}});
      !parsed.ok())
    return UsageError(kCmd, parsed.message(), kCallUsage);
  const std::string* db = args.Get("db");
  if (!db) return UsageError(kCmd, "--db is required", kCallUsage);
  if (!args.Has("plugin")) return UsageError(kCmd, "--plugin is required", kCallUsage);
  const Result<std::vector<std::string>> plugins =
      ResolvePlugins(args.All("plugin"), DefaultPluginSearchPath());
  if (!plugins.ok()) return Fail(kCmd, plugins.status().message());
  const auto& pos = args.positionals();
  if (pos.size() < 2 || pos.size() > 3)
    return UsageError(kCmd, "expected METHOD TARGET [BODY | @FILE]", kCallUsage);
  RuntimeFlags flags;
  if (const Status parsed = ParseRuntimeFlags(args, &flags); !parsed.ok())
    return UsageError(kCmd, parsed.message(), kCallUsage);

  HttpRequest request;
  request.method = pos[0];
  request.target = pos[1];
  if (request.method.empty()) return UsageError(kCmd, "METHOD is empty", kCallUsage);
  if (request.target.empty() || request.target[0] != '/')
    return UsageError(kCmd, fmt::format("TARGET '{}' must start with '/'", request.target),
                      kCallUsage);
  for (const std::string& h : args.All("header")) {
    std::pair<std::string, std::string> header;
    if (!ParseHeader(h, &header))
      return UsageError(kCmd, fmt::format("--header '{}' is not 'Name: value'", h), kCallUsage);
    request.headers.push_back(std::move(header));
  }
  if (const std::string* key = args.Get("api-key"))
    request.headers.emplace_back("authorization", "Bearer " + *key);
  if (pos.size() == 3) {
    if (!pos[2].empty() && pos[2][0] == '@') {
      Result<std::string> body = ReadFile(pos[2].substr(1));
      if (!body.ok()) return Fail(kCmd, body.status().message());
      request.body = std::move(*body);
    } else {
      request.body = pos[2];
    }
    if (!FindHeader(request.headers, "content-type"))
      request.headers.emplace_back("content-type", "application/json");
  }

  NewStoreFile new_file(*db);
  Runtime rt;
  if (const Status started = StartHost(*db, flags, *plugins, &rt); !started.ok())
    return Fail(kCmd, started.message());
  if (const std::string* fixture = args.Get("fixture"))
    if (const Status seeded = SeedFile(rt.store.get(), *fixture); !seeded.ok())
      return Fail(kCmd, "--fixture " + seeded.message());
  new_file.Keep();

  // A large body goes to stdout as the plugin produces it (docs/streaming.md).
  // HEAD: as GET without the body, as over HTTP (the server leaves it out the same way).
  const bool head_only = request.method == "HEAD";
  CallOutputStream streamed(std::cout, head_only);
  const HttpResponse response = rt.host->Handle(std::move(request), &streamed);
  if (!streamed.begun()) WriteCallOutput(std::cout, response, head_only);
  std::cout.flush();
  if (streamed.cut_off())
    return Fail(kCmd, fmt::format("the response was cut off after {} bytes of its body (the "
                                  "handler failed; see the log above): the output is incomplete",
                                  streamed.body_bytes()));
  return std::cout ? 0 : kFailure;
}

}  // namespace wfp::host::cli
