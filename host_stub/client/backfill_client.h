// `wfp-host backfill`, an HTTP client of a running server, and its pieces, exposed for tests:
// argument parsing, the --from conversion, the request body, the URL check and the rendering of the
// answer. All are pure functions over values (no I/O) except RunBackfillClient itself.
// Thread-safety: every function here is reentrant.
#ifndef WFP_HOST_STUB_CLIENT_BACKFILL_CLIENT_H_
#define WFP_HOST_STUB_CLIENT_BACKFILL_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wfp::host {

// `wfp-host backfill ...` (argv[0] == "backfill"). Returns the process exit status: 0 on success,
// 1 on a usage error or an HTTP error answer, 2 when the server cannot be reached.
int RunBackfillClient(int argc, char** argv);

struct BackfillArgs {
  std::string server = "http://127.0.0.1:8080";  // --server URL (http:// only)
  std::string api_key;                           // --api-key KEY, else $WFP_API_KEY
  bool api_key_given = false;                    // from --api-key (not from the environment)
  std::string project;                           // PROJECT (with WORKFLOW), or empty
  std::string workflow;                          // WORKFLOW
  std::string schedule_id;                       // --schedule ID (or a lone positional id)
  std::optional<std::string> from;               // --from, as typed
  std::optional<std::string> tz;        // --tz ZONE: read a --from without an offset here, not in
                                        // the workflow's zone
  std::optional<int64_t> count;         // --count N
  std::optional<std::string> name;      // --name NAME (the attempt name)
  bool skip_existing = false;           // --skip-existing
  bool advance = false;                 // --advance
  bool dry_run = false;                 // --dry-run
  std::optional<std::string> if_match;  // --if-match PLAN (from a dry run's ETag)
  std::chrono::seconds timeout{60};     // --timeout SECONDS, for the whole exchange
  bool help = false;                    // --help / -h
};

// The --help text.
std::string BackfillUsage();

// Parses argv (argv[0] is "backfill"): `PROJECT WORKFLOW` or `--schedule ID` (a lone numeric
// positional is taken as --schedule, as older versions wrote it). `api_key_env` is the value of
// $WFP_API_KEY (or null). InvalidArgument (one line, no "error:" prefix, phrased in the client's
// flags) on a usage error. With --help, success and args->help set, whatever else is there.
Status ParseBackfillArgs(int argc, const char* const* argv, const char* api_key_env,
                         BackfillArgs* args);

// Converts a --from value to the ISO-8601 instant with offset sent as `fromTime`:
// - an instant with an offset or Z (`2024-01-08T00:00:00+09:00`, `2024-01-07T15:00:00.5Z`, offset
//   `+0900` accepted) is kept as it is, its offset written `+hh:mm`;
// - `yyyy-MM-dd`, `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-ddTHH:mm:ss` is a wall-clock time in `tz`
//   (an IANA name like `Asia/Tokyo`, or `UTC`), written with that zone's offset. A wall-clock time
//   in a spring-forward gap moves forward by the gap's length (02:30 in a one-hour gap is 03:30 at
//   the new offset); one in a fall-back overlap is the earlier instant. Both as java.time's
//   LocalDateTime.atZone, which `digdag backfill` uses to read its --from.
// InvalidArgument for a malformed value or an unknown zone.
Result<std::string> ConvertFromTime(std::string_view text, std::string_view tz);

// OK when `tz` names a time zone ConvertFromTime can read in (an IANA name, UTC, +hh:mm); else
// InvalidArgument "unknown time zone 'TZ' (e.g. ...)".
Status CheckTimeZone(std::string_view tz);

// True when --from needs a time zone to be read in (no offset, no Z).
bool FromTimeNeedsZone(std::string_view text);

// The JSON request body: {"fromTime", "attemptName", "count", "skipExisting", "advanceSchedule",
// "dryRun"}; fields the user did not set are omitted (dryRun is always there).
std::string BuildBackfillBody(const BackfillArgs& args, const std::optional<std::string>& from_iso);

// An attempt name for a backfill without --name, as `digdag backfill` makes one: a random UUID v4.
std::string GenerateAttemptName();

// A 400 message of the route with its field names replaced by the client's flags
// ("attemptName" -> "--name", "fromTime" -> "--from", ...).
std::string InClientTerms(std::string_view message);

// Finds the schedule in a `{"schedules": [...]}` answer (the first one) or a single schedule
// object: its id and time zone. False when there is none.
bool ScheduleOfAnswer(std::string_view body, std::string* id, std::string* timezone);

struct HttpUrl {
  std::string host;  // "127.0.0.1", "localhost", "::1" (no brackets)
  uint16_t port = 80;
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};
// Accepts http://HOST[:PORT][/PATH]; anything else (https://, no scheme, a query) is
// InvalidArgument.
Result<HttpUrl> ParseHttpUrl(std::string_view text);

// Renders a 200 answer of the route: the attempts table, the skipped sessions, the schedule's
// pointer and the summary line. InvalidArgument when the body is not the route's JSON.
Result<std::string> RenderBackfillResult(std::string_view body, bool dry_run);

// The message of an error answer: its JSON "message" when there is one, else the body itself
// (trimmed, cut at 500 characters), else the reason phrase.
std::string ErrorMessageOf(int status, std::string_view body);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_CLIENT_BACKFILL_CLIENT_H_
