// `wfp-host demo`: a fresh store with example projects and schedules, the backfill plugin, served
// over HTTP, and a printed guide of curl commands that work as printed.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/demo_fixture.h"
#include "cli/host_setup.h"
#include "cli/plugin_search.h"
#include "cli/serving.h"
#include "runtime/clock.h"
#include "server/page_link.h"

namespace wfp::host::cli {
namespace {

constexpr std::string_view kDemoUsage =
    R"(usage: wfp-host demo [--db FILE] [--plugin NAME|PATH] [--listen 127.0.0.1:8080] [--now TIME]
                     [--threads N] [--setting KEY=VALUE ...]

Creates a fresh store with example projects and schedules (site key "demo-key"), loads the backfill
plugin, serves it, and prints example curl commands that work as printed. Ctrl-C stops it.

options:
  --db FILE             where to create the store (must not exist); default: a temporary file,
                        removed at exit
  --plugin NAME|PATH    the plugin (default: `backfill`, found on the plugin search path:
                        $WFP_PLUGIN_PATH, then this installation's plugin directory)
  --listen HOST:PORT    default 127.0.0.1:8080
  --now TIME            fix the clock (and the example schedules around it)
  --threads N           worker threads
  --setting KEY=VALUE   a plugin setting (repeatable)
)";

std::string ExecutablePath(const char* argv0) {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) exe = std::filesystem::absolute(argv0, ec);
  return exe.lexically_normal().string();
}

// The demo's store: the named file, which must not exist yet, or else a temporary file, removed
// (with its companions) when the demo ends.
class DemoStore {
 public:
  DemoStore() = default;
  DemoStore(const DemoStore&) = delete;
  DemoStore& operator=(const DemoStore&) = delete;
  ~DemoStore() {
    if (temporary_) RemoveStoreFiles(db_);
  }
  // Conflict when the named file exists; internal when no temporary file can be made.
  Status Choose(const std::string* given) {
    if (given) {
      if (std::filesystem::exists(*given))
        return Status::Conflict(fmt::format(
            "{} exists; the demo needs a fresh store (remove it, or name another file)", *given));
      db_ = *given;
      return Status::Ok();
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "wfp-demo-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) return Status::Internal("cannot create a temporary store file");
    close(fd);
    std::filesystem::remove(pattern);
    db_ = pattern + ".db";
    temporary_ = true;
    return Status::Ok();
  }
  const std::string& db() const { return db_; }
  bool temporary() const { return temporary_; }

 private:
  std::string db_;
  bool temporary_ = false;
};

// The text printed once the demo listens: the store, the schedules and example commands.
std::string DemoGuide(const DemoInfo& info, const std::string& url, const DemoStore& store,
                      const std::string& exe) {
  const std::string auth = fmt::format("-H 'Authorization: Bearer {}'", info.api_key);
  const std::string json = "-H 'Content-Type: application/json'";
  PageLinkFields fields;
  fields.api_key = info.api_key;
  fields.schedule_id = std::to_string(info.daily_schedule_id);
  fields.from_time = info.daily_from_time;
  fields.attempt_name = "demo-fix";
  const std::string page = BackfillPageLink(url, fields);
  return fmt::format(
      R"(
wfp-host demo: store {} ({}), backfill plugin loaded, API key "{}".
Schedules: 1 = etl/daily_load (daily>: 09:00:00, Asia/Tokyo), 2 = etl/hourly_sync (hourly>: 05:00,
UTC), 3 = etl/nightly_report (cron>: 30 2 * * *, America/Los_Angeles). Try:

# What a backfill of the last three days would create (dry run: nothing is written):
curl -s -X POST {url}/api/schedules/1/backfill {auth} {json} -d '{{"fromTime":"{daily}","attemptName":"demo-fix","dryRun":true}}'

# Only the sessions that never ran, unnamed attempts (sessions with attempts are listed as skipped):
curl -s -X POST {url}/api/schedules/1/backfill {auth} {json} -d '{{"fromTime":"{daily}","skipExisting":true,"dryRun":true}}'

# The same plan in the browser (timeline, ETag, Apply): the backfill page, form filled from the link:
{page}

# Do it for real (the same request again is a 409: the attempts exist by then):
curl -s -X POST {url}/api/schedules/1/backfill {auth} {json} -d '{{"fromTime":"{daily}","attemptName":"demo-fix","dryRun":false}}'

# Catch the hourly schedule up to now, moving its pointer:
curl -s -X POST {url}/api/schedules/2/backfill {auth} {json} -d '{{"fromTime":"{hourly}","skipExisting":true,"advanceSchedule":true,"dryRun":false}}'

# Errors: no key (401), another site's key (404), a bad body (400):
curl -s -X POST {url}/api/schedules/1/backfill {json} -d '{{"dryRun":true}}'
curl -s -X POST {url}/api/schedules/1/backfill -H 'Authorization: Bearer other-key' {json} -d '{{"fromTime":"{daily}","attemptName":"x","dryRun":true}}'
curl -s -X POST {url}/api/schedules/1/backfill {auth} {json} -d '{{"fromTime":"{daily}","attemptName":"x","dryRun":true,"skipExisiting":true}}'

# The same through the bundled client, as `digdag backfill` takes it (the time is read in the
# workflow's time zone; without --name an attempt name is generated):
{exe} backfill etl daily_load --from '{daily_day}' --dry-run --server {url} --api-key {key}
{exe} backfill etl daily_load --from '{daily_day}' --name demo-fix2 --server {url} --api-key {key}

Ctrl-C stops the server.
)",
      Store::Redact(store.db()), store.temporary() ? "temporary, removed at exit" : "kept",
      info.api_key, fmt::arg("url", url), fmt::arg("auth", auth), fmt::arg("json", json),
      fmt::arg("daily", info.daily_from_time), fmt::arg("hourly", info.hourly_from_time),
      fmt::arg("daily_day", info.daily_from_time.substr(0, 10)), fmt::arg("key", info.api_key),
      fmt::arg("exe", exe), fmt::arg("page", page));
}

}  // namespace

int RunDemo(const std::vector<std::string>& argv, const char* argv0) {
  constexpr std::string_view kCmd = "demo";
  if (WantsHelp(argv)) return std::cout << kDemoUsage, 0;
  Args args;
  std::string error;
  if (const Status parsed = args.Parse(argv, WithServingOptions({{"db"}, {"plugin"}}));
      !parsed.ok())
    return UsageError(kCmd, parsed.message(), kDemoUsage);
  if (!args.positionals().empty())
    return UsageError(kCmd, "unexpected argument " + args.positionals()[0], kDemoUsage);
  if (const std::string* db = args.Get("db"); db && *db == ":memory:")
    return UsageError(kCmd,
                      "--db :memory: is not a file: demo's --db names a file to keep (leave --db "
                      "out for a temporary store, removed at exit)",
                      kDemoUsage);
  Serving serving;
  if (const Status parsed = ParseServingFlags(args, &serving); !parsed.ok())
    return UsageError(kCmd, parsed.message(), kDemoUsage);
  const Result<std::string> plugin = ResolvePlugin(
      args.Get("plugin") ? *args.Get("plugin") : "backfill", DefaultPluginSearchPath());
  if (!plugin.ok()) return Fail(kCmd, plugin.status().message());

  DemoStore store;
  if (const Status chosen = store.Choose(args.Get("db")); !chosen.ok())
    return Fail(kCmd, chosen.message());
  // A temporary store has its own cleanup (DemoStore).
  NewStoreFile new_file(store.temporary() ? ":memory:" : store.db());
  Runtime rt;
  if (const Status started = StartHost(store.db(), serving.flags, {*plugin}, &rt); !started.ok())
    return Fail(kCmd, started.message());
  const std::optional<int64_t>& now = serving.flags.now_micros;
  const int64_t now_seconds = (now ? *now : RealNowMicros()) / 1000000;
  DemoInfo info;
  if (const Status seeded = rt.store->Seed(DemoFixture(now_seconds, &info)); !seeded.ok())
    return Fail(kCmd, "the demo fixture was refused: " + seeded.message());

  const std::string host_name = serving.options.host;
  const std::string exe = ExecutablePath(argv0);
  serving.options.on_listening = [&info, &store, host_name, exe](uint16_t port) {
    const std::string url = fmt::format(
        "http://{}:{}",
        host_name.find(':') != std::string::npos ? "[" + host_name + "]" : host_name, port);
    std::cout << DemoGuide(info, url, store, exe);
    std::cout.flush();
  };
  KeepOnListening(&new_file, &serving);  // a failed bind leaves no new file
  return Serve(rt, &serving);
}

}  // namespace wfp::host::cli
