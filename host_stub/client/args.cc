// The backfill client's command line: the options (through the one parser of wfp-host's commands,
// cli/cli_args.h), the target (PROJECT WORKFLOW or --schedule ID) and the combinations it refuses.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "client/internal.h"

namespace wfp::host {
namespace {

using client_detail::IsDigits;

bool IsScheduleId(std::string_view s) {
  return IsDigits(s) && s.size() <= 10 && std::stoll(std::string(s)) > 0 &&
         std::stoll(std::string(s)) <= 2147483647;
}

// PROJECT WORKFLOW, --schedule ID, or a lone numeric id (the older form).
Status CheckTarget(const std::vector<std::string>& positionals, bool have_schedule,
                   BackfillArgs* args) {
  if (have_schedule && !positionals.empty()) {
    return Status::InvalidArgument(
        fmt::format("unexpected argument '{}': give PROJECT WORKFLOW or --schedule ID, not both",
                    positionals[0]));
  }
  if (!have_schedule && positionals.size() == 1 && IsDigits(positionals[0])) {
    args->schedule_id = positionals[0];
    have_schedule = true;
  } else if (positionals.size() == 2) {
    args->project = positionals[0];
    args->workflow = positionals[1];
  } else if (!have_schedule) {
    return Status::InvalidArgument(
        positionals.size() > 2
            ? fmt::format("unexpected argument '{}': expected PROJECT WORKFLOW", positionals[2])
            : "missing PROJECT WORKFLOW (or --schedule ID; see --help)");
  }
  if (have_schedule && !IsScheduleId(args->schedule_id)) {
    return Status::InvalidArgument(
        fmt::format("--schedule must be a positive integer, not '{}'", args->schedule_id));
  }
  return Status::Ok();
}

Status CheckCombination(const BackfillArgs& args) {
  const char* error = nullptr;
  if (args.api_key.empty()) {
    error = "missing --api-key (or $WFP_API_KEY)";
  } else if (!args.from && !args.advance) {
    error = "missing --from (it is optional only with --advance)";
  } else if (args.advance && !args.skip_existing) {
    error = "--advance requires --skip-existing (sessions that ran already are skipped)";
  } else if (args.advance && args.name) {
    error = "--name cannot be used with --advance (catching up creates unnamed attempts)";
  } else if (args.name && (args.name->empty() || args.name->size() > 255 ||
                           std::any_of(args.name->begin(), args.name->end(), [](char c) {
                             return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                           }))) {
    error = "--name must be 1 to 255 characters, without control characters";
  }
  return error ? Status::InvalidArgument(error) : Status::Ok();
}

// Every option may be given again: the last one counts.
const std::vector<OptionSpec>& BackfillOptions() {
  static const std::vector<OptionSpec> kOptions = {
      {"server", true, true},   {"api-key", true, true},
      {"from", true, true},     {"tz", true, true},
      {"schedule", true, true}, {"count", true, true},
      {"name", true, true},     {"if-match", true, true},
      {"timeout", true, true},  {"skip-existing", false, true},
      {"advance", false, true}, {"dry-run", false, true}};
  return kOptions;
}

std::optional<std::string> Last(const Args& parsed, std::string_view name) {
  std::vector<std::string> all = parsed.All(name);
  if (all.empty()) return std::nullopt;
  return std::move(all.back());
}

// --count N and --timeout SECONDS, each value checked in the order given.
Status ReadNumbers(const Args& parsed, BackfillArgs* args) {
  for (const std::string& v : parsed.All("count")) {
    if (!IsDigits(v) || v.size() > 9) {
      return Status::InvalidArgument(
          fmt::format("--count must be a whole number from 0 to 999999999, not '{}'", v));
    }
    args->count = std::stoll(v);
  }
  for (const std::string& v : parsed.All("timeout")) {
    if (!IsDigits(v) || v.size() > 6 || std::stoi(v) == 0) {
      return Status::InvalidArgument(
          fmt::format("--timeout must be a positive number of seconds, not '{}'", v));
    }
    args->timeout = std::chrono::seconds(std::stoi(v));
  }
  return Status::Ok();
}

// Copies the parsed options into *args (the key from --api-key wins over $WFP_API_KEY).
void TakeOptions(const Args& parsed, BackfillArgs* args) {
  if (auto v = Last(parsed, "server")) args->server = std::move(*v);
  if (auto v = Last(parsed, "api-key")) {
    args->api_key = std::move(*v);
    args->api_key_given = true;
  }
  if (auto v = Last(parsed, "schedule")) args->schedule_id = std::move(*v);
  args->from = Last(parsed, "from");
  args->tz = Last(parsed, "tz");
  args->name = Last(parsed, "name");
  args->if_match = Last(parsed, "if-match");
  args->skip_existing = parsed.Has("skip-existing");
  args->advance = parsed.Has("advance");
  args->dry_run = parsed.Has("dry-run");
}

}  // namespace

std::string BackfillUsage() {
  return R"(usage: wfp-host backfill PROJECT WORKFLOW [--from TIME] [options]
       wfp-host backfill --schedule ID [--from TIME] [options]

Creates sessions, each with a new attempt, for past schedule times of a workflow's schedule, as
`digdag backfill` does, and prints what was created (POST /api/schedules/ID/backfill).

  PROJECT WORKFLOW   the project and workflow names; their schedule is looked up on the server
  --schedule ID      or the schedule's id instead (GET /api/schedules lists them)
  --from TIME        the first session wanted: the first one whose run time is at or after TIME.
                     "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss" or "yyyy-MM-ddTHH:mm:ss" is read in the
                     workflow's time zone (fetched from the server, as Digdag does), or in --tz;
                     an ISO-8601 time with an offset
                     (2024-01-08T00:00:00+09:00, 2024-01-07T15:00:00Z) is taken as it is.
                     Required, except with --advance (which then starts at the schedule's next
                     session).
  --count N          only the first N sessions (default: all until the schedule's next time)
  --name NAME        the attempt name (default: a generated one, printed first); not with --advance
  --skip-existing    skip sessions that already have an attempt instead of failing
  --advance          catch up: sessions up to now, then move the schedule's next time past them
                     (requires --skip-existing)
  --dry-run          show what would be created and change nothing; prints the plan's ETag
  --if-match PLAN    apply only if the plan is still PLAN (the ETag a dry run printed)
  --server URL       the server, http:// only (default http://127.0.0.1:8080)
  --api-key KEY      the API key (default: $WFP_API_KEY); sent as "Authorization: Bearer KEY"
  --tz ZONE          read a --from without an offset in ZONE (e.g. Asia/Tokyo) instead of the
                     workflow's zone. In either zone, as Digdag reads it, a time in a
                     spring-forward gap moves forward by the gap (02:30 -> 03:30) and one in a
                     fall-back overlap is the earlier instant.
  --timeout SECONDS  give up on each request after this long (default 60)
  --help             this text

Errors are printed on stderr as "wfp-host backfill: MESSAGE" (an error answer: "wfp-host backfill:
STATUS: MESSAGE"). Exit status: 0 done, 1 usage error or an error answer, 2 the server could not be
reached.
)";
}

Status ParseBackfillArgs(int argc, const char* const* argv, const char* api_key_env,
                         BackfillArgs* args) {
  *args = BackfillArgs{};
  if (api_key_env) args->api_key = api_key_env;
  const std::vector<std::string> words =
      argc > 1 ? std::vector<std::string>(argv + 1, argv + argc) : std::vector<std::string>{};
  for (const std::string& w : words) {
    if (w == "--help" || w == "-h") {  // wherever it is, whatever else is there
      args->help = true;
      return Status::Ok();
    }
  }
  Args parsed;
  if (Status s = parsed.Parse(words, BackfillOptions(), " (see --help)"); !s.ok()) return s;
  TakeOptions(parsed, args);
  if (Status s = ReadNumbers(parsed, args); !s.ok()) return s;
  if (Status s = CheckTarget(parsed.positionals(), parsed.Has("schedule"), args); !s.ok()) return s;
  return CheckCombination(*args);
}

}  // namespace wfp::host
