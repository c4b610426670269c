// `wfp-host backfill`: builds the route's request from the command line, finds the schedule (and
// its time zone) on the server, sends the request and prints the answer as a table.
#include <fmt/format.h>

#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "client/internal.h"
#include "server/page_link.h"

namespace wfp::host {
namespace {

using namespace client_detail;  // NOLINT: the client's own helpers

// The backfill page for the same request. The key goes into the link only when it was typed
// (--api-key); one from $WFP_API_KEY stays out of the output, and the page asks for it.
std::string PageLink(const BackfillArgs& args, const std::optional<std::string>& from_iso) {
  PageLinkFields f;
  if (args.api_key_given) f.api_key = args.api_key;
  f.schedule_id = args.schedule_id;
  f.from_time = from_iso.value_or("");
  f.attempt_name = args.name;
  if (args.count && *args.count >= 0) f.count = static_cast<uint64_t>(*args.count);
  f.skip_existing = args.skip_existing;
  f.advance = args.advance;
  return BackfillPageLink(args.server, f);
}

// The one error line of the client, "wfp-host backfill: MESSAGE" on stderr (as every wfp-host
// command writes its errors, cli/command.h); returns `status`.
int Error(std::string_view message, int status = 1) {
  std::fprintf(stderr, "wfp-host backfill: %.*s\n", static_cast<int>(message.size()),
               message.data());
  return status;
}

// The outcome of one step of the client: 0 to go on, else the exit status (message printed).
int Unreachable(const HttpUrl& url, const Exchange& answer) {
  return Error(fmt::format("{} {}: {}", answer.sent ? "no answer from" : "cannot reach", Where(url),
                           answer.error),
               2);
}

int ErrorAnswer(const Exchange& answer, std::string_view context = {}) {
  return Error(fmt::format("{}: {}{}", answer.status, context,
                           InClientTerms(ErrorMessageOf(answer.status, answer.body))));
}

// GET TARGET, expecting a 200 with JSON; fills *body. 0, or the exit status.
int FetchJson(const HttpUrl& url, const BackfillArgs& args, const std::string& target,
              std::string_view context, std::string* body) {
  Exchange answer = Send(url, MakeRequest(http::verb::get, url, args, target), args.timeout);
  if (!answer.reached) return Unreachable(url, answer);
  if (answer.status != 200) return ErrorAnswer(answer, context);
  *body = std::move(answer.body);
  return 0;
}

// The schedule the command line names, with its workflow's time zone (PROJECT WORKFLOW: looked
// up by name; --schedule: fetched only when the zone is needed). *workflow_zone is set when the
// schedule was fetched. 0, or the exit status.
int FindSchedule(const HttpUrl& url, BackfillArgs* args, bool need_zone,
                 std::string* workflow_zone) {
  std::string body;
  if (args->project.empty()) {
    if (!need_zone) return 0;
    const std::string context = fmt::format("schedule {}: ", args->schedule_id);
    if (int rc = FetchJson(url, *args, "/api/schedules/" + args->schedule_id, context, &body))
      return rc;
    std::string id;
    if (ScheduleOfAnswer(body, &id, workflow_zone)) return 0;
    return Error(
        fmt::format("the server's answer for schedule {} is not a schedule", args->schedule_id));
  }
  if (int rc = FetchJson(url, *args, "/api/projects?name=" + PercentEncode(args->project),
                         "project lookup: ", &body))
    return rc;
  std::string project_id;
  if (!ProjectIdOfAnswer(body, &project_id))
    return Error(fmt::format("no project '{}' on {} for this API key", args->project, Where(url)));
  const std::string target = fmt::format("/api/projects/{}/schedules?workflow={}", project_id,
                                         PercentEncode(args->workflow));
  if (int rc = FetchJson(url, *args, target, "schedule lookup: ", &body)) return rc;
  if (!ScheduleOfAnswer(body, &args->schedule_id, workflow_zone))
    return Error(fmt::format("workflow '{}' of project '{}' has no schedule (or no such workflow)",
                             args->workflow, args->project));
  return 0;
}

int PostBackfill(const HttpUrl& url, const BackfillArgs& args,
                 const std::optional<std::string>& from_iso, bool name_generated) {
  auto req = MakeRequest(http::verb::post, url, args,
                         fmt::format("/api/schedules/{}/backfill", args.schedule_id));
  req.set(http::field::content_type, "application/json");
  if (args.if_match) req.set(http::field::if_match, *args.if_match);
  req.body() = BuildBackfillBody(args, from_iso);
  req.prepare_payload();
  Exchange answer = Send(url, std::move(req), args.timeout);
  if (!answer.reached) return Unreachable(url, answer);
  if (answer.status < 200 || answer.status > 299) return ErrorAnswer(answer);
  const Result<std::string> text = RenderBackfillResult(answer.body, args.dry_run);
  if (!text.ok()) return Error(fmt::format("{}: {}", answer.status, text.status().message()));
  std::fputs(text->c_str(), stdout);
  // The generated name goes into the hint too: a run without --name would generate another one,
  // and so apply a different plan (its attempts named otherwise).
  if (args.dry_run && !answer.etag.empty())
    std::fprintf(
        stdout, "plan: %s (apply exactly this plan with %s--if-match '%s')\n", answer.etag.c_str(),
        name_generated ? fmt::format("--name {} ", *args.name).c_str() : "", answer.etag.c_str());
  if (args.dry_run) std::fprintf(stdout, "see it: %s\n", PageLink(args, from_iso).c_str());
  std::fflush(stdout);
  return 0;
}

// --from as the instant sent (`fromTime`): read in --tz, else in the workflow's zone (looked up on
// the server when --from has no offset), else kept as it is. *note: how it was read, when a zone
// was used. 0, or the exit status.
int ReadFrom(const HttpUrl& url, BackfillArgs* args, std::optional<std::string>* from_iso,
             std::string* note) {
  const bool need_zone = args->from && FromTimeNeedsZone(*args->from);
  std::string workflow_zone = "UTC";
  if (int rc = FindSchedule(url, args, need_zone && !args->tz, &workflow_zone)) return rc;
  if (!args->from) return 0;
  const std::string& zone = args->tz ? *args->tz : workflow_zone;
  Result<std::string> iso = ConvertFromTime(*args->from, zone);
  if (!iso.ok()) return Error(iso.status().message());
  *from_iso = std::move(*iso);
  if (need_zone)
    *note = fmt::format("from: {} ({} read in {})\n", **from_iso, *args->from,
                        args->tz ? zone + ", from --tz" : "the workflow's time zone, " + zone);
  return 0;
}

}  // namespace

int RunBackfillClient(int argc, char** argv) {
  BackfillArgs args;
  if (const Status parsed = ParseBackfillArgs(argc, argv, std::getenv("WFP_API_KEY"), &args);
      !parsed.ok())
    return Error(parsed.message());
  if (args.help) {
    std::fputs(BackfillUsage().c_str(), stdout);
    return 0;
  }
  const Result<HttpUrl> parsed_url = ParseHttpUrl(args.server);
  if (!parsed_url.ok()) return Error(parsed_url.status().message());
  const HttpUrl& url = *parsed_url;
  // Check --from's form and --tz before asking the server anything (the zone comes later).
  if (args.from)
    if (const Status checked = ConvertFromTime(*args.from, "UTC").status(); !checked.ok())
      return Error(checked.message());
  if (args.tz)
    if (const Status checked = CheckTimeZone(*args.tz); !checked.ok())
      return Error("--tz: " + checked.message());
  std::optional<std::string> from_iso;
  std::string from_note;
  if (int rc = ReadFrom(url, &args, &from_iso, &from_note)) return rc;
  const bool name_generated = !args.name && !args.advance;
  if (name_generated) {
    args.name = GenerateAttemptName();
    std::fprintf(stdout, "attempt name: %s (generated; give --name to choose one)\n",
                 args.name->c_str());
  }
  std::fputs(from_note.c_str(), stdout);
  return PostBackfill(url, args, from_iso, name_generated);
}

}  // namespace wfp::host
